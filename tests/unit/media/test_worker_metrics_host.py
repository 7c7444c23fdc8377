"""The transcode worker's /metrics binds where GRPC_LISTEN's host says (0.0.0.0 in a pod)."""

from __future__ import annotations

from media_svc.worker import _metrics_host


def test_loopback_unless_grpc_listen_names_an_interface() -> None:
    assert _metrics_host(None) == "127.0.0.1"
    assert _metrics_host("0.0.0.0:0") == "0.0.0.0"
    assert _metrics_host("[::]:0") == "::"
    assert _metrics_host(":0") == "127.0.0.1"
