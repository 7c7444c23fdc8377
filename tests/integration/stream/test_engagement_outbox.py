"""Likes, unlikes, shares and comments reach the bus through stream.outbox: against a real
PostgreSQL database of this module's own (so the session's stream_svc relay does not drain
it) and real Redis servers, one of them stopped."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import pytest_asyncio
import redis
import redis.asyncio as aioredis
from prometheus_client import REGISTRY
from psycopg_pool import AsyncConnectionPool
from reels.common.v1 import events_pb2, playback_pb2

from reels_runtime.db import create_database_if_missing, drop_database_if_exists, open_pg_pool
from reels_runtime.eventbus import EventBus
from reels_runtime.migrate import migrate_postgres
from stream_svc.adapters.engagement_bus import OUTBOX, outbox_relay
from stream_svc.adapters.postgres_engagement import PostgresEngagement
from stream_svc.domain.errors import NotFound
from stream_svc.domain.events import Action, engagement_event
from stream_svc.domain.model import VideoInfo
from tests.conftest import BASE_DATABASE_URL
from tests.support.buses import scratch_bus
from tests.support.processes import free_port, running, wait_until

pytestmark = pytest.mark.asyncio(loop_scope="session")

NOW = datetime(2026, 5, 1, 12, tzinfo=UTC)


@pytest.fixture(scope="module")
def outbox_db() -> Iterator[str]:
    base, _, _ = BASE_DATABASE_URL.rpartition("/")
    url = f"{base}/reels_outbox_{uuid.uuid4().hex[:12]}"
    create_database_if_missing(url)
    try:
        migrate_postgres(url)
        yield url
    finally:
        drop_database_if_exists(url)


@pytest_asyncio.fixture(loop_scope="session")
async def pool(outbox_db: str) -> AsyncIterator[AsyncConnectionPool]:
    pool = await open_pg_pool(outbox_db, min_size=1, max_size=4, name="outbox-test")
    try:
        async with pool.connection() as conn:
            await conn.execute("DELETE FROM stream.outbox")
        yield pool
    finally:
        await pool.close()


@pytest_asyncio.fixture(loop_scope="session")
async def bus() -> AsyncIterator[EventBus]:
    async with scratch_bus("outbox") as scratch:
        yield scratch


async def _video(pool: AsyncConnectionPool) -> VideoInfo:
    video = VideoInfo(str(uuid.uuid4()), f"creator-{uuid.uuid4().hex[:6]}", published_at=NOW)
    async with pool.connection() as conn:
        await conn.execute(
            "INSERT INTO stream.video_engagement (video_id, creator_id, published_at)"
            " VALUES (%s, %s, %s)",
            (video.video_id, video.creator_id, NOW),
        )
    return video


def _event(action: Action, video: VideoInfo, user: str, key: str | None = None):
    return engagement_event(
        action,
        event_id=str(uuid.uuid4()) if key is None else f"{action.value}:{key}",
        video_id=video.video_id,
        user_id=user,
        creator_id=video.creator_id,
        now=NOW,
    )


async def _outbox(pool: AsyncConnectionPool) -> list[tuple[str, str]]:
    async with pool.connection() as conn:
        cur = await conn.execute("SELECT topic, event_id FROM stream.outbox ORDER BY id")
        return [(row[0], row[1]) for row in await cur.fetchall()]


async def _entries(bus: EventBus, topic: str) -> list[tuple[str, object]]:
    """(envelope event_id, decoded message) of the topic's entries, oldest first."""
    entries = await bus.redis.xrange(bus.stream_key(topic))
    return [
        (fields[b"event_id"].decode(), OUTBOX.decode(topic, fields[b"payload"]))
        for _, fields in entries
    ]


def _sample(name: str) -> float:
    return REGISTRY.get_sample_value(name) or 0.0


async def _drain(pool: AsyncConnectionPool, bus: EventBus, batch: int = 100) -> int:
    relay = outbox_relay(pool, bus, batch=batch)
    total = 0
    while relayed := await relay.relay_once():
        total += relayed
    return total


@pytest.fixture
def stopped_redis(tmp_path: Path) -> Iterator[str]:
    """The URL of a real Redis server that has been started and then stopped."""
    port = free_port()
    command = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
    command += ["--appendonly", "no", "--dir", str(tmp_path)]
    url = f"redis://127.0.0.1:{port}/0"
    with running(command, tmp_path / "redis.log"):
        client = redis.Redis.from_url(url, socket_connect_timeout=0.5)
        try:
            wait_until(lambda: _pings(client), 10, "redis-server")
        finally:
            client.close()
    # `running` stopped the server (by its pid) when the block ended.
    yield url


