"""One trace per request across processes: Envoy and the services it reaches export their
spans over OTLP, and the spans of one feed request share Envoy's trace id."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from reels_runtime import localstack
from reels_runtime.envoy_config import gateway_values, render
from tests.support.otlp import OtlpCollector, ReceivedSpan
from tests.support.processes import free_port, http_status, running, wait_until
from tests.support.service_process import service_process

pytestmark = [pytest.mark.e2e]

# The services' batch processors export every 200 ms instead of every 5 s.
FAST_EXPORT = {"OTEL_BSP_SCHEDULE_DELAY": "200"}


@contextlib.contextmanager
def traced_gateway(keys, out: Path, otlp_endpoint: str, ranking: str, stream: str) -> Iterator[str]:
    port, admin_port = free_port(), free_port()
    values = gateway_values(
        {
            "GATEWAY_PORT": str(port),
            "GATEWAY_ADMIN_PORT": str(admin_port),
            "JWT_JWKS_PATH": str(keys.jwks_path),
            "MEDIA_SVC_ADDR": f"127.0.0.1:{free_port()}",
            "STREAM_SVC_ADDR": stream,
            "RANKING_SVC_ADDR": ranking,
            "OTEL_EXPORTER_OTLP_ENDPOINT": otlp_endpoint,
        }
    )
    config_path = out / "envoy-traced.yaml"
    config_path.write_text(render(values))
    with running(localstack.envoy_command(config_path), out / "envoy-traced.log"):
        ready = f"http://127.0.0.1:{admin_port}/ready"
        wait_until(lambda: http_status(ready) == 200, 30, "Envoy")
        yield f"http://127.0.0.1:{port}"


def by_trace(spans: list[ReceivedSpan]) -> dict[str, set[str]]:
    services: dict[str, set[str]] = {}
    for span in spans:
        services.setdefault(span.trace_id, set()).add(span.service)
    return services


def test_one_feed_request_is_one_trace_across_envoy_and_the_services(
    keys, service_environ, tmp_path: Path
) -> None:
    with OtlpCollector() as collector:
        environ = {
            **service_environ,
            **FAST_EXPORT,
            "OTEL_EXPORTER_OTLP_ENDPOINT": collector.endpoint,
            # Its own chDB and Milvus Lite files: the in-process services hold the session's.
            "REELS_DATA_DIR": str(tmp_path / "data"),
        }
        with (
            service_process("stream_svc", environ, tmp_path) as stream,
            service_process("embed_svc", environ, tmp_path) as embed,
            service_process(
                "ranking_svc",
                {**environ, "STREAM_SVC_ADDR": stream, "EMBED_SVC_ADDR": embed},
                tmp_path,
            ) as ranking,
            traced_gateway(keys, tmp_path, collector.endpoint, ranking, stream) as gateway,
        ):
            response = httpx.get(
                f"{gateway}/api/v1/reels?limit=5",
                headers={**keys.user_headers("tracer"), "x-request-id": "trace-me-1"},
                timeout=15,
            )
            assert response.status_code == 200, response.text

            deadline = time.monotonic() + 30
            shared: set[str] = set()
            while time.monotonic() < deadline:
                traces = by_trace(collector.spans())
                shared = max(traces.values(), key=len, default=set())
                if "envoy-gateway" in shared and len(shared - {"envoy-gateway"}) >= 2:
                    break
                time.sleep(0.2)

    assert "envoy-gateway" in shared, collector.spans()
    # ranking_svc and at least one of the peers it called under the same trace id.
    assert "ranking_svc" in shared
    assert shared & {"stream_svc", "embed_svc"}, shared
