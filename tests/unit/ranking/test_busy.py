"""The overload gate prefetches wait at: the count of pages being built for users."""

from __future__ import annotations

import asyncio
import time

import pytest

from ranking_svc.busy import BuildsInFlight


async def test_below_the_threshold_speculative_work_goes_at_once() -> None:
    builds = BuildsInFlight(busy_at=2)
    with builds.building():
        assert builds.count == 1
        started = time.monotonic()
        assert await builds.not_busy_before(time.monotonic() + 5)
        assert time.monotonic() - started < 0.1
    assert builds.count == 0


async def test_when_busy_it_waits_for_a_build_to_finish() -> None:
    builds = BuildsInFlight(busy_at=2)
    release = asyncio.Event()

    async def build() -> None:
        with builds.building():
            await release.wait()

    users = [asyncio.create_task(build()) for _ in range(2)]
    await asyncio.sleep(0)
    assert builds.count == 2
    waiting = asyncio.create_task(builds.not_busy_before(time.monotonic() + 5))
    await asyncio.sleep(0.05)
    assert not waiting.done()  # both builds still running: busy
    release.set()
    assert await asyncio.wait_for(waiting, 1)
    await asyncio.gather(*users)
    assert builds.count == 0


async def test_still_busy_at_the_deadline_is_a_no() -> None:
    builds = BuildsInFlight(busy_at=1)
    with builds.building():
        started = time.monotonic()
        assert not await builds.not_busy_before(started + 0.1)
        assert 0.08 <= time.monotonic() - started < 1.0


async def test_a_passed_deadline_is_a_no_even_when_idle() -> None:
    builds = BuildsInFlight(busy_at=4)
    assert not await builds.not_busy_before(time.monotonic() - 0.01)


async def test_a_failed_build_is_counted_out() -> None:
    builds = BuildsInFlight(busy_at=1)
    with pytest.raises(RuntimeError), builds.building():
        raise RuntimeError("the page could not be built")
    assert builds.count == 0
    assert await builds.not_busy_before(time.monotonic() + 1)


def test_the_threshold_must_be_positive() -> None:
    with pytest.raises(ValueError, match="busy_at"):
        BuildsInFlight(busy_at=0)
