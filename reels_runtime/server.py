"""Server bootstrap: interceptors, health, reflection, metrics endpoint and graceful stop."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import inspect
import logging
import signal
import sys
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1.health import aio as health_aio
from grpc_reflection.v1alpha import reflection
from prometheus_client import start_http_server

from reels_runtime import telemetry
from reels_runtime.auth import TokenVerifier
from reels_runtime.channels import DEFAULT_MAX_MESSAGE_BYTES
from reels_runtime.config import Config, ConfigError
from reels_runtime.interceptors import default_server_interceptors

logger = logging.getLogger(__name__)

RegisterFn = Callable[[grpc.aio.Server], None]
CreateServer = Callable[[Config], "ReelsServer | Awaitable[ReelsServer]"]
DEFAULT_GRACE_S = 5.0
# How long stop() lets background tasks that were asked to stop end by themselves (a
# consumer's blocking read is 1 s) before cancelling them.
BACKGROUND_STOP_GRACE_S = 3.0
# The most a cancelled task or one shutdown callback (closing a pool, a client) may take.
SHUTDOWN_STEP_TIMEOUT_S = 5.0


@dataclass
class ReelsServer:
    """A built (not yet started) grpc.aio server and what belongs to its lifetime."""

    server: grpc.aio.Server
    port: int
    address: str
    health: health_aio.HealthServicer
    service_names: tuple[str, ...]
    metrics_port: int = 0
    metrics_addr: str = "127.0.0.1"
    _background: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    _on_shutdown: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    _on_stopping: list[Callable[[], None]] = field(default_factory=list)
    _metrics_server: Any = None
    _stopped: bool = False

    @property
    def target(self) -> str:
        """host:port a client on this machine dials to reach the server."""
        host = self.address.rpartition(":")[0]
        if host in ("0.0.0.0", "[::]", ""):  # a wildcard bind is reached over loopback
            host = "127.0.0.1"
        return f"{host}:{self.port}"

    def add_background_task(self, factory: Callable[[], Awaitable[None]]) -> None:
        """Runs `factory()` beside the server from start() until stop() (event consumers)."""
        self._background.append(factory)

    def on_stopping(self, callback: Callable[[], None]) -> None:
        """Called when stop() begins, before background tasks are cancelled: ask a consumer
        to finish the event in hand and return by itself (`Consumer.stop`). Cancelling a
        Redis command in flight can leave its connection, and the task, hanging."""
        self._on_stopping.append(callback)

    def on_shutdown(self, callback: Callable[[], Awaitable[None]]) -> None:
        """Awaited after the server has stopped (close pools, channels, clients)."""
        self._on_shutdown.append(callback)

    async def start(self) -> None:
        await self.server.start()
        for name in ("", *self.service_names):
            await self.health.set(name, health_pb2.HealthCheckResponse.SERVING)
        if self.metrics_port > 0:
            self._metrics_server, _ = start_http_server(self.metrics_port, self.metrics_addr)
        for factory in self._background:
            self._tasks.append(asyncio.create_task(_supervised(factory)))
        logger.info(
            "serving %s on %s",
            ", ".join(self.service_names),
            self.target,
            extra={"port": self.port, "metrics_port": self.metrics_port},
        )

    async def stop(self, grace: float | None = DEFAULT_GRACE_S) -> None:
        """NOT_SERVING first (so probes and balancers stop sending), then drain and stop.

        Every phase is bounded and one that overruns is logged by name, so a stuck task or
        client never keeps a stopping process alive (Kubernetes would SIGKILL it anyway).
        """
        if self._stopped:
            return
        self._stopped = True
        await self.health.enter_graceful_shutdown()
        await self.server.stop(grace)
        for callback in self._on_stopping:
            callback()
        pending: set[asyncio.Task[None]] = set(self._tasks)
        if pending and self._on_stopping:
            _, pending = await asyncio.wait(pending, timeout=BACKGROUND_STOP_GRACE_S)
        for task in pending:
            task.cancel()
        if self._tasks:
            _, stuck = await asyncio.wait(self._tasks, timeout=SHUTDOWN_STEP_TIMEOUT_S)
            for task in stuck:
                logger.error(
                    "background task ignored its cancellation; left behind",
                    extra={"task": task.get_name(), "coroutine": repr(task.get_coro())},
                )
        for callback in reversed(self._on_shutdown):
            try:
                async with asyncio.timeout(SHUTDOWN_STEP_TIMEOUT_S):
                    await callback()
            except TimeoutError:
                logger.error(
                    "shutdown callback overran; skipped", extra={"callback": repr(callback)}
                )
            except Exception:
                logger.exception("shutdown callback failed")
        if self._metrics_server is not None:
            self._metrics_server.shutdown()
            self._metrics_server.server_close()
        logger.info("stopped", extra={"port": self.port})

    async def wait_for_termination(self) -> None:
        await self.server.wait_for_termination()


async def _supervised(factory: Callable[[], Awaitable[None]]) -> None:
    try:
        await factory()
    except asyncio.CancelledError:
        raise
    except Exception:
        # A dead consumer must be visible; the process keeps serving RPCs meanwhile.
        logger.exception("background task failed")


def build_server(
    config: Config,
    service_names: Sequence[str],
    register_fns: Iterable[RegisterFn],
    *,
    default_listen: str = "127.0.0.1:0",
    interceptors: Sequence[grpc.aio.ServerInterceptor] | None = None,
    verifier: TokenVerifier | None = None,
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
    options: Sequence[tuple[str, Any]] = (),
) -> ReelsServer:
    """Creates the server with the standard interceptors, health and reflection, and binds it.

    Listens on GRPC_LISTEN, else `default_listen` (port 0 picks a free port; the bound
    one is `.port`). Call inside the running event loop.
    """
    if interceptors is None:
        interceptors = default_server_interceptors(verifier or TokenVerifier.from_config(config))
    server = grpc.aio.server(
        interceptors=list(interceptors),
        options=[
            ("grpc.max_send_message_length", max_message_bytes),
            ("grpc.max_receive_message_length", max_message_bytes),
            # Without this a second server silently shares a busy port with the first.
            ("grpc.so_reuseport", 0),
            *options,
        ],
    )
    for register in register_fns:
        register(server)
    health = health_aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health, server)
    reflection.enable_server_reflection(
        (
            *service_names,
            health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
            reflection.SERVICE_NAME,
        ),
        server,
    )
    address = config.listen_address(default_listen)
    try:
        port = server.add_insecure_port(address)
    except RuntimeError as error:
        raise OSError(f"cannot listen on {address}: {error}") from error
    if port == 0:
        raise OSError(f"cannot listen on {address}")
    return ReelsServer(
        server=server,
        port=port,
        address=address,
        health=health,
        service_names=tuple(service_names),
        metrics_port=config.metrics_port,
        metrics_addr=_metrics_host(address),
    )


def _metrics_host(address: str) -> str:
    # Metrics share the gRPC interface: loopback locally, all interfaces in a pod.
    host = address.rpartition(":")[0]
    return host.strip("[]") or "127.0.0.1"


async def serve(
    create_server: CreateServer,
    config: Config,
    *,
    grace_s: float = DEFAULT_GRACE_S,
    stop_event: asyncio.Event | None = None,
    tune_gc_after_start: bool = False,
) -> None:
    """Starts the server and runs until SIGTERM/SIGINT (or `stop_event`), then stops it.
    `tune_gc_after_start` is for a process of its own (`main`), never a test's."""
    built = create_server(config)
    server = await built if inspect.isawaitable(built) else built
    stop_event = stop_event or asyncio.Event()
    loop = asyncio.get_running_loop()
    installed: list[signal.Signals] = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop_event.set)
            installed.append(sig)
    try:
        await server.start()
        if tune_gc_after_start:
            tune_gc(config.gc_thresholds)
        await stop_event.wait()
        logger.info("shutting down", extra={"grace_s": grace_s})
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)
        await server.stop(grace_s)


