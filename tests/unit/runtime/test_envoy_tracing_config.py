"""The gateway traces only when OTEL_EXPORTER_OTLP_ENDPOINT is set, and then validates."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from reels_runtime import localstack
from reels_runtime.auth import generate_dev_keys
from reels_runtime.envoy_config import gateway_values, render, tracing_blocks


def connection_manager(config: dict) -> dict:
    listener = config["static_resources"]["listeners"][0]
    return listener["filter_chains"][0]["filters"][0]["typed_config"]


def rendered(tmp_path: Path, **environ: str) -> dict:
    jwks = tmp_path / "jwks.json"
    jwks.write_text('{"keys": []}')
    return yaml.safe_load(render(gateway_values({"JWT_JWKS_PATH": str(jwks), **environ})))


def test_without_an_endpoint_nothing_is_traced(tmp_path: Path) -> None:
    config = rendered(tmp_path)
    assert "tracing" not in connection_manager(config)
    names = [cluster["name"] for cluster in config["static_resources"]["clusters"]]
    assert "otel_collector" not in names


def test_with_an_endpoint_envoy_exports_to_it(tmp_path: Path) -> None:
    config = rendered(tmp_path, OTEL_EXPORTER_OTLP_ENDPOINT="http://collector.local:4317")
    tracing = connection_manager(config)["tracing"]
    assert tracing["provider"]["name"] == "envoy.tracers.opentelemetry"
    (collector,) = [
        cluster
        for cluster in config["static_resources"]["clusters"]
        if cluster["name"] == "otel_collector"
    ]
    endpoint = collector["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]
    assert endpoint["address"]["socket_address"] == {
        "address": "collector.local",
        "port_value": 4317,
    }
    assert "transport_socket" not in collector


def test_an_https_endpoint_gets_tls() -> None:
    _, cluster = tracing_blocks("https://otel.example.com:4317")
    assert "UpstreamTlsContext" in cluster
    assert '"sni": "otel.example.com"' in cluster


@pytest.mark.parametrize("bad", ["collector:4317", "http://collector", "grpc://c:4317"])
def test_a_malformed_endpoint_is_refused_naming_the_variable(bad: str) -> None:
    with pytest.raises(ValueError, match="OTEL_EXPORTER_OTLP_ENDPOINT"):
        tracing_blocks(bad)


def test_the_traced_config_validates_in_envoy(tmp_path: Path) -> None:
    _, jwks = generate_dev_keys(tmp_path, "reels-test-1")
    path = tmp_path / "envoy.yaml"
    values = {"JWT_JWKS_PATH": str(jwks), "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4317"}
    path.write_text(render(gateway_values(values)))
    result = subprocess.run(
        [*localstack.envoy_command(path), "--mode", "validate"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
