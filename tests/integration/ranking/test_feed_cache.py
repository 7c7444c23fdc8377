"""The feed's serving path against the real Redis, PostgreSQL and stream_svc: pages sent as
cached, every served page prefetching the next one, the seen filter written in batches,
and the store's in-process memos staying consistent with Redis."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import grpc
import pytest
import redis.asyncio as aioredis
from reels.ranking.v1 import ranking_service_pb2 as pb
from reels.ranking.v1 import ranking_service_pb2_grpc as ranking_grpc

from ranking_svc.adapters.redis_store import CachedPage, RedisFeedStore, decode_page
from ranking_svc.domain.model import Components, Engagement, RankedItem, Source, Tier, Video
from ranking_svc.domain.ports import Session
from ranking_svc.metrics import FEED_CACHE_HITS, FEED_CACHE_MISSES
from tests.integration.ranking.ranking_support import new_id, wait_indexed
from tests.integration.stream.engagement_support import publish_video

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest.fixture
async def stub(ranking_server):
    async with grpc.aio.insecure_channel(ranking_server.target) as channel:
        yield ranking_grpc.RankingServiceStub(channel)


@pytest.fixture(scope="module")
async def catalogue(config, database_url, ranking_server) -> list[str]:
    """Fifteen published videos by ten creators: five pages of three."""
    ids = [
        await publish_video(config, f"cache-catalogue-{i % 10}", title=f"cache clip {i}")
        for i in range(15)
    ]
    for video_id in ids:
        await wait_indexed(database_url, video_id)
    return ids


@pytest.fixture
async def client(config):
    redis = aioredis.Redis.from_url(config.redis_url)
    yield redis
    await redis.aclose()


def page_key(config, user: str, cursor: str, limit: int, algo: str = "ch") -> str:
    return f"{config.redis_namespace}:{user}:{cursor or 'fresh'}:{algo}:{limit}"


async def eventually_cached(client, key: str) -> None:
    for _ in range(100):
        if await client.exists(key):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{key} was not cached")


async def test_each_served_page_prefetches_the_next_one(
    stub, keys, config, client, catalogue
) -> None:
    """Page 1 (built) caches page 2; page 2 (a hit) caches page 3: a session scrolling on
    only ever hits, and no page repeats a video of another."""
    user = new_id("scroll")
    meta = keys.user_metadata(user)
    pages = [await stub.GetFeed(pb.GetFeedRequest(limit=3), metadata=meta, timeout=5)]
    for _ in range(3):
        cursor = pages[-1].next_cursor
        assert cursor
        await eventually_cached(client, page_key(config, user, cursor, 3))
        hits, misses = FEED_CACHE_HITS._value.get(), FEED_CACHE_MISSES._value.get()
        pages.append(
            await stub.GetFeed(pb.GetFeedRequest(limit=3, cursor=cursor), metadata=meta, timeout=5)
        )
        assert FEED_CACHE_HITS._value.get() == hits + 1
        assert FEED_CACHE_MISSES._value.get() == misses
    served = [i.video_id for page in pages for i in page.items]
    assert len(served) == 12
    assert len(set(served)) == len(served)


async def test_a_cached_page_is_the_stored_response(stub, keys, config, client, catalogue):
    user = new_id("stored")
    meta = keys.user_metadata(user)
    first = await stub.GetFeed(pb.GetFeedRequest(limit=4), metadata=meta, timeout=5)
    raw = await client.get(page_key(config, user, "", 4))
    decoded = decode_page(raw)
    assert decoded is not None
    _generation, cached = decoded
    assert pb.GetFeedResponse.FromString(cached.body) == first
    assert cached.video_ids == tuple(i.video_id for i in first.items)
    assert cached.next_cursor == first.next_cursor
    again = await stub.GetFeed(pb.GetFeedRequest(limit=4), metadata=meta, timeout=5)
    assert again == first
    # Each item still carries its signed playback URLs.
    assert all("?token=" in i.hls_url and "?token=" in i.dash_url for i in again.items)


async def test_a_value_in_another_format_is_a_miss(stub, keys, config, client, catalogue):
    user = new_id("format")
    meta = keys.user_metadata(user)
    await client.set(page_key(config, user, "", 5), b"|not a page", ex=60)
    misses = FEED_CACHE_MISSES._value.get()
    reply = await stub.GetFeed(pb.GetFeedRequest(limit=5), metadata=meta, timeout=5)
    assert reply.items
    assert FEED_CACHE_MISSES._value.get() == misses + 1


def _store(config, redis) -> RedisFeedStore:
    return RedisFeedStore(
        redis,
        config.redis_key,
        seen_ttl_s=3600,
        session_ttl_s=600,
        hot_ttl_s=60,
        page_ttl_s=60,
    )


def _item(n: int) -> RankedItem:
    return RankedItem(
        Video(f"video-{n}", f"creator-{n % 3}", title=f"clip {n}", published_at=datetime.now(UTC)),
        Engagement(views=n),
        (Source.TRENDING,),
        Components(total=1.0 / (n + 1)),
    )


async def test_seen_writes_of_one_loop_iteration_go_out_together(config) -> None:
    redis = aioredis.Redis.from_url(config.redis_url)
    store = _store(config, redis)
    users = [new_id("seen") for _ in range(3)]
    try:
        for n, user in enumerate(users):
            store.mark_seen_soon(user, [f"a{n}", f"b{n}"])
        store.mark_seen_soon(users[0], ["c0"])
        await store.drain()
        for n, user in enumerate(users):
            assert await store.seen(user) >= {f"a{n}", f"b{n}"}
        assert "c0" in await store.seen(users[0])
        assert 0 < await redis.ttl(store.seen_key(users[0])) <= 3600
    finally:
        await redis.aclose()


async def test_hot_lists_and_sessions_read_back_as_written(config) -> None:
    redis = aioredis.Redis.from_url(config.redis_url)
    store, other = _store(config, redis), _store(config, redis)
    try:
        await store.put_hot("1h", [_item(1), _item(2)])
        assert [i.video.video_id for i in await store.hot("1h")] == ["video-1", "video-2"]
        # Another replica replaced the list: the memo of the old bytes is not used.
        await other.put_hot("1h", [_item(3)])
        assert [i.video.video_id for i in await store.hot("1h")] == ["video-3"]
        await other.forget_hot()
        assert await store.hot("1h") is None

        user = new_id("session")
        session = Session((_item(1), _item(2), _item(3)), Tier.RULES)
        await store.save_session(user, "s1", session)
        assert await store.load_session(user, "s1") == session
        # A replica that did not write it reads it from Redis.
        loaded = await other.load_session(user, "s1")
        assert loaded is not None
        assert [i.video.video_id for i in loaded.items] == ["video-1", "video-2", "video-3"]
        assert await other.load_session(user, "missing") is None
    finally:
        await redis.aclose()


async def test_put_page_only_if_absent_keeps_the_first(config) -> None:
    redis = aioredis.Redis.from_url(config.redis_url)
    store = _store(config, redis)
    user = new_id("nx")
    try:
        first = CachedPage(b"first", ("v1",), "c1")
        assert await store.put_page(user, "cur", "ch", 3, first, only_if_absent=True)
        later = CachedPage(b"later", ("v2",), "c2")
        assert not await store.put_page(user, "cur", "ch", 3, later, only_if_absent=True)
        cached, _generation = await store.cached_page(user, "cur", "ch", 3)
        assert cached == first
        assert await store.has_page(user, "cur", "ch", 3)
        assert not await store.has_page(user, "other", "ch", 3)
    finally:
        await redis.aclose()


async def test_a_fresh_page_is_stale_once_the_generation_moves(config) -> None:
    redis = aioredis.Redis.from_url(config.redis_url)
    store = _store(config, redis)
    user = new_id("gen")
    try:
        _none, generation = await store.cached_page(user, "", "ch", 3)
        page = CachedPage(b"body", ("v1",), "")
        await store.put_page(user, "", "ch", 3, page, generation)
        assert (await store.cached_page(user, "", "ch", 3))[0] == page
        await store.bump_generations([user])
        cached, moved = await store.cached_page(user, "", "ch", 3)
        assert cached is None
        assert moved and moved != generation
    finally:
        await redis.aclose()


async def test_a_rebuilt_fresh_page_is_marked_seen_too(stub, keys, config, client, catalogue):
    """A fresh page served again is not re-marked; one rebuilt under the same key (the
    feed generation moved) is a new page, and its videos enter the seen filter."""
    user = new_id("rebuilt")
    meta = keys.user_metadata(user)
    seen_key = f"{config.redis_namespace}:seen:{user}"
    first = await stub.GetFeed(pb.GetFeedRequest(limit=3), metadata=meta, timeout=5)
    await client.set(f"{config.redis_namespace}:feed-gen:{user}", "moved", ex=600)
    second = await stub.GetFeed(pb.GetFeedRequest(limit=3), metadata=meta, timeout=5)
    assert second.next_cursor != first.next_cursor
    assert not {i.video_id for i in second.items} & {i.video_id for i in first.items}
    wanted = {i.video_id for i in first.items} | {i.video_id for i in second.items}
    for _ in range(50):
        seen = {m.decode() for m in await client.zrange(seen_key, 0, -1)}
        if seen >= wanted:
            break
        await asyncio.sleep(0.05)
    assert seen >= wanted
