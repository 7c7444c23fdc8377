"""embed_svc's background work: catalogue and watch events in, users refreshed, vectors
mirrored to ClickHouse; run as tasks beside the server (Milvus Lite is in this process)."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from reels.common.v1 import events_pb2, playback_pb2

from embed_svc.domain.service import EmbedService
from embed_svc.metrics import QUEUE_DEPTH
from embed_svc.settings import EmbedSettings
from reels_runtime.batch_consumer import BatchConsumer, Delivered
from reels_runtime.config import Config
from reels_runtime.eventbus import Event, EventBus, GroupMember
from reels_runtime.topics import (
    VIDEO_DELETED,
    VIDEO_EVENTS,
    VIDEO_EVENTS_TYPES,
    VIDEO_PUBLISHED,
    playback_event_count,
    playback_events,
)

logger = logging.getLogger(__name__)

# embed_svc's own consumer group on each topic, so it sees every event.
GROUP = "embed_svc"
# Watches that change what a user is about (a start alone says little).
_WATCH_ACTIONS = frozenset(
    {
        playback_pb2.PLAYBACK_ACTION_WATCH_25,
        playback_pb2.PLAYBACK_ACTION_WATCH_50,
        playback_pb2.PLAYBACK_ACTION_WATCH_75,
        playback_pb2.PLAYBACK_ACTION_WATCH_COMPLETE,
        playback_pb2.PLAYBACK_ACTION_WATCH_START,
    }
)

Task = Callable[[], Awaitable[None]]
# The refresh loop sleeps until the next scheduled refresh is due and is woken when this
# process schedules one (a watch event); this bounds its sleep, for refreshes scheduled by
# another replica.
REFRESH_POLL_S = 1.0


def consumer_name(config: Config) -> str:
    return f"{config.service_name}-{socket.gethostname()}-{os.getpid()}"


class Handlers:
    """Event handlers: each is idempotent, so a redelivery changes nothing."""

    def __init__(self, service: EmbedService) -> None:
        self._service = service

    async def published(self, event: Event) -> None:
        message = event.message
        assert isinstance(message, events_pb2.VideoPublishedEvent)
        video = message.video
        published_at = video.publish_time.seconds if video.HasField("publish_time") else 0
        await self._service.published(video.video_id, video.creator_id, published_at)

    async def deleted(self, event: Event) -> None:
        message = event.message
        assert isinstance(message, events_pb2.VideoDeletedEvent)
        await self._service.deleted(message.video_id, message.creator_id)

    async def watched(self, batch: Sequence[Delivered], _retry: bool) -> None:
        """A batch of `video_events` entries (each a batch of events or a lone event): one
        refresh per distinct watcher, for the latest video they watched in it."""
        watches: dict[str, str] = {}
        for delivered in batch:
            for message in playback_events(delivered.message):
                if message.user_id and message.action in _WATCH_ACTIONS:
                    watches.pop(message.user_id, None)  # the latest watch last
                    watches[message.user_id] = message.video_id
        await self._service.watched_many(watches)


@dataclass(frozen=True)
class Background:
    """What runs beside the server, and how to ask the consumers among it to return."""

    tasks: list[Task]
    stoppers: list[Callable[[], None]]


def background_tasks(
    config: Config, settings: EmbedSettings, bus: EventBus, service: EmbedService
) -> Background:
    """The consumers and loops to run beside the server."""
    handlers = Handlers(service)
    name = consumer_name(config)
    consumers: list[GroupMember] = [
        bus.consumer(
            VIDEO_PUBLISHED,
            GROUP,
            name,
            handlers.published,
            message_type=events_pb2.VideoPublishedEvent,
            claim_idle_ms=10_000,
            handler_timeout_s=30,
        ),
        bus.consumer(
            VIDEO_DELETED,
            GROUP,
            name,
            handlers.deleted,
            message_type=events_pb2.VideoDeletedEvent,
            claim_idle_ms=10_000,
            handler_timeout_s=30,
        ),
        # Batches of entries, read as Redis sent them (no dict per entry in Python).
        BatchConsumer(
            bus,
            VIDEO_EVENTS,
            GROUP,
            name,
            handlers.watched,
            VIDEO_EVENTS_TYPES,
            batch=5000,
            size_of=playback_event_count,
            claim_idle_ms=10_000,
            # Only watches from now on matter: an old backlog is covered by the history.
            start_id="$",
        ),
    ]
    tasks: list[Task] = [consumer.run for consumer in consumers]
    tasks.append(
        lambda: _loop(
            "user refresh",
            service.refresh_due_users,
            lambda: service.wait_for_due_users(REFRESH_POLL_S),
        )
    )
    mirror_idle_s = settings.mirror_interval_s
    tasks.append(
        lambda: _loop("mirror", service.mirror_pending, lambda: asyncio.sleep(mirror_idle_s))
    )
    tasks.append(lambda: _queue_gauge(service))
    return Background(tasks, [consumer.stop for consumer in consumers])


async def _loop(
    what: str, step: Callable[[], Awaitable[int]], idle: Callable[[], Awaitable[None]]
) -> None:
    """Runs `step` again at once while it finds work, else after `idle()` returns; a
    failure (of either) is logged and retried a second later, so the loop never dies."""
    while True:
        try:
            if not await step():
                await idle()
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("background step failed", extra={"task": what})
            await asyncio.sleep(1.0)


async def _queue_gauge(service: EmbedService) -> None:
    while True:
        try:
            for queue, depth in (await service.queue_depths()).items():
                QUEUE_DEPTH.labels(queue).set(depth)
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.warning("queue depth not read", exc_info=True)
        await asyncio.sleep(5)
