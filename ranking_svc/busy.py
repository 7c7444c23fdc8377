"""How loaded the process is, for work nobody waits for (next-page prefetches)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from contextlib import contextmanager


class BuildsInFlight:
    """Counts the pages being built for users right now. From `busy_at` of them on, the
    process is overloaded (requests queue), and speculative work waits its turn: its CPU
    would come out of the pages users are waiting for."""

    def __init__(self, busy_at: int) -> None:
        if busy_at < 1:
            raise ValueError(f"busy_at must be at least 1, got {busy_at}")
        self._busy_at = busy_at
        self._count = 0
        self._not_busy = asyncio.Event()
        self._not_busy.set()

    @property
    def count(self) -> int:
        return self._count

    @contextmanager
    def building(self) -> Iterator[None]:
        """Around the build of one user's page."""
        self._count += 1
        if self._count >= self._busy_at:
            self._not_busy.clear()
        try:
            yield
        finally:
            self._count -= 1
            if self._count < self._busy_at:
                self._not_busy.set()

    async def not_busy_before(self, deadline: float) -> bool:
        """Whether the process is (or becomes) not busy before `deadline`, a
        time.monotonic() instant; False at once when the deadline has passed."""
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        if self._not_busy.is_set():
            return True
        try:
            await asyncio.wait_for(self._not_busy.wait(), remaining)
        except TimeoutError:
            return False
        return True
