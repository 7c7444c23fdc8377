"""One `video_events` entry per accepted request batch, and consumers that read both that
and the lone-event entries of producers from before batches (a rolling deploy), against
the real stream_svc, Redis, PostgreSQL and chDB."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import grpc
import pytest
from redis.asyncio import Redis
from reels.common.v1 import events_pb2, playback_pb2
from reels.stream.v1 import stream_service_pb2 as pb
from reels.stream.v1 import stream_service_pb2_grpc as stream_grpc

from reels_runtime.eventbus import EventBus
from tests.integration.stream.engagement_support import (
    new_id,
    publish_video,
    session_events,
    span,
    stamp,
    user_auth,
    wait_published,
    wait_views,
)

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest.fixture
async def stub(stream_server):
    async with grpc.aio.insecure_channel(stream_server.target) as channel:
        yield stream_grpc.StreamServiceStub(channel)


@pytest.fixture
async def video(stub, keys, config) -> tuple[str, str]:
    creator = new_id("creator")
    video_id = await publish_video(config, creator, duration_s=20.0)
    await wait_published(stub, keys, video_id)
    return video_id, creator


async def _entries_of(config, video_id: str) -> list[tuple[bytes, list]]:
    """(event_type, events) of the `video_events` entries about the video."""
    redis = Redis.from_url(config.redis_url)
    try:
        entries = await redis.xrevrange(f"{config.event_stream_prefix}video_events", count=500)
    finally:
        await redis.aclose()
    found = []
    for _, fields in entries:
        kind = fields[b"event_type"]
        if kind == b"reels.common.v1.PlaybackEventBatch":
            events = list(events_pb2.PlaybackEventBatch.FromString(fields[b"payload"]).events)
        else:
            events = [events_pb2.PlaybackEventRecorded.FromString(fields[b"payload"])]
        if any(e.video_id == video_id for e in events):
            found.append((kind, events))
    return found


def _lone_event(video_id: str, creator: str, user: str, action: int, watch_s: float):
    now = stamp(datetime.now(UTC))
    return events_pb2.PlaybackEventRecorded(
        event_id=str(uuid.uuid4()),
        occur_time=now,
        event_time=now,
        video_id=video_id,
        creator_id=creator,
        user_id=user,
        session_id="old-producer",
        action=action,
        watch_duration=span(watch_s),
        position=span(watch_s),
        bitrate_kbps=2500,
    )


async def test_a_request_batch_is_one_entry_and_lone_event_entries_still_count(
    stub, keys, config, video
) -> None:
    video_id, creator = video
    viewer = new_id("viewer")
    batch = session_events("s1", "complete") + session_events("s2", "50")
    reply = await stub.RecordPlaybackEvents(
        pb.RecordPlaybackEventsRequest(video_id=video_id, events=batch),
        metadata=user_auth(keys, viewer),
        timeout=10,
    )
    assert reply.accepted_count == len(batch)
    ((kind, events),) = await _entries_of(config, video_id)
    assert kind == b"reels.common.v1.PlaybackEventBatch"
    assert [e.client_event_id for e in events] == [e.event_id for e in batch]
    assert len({e.event_id for e in events}) == len(batch)
    await wait_views(stub, keys, video_id, views=2, completes=1)

    # Entries of a producer from before batches: one event each, the old envelope. The
    # same event published twice (a producer's retry) counts once.
    redis = Redis.from_url(config.redis_url)
    try:
        bus = EventBus(redis, config.event_stream_prefix)
        old_viewer = new_id("old")
        start = _lone_event(
            video_id, creator, old_viewer, playback_pb2.PLAYBACK_ACTION_WATCH_START, 0
        )
        done = _lone_event(
            video_id, creator, old_viewer, playback_pb2.PLAYBACK_ACTION_WATCH_COMPLETE, 20
        )
        for message in (start, done, done):
            await bus.publish("video_events", message, event_id=message.event_id)
    finally:
        await redis.aclose()
    found = await wait_views(stub, keys, video_id, views=3, completes=2)
    # Sessions of 20 s, 10 s and 20 s.
    assert found.average_watch_duration.ToTimedelta().total_seconds() == pytest.approx(50 / 3)
