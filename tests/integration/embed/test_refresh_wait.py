"""The user-refresh loop's idle wait against real Redis: it sleeps until the earliest
scheduled refresh is due (not a short poll), and a watch handled in this process wakes it
at once."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from redis.asyncio import Redis

from embed_svc.adapters.redis_cache import RedisCache
from embed_svc.domain.service import EmbedService, Tuning
from tests.conftest import TEST_REDIS_URL
from tests.unit.embed.fakes import FakeEncoder, FakeHistory, FakeMirror, FakeStore

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest_asyncio.fixture(loop_scope="session")
async def cache() -> AsyncIterator[RedisCache]:
    namespace = f"reels-test-refresh-{uuid.uuid4().hex[:8]}"
    redis = Redis.from_url(TEST_REDIS_URL)
    yield RedisCache(redis, lambda *parts: ":".join((namespace, *parts)), 60)
    async for key in redis.scan_iter(match=f"{namespace}:*"):
        await redis.delete(key)
    await redis.aclose()


def _service(cache: RedisCache, delay_s: float) -> EmbedService:
    store = FakeStore()
    return EmbedService(
        encoder=FakeEncoder(),
        store=store,
        searcher=store.search,  # type: ignore[arg-type]  # never searched here
        cache=cache,
        history=FakeHistory(),
        mirror=FakeMirror(),
        tuning=Tuning(user_refresh_delay_s=delay_s),
    )


async def _timed(awaitable) -> float:
    started = time.monotonic()
    await awaitable
    return time.monotonic() - started


async def test_next_refresh_at_is_the_earliest_due_time(cache: RedisCache) -> None:
    assert await cache.next_refresh_at() is None
    now = time.time()
    await cache.schedule_user_refresh("later", now + 60, "v1")
    await cache.schedule_user_refresh("sooner", now + 5, "v2")
    assert await cache.next_refresh_at() == pytest.approx(now + 5)
    assert [user for user, _, _ in await cache.due_users(now + 10, 10)] == ["sooner"]
    assert await cache.next_refresh_at() == pytest.approx(now + 60)


async def test_an_idle_loop_sleeps_the_whole_bound(cache: RedisCache) -> None:
    service = _service(cache, 2.0)
    assert 0.5 <= await _timed(service.wait_for_due_users(0.6)) < 1.5


async def test_the_wait_ends_when_the_next_refresh_is_due(cache: RedisCache) -> None:
    service = _service(cache, 2.0)
    # Scheduled elsewhere (another replica): only the due time in Redis says when.
    await cache.schedule_user_refresh("u1", time.time() + 0.4, "v1")
    waited = await _timed(service.wait_for_due_users(5.0))
    assert 0.3 <= waited < 1.5
    assert [user for user, _, _ in await service._cache.due_users(time.time(), 10)] == ["u1"]


async def test_a_watch_in_this_process_wakes_the_wait_at_once(cache: RedisCache) -> None:
    service = _service(cache, 0.0)
    waiting = asyncio.create_task(service.wait_for_due_users(5.0))
    await asyncio.sleep(0.1)
    assert not waiting.done()
    started = time.monotonic()
    await service.watched_many({"u2": "v2"})
    await asyncio.wait_for(waiting, 1.0)
    assert time.monotonic() - started < 0.5


async def test_a_due_user_never_makes_a_busy_loop(cache: RedisCache) -> None:
    service = _service(cache, 2.0)
    # Due already (taken meanwhile by another replica, say): still a short sleep.
    await cache.schedule_user_refresh("u3", time.time() - 1, "v3")
    assert await _timed(service.wait_for_due_users(5.0)) >= 0.04
