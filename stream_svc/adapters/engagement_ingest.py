"""The engagement half's consumers: playback events into ClickHouse and the counters, and
the video catalogue (published, updated, deleted) into both stores."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime

from google.protobuf import timestamp_pb2
from psycopg_pool import AsyncConnectionPool
from reels.common.v1 import events_pb2, playback_pb2, video_pb2

from reels_runtime.eventbus import Event
from stream_svc.adapters.batch_consumer import Delivered
from stream_svc.adapters.clickhouse_events import ClickHouseEvents
from stream_svc.adapters.engagement_bus import action_of, seconds, to_datetime
from stream_svc.adapters.postgres_engagement import (
    PostgresEngagement,
    apply_counters,
    claim_event_ids,
)
from stream_svc.domain.counters import plan_counters
from stream_svc.domain.events import EventColumns
from stream_svc.domain.model import AnalyticsCache, Rendition, VideoRecord

logger = logging.getLogger(__name__)

# Called with the batch's event ids after the PostgreSQL commit and before the
# acknowledgement: the window in which a crash leaves a counted batch to be delivered again
# (tests crash the process here).
AfterCommit = Callable[[Sequence[str]], Awaitable[None]]


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _to_ms_precision(moment: datetime) -> datetime:
    # ClickHouse keeps milliseconds; PostgreSQL must hold the same instant, since the
    # published time is part of the ClickHouse row's sorting key.
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


class PlaybackIngest:
    """Handles a batch of `video_events`: each event id lands in ClickHouse once and moves
    the counters once, however often the bus or a client repeats it.

    In one PostgreSQL transaction: claim the batch's event ids in `processed_events`
    (the already-seen ones come back, usually none), write the others to ClickHouse, move
    the counters by them, commit. A crash before the commit undoes the counters and
    leaves the batch pending; ClickHouse may then hold rows of an uncommitted batch, so a
    redelivered batch first asks ClickHouse which of its events landed already (and the
    inserts carry a deduplication token as well).
    """

    def __init__(
        self,
        pool: AsyncConnectionPool,
        clickhouse: ClickHouseEvents,
        cache: AnalyticsCache,
        *,
        after_commit: AfterCommit | None = None,
    ) -> None:
        self._pool = pool
        self._clickhouse = clickhouse
        self._cache = cache
        self._after_commit = after_commit

    async def handle(self, batch: Sequence[Delivered], retry: bool) -> None:
        events = playback_columns(batch)
        if not len(events):
            return
        retry = retry or any(d.deliveries > 1 for d in batch)
        await self.ingest(events, retry=retry)

    async def ingest(self, events: EventColumns, *, retry: bool) -> None:
        async with self._pool.connection() as conn, conn.transaction():
            fresh = events.without(await claim_event_ids(conn, events.event_id))
            unstored = fresh
            if retry and len(fresh):
                landed = await self._clickhouse.already_stored(fresh)
                unstored = fresh.without(landed)
            await self._clickhouse.store(unstored)
            # Counters last: their rows stay locked only from here to the commit.
            await apply_counters(conn, plan_counters(fresh))
        if self._after_commit is not None:
            await self._after_commit(events.event_id)
        await self._cache.drop(events.video_ids())


# PlaybackAction numbers -> the `action` values of ClickHouse video_events.
_ACTION_VALUES: dict[int, str] = {
    number: action.value
    for number in playback_pb2.PlaybackAction.values()
    if (action := action_of(number)) is not None
}
# DateTime64(3) holds 1900-01-01 to 2299-12-31; a time outside is treated as missing.
_MIN_MS = -2_208_988_800_000
_MAX_MS = 10_413_791_999_999


def _stamp_ms(stamp: timestamp_pb2.Timestamp) -> int | None:
    ms = stamp.seconds * 1000 + stamp.nanos // 1_000_000
    return ms if _MIN_MS <= ms <= _MAX_MS else None


def _events(
    batch: Sequence[Delivered],
) -> Iterator[tuple[Delivered, int, events_pb2.PlaybackEventRecorded]]:
    """(entry, index in the entry or -1 for a lone event, event) of every event of the
    batch: an entry carries a `PlaybackEventBatch` or, from older producers and the segment
    redirects, one `PlaybackEventRecorded`."""
    for delivered in batch:
        message = delivered.message
        if isinstance(message, events_pb2.PlaybackEventBatch):
            for index, event in enumerate(message.events):
                yield delivered, index, event
        else:
            yield delivered, -1, message  # type: ignore[misc]


def playback_columns(batch: Sequence[Delivered]) -> EventColumns:
    """The batch's playback events as columns, the first delivery of each event id only;
    an event no retry can make sense of (an unknown action) is logged and left out.

    Without an object per event: the event's own time, else its occur_time, else now;
    negative numbers as 0.
    """
    columns = EventColumns()
    append = columns.append
    seen: set[str] = set()
    actions = _ACTION_VALUES
    now_ms: int | None = None
    for delivered, index, message in _events(batch):
        action = actions.get(message.action)
        if action is None:
            logger.warning(
                "unreadable playback event skipped",
                extra={"stream_id": delivered.stream_id, "action": message.action},
            )
            continue
        # An event without an id: the envelope's (a lone event's), or its place in the entry.
        event_id = message.event_id or (
            delivered.event_id if index < 0 else f"{delivered.stream_id}/{index}"
        )
        if event_id in seen:
            continue
        seen.add(event_id)
        at = _stamp_ms(message.event_time) if message.HasField("event_time") else None
        if at is None and message.HasField("occur_time"):
            at = _stamp_ms(message.occur_time)
        if at is None:
            if now_ms is None:
                now_ms = time.time_ns() // 1_000_000
            at = now_ms
        watch = message.watch_duration
        position = message.position
        startup = message.startup_duration
        rebuffer = message.rebuffer_duration
        bitrate = message.bitrate_kbps
        append(
            event_id,
            message.video_id,
            message.creator_id,
            message.user_id,
            message.session_id,
            action,
            bitrate if bitrate > 0 else 0,
            message.rendition,
            message.device,
            max(0, watch.seconds * 1000 + watch.nanos // 1_000_000),
            max(0, position.seconds * 1000 + position.nanos // 1_000_000),
            max(0, startup.seconds * 1000 + startup.nanos // 1_000_000),
            max(0, rebuffer.seconds * 1000 + rebuffer.nanos // 1_000_000),
            at,
            message.segment_id,
        )
    return columns


def _renditions(summary: video_pb2.VideoSummary) -> tuple[Rendition, ...]:
    return tuple(
        Rendition(r.name, r.height, int(r.bandwidth_bps // 1000)) for r in summary.renditions
    )


def _record(
    summary: video_pb2.VideoSummary,
    occur: datetime,
    *,
    thumbnail_key: str = "",
    preview_key: str = "",
) -> VideoRecord:
    published = (
        to_datetime(summary.publish_time) if summary.HasField("publish_time") else None
    ) or occur
    updated = (
        to_datetime(summary.update_time) if summary.HasField("update_time") else None
    ) or occur
    return VideoRecord(
        video_id=summary.video_id,
        creator_id=summary.creator_id,
        title=summary.title,
        description=summary.description,
        hashtags=tuple(h.lower().lstrip("#") for h in summary.hashtags),
        sound_id=summary.sound_id,
        duration_s=seconds(summary.duration) if summary.HasField("duration") else 0.0,
        renditions=_renditions(summary),
        thumbnail_key=thumbnail_key,
        preview_key=preview_key,
        published_at=_to_ms_precision(published),
        updated_at=updated,
    )


class CatalogueIngest:
    """video.published / video.updated / video.deleted: the PostgreSQL row that answers
    "is it published?" and a new version of the ClickHouse `videos` row. Every step is
    idempotent and versioned, so redeliveries and reordering change nothing."""

    def __init__(
        self, store: PostgresEngagement, clickhouse: ClickHouseEvents, cache: AnalyticsCache
    ) -> None:
        self._store = store
        self._clickhouse = clickhouse
        self._cache = cache

    @staticmethod
    def _occur(message: events_pb2.VideoPublishedEvent | events_pb2.VideoUpdatedEvent) -> datetime:
        occur = to_datetime(message.occur_time) if message.HasField("occur_time") else None
        return occur or datetime.now(UTC)

    async def published(self, event: Event) -> None:
        message: events_pb2.VideoPublishedEvent = event.message  # type: ignore[assignment]
        occur = self._occur(message)
        record = _record(
            message.video,
            occur,
            thumbnail_key=message.thumbnail_object_key,
            preview_key=message.preview_object_key,
        )
        await self._upsert(record, _ms(occur))

    async def updated(self, event: Event) -> None:
        message: events_pb2.VideoUpdatedEvent = event.message  # type: ignore[assignment]
        occur = self._occur(message)
        if message.video.status == video_pb2.VIDEO_STATUS_DELETED:
            await self._delete(message.video.video_id, message.video.creator_id, occur)
            return
        if message.video.status not in (
            video_pb2.VIDEO_STATUS_PUBLISHED,
            video_pb2.VIDEO_STATUS_UNSPECIFIED,
        ):
            return  # not (or not yet) published: nothing of it is served here
        published_before = await self._store.published_at(message.video.video_id)
        record = _record(message.video, occur)
        if published_before is not None:
            # The sorting key of the ClickHouse row must stay the same for replacement.
            record = replace(record, published_at=_to_ms_precision(published_before))
        await self._upsert(record, _ms(occur))

    async def deleted(self, event: Event) -> None:
        message: events_pb2.VideoDeletedEvent = event.message  # type: ignore[assignment]
        occur = to_datetime(message.occur_time) if message.HasField("occur_time") else None
        await self._delete(message.video_id, message.creator_id, occur or datetime.now(UTC))

    async def _upsert(self, record: VideoRecord, version: int) -> None:
        if not record.video_id or not record.creator_id:
            logger.warning("catalogue event without ids skipped")
            return
        newest, deleted = await self._store.record_video(
            record.video_id,
            record.creator_id,
            record.title,
            record.duration_s,
            record.published_at,
            version,
        )
        if newest:
            await self._clickhouse.upsert_video(record, version=version, deleted=deleted)
            await self._cache.drop([record.video_id])

    async def _delete(self, video_id: str, creator_id: str, occur: datetime) -> None:
        if not video_id:
            return
        version = await self._store.delete_video(video_id, creator_id, occur, _ms(occur))
        await self._clickhouse.mark_deleted(video_id, version=version)
        await self._cache.drop([video_id])
