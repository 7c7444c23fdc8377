"""Service configuration, read once from the environment into a frozen dataclass."""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

_T = TypeVar("_T")


_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
# A DNS name, an IPv4 address, or a bracketed IPv6 address; the port is checked apart.
_HOST = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?)$")
_SERVICE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")


# Defaults for the embedded local stack; .env.example lists the same variables.
# CLICKHOUSE_URL and MILVUS_URI default to paths under REELS_DATA_DIR (see from_env).
DEFAULTS: Mapping[str, str] = {
    "SERVICE_NAME": "",
    "DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/reels",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "REDIS_NAMESPACE": "reels",
    "CLICKHOUSE_URL": "",
    "MILVUS_URI": "",
    "TENSORFLOW_SERVING_URL": "127.0.0.1:8500",
    "CDN_URL": "http://127.0.0.1:8334",
    "S3_ENDPOINT_URL": "http://127.0.0.1:8333",
    "S3_BUCKET_VIDEO": "videos",
    "S3_ACCESS_KEY_ID": "reels-dev",
    "S3_SECRET_ACCESS_KEY": "reels-dev-secret",
    "S3_REGION": "us-east-1",
    "VIDEO_UPLOAD_MAX_MB": "500",
    "VIDEO_TRANSCODING_TIMEOUT_SECONDS": "300",
    "VIDEO_MAX_DURATION_SECONDS": "180",
    "REELS_DATA_DIR": "./var/data",
    "JWT_ISSUER": "reels-local",
    "JWT_AUDIENCE": "reels",
    "JWT_JWKS_PATH": "./var/keys/jwks.json",
    "JWT_PRIVATE_KEY_PATH": "./var/keys/jwt-private.pem",
    "JWT_KEY_ID": "reels-dev-1",
    "JWT_PLAYBACK_KEY_PATH": "./var/keys/playback-private.pem",
    "JWT_PLAYBACK_KEY_ID": "reels-playback-dev-1",
    "MEDIA_SVC_ADDR": "127.0.0.1:50051",
    "STREAM_SVC_ADDR": "127.0.0.1:50052",
    "EMBED_SVC_ADDR": "127.0.0.1:50053",
    "RANKING_SVC_ADDR": "127.0.0.1:50054",
    "GRPC_LISTEN": "",
    "METRICS_PORT": "0",
    "OTEL_EXPORTER_OTLP_ENDPOINT": "",
    "LOG_LEVEL": "INFO",
    "GC_THRESHOLDS": "10000,20,100",
}
# Accepted in place of MILVUS_URI, the name the product spec uses.
ALIASES: Mapping[str, str] = {"MILVUS_URL": "MILVUS_URI"}


class ConfigError(ValueError):
    """A configuration variable is missing or malformed; the message names it."""

    def __init__(self, variable: str, problem: str) -> None:
        super().__init__(f"{variable}: {problem}")
        self.variable = variable
        self.problem = problem


