"""media_svc wiring: config, pools, adapters, servicer, health, graceful stop."""

from __future__ import annotations

from redis.asyncio import Redis
from reels.media.v1 import media_service_pb2, media_service_pb2_grpc

from media_svc.adapters.object_store import ObjectStore
from media_svc.adapters.pipeline_probes import PipelineProbe
from media_svc.adapters.postgres_videos import PostgresVideoRepository
from media_svc.servicer import MediaServicer
from reels_runtime.config import Config
from reels_runtime.db import open_pg_pool
from reels_runtime.eventbus import EventBus
from reels_runtime.server import ReelsServer, build_server, main

SERVICE_NAME = media_service_pb2.DESCRIPTOR.services_by_name["MediaService"].full_name
DEFAULT_LISTEN = "127.0.0.1:50051"


async def create_server(config: Config) -> ReelsServer:
    """Builds media_svc on GRPC_LISTEN (port 0 in tests); call start() to serve."""
    pool = await open_pg_pool(config.database_url, min_size=1, max_size=10, name="media_svc")
    redis = Redis.from_url(config.redis_url, socket_timeout=2.0, socket_connect_timeout=2.0)
    bus = EventBus(redis)
    store = ObjectStore(config)
    servicer = MediaServicer(
        videos=PostgresVideoRepository(pool),
        pipeline_health=PipelineProbe(redis, bus, store, config.cdn_url),
    )
    server = build_server(
        config,
        [SERVICE_NAME],
        [lambda s: media_service_pb2_grpc.add_MediaServiceServicer_to_server(servicer, s)],
        default_listen=DEFAULT_LISTEN,
    )
    server.on_shutdown(pool.close)
    server.on_shutdown(redis.aclose)
    return server


def run() -> None:
    main(create_server, service_name="media_svc")
