"""The search coalescer: concurrent searches share one call; failures reach every waiter."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from embed_svc.domain.batching import SearchCoalescer
from embed_svc.domain.model import Scored

pytestmark = pytest.mark.asyncio(loop_scope="session")


class SlowSearch:
    def __init__(self) -> None:
        self.batches: list[int] = []

    async def __call__(self, queries: np.ndarray, limit: int, version: str) -> list[list[Scored]]:
        self.batches.append(len(queries))
        await asyncio.sleep(0.02)  # a Milvus Lite pass over every row
        return [
            [Scored(f"{version}-{int(q[0])}-{i}", "", 1.0 - i / 100) for i in range(limit)]
            for q in queries
        ]


async def test_concurrent_searches_share_calls() -> None:
    search = SlowSearch()
    coalescer = SearchCoalescer(search)
    queries = [np.array([i, 0], np.float32) for i in range(20)]
    results = await asyncio.gather(*(coalescer(q, 3 + i % 2, "v1") for i, q in enumerate(queries)))
    assert sum(search.batches) == 20
    assert len(search.batches) <= 3  # the first alone, then the rest together
    for i, hits in enumerate(results):
        assert len(hits) == 3 + i % 2
        assert hits[0].id == f"v1-{i}-0"
    assert coalescer.calls == len(search.batches) and coalescer.queries == 20


async def test_versions_are_searched_apart() -> None:
    search = SlowSearch()
    coalescer = SearchCoalescer(search)
    q = np.array([1, 0], np.float32)
    a, b = await asyncio.gather(coalescer(q, 1, "v1"), coalescer(q, 1, "v2"))
    assert a[0].id.startswith("v1-") and b[0].id.startswith("v2-")


async def test_a_failed_call_fails_its_waiters_and_a_cancelled_waiter_is_skipped() -> None:
    calls = 0

    async def failing(queries, limit, version):
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.01)
        raise RuntimeError("milvus down")

    coalescer = SearchCoalescer(failing)
    q = np.array([1, 0], np.float32)
    with pytest.raises(RuntimeError, match="milvus down"):
        await coalescer(q, 1, "v1")
    gone = asyncio.ensure_future(coalescer(q, 1, "v1"))
    await asyncio.sleep(0)
    gone.cancel()
    with pytest.raises(asyncio.CancelledError):
        await gone
    await coalescer.close()
