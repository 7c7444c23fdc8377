"""What both halves of stream_svc share: PostgreSQL, Redis, the event bus, ClickHouse."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from clickhouse_connect.driver.client import Client
from psycopg_pool import AsyncConnectionPool
from redis.asyncio import Redis

from reels_runtime.clickhouse import open_clickhouse
from reels_runtime.config import Config
from reels_runtime.db import open_pg_pool
from reels_runtime.eventbus import EventBus
from reels_runtime.migrate import migrate_clickhouse

Closer = Callable[[], Awaitable[None]]
Task = Callable[[], Awaitable[None]]


@dataclass
class Shared:
    pool: AsyncConnectionPool
    redis: Redis
    bus: EventBus
    clickhouse: Client
    # chDB runs in this process and its client is not safe across threads: every
    # ClickHouse call goes through `in_clickhouse`, one at a time, off the event loop.
    clickhouse_lock: asyncio.Lock
    closers: list[Closer] = field(default_factory=list)

    async def in_clickhouse(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        async with self.clickhouse_lock:
            work = asyncio.ensure_future(asyncio.to_thread(fn, *args, **kwargs))
            try:
                return await asyncio.shield(work)
            except asyncio.CancelledError:
                # The caller has gone, but the thread is still inside chDB and cannot be
                # interrupted: keep the lock until it returns, or a second call would run
                # beside it in the same embedded engine.
                # Its result or error is dropped: nobody is waiting for it.
                await asyncio.wait([work])
                raise


@dataclass
class Part:
    """One half's dependencies for its RPCs, its background tasks and its shutdown hooks."""

    deps: Any
    background: list[Task] = field(default_factory=list)
    closers: list[Closer] = field(default_factory=list)
    # Asked to return when the server stops, before its background tasks are cancelled.
    stoppers: list[Callable[[], None]] = field(default_factory=list)


async def open_shared(config: Config) -> Shared:
    # A fresh feed page costs stream_svc four queries: a ping before each would double
    # the round trips. A connection unused for a second is still pinged first.
    pool = await open_pg_pool(
        config.database_url, min_size=1, max_size=10, name="stream_svc", check_idle_s=1.0
    )
    redis = Redis.from_url(config.redis_url, socket_timeout=5.0, socket_connect_timeout=2.0)
    bus = EventBus(redis, config.event_stream_prefix)
    clickhouse = await asyncio.to_thread(
        open_clickhouse, config.clickhouse_url, create_database=True
    )
    # stream_svc owns ClickHouse: it brings its tables up to date itself (idempotent), which
    # with chDB must happen in this process anyway (one process per data path).
    await asyncio.to_thread(migrate_clickhouse, clickhouse)

    async def close_clickhouse() -> None:
        await asyncio.to_thread(clickhouse.close)

    return Shared(
        pool=pool,
        redis=redis,
        bus=bus,
        clickhouse=clickhouse,
        clickhouse_lock=asyncio.Lock(),
        closers=[close_clickhouse, redis.aclose, pool.close],
    )
