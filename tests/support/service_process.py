"""A reels service as its own process (`python -m <service>`), as `make up` runs it: for
tests that need what only separate processes show (their own exporters, a pause)."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.support.processes import free_port, running, wait_until


def serving(address: str, timeout: float = 1.0) -> bool:
    """Whether the gRPC server at `address` answers its overall health check with SERVING."""
    with grpc.insecure_channel(address) as channel:
        try:
            reply = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(), timeout=timeout
            )
        except grpc.RpcError:
            return False
    return reply.status == health_pb2.HealthCheckResponse.SERVING


@contextlib.contextmanager
def service_process(
    module: str, environ: Mapping[str, str], log_dir: Path, timeout: float = 90
) -> Iterator[str]:
    """Runs `python -m module` listening on a free port; yields its address once SERVING."""
    address = f"127.0.0.1:{free_port()}"
    env = {**environ, "SERVICE_NAME": module, "GRPC_LISTEN": address, "METRICS_PORT": "0"}
    command = [sys.executable, "-m", module]
    with running(command, log_dir / f"{module}.log", env=env) as process:

        def up() -> bool:
            if process.poll() is not None:
                raise RuntimeError(f"{module} exited with {process.returncode}; see {log_dir}")
            return serving(address)

        wait_until(up, timeout, module)
        yield address
