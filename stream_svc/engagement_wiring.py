"""Builds the engagement half of stream_svc: its stores, its RPC service and its consumers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from prometheus_client import Gauge
from reels.common.v1 import events_pb2

from reels_runtime.config import Config, ConfigError
from reels_runtime.eventbus import Consumer
from reels_runtime.topics import (
    VIDEO_DELETED,
    VIDEO_EVENTS,
    VIDEO_EVENTS_TYPES,
    VIDEO_PUBLISHED,
    VIDEO_UPDATED,
    playback_event_count,
)
from stream_svc.adapters.analytics_cache import RedisAnalyticsCache
from stream_svc.adapters.batch_consumer import BatchConsumer
from stream_svc.adapters.clickhouse_events import ClickHouseEvents
from stream_svc.adapters.engagement_bus import BusPublisher, outbox_relay
from stream_svc.adapters.engagement_ingest import AfterCommit, CatalogueIngest, PlaybackIngest
from stream_svc.adapters.ingestion_backlog import IngestionBacklog
from stream_svc.adapters.postgres_engagement import PostgresEngagement
from stream_svc.domain.events import MAX_PAST
from stream_svc.domain.service import EngagementService
from stream_svc.wiring import Part, Shared

logger = logging.getLogger(__name__)

# The engagement half's consumer group on every topic it reads (the playback half has its
# own, so both see every event).
GROUP = "stream_engagement"

AVERAGE_COMPLETION = Gauge(
    "average_completion_rate",
    "Completes per view over all published, undeleted videos, from 0 to 1.",
)

DEFAULTS: Mapping[str, str] = {
    "STREAM_EVENTS_BATCH": "5000",
    "STREAM_EVENTS_CONSUMERS": "2",
    "STREAM_EVENTS_CLAIM_IDLE_MS": "5000",
    "STREAM_ENGAGEMENT_CONSUMERS": "true",
    "STREAM_EVENTS_MAX_BACKLOG": "40000",
}


@dataclass(frozen=True)
class EngagementSettings:
    """The engagement half's settings beyond the shared Config."""

    # Playback events read, written to ClickHouse and counted per batch (at most: a batch is
    # whatever is waiting, so a quiet stream is not held back to fill one).
    events_batch: int = 5000
    # Members of the group in this process: while one waits for PostgreSQL or ClickHouse,
    # another reads and decodes the next batch.
    events_consumers: int = 2
    # A batch a crashed consumer left behind is taken over after this idle time; a batch
    # in progress keeps resetting it, so it only bounds recovery, not handling time.
    events_claim_idle_ms: int = 5000
    # False for replicas that only serve RPCs while the consumers run as their own
    # deployment (possible against a ClickHouse server; chDB needs them in-process).
    run_consumers: bool = True
    # RecordPlaybackEvents answers RESOURCE_EXHAUSTED (HTTP 429, with retry-after) while the
    # consumer group is more than this many events behind: at the ~12-19k events/s the
    # consumers sustain, 40 000 keeps the ingestion lag within ~5 s. 0 never refuses.
    events_max_backlog: int = 40_000

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> EngagementSettings:
        def get(name: str) -> str:
            return (environ.get(name) or "").strip() or DEFAULTS[name]

        def integer(name: str, minimum: int) -> int:
            raw = get(name)
            try:
                value = int(raw)
            except ValueError:
                raise ConfigError(name, f"must be an integer, got {raw!r}") from None
            if value < minimum:
                raise ConfigError(name, f"must be >= {minimum}, got {value}")
            return value

        flag = get("STREAM_ENGAGEMENT_CONSUMERS").lower()
        if flag not in ("1", "true", "yes", "on", "0", "false", "no", "off"):
            raise ConfigError("STREAM_ENGAGEMENT_CONSUMERS", f"must be true or false, got {flag!r}")
        return cls(
            events_batch=integer("STREAM_EVENTS_BATCH", 1),
            events_consumers=integer("STREAM_EVENTS_CONSUMERS", 1),
            events_claim_idle_ms=integer("STREAM_EVENTS_CLAIM_IDLE_MS", 100),
            run_consumers=flag in ("1", "true", "yes", "on"),
            events_max_backlog=integer("STREAM_EVENTS_MAX_BACKLOG", 0),
        )


@dataclass(frozen=True)
class Stores:
    pg: PostgresEngagement
    clickhouse: ClickHouseEvents
    cache: RedisAnalyticsCache