def _pings(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False


async def test_a_like_while_redis_is_down_is_stored_and_published_once_it_is_back(
    pool: AsyncConnectionPool, bus: EventBus, stopped_redis: str
) -> None:
    store = PostgresEngagement(pool)
    video = await _video(pool)
    liked_before = _sample("video_likes_total")
    event = _event(Action.LIKE, video, "alice")

    changed, counters = await store.like(event)
    assert changed and counters.likes == 1
    assert _sample("video_likes_total") == liked_before + 1
    queued = await _outbox(pool)
    assert [topic for topic, _ in queued] == ["video.liked", "video_events"]
    assert queued[1][1] == event.event_id

    # A relay whose Redis is down publishes nothing and loses nothing, however long it tries.
    down = EventBus(aioredis.Redis.from_url(stopped_redis, socket_connect_timeout=0.5))
    try:
        failing = outbox_relay(pool, down, idle_s=0.05)
        with pytest.raises(redis.RedisError):
            await failing.relay_once()
        task = asyncio.create_task(failing.run())
        await asyncio.sleep(0.5)
        failing.stop()
        await asyncio.wait_for(task, timeout=5)
    finally:
        await down.redis.aclose()
    assert await _outbox(pool) == queued
    async with pool.connection() as conn:
        cur = await conn.execute(
            "SELECT like_count FROM stream.video_engagement WHERE video_id = %s",
            (video.video_id,),
        )
        assert await cur.fetchone() == (1,)

    # With the bus reachable, the relay publishes them and empties the outbox.
    assert await _drain(pool, bus) == 2
    assert await _outbox(pool) == []
    [(liked_id, liked)] = await _entries(bus, "video.liked")
    assert (liked.video_id, liked.user_id, liked.creator_id, liked.like_count) == (
        video.video_id,
        "alice",
        video.creator_id,
        1,
    )
    assert liked_id == liked.event_id == queued[0][1]
    [(record_id, batch)] = await _entries(bus, "video_events")
    assert isinstance(batch, events_pb2.PlaybackEventBatch)
    assert record_id == event.event_id
    [record] = batch.events
    assert (record.event_id, record.video_id, record.user_id) == (
        event.event_id,
        video.video_id,
        "alice",
    )
    assert record.action == playback_pb2.PLAYBACK_ACTION_LIKE


async def test_a_repeated_like_or_unlike_enqueues_nothing(
    pool: AsyncConnectionPool, bus: EventBus
) -> None:
    store = PostgresEngagement(pool)
    video = await _video(pool)
    liked_before = _sample("video_likes_total")

    assert (await store.like(_event(Action.LIKE, video, "bob")))[0]
    again, counters = await store.like(_event(Action.LIKE, video, "bob"))
    assert not again and counters.likes == 1
    assert _sample("video_likes_total") == liked_before + 1
    assert [topic for topic, _ in await _outbox(pool)] == ["video.liked", "video_events"]

    gone, counters = await store.unlike(video, "bob", NOW)
    assert gone and counters.likes == 0
    gone_again, _ = await store.unlike(video, "bob", NOW)
    assert not gone_again
    assert [topic for topic, _ in await _outbox(pool)] == [
        "video.liked",
        "video_events",
        "video.unliked",
    ]
    await _drain(pool, bus)
    [(_, unliked)] = await _entries(bus, "video.unliked")
    assert (unliked.user_id, unliked.like_count, unliked.creator_id) == (
        "bob",
        0,
        video.creator_id,
    )


async def test_a_failed_change_stores_neither_the_row_nor_its_events(
    pool: AsyncConnectionPool,
) -> None:
    store = PostgresEngagement(pool)
    unknown = VideoInfo(str(uuid.uuid4()), "creator", published_at=NOW)
    with pytest.raises(NotFound):
        await store.like(_event(Action.LIKE, unknown, "carol"))
    async with pool.connection() as conn:
        cur = await conn.execute(
            "SELECT count(*) FROM stream.likes WHERE video_id = %s", (unknown.video_id,)
        )
        assert await cur.fetchone() == (0,)
    assert await _outbox(pool) == []


async def test_the_relay_publishes_in_order_and_deletes_what_it_published(
    pool: AsyncConnectionPool, bus: EventBus
) -> None:
    store = PostgresEngagement(pool)
    video = await _video(pool)
    users = [f"user-{i}" for i in range(7)]
    shares_before, comments_before = _sample("video_shares_total"), _sample("video_comments_total")
    records = []
    for user in users:
        event = _event(Action.LIKE, video, user)
        records.append(event.event_id)
        await store.like(event)
    for platform in ("whatsapp", "copy_link"):
        event = _event(Action.SHARE, video, "sharer")
        records.append(event.event_id)
        assert (await store.share(event, platform)).shares in (1, 2)
    comment_ids = []
    for text in ("one", "two"):
        comment_id = str(uuid.uuid4())
        event = _event(Action.COMMENT, video, "writer", comment_id)
        records.append(event.event_id)
        comment, counters = await store.add_comment(event, comment_id, text)
        assert comment.comment_id == comment_id and comment.author_id == "writer"
        comment_ids.append((comment_id, counters.comments))
    assert _sample("video_shares_total") == shares_before + 2
    assert _sample("video_comments_total") == comments_before + 2
    queued = await _outbox(pool)
    assert len(queued) == 2 * (len(users) + 4)

    # Small batches: each pass takes the oldest rows that are left.
    relay = outbox_relay(pool, bus, batch=3)
    passes = []
    while relayed := await relay.relay_once():
        passes.append(relayed)
        left = await _outbox(pool)
        assert left == queued[sum(passes) :]
    assert sum(passes) == len(queued)

    liked = await _entries(bus, "video.liked")
    assert [(m.user_id, m.like_count) for _, m in liked] == [
        (user, i + 1) for i, user in enumerate(users)
    ]
    shared = await _entries(bus, "video.shared")
    assert [(m.platform, m.share_count) for _, m in shared] == [("whatsapp", 1), ("copy_link", 2)]
    commented = await _entries(bus, "video.commented")
    assert [(m.comment_id, m.comment_count) for _, m in commented] == comment_ids
    assert [m.text for _, m in commented] == ["one", "two"]
    recorded = await _entries(bus, "video_events")
    assert [envelope for envelope, _ in recorded] == records
    assert [batch.events[0].event_id for _, batch in recorded] == records
    assert records[-1] == f"comment:{comment_ids[-1][0]}"


async def test_concurrent_relays_publish_each_row_once(
    pool: AsyncConnectionPool, bus: EventBus
) -> None:
    store = PostgresEngagement(pool)
    video = await _video(pool)
    for i in range(40):
        await store.like(_event(Action.LIKE, video, f"fan-{i}"))
    relays = [outbox_relay(pool, bus, batch=5, idle_s=0.02) for _ in range(3)]
    tasks = [asyncio.create_task(relay.run()) for relay in relays]
    try:

        async def empty() -> bool:
            return await _outbox(pool) == []

        for _ in range(200):
            if await empty():
                break
            await asyncio.sleep(0.05)
        assert await empty()
    finally:
        for relay in relays:
            relay.stop()
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=5)
    liked = await _entries(bus, "video.liked")
    assert sorted(m.like_count for _, m in liked) == list(range(1, 41))
    assert len({envelope for envelope, _ in liked}) == 40


