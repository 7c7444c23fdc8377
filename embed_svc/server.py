"""embed_svc wiring: config, servicer, health, graceful stop."""

from __future__ import annotations

from reels.embed.v1 import embed_service_pb2, embed_service_pb2_grpc

from embed_svc.servicer import EmbedServicer
from reels_runtime.config import Config
from reels_runtime.server import ReelsServer, build_server, main

SERVICE_NAME = embed_service_pb2.DESCRIPTOR.services_by_name["EmbedService"].full_name
DEFAULT_LISTEN = "127.0.0.1:50053"


def create_server(config: Config) -> ReelsServer:
    """Builds embed_svc on GRPC_LISTEN (port 0 in tests); call start() to serve."""
    servicer = EmbedServicer()
    return build_server(
        config,
        [SERVICE_NAME],
        [lambda s: embed_service_pb2_grpc.add_EmbedServiceServicer_to_server(servicer, s)],
        default_listen=DEFAULT_LISTEN,
    )


def run() -> None:
    main(create_server, service_name="embed_svc")
