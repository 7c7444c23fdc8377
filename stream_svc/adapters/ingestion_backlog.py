"""Backpressure on playback-event ingestion: how far the `video_events` consumers are behind.

`RecordPlaybackEvents` refuses a request (RESOURCE_EXHAUSTED with a `retry-after` trailer,
HTTP 429 through Envoy) while the engagement consumer group's backlog is over the bound
(`STREAM_EVENTS_MAX_BACKLOG` events), so a client posting as fast as it is answered cannot
push the ingestion lag beyond a few seconds.

The backlog is one `XINFO GROUPS` on the stream: the group's `pending` (read, not yet
acknowledged) and `lag` (not yet read) entries, times the average events per entry of the
batches this process published. The reading is reused for `ttl_s` (0.2 s) by every request
of the process, and one request at a time refreshes it, so the check costs Redis one call
per process per 0.2 s, not one per request.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from redis.exceptions import ResponseError

from reels_runtime.eventbus import EventBus
from stream_svc.metrics import EVENTS_BACKLOG, EVENTS_REFUSED

# What the consumers of one stream_svc drain at least (events/s; 12-19k measured on 2
# loaded cores), used to tell a refused client when the backlog should be back under the
# bound. 40 000 events at this rate is the ~4 s of lag the default bound allows.
DRAIN_EVENTS_PER_S = 10_000
MAX_RETRY_AFTER_S = 30
# The weight of each published batch in the moving average of events per entry.
_SMOOTHING = 0.05


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


@dataclass(frozen=True)
class Refusal:
    backlog_events: int
    bound: int
    retry_after_s: int

    @property
    def message(self) -> str:
        return (
            f"playback event ingestion is {self.backlog_events:,} events behind "
            f"(bound {self.bound:,}); retry after {self.retry_after_s} s"
        )


def retry_after_s(backlog: int, bound: int) -> int:
    """Seconds until the consumers should have drained the backlog back under the bound."""
    return max(1, min(MAX_RETRY_AFTER_S, math.ceil((backlog - bound) / DRAIN_EVENTS_PER_S)))


class IngestionBacklog:
    """The backlog gauge and the admission check of `RecordPlaybackEvents`."""

    def __init__(
        self,
        bus: EventBus,
        topic: str,
        group: str,
        max_backlog: int,
        *,
        ttl_s: float = 0.2,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._bus = bus
        self._key = bus.stream_key(topic)
        self._group = group
        self.max_backlog = max_backlog
        self._ttl = ttl_s
        self._clock = clock
        self._entries = 0
        self._read_at = -math.inf
        self._refreshing: asyncio.Future[None] | None = None
        # Events per entry: nothing published yet reads as one event per entry.
        self.events_per_entry = 1.0
        self._published = False

    def published(self, events: int) -> None:
        """Counts one `video_events` entry of `events` events published by this process."""
        if events <= 0:
            return
        if not self._published:
            self.events_per_entry, self._published = float(events), True
        else:
            self.events_per_entry += _SMOOTHING * (events - self.events_per_entry)

    async def backlog(self) -> int:
        """Events the group has not acknowledged yet (as of at most `ttl_s` ago)."""
        if self._clock() - self._read_at >= self._ttl:
            if self._refreshing is None:
                self._refreshing = asyncio.ensure_future(self._refresh())
                try:
                    await asyncio.shield(self._refreshing)
                finally:
                    self._refreshing = None
            else:
                await asyncio.shield(self._refreshing)
        events = round(self._entries * self.events_per_entry)
        EVENTS_BACKLOG.set(events)
        return events

    async def admit(self, events: int) -> Refusal | None:
        """None when a batch of `events` events may be recorded; the refusal otherwise."""
        if self.max_backlog <= 0:
            return None
        backlog = await self.backlog()
        if backlog <= self.max_backlog:
            return None
        EVENTS_REFUSED.labels("backlog").inc(events)
        return Refusal(backlog, self.max_backlog, retry_after_s(backlog, self.max_backlog))

    async def _refresh(self) -> None:
        try:
            groups = await self._bus.redis.xinfo_groups(self._key)
        except ResponseError:  # no stream yet: nothing is behind
            groups = []
        entries = 0
        for info in groups:
            if _text(info["name"]) != self._group:
                continue
            lag = info.get("lag")
            if lag is None:
                # Redis cannot tell after a deletion past the group's cursor: count what
                # follows it, but never more than the bound needs.
                limit = math.ceil(self.max_backlog / self.events_per_entry) + 1
                after = f"({_text(info['last-delivered-id'])}"
                lag = len(await self._bus.redis.xrange(self._key, min=after, count=limit))
            entries = int(info.get("pending") or 0) + int(lag)
        self._entries = entries
        self._read_at = self._clock()
