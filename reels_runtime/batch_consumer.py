"""A consumer-group member on a Redis stream that hands its handler whole batches.

`reels_runtime.eventbus.Consumer` handles one event at a time; writing ClickHouse one row
at a time (stream_svc) or scheduling one refresh per watch (embed_svc) is far too slow, so
`video_events` is read, handled and acknowledged in batches of entries here, on the same
stream layout, envelope, dead-letter stream and metrics. An entry may itself carry many
events (a `PlaybackEventBatch`): a consumer accepts several message types on a topic and
decodes each entry by the `event_type` its envelope names.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from google.protobuf.message import DecodeError, Message
from redis.exceptions import ResponseError

from reels_runtime.eventbus import (
    EVENTS_HANDLED,
    EventBus,
    GroupMember,
    PoisonEntry,
    decode_entry,
)

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class Delivered:
    """One delivered entry of a batch."""

    stream_id: str
    event_id: str
    deliveries: int
    message: Message
    # How many events the entry carries (a batch message carries many, others one).
    size: int = 1


# handler(batch, retry): `retry` is True when some of the batch may have been handled
# (partly) before — a redelivery — so the handler must check what already landed.
BatchHandler = Callable[[Sequence[Delivered], bool], Awaitable[None]]
# Called with the topic and each acknowledged batch (stream_svc observes its ingestion lag).
AckedHook = Callable[[str, Sequence[Delivered]], None]
# The number of events a message carries.
SizeOf = Callable[[Message], int]


def _one(_message: Message) -> int:
    return 1


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _raw_reply(response: Any, **_options: Any) -> Any:
    return response


def _stream_entries(response: Any) -> list[list[Any]]:
    """The entry lists of an unparsed XREADGROUP reply (RESP2: [[key, entries]], RESP3:
    {key: entries}); each entry is [id, [field, value, field, value, ...]]."""
    if not response:
        return []
    if isinstance(response, dict):
        return [entries for entries in response.values() if entries]
    return [stream[1] for stream in response if stream[1]]


# An entry's fields: a mapping, or as XREADGROUP sent them, [field, value, field, ...].
Fields = Mapping[bytes, bytes] | list[bytes]


def _mapping(fields: Fields | None) -> Mapping[bytes, bytes]:
    if fields is None:
        return {}
    if isinstance(fields, list):
        return dict(zip(fields[::2], fields[1::2], strict=False))
    return fields


def _field(fields: Fields | None, name: bytes) -> bytes | None:
    """One field's value, without building a mapping of a flat field list."""
    if fields is None:
        return None
    if not isinstance(fields, list):
        return fields.get(name)
    start = 0
    while True:
        try:
            at = fields.index(name, start)
        except ValueError:
            return None
        if at % 2 == 0:  # a field name, not a value that happens to spell it
            return fields[at + 1] if at + 1 < len(fields) else None
        start = at + 1


