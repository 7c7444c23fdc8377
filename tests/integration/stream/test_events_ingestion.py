"""Playback events: validation, and counters that stay exact under retries, redelivery and
a consumer killed between its commit and its acknowledgement."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
import pytest
from redis.asyncio import Redis
from reels.stream.v1 import stream_service_pb2 as pb
from reels.stream.v1 import stream_service_pb2_grpc as stream_grpc

from tests.integration.stream.engagement_support import (
    event,
    eventually,
    new_id,
    publish_video,
    service_auth,
    session_events,
    user_auth,
    wait_published,
    wait_views,
)

pytestmark = pytest.mark.asyncio(loop_scope="session")

REPO = Path(__file__).resolve().parents[3]
GROUP = "stream_engagement"


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


async def _record(stub, keys, video_id: str, user: str, events) -> pb.RecordPlaybackEventsResponse:
    return await stub.RecordPlaybackEvents(
        pb.RecordPlaybackEventsRequest(video_id=video_id, events=events),
        metadata=user_auth(keys, user),
        timeout=10,
    )


async def test_malformed_events_are_rejected_by_index_and_the_rest_kept(stub, keys, video) -> None:
    video_id, _ = video
    now = datetime.now(UTC)
    missing_time = pb.PlaybackEvent(event_id="no-time", action=1)
    cases = [
        (event("start", session="a", watch_s=0.0), None),
        (pb.PlaybackEvent(action=1, event_time=event("start").event_time), "event_id is required"),
        (event("start", event_id="has spaces"), "event_id must be"),
        (event("start", event_id="x" * 65), "event_id must be"),
        (pb.PlaybackEvent(event_id="unspecified", event_time=event("start").event_time), "action"),
        (
            pb.PlaybackEvent(event_id="unknown", action=99, event_time=event("start").event_time),
            "action",
        ),
        (missing_time, "event_time is required"),
        (event("start", at=now + timedelta(days=2)), "future"),
        (event("start", at=now - timedelta(days=8)), "past"),
        (event("rebuffer"), "rebuffer_duration"),
        (event("startup", startup_s=-1.0), "must not be negative"),
        (event("like"), "own endpoint"),
        (event("segment"), "segment redirect"),
        (event("75", position_s=25.0), "past the end"),
        (event("start", bitrate_kbps=-5), "bitrate_kbps"),
        (event("switch"), "to_bitrate_kbps"),
        (event("complete", session="a", watch_s=20.0, position_s=20.0), None),
    ]
    reply = await _record(stub, keys, video_id, new_id("viewer"), [e for e, _ in cases])
    assert reply.accepted_count == 2
    rejected = {r.index: r for r in reply.rejected_events}
    assert sorted(rejected) == [i for i, (_, reason) in enumerate(cases) if reason]
    for index, (sent, reason) in enumerate(cases):
        if reason:
            assert reason in rejected[index].reason, (index, rejected[index].reason)
            assert rejected[index].event_id == sent.event_id
    found = await wait_views(stub, keys, video_id, views=1, completes=1)
    assert found.completion_rate == 1.0
    assert found.average_watch_duration.seconds == 20


async def test_requests_that_cannot_be_judged_event_by_event(stub, keys, video) -> None:
    video_id, _ = video
    user = new_id("viewer")
    for video_arg, events, code in (
        (video_id, [], grpc.StatusCode.INVALID_ARGUMENT),
        (video_id, [event("start") for _ in range(501)], grpc.StatusCode.INVALID_ARGUMENT),
        ("not-a-uuid", [event("start")], grpc.StatusCode.INVALID_ARGUMENT),
        (str(uuid.uuid4()), [event("start")], grpc.StatusCode.NOT_FOUND),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await _record(stub, keys, video_arg, user, events)
        assert caught.value.code() is code


@pytest.mark.security
async def test_events_need_an_end_user(stub, keys, video) -> None:
    video_id, _ = video
    request = pb.RecordPlaybackEventsRequest(video_id=video_id, events=[event("start")])
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.RecordPlaybackEvents(request, timeout=5)
    assert caught.value.code() is grpc.StatusCode.UNAUTHENTICATED
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.RecordPlaybackEvents(request, metadata=service_auth(keys), timeout=5)
    assert caught.value.code() is grpc.StatusCode.PERMISSION_DENIED


async def test_a_retried_batch_counts_once(stub, keys, video) -> None:
    video_id, _ = video
    alice, bob = new_id("alice"), new_id("bob")
    batch = session_events("s1", "complete") + session_events("s2", "50")
    for _ in range(3):  # the client retries the same batch (same client event ids)
        reply = await _record(stub, keys, video_id, alice, batch)
        assert reply.accepted_count == len(batch)
    # The same client ids from another user are other events.
    await _record(stub, keys, video_id, bob, batch)
    found = await wait_views(stub, keys, video_id, views=4, completes=2)
    # Sessions of 20 s and 10 s, each counted once per user.
    assert found.average_watch_duration.ToTimedelta() == timedelta(seconds=15)
    await asyncio.sleep(1.0)  # anything still in flight would land by now
    found = await wait_views(stub, keys, video_id, views=4, completes=2)
    assert found.average_watch_duration.ToTimedelta() == timedelta(seconds=15)


def _consumer(service_environ, tmp_path: Path, *args: str) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        **service_environ,
        "SERVICE_NAME": "stream-consumer-test",
        # Its own chDB path: chDB allows one process per data directory.
        "CLICKHOUSE_URL": f"chdb://{tmp_path / 'clickhouse'}",
        "PYTHONPATH": os.pathsep.join([str(REPO / "gen"), str(REPO)]),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "tests.integration.stream.engagement_consumer_proc", *args],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.kill()  # our own child, by its pid
        process.wait()
    if process.stdout is not None:
        process.stdout.close()


async def _wait_line(process: subprocess.Popen[str], prefix: str, within: float) -> str:
    loop = asyncio.get_running_loop()
    deadline = time.monotonic() + within
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = await asyncio.wait_for(
            loop.run_in_executor(None, process.stdout.readline), deadline - time.monotonic()
        )
        if line.startswith(prefix):
            return line
        if not line and process.poll() is not None:
            break
    raise AssertionError(f"consumer never printed {prefix!r} (exit {process.poll()})")


async def _pending_of(config, consumer: str) -> int:
    redis = Redis.from_url(config.redis_url)
    try:
        rows = await redis.xpending_range(
            f"{config.event_stream_prefix}video_events",
            GROUP,
            min="-",
            max="+",
            count=100_000,
            consumername=consumer,
        )
    finally:
        await redis.aclose()
    return len(rows)


async def test_counters_stay_exact_when_a_consumer_dies_between_commit_and_ack(
    stub, keys, config, service_environ, video, tmp_path
) -> None:
    """A second consumer of the same group takes a share of the events, commits its first
    batch in PostgreSQL and is SIGKILLed before acknowledging it; stream_svc's consumer
    takes the batch over and the counters still count every event exactly once."""
    video_id, _ = video
    doomed_name = new_id("doomed")
    doomed = _consumer(
        service_environ,
        tmp_path,
        "--group",
        GROUP,
        "--name",
        doomed_name,
        "--batch",
        "40",
        "--crash-after-commit",
    )
    try:
        await _wait_line(doomed, "ready", 60)
        views = completes = 0
        reached = ["complete", "75", "50", "complete", "25"]
        round_ = 0
        while doomed.poll() is None and round_ < 40:
            user = new_id("viewer")
            batch = []
            for i, step in enumerate(reached):
                batch += session_events(f"r{round_}-{i}", step)
                views += 1
                completes += step == "complete"
            reply = await _record(stub, keys, video_id, user, batch)
            assert reply.accepted_count == len(batch)
            round_ += 1
            await asyncio.sleep(0.05)
        committed = await _wait_line(doomed, "committed", 30)
        assert doomed.wait(timeout=30) == -9  # killed itself right after its commit
    finally:
        _stop(doomed)
    assert int(committed.split()[1]) > 0
    # Its counted-but-unacknowledged batch is still pending under its name...
    assert await _pending_of(config, doomed_name) > 0
    # ...until stream_svc's consumer claims it (after STREAM_EVENTS_CLAIM_IDLE_MS).
    await eventually(lambda: _pending_of(config, doomed_name), lambda n: n == 0, within=60)
    found = await wait_views(stub, keys, video_id, views=views, completes=completes)
    await asyncio.sleep(1.0)
    again = await wait_views(stub, keys, video_id, views=views, completes=completes)
    assert again.counters.view_count == found.counters.view_count == views


async def test_redelivering_every_event_to_a_new_group_changes_no_counter(
    stub, keys, config, service_environ, video, tmp_path
) -> None:
    video_id, _ = video
    redis = Redis.from_url(config.redis_url)
    try:
        last = await redis.xrevrange(f"{config.event_stream_prefix}video_events", count=1)
    finally:
        await redis.aclose()
    start_id = last[0][0].decode() if last else "0"
    user = new_id("viewer")
    batch = session_events("a", "complete") + session_events("b", "25")
    await _record(stub, keys, video_id, user, batch)
    before = await wait_views(stub, keys, video_id, views=2, completes=1)

    replay = _consumer(
        service_environ,
        tmp_path,
        "--group",
        new_id("replay"),
        "--name",
        "replayer",
        "--start-id",
        start_id,
        "--until-drained",
    )
    try:
        drained = await _wait_line(replay, "drained", 90)
        assert replay.wait(timeout=30) == 0
    finally:
        _stop(replay)
    assert int(drained.split()[1]) >= len(batch)  # every event went through it again
    after = await wait_views(stub, keys, video_id, views=2, completes=1)
    assert after.average_watch_duration == before.average_watch_duration
