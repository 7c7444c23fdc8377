"""ranking_svc wiring: config, stores, peers, consumers, servicer, health, graceful stop."""

from __future__ import annotations

import os
import socket
from datetime import UTC, datetime

from redis.asyncio import Redis
from reels.embed.v1 import embed_service_pb2, embed_service_pb2_grpc
from reels.ranking.v1 import ranking_service_pb2
from reels.stream.v1 import stream_service_pb2, stream_service_pb2_grpc

from ranking_svc.adapters.index_events import CONSUMER_GROUP, TOPICS, IndexFeed
from ranking_svc.adapters.peers import EmbedDeep, StreamFacts
from ranking_svc.adapters.postgres_index import PostgresIndex
from ranking_svc.adapters.redis_store import RedisFeedStore
from ranking_svc.domain.catalog import Catalog
from ranking_svc.domain.cursor import CursorCodec
from ranking_svc.domain.feed import FeedService, TrendingLists
from ranking_svc.domain.model import Fallback
from ranking_svc.metrics import FEED_FALLBACKS
from ranking_svc.servicer import (
    PlaybackLinks,
    RankingDeps,
    RankingServicer,
    add_ranking_servicer,
)
from ranking_svc.settings import RankingSettings
from reels_runtime.auth import ServiceTokenSource, TokenSigner
from reels_runtime.channels import dial
from reels_runtime.config import Config
from reels_runtime.db import open_pg_pool
from reels_runtime.eventbus import EventBus
from reels_runtime.server import ReelsServer, build_server, main
from reels_runtime.topics import VIDEO_DELETED, VIDEO_PUBLISHED, VIDEO_UPDATED

SERVICE_NAME = ranking_service_pb2.DESCRIPTOR.services_by_name["RankingService"].full_name
STREAM_SERVICE = stream_service_pb2.DESCRIPTOR.services_by_name["StreamService"].full_name
EMBED_SERVICE = embed_service_pb2.DESCRIPTOR.services_by_name["EmbedService"].full_name
DEFAULT_LISTEN = "127.0.0.1:50054"


def _now() -> datetime:
    return datetime.now(UTC)


def _count_fallback(fallback: Fallback) -> None:
    code = fallback.reason.split(" ", 1)[0].rstrip(":")
    FEED_FALLBACKS.labels(f"{fallback.dependency}:{code}").inc()


async def create_server(config: Config, settings: RankingSettings | None = None) -> ReelsServer:
    """Builds ranking_svc on GRPC_LISTEN (port 0 in tests); call start() to serve."""
    settings = settings or RankingSettings.from_env()
    f = settings.feed
    pool = await open_pg_pool(config.database_url, min_size=2, max_size=10, name="ranking_svc")
    # redis-py's asyncio pool allows 100 connections by default; a busy feed (page reads,
    # seen-filter writes, consumers) needs more, or calls fail with MaxConnectionsError.
    redis = Redis.from_url(
        config.redis_url, socket_timeout=2.0, socket_connect_timeout=2.0, max_connections=1024
    )
    bus = EventBus(redis, config.event_stream_prefix)
    tokens = ServiceTokenSource.from_config(config)
    stream_channel, stream_stub = dial(
        config.stream_svc_addr,
        stream_service_pb2_grpc.StreamServiceStub,
        STREAM_SERVICE,
        0.5,
        {
            # Hot lists refresh in the background of the feed: they may take longer.
            "GetTrendingFacts": 5.0,
            "GetAffinityFacts": f.affinity_timeout_s,
            "GetWatchHistory": f.affinity_timeout_s,
            "BatchGetEngagement": f.engagement_timeout_s,
        },
        token_provider=tokens,
    )
    embed_channel, embed_stub = dial(
        config.embed_svc_addr,
        embed_service_pb2_grpc.EmbedServiceStub,
        EMBED_SERVICE,
        0.2,
        {"RecallForUser": f.recall_timeout_s, "ScoreCandidates": f.score_timeout_s},
        token_provider=tokens,
    )
    index = PostgresIndex(pool)
    store = RedisFeedStore(
        redis,
        config.redis_key,
        seen_ttl_s=settings.seen_ttl_s,
        session_ttl_s=settings.cursor_ttl_s,
        hot_ttl_s=settings.hot_cache_ttl_s,
        page_ttl_s=settings.page_cache_ttl_s,
    )
    facts = StreamFacts(stream_stub)
    deep = EmbedDeep(embed_stub)
    cursors = CursorCodec(settings.cursor_key(config), settings.cursor_ttl_s)
    trending = TrendingLists(index, facts, store, _now)
    feed = FeedService(
        index, facts, deep, store, trending, cursors, f, _now, on_fallback=_count_fallback
    )
    catalog = Catalog(index, facts, deep, store, trending, cursors, _now)
    # Playback tokens are EdDSA with the playback key: ~50 µs a signature, where an RS256
    # one costs ~300 µs and made half the CPU of a fresh page.
    signer = TokenSigner.playback_from_config(config)
    links = PlaybackLinks(
        lambda user, video: signer.mint_playback(user, video, ttl=settings.playback_token_ttl_s),
        settings.playback_base_url,
        settings.playback_token_ttl_s,
    )
    servicer = RankingServicer(
        RankingDeps(
            feed,
            catalog,
            store,
            links,
            index,
            prefetch=settings.prefetch_next_page,
            prefetch_concurrency=settings.prefetch_concurrency,
            page_ttl_s=settings.page_cache_ttl_s,
        )
    )
    server = build_server(
        config,
        [SERVICE_NAME],
        [lambda s: add_ranking_servicer(servicer, s)],
        default_listen=DEFAULT_LISTEN,
    )
    handlers = IndexFeed(index, store)
    by_topic = {
        VIDEO_PUBLISHED: handlers.on_published,
        VIDEO_UPDATED: handlers.on_updated,
        VIDEO_DELETED: handlers.on_deleted,
    }
    name = f"{config.service_name}-{socket.gethostname()}-{os.getpid()}"
    consumers = [
        bus.consumer(
            topic,
            CONSUMER_GROUP,
            name,
            by_topic[topic],
            message_type=message_type,
            batch=64,
        )
        for topic, message_type in TOPICS.items()
    ]
    for consumer in consumers:
        # The group exists before serving, so nothing published meanwhile is missed.
        await bus.ensure_group(consumer.topic, consumer.group)
        server.add_background_task(consumer.run)
        server.on_stopping(consumer.stop)

    async def close_channels() -> None:
        await stream_channel.close()
        await embed_channel.close()

    for closer in (close_channels, store.drain, redis.aclose, pool.close):
        server.on_shutdown(closer)
    return server


def run() -> None:
    main(create_server, service_name="ranking_svc")