async def test_relayed_events_carry_the_writers_trace_and_request_id(
    pool: AsyncConnectionPool, bus: EventBus
) -> None:
    from opentelemetry.sdk.trace import TracerProvider

    from reels_runtime.context import request_scope

    store = PostgresEngagement(pool)
    video = await _video(pool)
    # A real SDK tracer (not the global one): its spans have valid, distinct trace ids.
    tracer = TracerProvider().get_tracer("outbox-test")
    with tracer.start_as_current_span("LikeVideo") as span, request_scope("req-like-1"):
        await store.like(_event(Action.LIKE, video, "dora"))
    with tracer.start_as_current_span("ShareVideo") as other, request_scope("req-share-2"):
        await store.like(_event(Action.LIKE, video, "eve"))
    written = {
        f"{span.get_span_context().trace_id:032x}": "req-like-1",
        f"{other.get_span_context().trace_id:032x}": "req-share-2",
    }
    # The relay runs later, in a task of its own, outside both requests.
    assert await asyncio.create_task(_drain(pool, bus)) >= 2
    liked = await bus.redis.xrange(bus.stream_key("video.liked"))
    stamped = {
        fields[b"traceparent"].decode().split("-")[1]: fields[b"request_id"].decode()
        for _, fields in liked
        if b"traceparent" in fields
    }
    assert stamped == written