async def run_forever(
    create_server: CreateServer,
    *,
    service_name: str,
    config: Config | None = None,
    grace_s: float = DEFAULT_GRACE_S,
    tune_gc_after_start: bool = False,
) -> None:
    """A service's whole life: config from the environment, telemetry, serve until signalled."""
    config = config or Config.from_env(service_name=service_name)
    telemetry.configure(config.service_name, config.log_level, config.otel_exporter_otlp_endpoint)
    try:
        await serve(create_server, config, grace_s=grace_s, tune_gc_after_start=tune_gc_after_start)
    finally:
        telemetry.shutdown()


def main(create_server: CreateServer, *, service_name: str) -> None:
    """Entry point for `python -m <service>`: exit status 2 on a configuration error."""
    try:
        config = Config.from_env(service_name=service_name)
    except ConfigError as error:
        print(f"{service_name}: configuration error: {error}", file=sys.stderr)
        sys.exit(2)
    asyncio.run(
        run_forever(
            create_server, service_name=service_name, config=config, tune_gc_after_start=True
        )
    )


def tune_gc(thresholds: tuple[int, int, int] | None) -> None:
    """Freezes what startup allocated (modules, descriptors, stubs, pools) out of the cyclic
    GC and sets its thresholds. Under Python's defaults, a full collection walked every
    cached session, token and memo entry: in bench/bench_feed.py ranking_svc spent a fifth
    to a quarter of its CPU in the GC, with full collections of up to 600 ms (an ad-hoc
    gc.callbacks probe). Garbage is still freed by reference counting as soon as it is;
    only cycles wait longer."""
    if thresholds is None:
        return
    gc.collect()
    gc.freeze()
    gc.set_threshold(*thresholds)
