"""ranking_svc wiring: config, servicer, health, graceful stop."""

from __future__ import annotations

from reels.ranking.v1 import ranking_service_pb2, ranking_service_pb2_grpc

from ranking_svc.servicer import RankingServicer
from reels_runtime.config import Config
from reels_runtime.server import ReelsServer, build_server, main

SERVICE_NAME = ranking_service_pb2.DESCRIPTOR.services_by_name["RankingService"].full_name
DEFAULT_LISTEN = "127.0.0.1:50054"


def create_server(config: Config) -> ReelsServer:
    """Builds ranking_svc on GRPC_LISTEN (port 0 in tests); call start() to serve."""
    servicer = RankingServicer()
    return build_server(
        config,
        [SERVICE_NAME],
        [lambda s: ranking_service_pb2_grpc.add_RankingServiceServicer_to_server(servicer, s)],
        default_listen=DEFAULT_LISTEN,
    )


def run() -> None:
    main(create_server, service_name="ranking_svc")
