"""Wiring: flags, TensorFlow threads, the gRPC server with health and reflection, metrics,
graceful stop on SIGTERM.

    python -m model_server --model-base models --port 8500 [--host 127.0.0.1]
        [--metrics-port 0] [--max-batch 128] [--max-request-mb 64]

Flags mirror TensorFlow Serving's (`--port`, `--model_base_path` also spelled
`--model-base`; MODEL_BASE_PATH in the environment as in its container image).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import logging
import os
import signal
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1.health import aio as health_aio
from grpc_reflection.v1alpha import reflection
from prometheus_client import start_http_server
from tensorflow_serving.apis import (
    model_service_pb2,
    model_service_pb2_grpc,
    prediction_service_pb2,
    prediction_service_pb2_grpc,
)

from model_server.metrics import METRICS
from model_server.registry import ModelRegistry, configure_threads
from model_server.servicer import InferenceRunner, ModelStatusServicer, PredictionServicer

logger = logging.getLogger(__name__)

SERVICE_NAMES = (
    prediction_service_pb2.DESCRIPTOR.services_by_name["PredictionService"].full_name,
    model_service_pb2.DESCRIPTOR.services_by_name["ModelService"].full_name,
)
DEFAULT_GRACE_S = 5.0
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # mallopt parameters (malloc.h)


@dataclass(frozen=True)
class ServerConfig:
    """Everything the server is told at start-up (flags; see --help)."""

    model_base: Path
    host: str = "127.0.0.1"
    port: int = 8500
    metrics_port: int = 0
    max_batch: int = 128
    # Receive limit and cap on a request's tensors: 100 frames at 224x224 RGB are 15 MB,
    # far above gRPC's 4 MB default.
    max_request_mb: int = 64
    inference_threads: int = 2
    intra_op_threads: int = 2
    inter_op_threads: int = 2
    grace_s: float = DEFAULT_GRACE_S
    log_level: str = "INFO"

    @property
    def max_request_bytes(self) -> int:
        return self.max_request_mb * 1024 * 1024

    @property
    def listen(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @classmethod
    def from_args(cls, argv: Sequence[str] | None = None) -> ServerConfig:
        parser = argparse.ArgumentParser(
            prog="python -m model_server",
            description="TensorFlow Serving's gRPC API over the SavedModels under a base path.",
        )
        parser.add_argument(
            "--model-base",
            "--model_base_path",
            type=Path,
            default=Path(os.environ.get("MODEL_BASE_PATH", "models")),
            help="directory holding <model>/<version>/saved_model.pb (env MODEL_BASE_PATH)",
        )
        parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
        parser.add_argument("--port", type=int, default=8500, help="gRPC port (0: any free)")
        parser.add_argument("--metrics-port", type=int, default=0, help="Prometheus; 0 = off")
        parser.add_argument("--max-batch", type=int, default=128)
        parser.add_argument("--max-request-mb", type=int, default=64)
        parser.add_argument("--inference-threads", type=int, default=2)
        parser.add_argument("--intra-op-threads", type=int, default=2)
        parser.add_argument("--inter-op-threads", type=int, default=2)
        parser.add_argument("--grace-s", type=float, default=DEFAULT_GRACE_S)
        parser.add_argument("--log-level", default=os.environ.get("LOG_LEVEL", "INFO"))
        args = parser.parse_args(argv)
        for name in ("max_batch", "max_request_mb", "inference_threads"):
            if getattr(args, name) < 1:
                parser.error(f"--{name.replace('_', '-')} must be at least 1")
        return cls(**vars(args))


@dataclass
class ModelServer:
    """A built (not yet started) model server and what belongs to its lifetime."""

    server: grpc.aio.Server
    port: int
    config: ServerConfig
    registry: ModelRegistry
    health: health_aio.HealthServicer
    runner: InferenceRunner
    _metrics: Any = field(default=None, repr=False)
    _stopped: bool = False

    @property
    def target(self) -> str:
        """host:port a client on this machine dials."""
        host = self.config.host
        if host in ("0.0.0.0", "::", ""):  # a wildcard bind is reached over loopback
            host = "127.0.0.1"
        return f"[{host}]:{self.port}" if ":" in host else f"{host}:{self.port}"

    async def start(self) -> None:
        await self.server.start()
        for name in ("", *SERVICE_NAMES):
            await self.health.set(name, health_pb2.HealthCheckResponse.SERVING)
        if self.config.metrics_port > 0:
            self._metrics, _ = start_http_server(
                self.config.metrics_port, self.config.host, registry=METRICS
            )
        logger.info(
            "serving models",
            extra={
                "target": self.target,
                "models": self.registry.names(),
                "metrics_port": self.config.metrics_port,
            },
        )

    async def stop(self, grace: float | None = DEFAULT_GRACE_S) -> None:
        """NOT_SERVING first (probes and balancers stop sending), then drain and stop."""
        if self._stopped:
            return
        self._stopped = True
        await self.health.enter_graceful_shutdown()
        await self.server.stop(grace)
        await asyncio.to_thread(self.runner.close)
        if self._metrics is not None:
            self._metrics.shutdown()
            self._metrics.server_close()
        logger.info("stopped", extra={"port": self.port})


async def create_server(config: ServerConfig, registry: ModelRegistry | None = None) -> ModelServer:
    """Loads every model version (off the event loop), then builds and binds the server."""
    if registry is None:
        configure_threads(config.intra_op_threads, config.inter_op_threads)
        registry = await asyncio.to_thread(ModelRegistry.load, config.model_base)
    if registry.available_count() == 0:
        raise RuntimeError(
            f"no model version could be served from {config.model_base} "
            "(expected <model>/<version>/saved_model.pb; `make models` exports them)"
        )
    server = grpc.aio.server(
        options=[
            ("grpc.max_receive_message_length", config.max_request_bytes),
            ("grpc.max_send_message_length", config.max_request_bytes),
            # Without this a second server silently shares a busy port with the first.
            ("grpc.so_reuseport", 0),
        ]
    )
    runner = InferenceRunner(config.inference_threads)
    prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server(
        PredictionServicer(
            registry,
            runner,
            max_batch=config.max_batch,
            max_request_bytes=config.max_request_bytes,
        ),
        server,
    )
    model_service_pb2_grpc.add_ModelServiceServicer_to_server(ModelStatusServicer(registry), server)
    health = health_aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health, server)
    reflection.enable_server_reflection(
        (
            *SERVICE_NAMES,
            health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
            reflection.SERVICE_NAME,
        ),
        server,
    )
    try:
        port = server.add_insecure_port(config.listen)
    except RuntimeError as error:
        raise OSError(f"cannot listen on {config.listen}: {error}") from error
    if port == 0:
        raise OSError(f"cannot listen on {config.listen}")
    return ModelServer(server, port, config, registry, health, runner)


async def serve(config: ServerConfig, stop_event: asyncio.Event | None = None) -> None:
    """Runs until SIGTERM/SIGINT (or `stop_event`), then stops gracefully."""
    server = await create_server(config)
    stop_event = stop_event or asyncio.Event()
    loop = asyncio.get_running_loop()
    installed = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop_event.set)
            installed.append(sig)
    try:
        await server.start()
        await stop_event.wait()
        logger.info("shutting down", extra={"grace_s": config.grace_s})
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)
        await server.stop(config.grace_s)


def keep_freed_memory() -> bool:
    """Asks glibc to keep freed large blocks instead of returning them to the kernel.

    Every 100-frame request allocates and frees tensors of ~15 MB; by default glibc maps
    each afresh and trims it away again, and page-faulting it back in cost ~40% of the
    request here (p50 150 ms -> 93 ms). The same as MALLOC_MMAP_THRESHOLD_ and
    MALLOC_TRIM_THRESHOLD_ in the environment, but independent of who starts us.
    """
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc: nothing to tune
        return False
    mmap_ok = libc.mallopt(_M_MMAP_THRESHOLD, 32 * 1024 * 1024)  # the largest glibc accepts
    trim_ok = libc.mallopt(_M_TRIM_THRESHOLD, 512 * 1024 * 1024)
    return bool(mmap_ok and trim_ok)


def main(argv: Sequence[str] | None = None) -> None:
    config = ServerConfig.from_args(argv)
    from reels_runtime.telemetry import configure_logging

    configure_logging(config.log_level.upper(), "model_server")
    if not keep_freed_memory():
        logger.warning("could not tune malloc; large requests will be slower")
    try:
        asyncio.run(serve(config))
    except (RuntimeError, OSError, FileNotFoundError) as error:
        logger.error("model server failed to start: %s", error)
        sys.exit(1)
