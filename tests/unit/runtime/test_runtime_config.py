"""Config.from_env: defaults, validation that names the variable, and .env.example."""

from __future__ import annotations

from pathlib import Path

import pytest

from reels_runtime.config import DEFAULTS, Config, ConfigError

REPO = Path(__file__).resolve().parents[3]


def test_defaults_describe_the_local_stack() -> None:
    config = Config.from_env({}, service_name="media_svc")
    assert config.service_name == "media_svc"
    assert config.database_url == "postgresql://postgres@127.0.0.1:5432/reels"
    assert config.redis_url == "redis://127.0.0.1:6379/0"
    assert config.clickhouse_url == f"chdb://{Path('var/data/clickhouse').resolve()}"
    assert config.milvus_uri == "var/data/milvus.db"
    assert config.tensorflow_serving_url == "127.0.0.1:8500"
    assert config.video_upload_max_mb == 500
    assert config.video_upload_max_bytes == 500 * 1024 * 1024
    assert config.video_transcoding_timeout_seconds == 300
    assert config.video_max_duration_seconds == 180
    assert config.jwt_private_key_path == Path("var/keys/jwt-private.pem")
    assert config.ranking_svc_addr == "127.0.0.1:50054"
    assert config.grpc_listen is None
    assert config.listen_address("127.0.0.1:50051") == "127.0.0.1:50051"
    assert config.metrics_port == 0
    assert config.otel_exporter_otlp_endpoint is None
    assert config.log_level == "INFO"
    assert config.gc_thresholds == (10000, 20, 100)


def test_values_are_read_and_normalised() -> None:
    config = Config.from_env(
        {
            "SERVICE_NAME": "stream_svc",
            "REELS_DATA_DIR": "/srv/reels",
            "CLICKHOUSE_URL": "https://ch.example:8443",
            "GRPC_LISTEN": "0.0.0.0:0",
            "METRICS_PORT": "9464",
            "LOG_LEVEL": "debug",
            "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4317",
            "VIDEO_UPLOAD_MAX_MB": "20",
        },
        service_name="ignored-when-set",
    )
    assert config.service_name == "stream_svc"
    assert config.clickhouse_url == "https://ch.example:8443"
    assert config.milvus_uri == "/srv/reels/milvus.db"
    assert config.listen_address("127.0.0.1:1") == "0.0.0.0:0"
    assert config.metrics_port == 9464
    assert config.log_level == "DEBUG"
    assert config.otel_exporter_otlp_endpoint == "http://collector:4317"
    assert config.video_upload_max_mb == 20


def test_empty_values_keep_the_default() -> None:
    config = Config.from_env({"REDIS_URL": "", "METRICS_PORT": " "}, service_name="x")
    assert config.redis_url == DEFAULTS["REDIS_URL"]
    assert config.metrics_port == 0


def test_milvus_url_is_an_alias_and_milvus_uri_wins() -> None:
    alias = Config.from_env({"MILVUS_URL": "http://milvus:19530"}, service_name="x")
    assert alias.milvus_uri == "http://milvus:19530"
    both = Config.from_env(
        {"MILVUS_URL": "http://milvus:19530", "MILVUS_URI": "/d/m.db"}, service_name="x"
    )
    assert both.milvus_uri == "/d/m.db"


def test_config_is_frozen() -> None:
    config = Config.from_env({}, service_name="x")
    with pytest.raises(AttributeError):
        config.redis_url = "redis://elsewhere:6379/0"  # type: ignore[misc]
    assert config.replace(metrics_port=1).metrics_port == 1


def test_missing_service_name_is_named() -> None:
    with pytest.raises(ConfigError) as error:
        Config.from_env({})
    assert error.value.variable == "SERVICE_NAME"
    assert "SERVICE_NAME" in str(error.value)


@pytest.mark.parametrize(
    ("variable", "value", "problem"),
    [
        ("DATABASE_URL", "mysql://db/reels", "postgresql://"),
        ("DATABASE_URL", "postgresql://", "no host"),
        ("REDIS_URL", "127.0.0.1:6379", "redis://"),
        ("REDIS_URL", "redis://host:notaport/0", "valid URL"),
        ("CLICKHOUSE_URL", "clickhouse://x", "chdb://"),
        ("MILVUS_URI", "milvus.sqlite", ".db"),
        ("MILVUS_URL", "ftp://milvus", "http://"),
        ("TENSORFLOW_SERVING_URL", "http://127.0.0.1:8500", "host:port"),
        ("CDN_URL", "cdn.local", "http://"),
        ("S3_ENDPOINT_URL", "s3://bucket", "http://"),
        ("S3_BUCKET_VIDEO", "Bad_Bucket", "bucket name"),
        ("VIDEO_UPLOAD_MAX_MB", "lots", "integer"),
        ("VIDEO_UPLOAD_MAX_MB", "0", ">= 1"),
        ("VIDEO_TRANSCODING_TIMEOUT_SECONDS", "-5", ">= 1"),
        ("VIDEO_MAX_DURATION_SECONDS", "1.5", "integer"),
        ("MEDIA_SVC_ADDR", "127.0.0.1", "host:port"),
        ("STREAM_SVC_ADDR", "127.0.0.1:70000", "between 1 and 65535"),
        ("EMBED_SVC_ADDR", "bad host:1", "host:port"),
        ("RANKING_SVC_ADDR", "127.0.0.1:0", "between 1 and 65535"),
        ("GRPC_LISTEN", "localhost", "host:port"),
        ("METRICS_PORT", "99999", "between 0 and 65535"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4317", "http://"),
        ("LOG_LEVEL", "LOUD", "one of"),
        ("GC_THRESHOLDS", "50000,20", "three integers"),
        ("GC_THRESHOLDS", "50000,0,100", "three integers >= 1"),
        ("GC_THRESHOLDS", "lots,20,100", "three integers"),
        ("SERVICE_NAME", "has spaces", "short name"),
    ],
)
def test_malformed_values_name_the_variable(variable: str, value: str, problem: str) -> None:
    with pytest.raises(ConfigError) as error:
        Config.from_env({variable: value}, service_name="x")
    assert error.value.variable == variable
    message = str(error.value)
    assert message.startswith(f"{variable}: ")
    assert problem in message


def test_gc_thresholds_are_read_or_left_to_python() -> None:
    assert Config.from_env({"GC_THRESHOLDS": "1000, 5,7"}, service_name="x").gc_thresholds == (
        1000,
        5,
        7,
    )
    assert Config.from_env({"GC_THRESHOLDS": "python"}, service_name="x").gc_thresholds is None


def test_env_example_lists_every_variable_with_its_default() -> None:
    lines = (REPO / ".env.example").read_text().splitlines()
    entries: dict[str, str] = {}
    for index, line in enumerate(lines):
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            entries[name] = value
            # Every variable is explained by the comment just above it.
            assert lines[index - 1].startswith("# "), name
    # Services add their own variables (media_svc.settings); the shared ones must all be here.
    assert set(DEFAULTS) | {"MILVUS_URL"} <= set(entries)
    for name, default in DEFAULTS.items():
        assert entries[name] == default, name
    # The example itself must be a valid configuration.
    Config.from_env(entries, service_name="example")
