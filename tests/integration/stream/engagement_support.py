"""Helpers of the engagement tests: published videos without transcoding, playback events,
service tokens, and waiting for the consumers."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from google.protobuf import duration_pb2, timestamp_pb2
from redis.asyncio import Redis
from reels.common.v1 import events_pb2, playback_pb2, video_pb2
from reels.stream.v1 import stream_service_pb2 as pb
from reels.stream.v1 import stream_service_pb2_grpc as stream_grpc

from reels_runtime.config import Config
from reels_runtime.eventbus import EventBus

T = TypeVar("T")

LADDER = (
    ("720p", 720, 1280, 2_500_000),
    ("480p", 486, 864, 1_200_000),
    ("360p", 360, 640, 700_000),
)
ACTIONS = {
    "start": playback_pb2.PLAYBACK_ACTION_WATCH_START,
    "25": playback_pb2.PLAYBACK_ACTION_WATCH_25,
    "50": playback_pb2.PLAYBACK_ACTION_WATCH_50,
    "75": playback_pb2.PLAYBACK_ACTION_WATCH_75,
    "complete": playback_pb2.PLAYBACK_ACTION_WATCH_COMPLETE,
    "rebuffer": playback_pb2.PLAYBACK_ACTION_REBUFFER,
    "startup": playback_pb2.PLAYBACK_ACTION_STARTUP,
    "switch": playback_pb2.PLAYBACK_ACTION_BITRATE_SWITCH,
    "segment": playback_pb2.PLAYBACK_ACTION_WATCH_SEGMENT,
    "like": playback_pb2.PLAYBACK_ACTION_LIKE,
}
MILESTONE = {"start": 0.0, "25": 0.25, "50": 0.5, "75": 0.75, "complete": 1.0}


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def stamp(moment: datetime) -> timestamp_pb2.Timestamp:
    value = timestamp_pb2.Timestamp()
    value.FromDatetime(moment)
    return value


def span(seconds: float) -> duration_pb2.Duration:
    value = duration_pb2.Duration()
    value.FromNanoseconds(round(seconds * 1e9))
    return value


def user_auth(keys, user: str) -> list[tuple[str, str]]:
    return keys.user_metadata(user)


def service_auth(keys, service: str = "ranking_svc") -> list[tuple[str, str]]:
    return [("authorization", f"Bearer {keys.signer.mint_service(service)}")]


async def _publish(config: Config, topic: str, message, event_id: str) -> None:
    redis = Redis.from_url(config.redis_url)
    try:
        await EventBus(redis, config.event_stream_prefix).publish(topic, message, event_id=event_id)
    finally:
        await redis.aclose()


def summary(
    video_id: str,
    creator_id: str,
    *,
    title: str = "clip",
    hashtags: Sequence[str] = (),
    sound_id: str = "",
    duration_s: float = 20.0,
    published: datetime | None = None,
    status: int = video_pb2.VIDEO_STATUS_PUBLISHED,
) -> video_pb2.VideoSummary:
    now = published or datetime.now(UTC)
    return video_pb2.VideoSummary(
        video_id=video_id,
        creator_id=creator_id,
        title=title,
        hashtags=list(hashtags),
        sound_id=sound_id,
        duration=span(duration_s),
        status=status,
        publish_time=stamp(now),
        create_time=stamp(now - timedelta(minutes=1)),
        update_time=stamp(now),
        renditions=[
            video_pb2.Rendition(
                name=name,
                kind=video_pb2.RENDITION_KIND_VIDEO,
                width=width,
                height=height,
                bandwidth_bps=bps,
                average_bandwidth_bps=bps * 8 // 10,
                codecs="avc1.64001f",
                frame_rate=30.0,
                playlist_object_key=f"videos/{video_id}/{name}/playlist.m3u8",
            )
            for name, height, width, bps in LADDER
        ]
        + [
            video_pb2.Rendition(
                name="audio",
                kind=video_pb2.RENDITION_KIND_AUDIO,
                bandwidth_bps=128_000,
                codecs="mp4a.40.2",
                playlist_object_key=f"videos/{video_id}/audio/playlist.m3u8",
            )
        ],
    )


async def publish_video(config: Config, creator_id: str, **fields) -> str:
    """Publishes a VideoPublishedEvent as media_svc would; returns the video id."""
    video_id = str(uuid.uuid4())
    event_id = str(uuid.uuid4())
    message = events_pb2.VideoPublishedEvent(
        event_id=event_id,
        occur_time=stamp(datetime.now(UTC)),
        video=summary(video_id, creator_id, **fields),
        object_key_prefix=f"videos/{video_id}/",
        hls_master_object_key=f"videos/{video_id}/master.m3u8",
        dash_manifest_object_key=f"videos/{video_id}/manifest.mpd",
        thumbnail_object_key=f"videos/{video_id}/thumb.jpg",
        preview_object_key=f"videos/{video_id}/preview.gif",
    )
    await _publish(config, "video.published", message, event_id)
    return video_id


async def delete_video(config: Config, video_id: str, creator_id: str) -> None:
    event_id = str(uuid.uuid4())
    message = events_pb2.VideoDeletedEvent(
        event_id=event_id,
        occur_time=stamp(datetime.now(UTC)),
        video_id=video_id,
        creator_id=creator_id,
        object_key_prefix=f"videos/{video_id}/",
    )
    await _publish(config, "video.deleted", message, event_id)


async def publish_segment(
    config: Config,
    video_id: str,
    creator_id: str,
    user_id: str,
    session_id: str,
    rendition: str,
    segment_id: str,
    bitrate_kbps: int,
) -> None:
    """A watch_segment event as the segment redirect (the playback half) publishes it."""
    event_id = str(uuid.uuid4())
    now = stamp(datetime.now(UTC))
    message = events_pb2.PlaybackEventRecorded(
        event_id=event_id,
        occur_time=now,
        video_id=video_id,
        user_id=user_id,
        session_id=session_id,
        action=playback_pb2.PLAYBACK_ACTION_WATCH_SEGMENT,
        event_time=now,
        bitrate_kbps=bitrate_kbps,
        creator_id=creator_id,
        rendition=rendition,
        segment_id=segment_id,
    )
    await _publish(config, "video_events", message, event_id)


def event(
    action: str,
    *,
    event_id: str | None = None,
    session: str = "s1",
    at: datetime | None = None,
    watch_s: float | None = None,
    position_s: float | None = None,
    startup_s: float | None = None,
    rebuffer_s: float | None = None,
    bitrate_kbps: int = 2500,
    to_kbps: int = 0,
) -> pb.PlaybackEvent:
    message = pb.PlaybackEvent(
        event_id=event_id or uuid.uuid4().hex,
        action=ACTIONS[action],
        event_time=stamp(at or datetime.now(UTC)),
        session_id=session,
        bitrate_kbps=bitrate_kbps,
        device="web",
        to_bitrate_kbps=to_kbps,
    )
    for name, value in (
        ("watch_duration", watch_s),
        ("position", position_s),
        ("startup_duration", startup_s),
        ("rebuffer_duration", rebuffer_s),
    ):
        if value is not None:
            getattr(message, name).CopyFrom(span(value))
    return message


def session_events(
    session: str, reached: str, duration_s: float = 20.0, *, startup_s: float = 0.5
) -> list[pb.PlaybackEvent]:
    """A viewing session that starts and reaches `reached` (start, 25, 50, 75, complete);
    its watch time is the milestone's share of the duration."""
    order = ["start", "25", "50", "75", "complete"]
    events = [event("startup", session=session, startup_s=startup_s, watch_s=0.0)]
    for step in order[: order.index(reached) + 1]:
        watched = MILESTONE[step] * duration_s
        events.append(event(step, session=session, watch_s=watched, position_s=watched))
    return events


async def eventually(
    probe: Callable[[], Awaitable[T]],
    accept: Callable[[T], bool],
    within: float = 20.0,
    interval: float = 0.1,
) -> T:
    """Polls until `accept(probe())`; the last value is returned or named in the failure."""
    deadline = time.monotonic() + within
    value = await probe()
    while not accept(value):
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {within} s; last value: {value}")
        await asyncio.sleep(interval)
        value = await probe()
    return value


async def engagement(stub: stream_grpc.StreamServiceStub, keys, video_id: str):
    reply = await stub.BatchGetEngagement(
        pb.BatchGetEngagementRequest(video_ids=[video_id]), metadata=service_auth(keys), timeout=5
    )
    return reply.engagements[0] if reply.engagements else None


async def wait_published(stub, keys, video_id: str):
    return await eventually(lambda: engagement(stub, keys, video_id), lambda e: e is not None)


async def wait_views(stub, keys, video_id: str, views: int, completes: int | None = None):
    def done(e) -> bool:
        return (
            e is not None
            and e.counters.view_count == views
            and (completes is None or e.complete_count == completes)
        )

    return await eventually(lambda: engagement(stub, keys, video_id), done)
