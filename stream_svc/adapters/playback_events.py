"""`watch_segment` events on the `video_events` stream, which the engagement consumers count."""

from __future__ import annotations

import asyncio
import logging
import uuid

from google.protobuf import duration_pb2, timestamp_pb2
from prometheus_client import Counter
from redis.exceptions import RedisError
from reels.common.v1 import events_pb2, playback_pb2

from reels_runtime.eventbus import EventBus
from reels_runtime.topics import VIDEO_EVENTS
from stream_svc.domain.playback import WatchSegment

logger = logging.getLogger(__name__)

VIDEO_EVENTS_TOPIC = VIDEO_EVENTS
# Segment events get ids in their own namespace, derived from what identifies the fetch.
_WATCH_SEGMENT_NAMESPACE = uuid.UUID("5b1e7c8e-4f0a-4c1f-9d57-8d0c2b6a9e31")
_PUBLISH_TIMEOUT_S = 1.0

EVENTS_DROPPED = Counter(
    "reels_stream_watch_segment_dropped",
    "watch_segment events not published because the event bus failed.",
)


def watch_segment_event_id(event: WatchSegment) -> str:
    """The same fetch (user, session, video, rendition, segment) always gets the same id,
    so a player's retry of a segment counts once."""
    name = "|".join(
        (event.user_id, event.session_id, event.video_id, event.rendition, event.segment_id)
    )
    return str(uuid.uuid5(_WATCH_SEGMENT_NAMESPACE, name))


def watch_segment_message(event: WatchSegment) -> events_pb2.PlaybackEventRecorded:
    now = timestamp_pb2.Timestamp()
    now.GetCurrentTime()
    position = duration_pb2.Duration()
    position.FromNanoseconds(round(event.position_s * 1e9))
    return events_pb2.PlaybackEventRecorded(
        event_id=watch_segment_event_id(event),
        occur_time=now,
        video_id=event.video_id,
        user_id=event.user_id,
        session_id=event.session_id,
        action=playback_pb2.PLAYBACK_ACTION_WATCH_SEGMENT,
        event_time=now,
        bitrate_kbps=event.bitrate_kbps,
        position=position,
        creator_id=event.creator_id,
        rendition=event.rendition,
        segment_id=event.segment_id,
    )


class BusPlaybackEvents:
    """Publishes segment fetches; a bus failure loses the count, never the playback."""

    def __init__(self, bus: EventBus) -> None:
        self._bus = bus
        bus.register(VIDEO_EVENTS_TOPIC, events_pb2.PlaybackEventRecorded)

    async def watch_segment(self, event: WatchSegment) -> None:
        message = watch_segment_message(event)
        try:
            async with asyncio.timeout(_PUBLISH_TIMEOUT_S):
                await self._bus.publish(VIDEO_EVENTS_TOPIC, message, event_id=message.event_id)
        except (RedisError, TimeoutError, OSError):
            EVENTS_DROPPED.inc()
            logger.warning(
                "watch_segment event not published",
                extra={"video_id": event.video_id, "segment_id": event.segment_id},
                exc_info=True,
            )
