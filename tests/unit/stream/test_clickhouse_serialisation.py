"""Shared.in_clickhouse: one call inside chDB at a time, even when a caller is cancelled."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from stream_svc.wiring import Shared


def shared() -> Shared:
    none: Any = None
    return Shared(pool=none, redis=none, bus=none, clickhouse=none, clickhouse_lock=asyncio.Lock())


@pytest.mark.asyncio(loop_scope="session")
async def test_a_cancelled_caller_keeps_the_lock_until_its_thread_returns() -> None:
    engine = shared()
    release, entered = threading.Event(), threading.Event()
    inside: list[str] = []

    def slow() -> None:
        inside.append("slow")
        entered.set()
        release.wait(5)
        inside.append("slow done")

    def second() -> str:
        inside.append("second")
        return "ok"

    first = asyncio.create_task(engine.in_clickhouse(slow))
    assert await asyncio.to_thread(entered.wait, 5)
    first.cancel()
    following = asyncio.create_task(engine.in_clickhouse(second))
    await asyncio.sleep(0.1)
    # The first thread is still inside the engine: the second call must not have started.
    assert inside == ["slow"]
    assert not first.done()
    release.set()
    with pytest.raises(asyncio.CancelledError):
        await first
    assert await asyncio.wait_for(following, 5) == "ok"
    assert inside == ["slow", "slow done", "second"]


@pytest.mark.asyncio(loop_scope="session")
async def test_results_and_errors_pass_through() -> None:
    engine = shared()
    assert await engine.in_clickhouse(lambda a, b: a + b, 2, b=3) == 5
    with pytest.raises(ZeroDivisionError):
        await engine.in_clickhouse(lambda: 1 / 0)
