"""The engagement half on the event bus: topics, proto <-> domain events, and publishing."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from google.protobuf import duration_pb2, timestamp_pb2
from google.protobuf.message import Message
from prometheus_client import Counter
from psycopg_pool import AsyncConnectionPool
from reels.common.v1 import events_pb2, playback_pb2

from reels_runtime.eventbus import EVENTS_PUBLISHED, EventBus, trace_headers
from reels_runtime.outbox import Outbox, OutboxItem, OutboxRelay
from reels_runtime.topics import TOPIC_TYPES as ALL_TOPIC_TYPES
from reels_runtime.topics import (
    VIDEO_COMMENTED,
    VIDEO_DELETED,
    VIDEO_EVENTS,
    VIDEO_LIKED,
    VIDEO_PUBLISHED,
    VIDEO_SHARED,
    VIDEO_UNLIKED,
    VIDEO_UPDATED,
    playback_event_count,
)
from stream_svc.domain.events import Action, RecordedEvent
from stream_svc.domain.model import Comment, VideoInfo

# Topics this half publishes (video_events, video.liked/unliked/shared/commented) and the
# catalogue's it consumes.
TOPIC_TYPES: dict[str, type[Message]] = {
    topic: ALL_TOPIC_TYPES[topic]
    for topic in (
        VIDEO_EVENTS,
        VIDEO_LIKED,
        VIDEO_UNLIKED,
        VIDEO_SHARED,
        VIDEO_COMMENTED,
        VIDEO_PUBLISHED,
        VIDEO_UPDATED,
        VIDEO_DELETED,
    )
}

LIKES = Counter("video_likes", "Likes given (a repeated like of the same user is not counted).")
SHARES = Counter("video_shares", "Shares recorded.")
COMMENTS = Counter("video_comments", "Comments written.")

_ACTIONS: dict[int, Action] = {
    playback_pb2.PLAYBACK_ACTION_WATCH_START: Action.WATCH_START,
    playback_pb2.PLAYBACK_ACTION_WATCH_25: Action.WATCH_25,
    playback_pb2.PLAYBACK_ACTION_WATCH_50: Action.WATCH_50,
    playback_pb2.PLAYBACK_ACTION_WATCH_75: Action.WATCH_75,
    playback_pb2.PLAYBACK_ACTION_WATCH_COMPLETE: Action.WATCH_COMPLETE,
    playback_pb2.PLAYBACK_ACTION_LIKE: Action.LIKE,
    playback_pb2.PLAYBACK_ACTION_SHARE: Action.SHARE,
    playback_pb2.PLAYBACK_ACTION_COMMENT: Action.COMMENT,
    playback_pb2.PLAYBACK_ACTION_WATCH_SEGMENT: Action.WATCH_SEGMENT,
    playback_pb2.PLAYBACK_ACTION_BITRATE_SWITCH: Action.BITRATE_SWITCH,
    playback_pb2.PLAYBACK_ACTION_REBUFFER: Action.REBUFFER,
    playback_pb2.PLAYBACK_ACTION_STARTUP: Action.STARTUP,
}
_ACTION_NUMBERS = {action: number for number, action in _ACTIONS.items()}


def action_of(number: int) -> Action | None:
    """The domain action of a `PlaybackAction` number; None for UNSPECIFIED or unknown."""
    return _ACTIONS.get(number)


def action_number(action: Action) -> int:
    return _ACTION_NUMBERS[action]


def register_topics(bus: EventBus) -> None:
    for topic, message_type in TOPIC_TYPES.items():
        bus.register(topic, message_type)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


# These conversions run several times for every playback event: they use integer
# arithmetic instead of protobuf's well-known-type helpers, which are several times slower.


def timestamp(value: datetime | None) -> timestamp_pb2.Timestamp | None:
    if value is None:
        return None
    delta = value - _EPOCH
    return timestamp_pb2.Timestamp(
        seconds=delta.days * 86_400 + delta.seconds, nanos=delta.microseconds * 1000
    )


def duration_ms(ms: int) -> duration_pb2.Duration:
    return duration_pb2.Duration(seconds=ms // 1000, nanos=(ms % 1000) * 1_000_000)


def seconds(span: duration_pb2.Duration) -> float:
    return span.seconds + span.nanos / 1e9


def to_datetime(stamp: timestamp_pb2.Timestamp) -> datetime | None:
    """The aware UTC datetime of a Timestamp, or None when it is outside datetime's range."""
    try:
        return _EPOCH + timedelta(seconds=stamp.seconds, microseconds=stamp.nanos // 1000)
    except OverflowError:
        return None


def _span(ms: int) -> duration_pb2.Duration | None:
    return duration_ms(ms) if ms else None


def _recorded_fields(event: RecordedEvent) -> dict[str, Any]:
    span = _span
    return {
        "event_id": event.event_id,
        "occur_time": timestamp(event.occur_time or datetime.now(UTC)),
        "video_id": event.video_id,
        "user_id": event.user_id,
        "session_id": event.session_id,
        "action": action_number(event.action),
        "event_time": timestamp(event.event_time),
        "bitrate_kbps": event.bitrate_kbps,
        "device": event.device,
        "watch_duration": span(event.watch_ms),
        "position": span(event.position_ms),
        "startup_duration": span(event.startup_ms),
        "rebuffer_duration": span(event.rebuffer_ms),
        "from_bitrate_kbps": event.from_bitrate_kbps,
        "to_bitrate_kbps": event.to_bitrate_kbps,
        "creator_id": event.creator_id,
        "client_event_id": event.client_event_id,
        "rendition": event.rendition,
        "segment_id": event.segment_id,
    }


def recorded_message(event: RecordedEvent) -> events_pb2.PlaybackEventRecorded:
    return events_pb2.PlaybackEventRecorded(**_recorded_fields(event))


def batch_message(events: Sequence[RecordedEvent]) -> events_pb2.PlaybackEventBatch:
    """One `video_events` entry's message for the events of an accepted request batch."""
    batch = events_pb2.PlaybackEventBatch()
    add = batch.events.add
    for event in events:
        add(**_recorded_fields(event))
    return batch


# Appends one standard bus entry per (event_id, payload) pair of ARGV, with the common
# fields that follow the count, in one call: a pipeline of one XADD per event spends most
# of its time packing commands in Python. KEYS[1] is one stream, so this works on a cluster.
_XADD_MANY = """
local maxlen = ARGV[1]
local ncommon = tonumber(ARGV[2])
local first = 3 + ncommon * 2
for i = first, #ARGV, 2 do
  local args = {KEYS[1]}
  if maxlen ~= '' then
    args[#args + 1] = 'MAXLEN'
    args[#args + 1] = '~'
    args[#args + 1] = maxlen
  end
  args[#args + 1] = '*'
  args[#args + 1] = 'event_id'
  args[#args + 1] = ARGV[i]
  args[#args + 1] = 'payload'
  args[#args + 1] = ARGV[i + 1]
  for j = 3, first - 1 do
    args[#args + 1] = ARGV[j]
  end
  redis.call('XADD', unpack(args))
end
return (#ARGV - first + 1) / 2
"""
_scripts: dict[str, Any] = {}


def _common_fields(message: Message, now: str, *, context: bool) -> list[str]:
    # The envelope of EventBus.publish (event_type, payload, event_id, published_at, the
    # trace context, the request id), so every consumer of the bus reads these entries.
    fields = ["event_type", message.DESCRIPTOR.full_name, "published_at", now]
    if not context:
        return fields
    for name, value in trace_headers().items():
        fields += [name, value]
    return fields


async def publish_many(bus: EventBus, items: Sequence[tuple[str, Message, str]]) -> None:
    """Appends (topic, message, event_id) entries, one script call per topic (EventBus.publish
    makes a round trip per entry). A `PlaybackEventBatch` is one entry of many events."""
    if not items:
        return
    script = _scripts.get("xadd_many")
    if script is None:
        script = _scripts["xadd_many"] = bus.redis.register_script(_XADD_MANY)
    now = dt.datetime.now(dt.UTC).isoformat()
    by_topic: dict[str, list[tuple[Message, str]]] = {}
    for topic, message, event_id in items:
        by_topic.setdefault(topic, []).append((message, event_id))
    for topic, entries in by_topic.items():
        # Playback events come by the thousand per second: they leave out the trace
        # context and request id, which every consumer treats as optional anyway.
        common = _common_fields(entries[0][0], now, context=topic != VIDEO_EVENTS)
        args: list[Any] = ["" if bus.maxlen is None else str(bus.maxlen), len(common) // 2]
        args += common
        for message, event_id in entries:
            args += [event_id, message.SerializeToString()]
        await script(keys=[bus.stream_key(topic)], args=args, client=bus.redis)
        EVENTS_PUBLISHED.labels(topic).inc(sum(playback_event_count(m) for m, _ in entries))


class BusPublisher:
    """Publishes accepted playback events (the engagement topics go through OUTBOX)."""

    def __init__(self, bus: EventBus) -> None:
        self._bus = bus
        register_topics(bus)

    async def playback_events(self, events: Sequence[RecordedEvent]) -> None:
        """One `video_events` entry for the accepted events of one request."""
        if events:
            await publish_many(
                self._bus, [(VIDEO_EVENTS, batch_message(events), str(uuid.uuid4()))]
            )


# -- the engagement topics, through stream.outbox (reels_runtime/outbox.py) ---------------
# A like, unlike, share or comment writes its events in the transaction that records it
# (stream_svc/adapters/postgres_engagement.py); the relay publishes them with publish_many,
# the video_events record as a one-event PlaybackEventBatch entry as playback_events does.

OUTBOX = Outbox(
    "stream",
    {
        **{
            topic: TOPIC_TYPES[topic]
            for topic in (VIDEO_LIKED, VIDEO_UNLIKED, VIDEO_SHARED, VIDEO_COMMENTED)
        },
        # Each record goes as a PlaybackEventBatch entry (see VIDEO_EVENTS_TYPES).
        VIDEO_EVENTS: events_pb2.PlaybackEventBatch,
    },
)


def outbox_relay(
    pool: AsyncConnectionPool, bus: EventBus, *, batch: int = 100, idle_s: float = 0.2
) -> OutboxRelay:
    """The relay of stream.outbox to the bus (a background task of stream_svc)."""
    register_topics(bus)
    return OutboxRelay(pool, bus, OUTBOX, publish=publish_many, batch=batch, idle_s=idle_s)


def _with_record(topic: str, message: Message, record: RecordedEvent) -> list[OutboxItem]:
    event_id: str = message.event_id  # type: ignore[attr-defined]
    return [
        (topic, message, event_id),
        # Analytics and trending see the action through ClickHouse video_events.
        (VIDEO_EVENTS, batch_message([record]), record.event_id),
    ]


def liked_events(event: RecordedEvent, like_count: int) -> list[OutboxItem]:
    message = events_pb2.VideoLikedEvent(
        event_id=str(uuid.uuid4()),
        occur_time=timestamp(event.event_time),
        video_id=event.video_id,
        user_id=event.user_id,
        creator_id=event.creator_id,
        like_count=like_count,
    )
    return _with_record(VIDEO_LIKED, message, event)


def unliked_events(
    video: VideoInfo, user_id: str, at: datetime, like_count: int
) -> list[OutboxItem]:
    message = events_pb2.VideoUnlikedEvent(
        event_id=str(uuid.uuid4()),
        occur_time=timestamp(at),
        video_id=video.video_id,
        user_id=user_id,
        creator_id=video.creator_id,
        like_count=like_count,
    )
    return [(VIDEO_UNLIKED, message, message.event_id)]


def shared_events(event: RecordedEvent, platform: str, share_count: int) -> list[OutboxItem]:
    message = events_pb2.VideoSharedEvent(
        event_id=str(uuid.uuid4()),
        occur_time=timestamp(event.event_time),
        video_id=event.video_id,
        user_id=event.user_id,
        creator_id=event.creator_id,
        platform=platform,
        share_count=share_count,
    )
    return _with_record(VIDEO_SHARED, message, event)


def commented_events(event: RecordedEvent, comment: Comment, count: int) -> list[OutboxItem]:
    message = events_pb2.VideoCommentedEvent(
        event_id=str(uuid.uuid4()),
        occur_time=timestamp(event.event_time),
        video_id=event.video_id,
        user_id=event.user_id,
        creator_id=event.creator_id,
        comment_id=comment.comment_id,
        text=comment.text,
        comment_count=count,
    )
    return _with_record(VIDEO_COMMENTED, message, event)
