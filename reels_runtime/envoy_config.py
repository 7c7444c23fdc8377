"""Renders envoy/envoy.yaml (a template) into a runnable Envoy config."""

from __future__ import annotations

import argparse
import os
import string
from collections.abc import Mapping
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_PATH = REPO_ROOT / "envoy" / "envoy.yaml"
DESCRIPTOR_PATH = REPO_ROOT / "envoy" / "reels_descriptor.pb"


def _split_address(address: str, variable: str) -> tuple[str, str]:
    host, sep, port = address.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise ValueError(f"{variable} must be host:port, got {address!r}")
    return host, port


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, required=True, help="where to write the config")
    args = parser.parse_args()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(render(gateway_values()))
    print(args.out)


if __name__ == "__main__":
    main()
