"""Renders envoy/envoy.yaml (a template) into a runnable Envoy config."""

from __future__ import annotations

import argparse
import json
import os
import string
import urllib.parse
from collections.abc import Callable, Mapping
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_PATH = REPO_ROOT / "envoy" / "envoy.yaml"
DESCRIPTOR_PATH = REPO_ROOT / "envoy" / "reels_descriptor.pb"


def _split_address(address: str, variable: str) -> tuple[str, str]:
    host, sep, port = address.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise ValueError(f"{variable} must be host:port, got {address!r}")
    return host, port


HTTP_OPTIONS = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"


def tracing_blocks(otlp_endpoint: str) -> tuple[str, str]:
    """The connection manager's tracing entry and the collector's cluster (YAML flow style,
    i.e. JSON), or two empty strings when no OTLP endpoint is set: then Envoy neither
    traces nor exports anything."""
    if not otlp_endpoint:
        return "", ""
    url = urllib.parse.urlsplit(otlp_endpoint)
    if url.scheme not in ("http", "https") or not url.hostname or not url.port:
        raise ValueError(
            f"OTEL_EXPORTER_OTLP_ENDPOINT must be http(s)://host:port, got {otlp_endpoint!r}"
        )
    tracing = {
        # Every request is sampled; the services follow Envoy's decision (traceparent).
        "random_sampling": {"value": 100},
        "provider": {
            "name": "envoy.tracers.opentelemetry",
            "typed_config": {
                "@type": "type.googleapis.com/envoy.config.trace.v3.OpenTelemetryConfig",
                "service_name": "envoy-gateway",
                "grpc_service": {"envoy_grpc": {"cluster_name": "otel_collector"}, "timeout": "2s"},
            },
        },
    }
    address = {"socket_address": {"address": url.hostname, "port_value": url.port}}
    cluster: dict[str, object] = {
        "name": "otel_collector",
        "type": "STRICT_DNS",
        "connect_timeout": "1s",
        "typed_extension_protocol_options": {
            HTTP_OPTIONS: {
                "@type": f"type.googleapis.com/{HTTP_OPTIONS}",
                "explicit_http_config": {"http2_protocol_options": {}},
            }
        },
        "load_assignment": {
            "cluster_name": "otel_collector",
            "endpoints": [{"lb_endpoints": [{"endpoint": {"address": address}}]}],
        },
    }
    if url.scheme == "https":
        cluster["transport_socket"] = {
            "name": "envoy.transport_sockets.tls",
            "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3."
                "UpstreamTlsContext",
                "sni": url.hostname,
            },
        }
    return (
        " " * 16 + "tracing: " + json.dumps(tracing),
        " " * 4 + "- " + json.dumps(cluster),
    )


def gateway_values(environ: Mapping[str, str] = os.environ) -> dict[str, str]:
    """Returns every placeholder's value, from the environment or the local-stack default."""
    values = {
        "LISTEN_ADDRESS": environ.get("GATEWAY_LISTEN_ADDRESS", "127.0.0.1"),
        "GATEWAY_PORT": environ.get("GATEWAY_PORT", "8080"),
        "ADMIN_PORT": environ.get("GATEWAY_ADMIN_PORT", "9901"),
        "ROUTE_TIMEOUT": environ.get("GATEWAY_ROUTE_TIMEOUT", "15s"),
        "CORS_ORIGIN_REGEX": environ.get("GATEWAY_CORS_ORIGIN_REGEX", ".*"),
        "RATE_LIMIT_PER_SECOND": environ.get("GATEWAY_RATE_LIMIT_PER_SECOND", "2000"),
        "RATE_LIMIT_BURST": environ.get("GATEWAY_RATE_LIMIT_BURST", "4000"),
        "JWT_ISSUER": environ.get("JWT_ISSUER", "reels-local"),
        "JWT_AUDIENCE": environ.get("JWT_AUDIENCE", "reels"),
        "JWKS_PATH": str(Path(environ.get("JWT_JWKS_PATH", "var/keys/jwks.json")).resolve()),
        "DESCRIPTOR_PATH": str(Path(environ.get("ENVOY_DESCRIPTOR_PATH", DESCRIPTOR_PATH))),
    }
    values["TRACING"], values["TRACING_CLUSTER"] = tracing_blocks(
        environ.get("OTEL_EXPORTER_OTLP_ENDPOINT", "").strip()
    )
    for service, default in (
        ("MEDIA", "127.0.0.1:50051"),
        ("STREAM", "127.0.0.1:50052"),
        ("RANKING", "127.0.0.1:50054"),
    ):
        variable = f"{service}_SVC_ADDR"
        host, port = _split_address(environ.get(variable, default), variable)
        values[f"{service}_HOST"], values[f"{service}_PORT"] = host, port
    for name in ("GATEWAY_PORT", "ADMIN_PORT", "RATE_LIMIT_PER_SECOND", "RATE_LIMIT_BURST"):
        if not values[name].isdigit():
            raise ValueError(f"{name} must be a positive integer, got {values[name]!r}")
    return values


def render(values: Mapping[str, str], template_path: Path = TEMPLATE_PATH) -> str:
    """Fills the template; a placeholder without a value is an error, never left in."""
    return string.Template(template_path.read_text()).substitute(values)


def write_config(
    description: str | None,
    values: Callable[[], Mapping[str, str]],
    template_path: Path = TEMPLATE_PATH,
) -> None:
    """The command line of a template renderer: `--out PATH`, values from the environment."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--out", type=Path, required=True, help="where to write the config")
    args = parser.parse_args()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(render(values(), template_path))
    print(args.out)


if __name__ == "__main__":
    write_config(__doc__, gateway_values)