@dataclass(frozen=True)
class Config:
    """Everything a reels process reads from its environment (see .env.example)."""

    service_name: str
    database_url: str
    redis_url: str
    redis_namespace: str
    clickhouse_url: str
    milvus_uri: str
    tensorflow_serving_url: str
    cdn_url: str
    s3_endpoint_url: str
    s3_bucket_video: str
    s3_access_key_id: str
    s3_secret_access_key: str
    s3_region: str
    video_upload_max_mb: int
    video_transcoding_timeout_seconds: int
    video_max_duration_seconds: int
    data_dir: Path
    jwt_issuer: str
    jwt_audience: str
    jwt_jwks_path: Path
    jwt_private_key_path: Path
    jwt_key_id: str
    jwt_playback_key_path: Path
    jwt_playback_key_id: str
    media_svc_addr: str
    stream_svc_addr: str
    embed_svc_addr: str
    ranking_svc_addr: str
    grpc_listen: str | None
    metrics_port: int
    otel_exporter_otlp_endpoint: str | None
    log_level: str
    # The cyclic GC's thresholds once the service is up; None keeps Python's (700,10,10).
    gc_thresholds: tuple[int, int, int] | None = None

    @property
    def event_stream_prefix(self) -> str:
        """Event streams live under `<namespace>:events:`."""
        return f"{self.redis_namespace}:events:"

    def redis_key(self, *parts: str) -> str:
        """A Redis key in this deployment's namespace, e.g. `reels:media:workers:<name>`."""
        return ":".join((self.redis_namespace, *parts))

    @property
    def video_upload_max_bytes(self) -> int:
        return self.video_upload_max_mb * 1024 * 1024

    def listen_address(self, default: str) -> str:
        """GRPC_LISTEN when set, else the service's own default address."""
        return self.grpc_listen or default

    def replace(self, **changes: object) -> Config:
        """A copy with some fields changed (tests start servers on port 0 this way)."""
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] = os.environ, *, service_name: str | None = None
    ) -> Config:
        """Reads and validates every variable; the first bad one raises ConfigError.

        A variable set to the empty string counts as unset, so a `.env` line `X=` keeps
        the default. `service_name` is the default for SERVICE_NAME.
        """
        env = _Env(environ)
        data_dir = Path(env.get("REELS_DATA_DIR"))
        name = env.get("SERVICE_NAME") or service_name
        if not name:
            raise ConfigError("SERVICE_NAME", "is required (the name of this process)")
        if not _SERVICE_NAME.match(name):
            raise ConfigError("SERVICE_NAME", f"must be a short name like media_svc, got {name!r}")
        # chDB wants an absolute path (chdb:///abs/path), whatever the working directory.
        clickhouse = env.get("CLICKHOUSE_URL") or f"chdb://{(data_dir / 'clickhouse').resolve()}"
        milvus_variable = (
            "MILVUS_URL" if env.get("MILVUS_URL") and not env.get("MILVUS_URI") else "MILVUS_URI"
        )
        milvus = env.get(milvus_variable) or str(data_dir / "milvus.db")
        return cls(
            service_name=name,
            database_url=env.url("DATABASE_URL", ("postgresql", "postgres")),
            redis_url=env.url("REDIS_URL", ("redis", "rediss", "unix")),
            redis_namespace=env.match(
                "REDIS_NAMESPACE", r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$", "a short key prefix"
            ),
            clickhouse_url=_url("CLICKHOUSE_URL", clickhouse, ("chdb", "http", "https")),
            milvus_uri=_milvus_uri(milvus_variable, milvus),
            tensorflow_serving_url=env.address("TENSORFLOW_SERVING_URL"),
            cdn_url=env.url("CDN_URL", ("http", "https")),
            s3_endpoint_url=env.url("S3_ENDPOINT_URL", ("http", "https")),
            s3_bucket_video=env.match(
                "S3_BUCKET_VIDEO",
                r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$",
                "an S3 bucket name (3-63 lowercase letters, digits, dots, hyphens)",
            ),
            s3_access_key_id=env.required("S3_ACCESS_KEY_ID"),
            s3_secret_access_key=env.required("S3_SECRET_ACCESS_KEY"),
            s3_region=env.required("S3_REGION"),
            video_upload_max_mb=env.integer("VIDEO_UPLOAD_MAX_MB", 1),
            video_transcoding_timeout_seconds=env.integer("VIDEO_TRANSCODING_TIMEOUT_SECONDS", 1),
            video_max_duration_seconds=env.integer("VIDEO_MAX_DURATION_SECONDS", 1),
            data_dir=data_dir,
            jwt_issuer=env.required("JWT_ISSUER"),
            jwt_audience=env.required("JWT_AUDIENCE"),
            jwt_jwks_path=Path(env.get("JWT_JWKS_PATH")),
            jwt_private_key_path=Path(env.get("JWT_PRIVATE_KEY_PATH")),
            jwt_key_id=env.required("JWT_KEY_ID"),
            jwt_playback_key_path=Path(env.get("JWT_PLAYBACK_KEY_PATH")),
            jwt_playback_key_id=env.required("JWT_PLAYBACK_KEY_ID"),
            media_svc_addr=env.address("MEDIA_SVC_ADDR"),
            stream_svc_addr=env.address("STREAM_SVC_ADDR"),
            embed_svc_addr=env.address("EMBED_SVC_ADDR"),
            ranking_svc_addr=env.address("RANKING_SVC_ADDR"),
            grpc_listen=env.optional("GRPC_LISTEN", lambda v: _address("GRPC_LISTEN", v, 0)),
            metrics_port=env.integer("METRICS_PORT", 0, 65535),
            otel_exporter_otlp_endpoint=env.optional(
                "OTEL_EXPORTER_OTLP_ENDPOINT",
                lambda v: _url("OTEL_EXPORTER_OTLP_ENDPOINT", v, ("http", "https")),
            ),
            log_level=env.choice("LOG_LEVEL", _LOG_LEVELS),
            gc_thresholds=_gc_thresholds("GC_THRESHOLDS", env.get("GC_THRESHOLDS")),
        )