class BatchConsumer(GroupMember):
    """Reads up to `batch` entries, hands them to the handler at once, acks them at once.

    A failed batch stays pending; once idle for `claim_idle_ms` it is claimed again (by
    this or any other member) and retried as a batch, and if it fails again, one event at
    a time, so one poisonous event cannot hold the others back. An event delivered more
    than `max_deliveries` times goes to the dead-letter stream.
    """

    def __init__(
        self,
        bus: EventBus,
        topic: str,
        group: str,
        name: str,
        handler: BatchHandler,
        message_type: type[Message] | Sequence[type[Message]],
        *,
        batch: int = 1000,
        block_ms: int = 1000,
        claim_idle_ms: int = 5000,
        max_deliveries: int = 5,
        start_id: str = "0",
        size_of: SizeOf = _one,
        on_acked: AckedHook | None = None,
    ) -> None:
        """`message_type`: the type the topic carries, or several (the first is the one
        registered for publishing; entries naming any of them are accepted)."""
        if batch < 1 or claim_idle_ms < 1 or max_deliveries < 1:
            raise ValueError("batch, claim_idle_ms and max_deliveries must be positive")
        super().__init__(
            bus, topic, group, name, batch=batch, claim_idle_ms=claim_idle_ms, start_id=start_id
        )
        types = [message_type] if isinstance(message_type, type) else list(message_type)
        if not types:
            raise ValueError("a consumer needs a message type")
        self._handler = handler
        self._type = types[0]
        self._types = {t.DESCRIPTOR.full_name.encode(): t for t in types}
        self._block_ms = block_ms
        self._max_deliveries = max_deliveries
        self._size_of = size_of
        self._on_acked = on_acked
        # Events per entry lately: `batch` counts events, and an entry may carry many.
        self._entry_size = 1.0
        bus.register(topic, types[0])
        # XREADGROUP through a client of the same pool that leaves the reply as Redis sent
        # it: redis-py's own parsing builds a dict per entry in Python, which cost more
        # than everything else this consumer does with an event.
        self._reader = type(bus.redis)(connection_pool=bus.redis.connection_pool)
        self._reader.set_response_callback("XREADGROUP", _raw_reply)

    async def run_once(self) -> int:
        """One claim pass when due and one read; returns how many events were handled."""
        await self._ensure_group()
        handled = 0
        if time.monotonic() >= self._next_claim:
            handled += await self.claim_idle()
            self._next_claim = time.monotonic() + self._claim_idle_ms / 2000
        response = await self._reader.xreadgroup(
            self.group, self.name, {self._key: ">"}, count=self._page_size(), block=self._block_ms
        )
        for entries in _stream_entries(response):
            handled += await self._process(
                [(_text(sid), flat) for sid, flat in entries], retry=False
            )
        return handled

    async def claim_idle(self) -> int:
        """Takes over entries idle longer than claim_idle_ms (a crashed member's batch)."""
        handled = 0
        async for page in self._claimed_pages():
            if page:
                handled += await self._process(page, retry=True)
        await self._update_gauges()
        return handled

    def _page_size(self) -> int:
        # About `batch` events: as many entries as recent entries' sizes make that.
        return max(1, min(self._batch, int(self._batch / self._entry_size)))

    def _observe_sizes(self, batch: Sequence[Delivered]) -> None:
        size = sum(d.size for d in batch) / len(batch)
        self._entry_size = max(1.0, 0.5 * self._entry_size + 0.5 * size)

    async def _deliveries(self, stream_ids: Sequence[str]) -> dict[str, int]:
        async with self.bus.redis.pipeline(transaction=False) as pipe:
            for stream_id in stream_ids:
                pipe.xpending_range(self._key, self.group, min=stream_id, max=stream_id, count=1)
            replies = await pipe.execute()
        return {
            _text(p["message_id"]): int(p["times_delivered"]) for reply in replies for p in reply
        }

    async def _process(self, entries: Sequence[tuple[str, Fields]], *, retry: bool) -> int:
        counts = await self._deliveries([sid for sid, _ in entries]) if retry else {}
        batch: list[Delivered] = []
        for stream_id, fields in entries:
            deliveries = counts.get(stream_id, 1)
            if deliveries > self._max_deliveries:
                error = await self.bus.redis.hget(self._errors_key, stream_id)
                reason = _text(error) if error else "consumer stopped while handling it"
                await self._dead_letter(stream_id, _mapping(fields), reason, deliveries)
                continue
            try:
                batch.append(self._decode(stream_id, fields, deliveries))
            except PoisonEntry as poison:
                await self._dead_letter(stream_id, _mapping(fields), str(poison), deliveries)
        if not batch:
            return 0
        self._observe_sizes(batch)
        if await self._attempt(batch, retry=retry):
            return sum(d.size for d in batch)
        if not retry or len(batch) == 1:
            return 0  # pending; claimed again once idle
        # Failed again after a redelivery: one at a time, so the good ones go through.
        handled = 0
        for delivered in batch:
            if self._stopping.is_set():
                break
            if await self._attempt([delivered], retry=True):
                handled += delivered.size
        return handled

    async def _attempt(self, batch: Sequence[Delivered], *, retry: bool) -> bool:
        done = asyncio.Event()
        heartbeat = asyncio.create_task(self._heartbeat([d.stream_id for d in batch], done))
        try:
            await self._handler(batch, retry)
        except asyncio.CancelledError:
            raise  # stopping: the batch stays pending and will be claimed
        except Exception as exc:
            await self._failed(batch, exc)
            return False
        finally:
            # Stopped, not cancelled: cancelling a Redis command in flight can leave its
            # connection hanging, and with it this consumer.
            done.set()
            with contextlib.suppress(Exception):
                await heartbeat
        ids = [d.stream_id for d in batch]
        async with self.bus.redis.pipeline(transaction=True) as pipe:
            pipe.xack(self._key, self.group, *ids)
            pipe.hdel(self._errors_key, *ids)
            await pipe.execute()
        EVENTS_HANDLED.labels(self.topic, self.group, "acked").inc(sum(d.size for d in batch))
        if self._on_acked is not None:
            self._on_acked(self.topic, batch)
        return True

    async def _heartbeat(self, stream_ids: list[str], done: asyncio.Event) -> None:
        # A slow batch resets its entries' idle time so nobody claims work in progress.
        interval = self._claim_idle_ms / 3000
        while not done.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(done.wait(), timeout=interval)
            if done.is_set():
                return
            await self.bus.redis.xclaim(
                self._key, self.group, self.name, 0, stream_ids, justid=True
            )

    async def _failed(self, batch: Sequence[Delivered], exc: Exception) -> None:
        error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        logger.warning(
            "event batch handler failed",
            exc_info=exc,
            extra={**self._log_fields(), "events": len(batch)},
        )
        await self._record_errors({d.stream_id: error for d in batch})
        EVENTS_HANDLED.labels(self.topic, self.group, "failed").inc(sum(d.size for d in batch))

    def _decode(self, stream_id: str, fields: Fields, deliveries: int) -> Delivered:
        payload = _field(fields, b"payload")
        message_type = self._types.get(_field(fields, b"event_type") or b"")
        message: Message | None = None
        if message_type is not None and payload is not None:
            try:
                message = message_type.FromString(payload)
            except DecodeError:
                message = None  # decode_entry says why
        if message is None:
            _, message = decode_entry(self.topic, _mapping(fields), message_type or self._type)
        event_id = _text(_field(fields, b"event_id") or b"") or stream_id
        return Delivered(stream_id, event_id, deliveries, message, self._size_of(message))


async def ensure_groups(bus: EventBus, topics: Sequence[tuple[str, str]]) -> None:
    """Creates (topic, group) pairs up front, so nothing published meanwhile is missed."""
    for topic, group in topics:
        try:
            await bus.ensure_group(topic, group)
        except ResponseError:
            logger.exception("cannot create consumer group", extra={"topic": topic})
