"""Renders envoy/cdn.yaml (the CDN stand-in's template) into a runnable Envoy config."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

from reels_runtime.config import DEFAULTS
from reels_runtime.envoy_config import render as render_template
from reels_runtime.envoy_config import write_config

REPO_ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_PATH = REPO_ROOT / "envoy" / "cdn.yaml"


def _host_port(url: str, variable: str) -> tuple[str, int]:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{variable} must be an http(s) URL, got {url!r}")
    return parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)


def cdn_values(environ: Mapping[str, str] = os.environ) -> dict[str, str]:
    """Every placeholder's value, from the environment or the local-stack default.

    The CDN listens on CDN_URL's port and fronts S3_ENDPOINT_URL, the same variables the
    services read, so the URLs stream_svc hands out always reach this proxy.
    """
    cdn_url = environ.get("CDN_URL") or DEFAULTS["CDN_URL"]
    origin_url = environ.get("S3_ENDPOINT_URL") or DEFAULTS["S3_ENDPOINT_URL"]
    _, cdn_port = _host_port(cdn_url, "CDN_URL")
    origin_host, origin_port = _host_port(origin_url, "S3_ENDPOINT_URL")
    values = {
        "LISTEN_ADDRESS": environ.get("CDN_LISTEN_ADDRESS", "127.0.0.1"),
        "CDN_PORT": str(cdn_port),
        "ADMIN_PORT": environ.get("CDN_ADMIN_PORT", "9902"),
        "ORIGIN_HOST": origin_host,
        "ORIGIN_PORT": str(origin_port),
        "CACHE_TTL": environ.get("CDN_CACHE_TTL_SECONDS", "300"),
        "CORS_ORIGIN_REGEX": environ.get("CDN_CORS_ORIGIN_REGEX", ".*"),
    }
    for name in ("ADMIN_PORT", "CACHE_TTL"):
        if not values[name].isdigit():
            raise ValueError(f"{name} must be a positive integer, got {values[name]!r}")
    return values


def render(values: Mapping[str, str], template_path: Path = TEMPLATE_PATH) -> str:
    """Fills the CDN template; a placeholder without a value is an error."""
    return render_template(values, template_path)


if __name__ == "__main__":
    write_config(__doc__, cdn_values, TEMPLATE_PATH)