class _Env:
    """Typed reads of one environment mapping; every error names its variable."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ

    def get(self, name: str) -> str:
        """The value, or its default from DEFAULTS ("" for variables without one)."""
        value = self._environ.get(name, "").strip()
        return value if value else DEFAULTS.get(name, "")

    def required(self, name: str) -> str:
        value = self.get(name)
        if not value:
            raise ConfigError(name, "is required")
        return value

    def optional(self, name: str, parse: Callable[[str], _T]) -> _T | None:
        value = self.get(name)
        return parse(value) if value else None

    def url(self, name: str, schemes: tuple[str, ...]) -> str:
        return _url(name, self.get(name), schemes)

    def address(self, name: str) -> str:
        return _address(name, self.get(name), 1)

    def integer(self, name: str, minimum: int, maximum: int | None = None) -> int:
        raw = self.get(name)
        try:
            value = int(raw)
        except ValueError:
            raise ConfigError(name, f"must be an integer, got {raw!r}") from None
        if value < minimum or (maximum is not None and value > maximum):
            bound = f"between {minimum} and {maximum}" if maximum is not None else f">= {minimum}"
            raise ConfigError(name, f"must be {bound}, got {value}")
        return value

    def choice(self, name: str, choices: tuple[str, ...]) -> str:
        value = self.get(name).upper()
        if value not in choices:
            raise ConfigError(name, f"must be one of {', '.join(choices)}, got {value!r}")
        return value

    def match(self, name: str, pattern: str, what: str) -> str:
        value = self.get(name)
        if not re.match(pattern, value):
            raise ConfigError(name, f"must be {what}, got {value!r}")
        return value


def _url(name: str, value: str, schemes: tuple[str, ...]) -> str:
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError as error:
        raise ConfigError(name, f"is not a valid URL ({error}): {value!r}") from None
    if parts.scheme not in schemes:
        allowed = ", ".join(f"{scheme}://" for scheme in schemes)
        raise ConfigError(name, f"must start with {allowed}; got {value!r}")
    # unix:// sockets and chdb:// paths have no host; every network URL needs one.
    if parts.scheme not in ("unix", "chdb") and not parts.hostname:
        raise ConfigError(name, f"has no host: {value!r}")
    if parts.scheme == "chdb" and not (parts.netloc or parts.path):
        raise ConfigError(name, f"has no data path: {value!r}")
    return value


def _gc_thresholds(name: str, value: str) -> tuple[int, int, int] | None:
    if value == "python":
        return None
    parts = value.split(",")
    if len(parts) != 3 or not all(p.strip().isdigit() and int(p) >= 1 for p in parts):
        raise ConfigError(
            name, f'must be three integers >= 1 like 10000,20,100, or "python"; got {value!r}'
        )
    first, second, third = (int(p) for p in parts)
    return first, second, third


def _address(name: str, value: str, min_port: int) -> str:
    host, sep, port = value.rpartition(":")
    if not sep or not _HOST.match(host) or not port.isdigit():
        raise ConfigError(name, f"must be host:port, got {value!r}")
    if not min_port <= int(port) <= 65535:
        raise ConfigError(name, f"port must be between {min_port} and 65535, got {value!r}")
    return value


def _milvus_uri(name: str, value: str) -> str:
    # Milvus Lite takes a local file that must end in .db; a server takes a URL.
    if "://" in value:
        return _url(name, value, ("http", "https", "tcp"))
    if not value.endswith(".db"):
        raise ConfigError(
            name, f"must be http(s)://host:port or a path ending in .db, got {value!r}"
        )
    return value
