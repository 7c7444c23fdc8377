"""embed_svc wiring: config, stores, model server and stream_svc clients, consumers, health,
graceful stop."""

from __future__ import annotations

from redis.asyncio import Redis
from reels.embed.v1 import embed_service_pb2, embed_service_pb2_grpc

from embed_svc.adapters.milvus_store import MilvusStore
from embed_svc.adapters.model_client import ModelClient
from embed_svc.adapters.redis_cache import RedisCache
from embed_svc.adapters.stream_client import StreamClient
from embed_svc.domain.batching import SearchCoalescer
from embed_svc.domain.service import EmbedService, Tuning
from embed_svc.servicer import EmbedServicer
from embed_svc.settings import EmbedSettings
from embed_svc.worker import background_tasks
from reels_runtime.config import Config
from reels_runtime.eventbus import EventBus
from reels_runtime.server import ReelsServer, build_server, main

SERVICE_NAME = embed_service_pb2.DESCRIPTOR.services_by_name["EmbedService"].full_name
DEFAULT_LISTEN = "127.0.0.1:50053"


async def create_server(config: Config, settings: EmbedSettings | None = None) -> ReelsServer:
    """Builds embed_svc on GRPC_LISTEN (port 0 in tests); call start() to serve."""
    settings = settings or EmbedSettings.from_env()
    redis = Redis.from_url(config.redis_url, socket_timeout=5.0, socket_connect_timeout=2.0)
    store = MilvusStore(
        config.milvus_uri,
        dimension=settings.dimension,
        collection=settings.collection,
        creator_collection=settings.creator_collection,
    )
    # The collections are created now, so the first request does not pay for it.
    await store.open()
    coalescer = SearchCoalescer(store.search)
    model = ModelClient(
        config.tensorflow_serving_url,
        encoder_model=settings.encoder_model,
        ranking_model=settings.ranking_model,
        budget_s=settings.inference_budget_s,
    )
    stream = StreamClient(config)
    service = EmbedService(
        encoder=model,
        store=store,
        searcher=coalescer,
        cache=RedisCache(redis, config.redis_key, settings.cache_ttl_s),
        history=stream,
        mirror=stream,
        tuning=Tuning(
            dimension=settings.dimension,
            half_life_h=settings.user_half_life_h,
            history_limit=settings.history_limit,
            recall_candidates=settings.recall_candidates,
            recall_stale_s=settings.recall_stale_s,
            user_refresh_delay_s=settings.user_refresh_delay_s,
        ),
    )
    servicer = EmbedServicer(service)
    server = build_server(
        config,
        [SERVICE_NAME],
        [lambda s: embed_service_pb2_grpc.add_EmbedServiceServicer_to_server(servicer, s)],
        default_listen=DEFAULT_LISTEN,
    )
    if settings.run_consumers:
        bus = EventBus(redis, config.event_stream_prefix)
        background = background_tasks(config, settings, bus, service)
        for task in background.tasks:
            server.add_background_task(task)
        for stop in background.stoppers:
            server.on_stopping(stop)
    # Stopped in reverse order: the service's tasks, the coalescer, the clients, the stores.
    for close in (redis.aclose, store.close, model.close, stream.close, coalescer.close):
        server.on_shutdown(close)
    server.on_shutdown(service.close)
    return server


def run() -> None:
    main(create_server, service_name="embed_svc")
