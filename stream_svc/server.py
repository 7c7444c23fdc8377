"""stream_svc wiring: config, engines, the two halves of the servicer, health, graceful stop."""

from __future__ import annotations

from reels.stream.v1 import stream_service_pb2, stream_service_pb2_grpc

from reels_runtime.config import Config
from reels_runtime.server import ReelsServer, build_server, main
from stream_svc.engagement_wiring import build_engagement
from stream_svc.playback_wiring import build_playback
from stream_svc.servicer import StreamServicer
from stream_svc.wiring import Shared, open_shared

SERVICE_NAME = stream_service_pb2.DESCRIPTOR.services_by_name["StreamService"].full_name
DEFAULT_LISTEN = "127.0.0.1:50052"


async def create_server(config: Config) -> ReelsServer:
    """Builds stream_svc on GRPC_LISTEN (port 0 in tests); call start() to serve."""
    shared: Shared = await open_shared(config)
    playback = await build_playback(config, shared)
    engagement = await build_engagement(config, shared)
    servicer = StreamServicer(
        playback=playback.deps,
        engagement=engagement.deps.service,
        backlog=engagement.deps.backlog,
    )
    server = build_server(
        config,
        [SERVICE_NAME],
        [lambda s: stream_service_pb2_grpc.add_StreamServiceServicer_to_server(servicer, s)],
        default_listen=DEFAULT_LISTEN,
    )
    for part in (playback, engagement):
        for task in part.background:
            server.add_background_task(task)
        for stop in part.stoppers:
            server.on_stopping(stop)
        for close in part.closers:
            server.on_shutdown(close)
    for close in shared.closers:
        server.on_shutdown(close)
    return server


def run() -> None:
    main(create_server, service_name="stream_svc")
