"""The engagement half on the event bus: topics, proto <-> domain events, and publishing."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from google.protobuf import duration_pb2, timestamp_pb2
from google.protobuf.message import Message
from opentelemetry import propagate
from prometheus_client import Counter
from reels.common.v1 import events_pb2, playback_pb2

from reels_runtime.context import current_request_id
from reels_runtime.eventbus import EVENTS_PUBLISHED, EventBus
from stream_svc.domain.events import Action, RecordedEvent
from stream_svc.domain.model import Comment, VideoInfo

# Topics this half publishes.
VIDEO_EVENTS = "video_events"
VIDEO_LIKED = "video.liked"
VIDEO_UNLIKED = "video.unliked"
VIDEO_SHARED = "video.shared"
VIDEO_COMMENTED = "video.commented"
# Topics media_svc publishes and this half consumes (named here: no service imports
# another service's package).
VIDEO_PUBLISHED = "video.published"
VIDEO_UPDATED = "video.updated"
VIDEO_DELETED = "video.deleted"

TOPIC_TYPES: dict[str, type[Message]] = {
    VIDEO_EVENTS: events_pb2.PlaybackEventRecorded,
    VIDEO_LIKED: events_pb2.VideoLikedEvent,
    VIDEO_UNLIKED: events_pb2.VideoUnlikedEvent,
    VIDEO_SHARED: events_pb2.VideoSharedEvent,
    VIDEO_COMMENTED: events_pb2.VideoCommentedEvent,
    VIDEO_PUBLISHED: events_pb2.VideoPublishedEvent,
    VIDEO_UPDATED: events_pb2.VideoUpdatedEvent,
    VIDEO_DELETED: events_pb2.VideoDeletedEvent,
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


def recorded_message(event: RecordedEvent) -> events_pb2.PlaybackEventRecorded:
    span = _span
    return events_pb2.PlaybackEventRecorded(
        event_id=event.event_id,
        occur_time=timestamp(event.occur_time or datetime.now(UTC)),
        video_id=event.video_id,
        user_id=event.user_id,
        session_id=event.session_id,
        action=action_number(event.action),  # type: ignore[arg-type]
        event_time=timestamp(event.event_time),
        bitrate_kbps=event.bitrate_kbps,
        device=event.device,
        watch_duration=span(event.watch_ms),
        position=span(event.position_ms),
        startup_duration=span(event.startup_ms),
        rebuffer_duration=span(event.rebuffer_ms),
        from_bitrate_kbps=event.from_bitrate_kbps,
        to_bitrate_kbps=event.to_bitrate_kbps,
        creator_id=event.creator_id,
        client_event_id=event.client_event_id,
        rendition=event.rendition,
        segment_id=event.segment_id,
    )


def _ms_of(span: duration_pb2.Duration) -> int:
    # An unset Duration reads as zero, which is what an absent one means here.
    return max(0, span.seconds * 1000 + span.nanos // 1_000_000)


def recorded_event(message: events_pb2.PlaybackEventRecorded, event_id: str) -> RecordedEvent:
    """The domain view of a `video_events` message; `event_id` is the envelope's when the
    message carries none. Raises ValueError for an event no retry can make sense of."""
    action = action_of(message.action)
    if action is None:
        raise ValueError(f"unknown playback action {message.action}")
    # The consumers need only the event's own time; occur_time stands in when it is missing.
    when = to_datetime(message.event_time) if message.HasField("event_time") else None
    if when is None and message.HasField("occur_time"):
        when = to_datetime(message.occur_time)
    when = when or datetime.now(UTC)
    return RecordedEvent(
        event_id=message.event_id or event_id,
        video_id=message.video_id,
        user_id=message.user_id,
        action=action,
        event_time=when,
        creator_id=message.creator_id,
        session_id=message.session_id,
        client_event_id=message.client_event_id,
        bitrate_kbps=max(0, message.bitrate_kbps),
        device=message.device,
        watch_ms=_ms_of(message.watch_duration),
        position_ms=_ms_of(message.position),
        startup_ms=_ms_of(message.startup_duration),
        rebuffer_ms=_ms_of(message.rebuffer_duration),
        from_bitrate_kbps=max(0, message.from_bitrate_kbps),
        to_bitrate_kbps=max(0, message.to_bitrate_kbps),
        rendition=message.rendition,
        segment_id=message.segment_id,
    )


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
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    for name, value in carrier.items():
        fields += [name, value]
    request_id = current_request_id()
    if request_id:
        fields += ["request_id", request_id]
    return fields


async def publish_many(bus: EventBus, items: Sequence[tuple[str, Message, str]]) -> None:
    """Appends (topic, message, event_id) entries, one script call per topic (EventBus.publish
    makes a round trip per event, far too slow for batches of playback events)."""
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
        EVENTS_PUBLISHED.labels(topic).inc(len(entries))


class BusPublisher:
    """Publishes accepted playback events and the engagement topics."""

    def __init__(self, bus: EventBus) -> None:
        self._bus = bus
        register_topics(bus)

    async def playback_events(self, events: Sequence[RecordedEvent]) -> None:
        await publish_many(
            self._bus, [(VIDEO_EVENTS, recorded_message(e), e.event_id) for e in events]
        )

    async def _with_record(self, topic: str, message: Message, record: RecordedEvent) -> None:
        event_id: str = message.event_id  # type: ignore[attr-defined]
        await publish_many(
            self._bus,
            [
                (topic, message, event_id),
                # Analytics and trending see the action through ClickHouse video_events.
                (VIDEO_EVENTS, recorded_message(record), record.event_id),
            ],
        )

    async def liked(self, event: RecordedEvent, like_count: int) -> None:
        message = events_pb2.VideoLikedEvent(
            event_id=str(uuid.uuid4()),
            occur_time=timestamp(event.event_time),
            video_id=event.video_id,
            user_id=event.user_id,
            creator_id=event.creator_id,
            like_count=like_count,
        )
        await self._with_record(VIDEO_LIKED, message, event)
        LIKES.inc()

    async def unliked(self, video: VideoInfo, user_id: str, like_count: int) -> None:
        message = events_pb2.VideoUnlikedEvent(
            event_id=str(uuid.uuid4()),
            occur_time=timestamp(datetime.now(UTC)),
            video_id=video.video_id,
            user_id=user_id,
            creator_id=video.creator_id,
            like_count=like_count,
        )
        await publish_many(self._bus, [(VIDEO_UNLIKED, message, message.event_id)])

    async def shared(self, event: RecordedEvent, platform: str, share_count: int) -> None:
        message = events_pb2.VideoSharedEvent(
            event_id=str(uuid.uuid4()),
            occur_time=timestamp(event.event_time),
            video_id=event.video_id,
            user_id=event.user_id,
            creator_id=event.creator_id,
            platform=platform,
            share_count=share_count,
        )
        await self._with_record(VIDEO_SHARED, message, event)
        SHARES.inc()

    async def commented(self, event: RecordedEvent, comment: Comment, count: int) -> None:
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
        await self._with_record(VIDEO_COMMENTED, message, event)
        COMMENTS.inc()