@dataclass(frozen=True)
class EngagementDeps:
    """What the engagement RPCs need: the use cases and the ingestion backlog's gate."""

    service: EngagementService
    backlog: IngestionBacklog | None = None


def stores(config: Config, shared: Shared) -> Stores:
    return Stores(
        pg=PostgresEngagement(shared.pool),
        clickhouse=ClickHouseEvents(shared.clickhouse, shared.in_clickhouse),
        cache=RedisAnalyticsCache(shared.redis, lambda video: config.redis_key("analytics", video)),
    )


def consumer_name(config: Config) -> str:
    return f"{config.service_name}-{socket.gethostname()}-{os.getpid()}"


def events_consumer(
    config: Config,
    shared: Shared,
    *,
    settings: EngagementSettings | None = None,
    name: str | None = None,
    after_commit: AfterCommit | None = None,
    group: str = GROUP,
) -> BatchConsumer:
    """The `video_events` consumer (also run on its own by tests that crash it)."""
    settings = settings or EngagementSettings()
    parts = stores(config, shared)
    ingest = PlaybackIngest(shared.pool, parts.clickhouse, parts.cache, after_commit=after_commit)
    return BatchConsumer(
        shared.bus,
        VIDEO_EVENTS,
        group,
        name or consumer_name(config),
        ingest.handle,
        VIDEO_EVENTS_TYPES,
        batch=settings.events_batch,
        size_of=playback_event_count,
        claim_idle_ms=settings.events_claim_idle_ms,
    )


def catalogue_consumers(config: Config, shared: Shared, parts: Stores) -> list[Consumer]:
    ingest = CatalogueIngest(parts.pg, parts.clickhouse, parts.cache)
    name = consumer_name(config)
    return [
        shared.bus.consumer(
            topic,
            GROUP,
            name,
            handler,
            message_type=message_type,
            batch=64,
            claim_idle_ms=30_000,
        )
        for topic, message_type, handler in (
            (VIDEO_PUBLISHED, events_pb2.VideoPublishedEvent, ingest.published),
            (VIDEO_UPDATED, events_pb2.VideoUpdatedEvent, ingest.updated),
            (VIDEO_DELETED, events_pb2.VideoDeletedEvent, ingest.deleted),
        )
    ]


async def _maintain(parts: Stores, stop: asyncio.Event) -> None:
    """Keeps the completion gauge fresh and forgets bookkeeping no retry can need."""
    next_prune = 0.0
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        try:
            AVERAGE_COMPLETION.set(await parts.pg.average_completion_rate())
            if loop.time() >= next_prune:
                # Clients may send events up to a week old; keep a day more than that.
                before = datetime.now(UTC) - MAX_PAST - timedelta(days=1)
                events, sessions = await parts.pg.prune(before)
                logger.info("pruned", extra={"event_ids": events, "sessions": sessions})
                next_prune = loop.time() + 3600
        except Exception:
            logger.warning("engagement maintenance failed", exc_info=True)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=30)


async def build_engagement(config: Config, shared: Shared) -> Part:
    settings = EngagementSettings.from_env()
    parts = stores(config, shared)
    service = EngagementService(parts.pg, parts.clickhouse, BusPublisher(shared.bus), parts.cache)
    backlog = IngestionBacklog(shared.bus, VIDEO_EVENTS, GROUP, settings.events_max_backlog)
    part = Part(deps=EngagementDeps(service, backlog))
    stop = asyncio.Event()

    async def maintain() -> None:
        await _maintain(parts, stop)

    part.background.append(maintain)
    part.stoppers.append(stop.set)
    if not settings.run_consumers:
        return part
    # Likes, unlikes, shares and comments reach the bus from stream.outbox, relayed where
    # the background consumers run (RPC-only replicas write rows, the consumer deployment
    # publishes them; several relays share the rows with SKIP LOCKED).
    relay = outbox_relay(shared.pool, shared.bus)
    part.background.append(relay.run)
    part.stoppers.append(relay.stop)
    name = consumer_name(config)
    playback = [
        events_consumer(config, shared, settings=settings, name=f"{name}-{i}")
        for i in range(settings.events_consumers)
    ]
    catalogue = catalogue_consumers(config, shared, parts)
    consumers: list[BatchConsumer | Consumer] = [*playback, *catalogue]
    for consumer in consumers:
        # Groups exist before the first RPC, so nothing published meanwhile is missed.
        await shared.bus.ensure_group(consumer.topic, consumer.group)
        part.background.append(consumer.run)
        part.stoppers.append(consumer.stop)

    return part
