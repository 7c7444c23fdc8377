"""stream_svc's PostgreSQL pool against a real server: connections idle for a while are
checked before use, recently used ones are not, and a connection that died anyway is
replaced after the one call it failed; reads leave pooled connections as they found them."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import psycopg
import pytest
import pytest_asyncio
from psycopg_pool import AsyncConnectionPool

from reels_runtime.db import open_pg_pool
from stream_svc.adapters.postgres_engagement import PostgresEngagement

pytestmark = pytest.mark.asyncio(loop_scope="session")

IDLE_S = 0.3


@pytest_asyncio.fixture(loop_scope="session")
async def pool(database_url: str) -> AsyncIterator[AsyncConnectionPool]:
    # One connection, so every checkout gets the same one.
    pool = await open_pg_pool(database_url, 1, 1, name="pool-check-test", check_idle_s=IDLE_S)
    try:
        yield pool
    finally:
        await pool.close()


async def _backend_pid(pool: AsyncConnectionPool) -> int:
    async with pool.connection() as conn:
        row = await (await conn.execute("SELECT pg_backend_pid()")).fetchone()
    assert row is not None
    return int(row[0])


async def _terminate(database_url: str, pid: int) -> None:
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as admin:
        await admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        # Wait until the server has really closed it.
        for _ in range(100):
            cur = await admin.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", (pid,))
            if await cur.fetchone() is None:
                return
            await asyncio.sleep(0.02)


async def test_an_idle_connection_that_died_is_replaced_before_use(pool, database_url) -> None:
    pid = await _backend_pid(pool)
    await _terminate(database_url, pid)
    await asyncio.sleep(IDLE_S * 2)
    # Checked before use: the dead connection is dropped, the call gets a new one.
    assert await _backend_pid(pool) != pid


async def test_a_recently_used_connection_that_died_fails_one_call_only(pool, database_url) -> None:
    pid = await _backend_pid(pool)
    await _terminate(database_url, pid)
    # Used a moment ago, so not pinged first: the call itself meets the dead connection.
    with pytest.raises(psycopg.OperationalError):
        await _backend_pid(pool)
    # The pool dropped it when it came back broken; the next call gets a new one.
    replaced = await asyncio.wait_for(_backend_pid(pool), timeout=10)
    assert replaced != pid


async def test_reads_leave_the_connection_in_a_transaction_per_block(pool) -> None:
    store = PostgresEngagement(pool)
    unknown = str(uuid.uuid4())
    assert await store.engagements([unknown]) == {}
    assert await store.live_video_ids([unknown, "junk"]) == set()
    async with pool.connection() as conn:
        # Writers that rely on the pool's transaction per block still get one.
        assert conn.autocommit is False
        await conn.execute("SELECT 1")
        assert conn.info.transaction_status is psycopg.pq.TransactionStatus.INTRANS
