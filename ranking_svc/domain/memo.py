"""A process-local memo whose entries expire at their own time (no I/O, no clock of its own:
callers pass `now`, so domain code keeps its injected clock)."""

from __future__ import annotations

from collections.abc import Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class ExpiringMemo(Generic[K, V]):
    """Values remembered until their expiry; once it holds more than `max_entries`, the next
    `put` first drops the expired ones (a bound on garbage, not on live entries)."""

    def __init__(self, max_entries: int) -> None:
        self._max_entries = max_entries
        self._entries: dict[K, tuple[float, V]] = {}

    def get(self, key: K, now: float) -> V | None:
        """The value, unless it is missing or expired at `now`."""
        known = self._entries.get(key)
        return known[1] if known is not None and known[0] > now else None

    def put(self, key: K, value: V, expires_at: float, now: float) -> None:
        if len(self._entries) > self._max_entries:
            self._entries = {k: e for k, e in self._entries.items() if e[0] > now}
        self._entries[key] = (expires_at, value)

    def forget(self, key: K) -> None:
        self._entries.pop(key, None)

    def __len__(self) -> int:
        return len(self._entries)
