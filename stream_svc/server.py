"""stream_svc wiring: config, servicer, health, graceful stop."""

from __future__ import annotations

from reels.stream.v1 import stream_service_pb2, stream_service_pb2_grpc

from reels_runtime.config import Config
from reels_runtime.server import ReelsServer, build_server, main
from stream_svc.servicer import StreamServicer

SERVICE_NAME = stream_service_pb2.DESCRIPTOR.services_by_name["StreamService"].full_name
DEFAULT_LISTEN = "127.0.0.1:50052"


def create_server(config: Config) -> ReelsServer:
    """Builds stream_svc on GRPC_LISTEN (port 0 in tests); call start() to serve."""
    servicer = StreamServicer()
    return build_server(
        config,
        [SERVICE_NAME],
        [lambda s: stream_service_pb2_grpc.add_StreamServiceServicer_to_server(servicer, s)],
        default_listen=DEFAULT_LISTEN,
    )


def run() -> None:
    main(create_server, service_name="stream_svc")
