"""A consumer-group member on a Redis stream that hands its handler whole batches.

`reels_runtime.eventbus.Consumer` handles one event at a time; writing ClickHouse one row
at a time is far too slow, so the playback events are read, handled and acknowledged in
batches here, on the same stream layout, envelope, dead-letter stream and metrics.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass

from google.protobuf.message import DecodeError, Message
from redis.exceptions import ResponseError

from reels_runtime.eventbus import EVENTS_HANDLED, EVENTS_LAG, EVENTS_PENDING, EventBus

logger = logging.getLogger(__name__)

_ERRORS_TTL_S = 7 * 24 * 3600


@dataclass(frozen=True)
class Delivered:
    """One delivered entry of a batch."""

    stream_id: str
    event_id: str
    deliveries: int
    message: Message


# handler(batch, retry): `retry` is True when some of the batch may have been handled
# (partly) before — a redelivery — so the handler must check what already landed.
BatchHandler = Callable[[Sequence[Delivered], bool], Awaitable[None]]


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class BatchConsumer:
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
        message_type: type[Message],
        *,
        batch: int = 1000,
        block_ms: int = 1000,
        claim_idle_ms: int = 5000,
        max_deliveries: int = 5,
        start_id: str = "0",
    ) -> None:
        if batch < 1 or claim_idle_ms < 1 or max_deliveries < 1:
            raise ValueError("batch, claim_idle_ms and max_deliveries must be positive")
        self.bus = bus
        self.topic = topic
        self.group = group
        self.name = name
        self._handler = handler
        self._type = message_type
        self._batch = batch
        self._block_ms = block_ms
        self._claim_idle_ms = claim_idle_ms
        self._max_deliveries = max_deliveries
        self._start_id = start_id
        self._key = bus.stream_key(topic)
        self._errors_key = f"{self._key}:errors:{group}"
        self._stopping = asyncio.Event()
        self._group_ready = False
        self._next_claim = 0.0
        bus.register(topic, message_type)

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        while not self._stopping.is_set():
            try:
                await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("batch consumer loop failed", extra=self._log_fields())
                self._group_ready = False
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), timeout=1.0)

    async def run_once(self) -> int:
        """One claim pass when due and one read; returns how many events were handled."""
        if not self._group_ready:
            await self.bus.ensure_group(self.topic, self.group, self._start_id)
            self._group_ready = True
        handled = 0
        if time.monotonic() >= self._next_claim:
            handled += await self.claim_idle()
            self._next_claim = time.monotonic() + self._claim_idle_ms / 2000
        response = await self.bus.redis.xreadgroup(
            self.group, self.name, {self._key: ">"}, count=self._batch, block=self._block_ms
        )
        for _stream, entries in response or ():
            handled += await self._process(
                [(_text(sid), fields) for sid, fields in entries], retry=False
            )
        return handled

    async def claim_idle(self) -> int:
        """Takes over entries idle longer than claim_idle_ms (a crashed member's batch)."""
        handled = 0
        cursor = "0-0"
        while not self._stopping.is_set():
            result = await self.bus.redis.xautoclaim(
                self._key,
                self.group,
                self.name,
                min_idle_time=self._claim_idle_ms,
                start_id=cursor,
                count=self._batch,
            )
            cursor, entries = _text(result[0]), result[1]
            live = []
            for stream_id, fields in entries:
                if fields is None:  # trimmed away while pending
                    await self.bus.redis.xack(self._key, self.group, stream_id)
                    continue
                live.append((_text(stream_id), fields))
            if live:
                handled += await self._process(live, retry=True)
            if cursor == "0-0" or not entries:
                break
        EVENTS_PENDING.labels(self.topic, self.group).set(
            await self.bus.pending_count(self.topic, self.group)
        )
        EVENTS_LAG.labels(self.topic, self.group).set(await self.bus.lag(self.topic, self.group))
        return handled

    async def _deliveries(self, stream_ids: Sequence[str]) -> dict[str, int]:
        async with self.bus.redis.pipeline(transaction=False) as pipe:
            for stream_id in stream_ids:
                pipe.xpending_range(self._key, self.group, min=stream_id, max=stream_id, count=1)
            replies = await pipe.execute()
        return {
            _text(p["message_id"]): int(p["times_delivered"]) for reply in replies for p in reply
        }

    async def _process(
        self, entries: Sequence[tuple[str, Mapping[bytes, bytes]]], *, retry: bool
    ) -> int:
        counts = await self._deliveries([sid for sid, _ in entries]) if retry else {}
        batch: list[Delivered] = []
        for stream_id, fields in entries:
            deliveries = counts.get(stream_id, 1)
            if deliveries > self._max_deliveries:
                error = await self.bus.redis.hget(self._errors_key, stream_id)
                reason = _text(error) if error else "consumer stopped while handling it"
                await self._dead_letter(stream_id, fields, reason, deliveries)
                continue
            try:
                batch.append(self._decode(stream_id, fields, deliveries))
            except ValueError as poison:
                await self._dead_letter(stream_id, fields, str(poison), deliveries)
        if not batch:
            return 0
        if await self._attempt(batch, retry=retry):
            return len(batch)
        if not retry or len(batch) == 1:
            return 0  # pending; claimed again once idle
        # Failed again after a redelivery: one at a time, so the good ones go through.
        handled = 0
        for delivered in batch:
            if self._stopping.is_set():
                break
            if await self._attempt([delivered], retry=True):
                handled += 1
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
        EVENTS_HANDLED.labels(self.topic, self.group, "acked").inc(len(ids))
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
        async with self.bus.redis.pipeline(transaction=False) as pipe:
            pipe.hset(self._errors_key, mapping={d.stream_id: error for d in batch})
            pipe.expire(self._errors_key, _ERRORS_TTL_S)
            await pipe.execute()
        EVENTS_HANDLED.labels(self.topic, self.group, "failed").inc(len(batch))

    def _decode(self, stream_id: str, fields: Mapping[bytes, bytes], deliveries: int) -> Delivered:
        event_type = _text(fields.get(b"event_type", b""))
        payload = fields.get(b"payload")
        if not event_type or payload is None:
            raise ValueError("entry lacks event_type or payload")
        if event_type != self._type.DESCRIPTOR.full_name:
            raise ValueError(
                f"topic {self.topic} carries {self._type.DESCRIPTOR.full_name}, got {event_type}"
            )
        try:
            message = self._type.FromString(payload)
        except DecodeError as error:
            raise ValueError(f"payload does not decode as {event_type}: {error}") from None
        event_id = _text(fields.get(b"event_id", b"")) or stream_id
        return Delivered(stream_id, event_id, deliveries, message)

    async def _dead_letter(
        self, stream_id: str, fields: Mapping[bytes, bytes], error: str, deliveries: int
    ) -> None:
        record: dict[str, str | bytes] = {
            _text(key): value for key, value in fields.items() if _text(key) != "traceparent"
        }
        record.update(
            {
                "topic": self.topic,
                "group": self.group,
                "consumer": self.name,
                "stream_id": stream_id,
                "error": error,
                "deliveries": str(deliveries),
                "dead_lettered_at": dt.datetime.now(dt.UTC).isoformat(),
            }
        )
        async with self.bus.redis.pipeline(transaction=True) as pipe:
            pipe.xadd(self.bus.dead_letter_stream, record, maxlen=self.bus.maxlen, approximate=True)
            pipe.xack(self._key, self.group, stream_id)
            pipe.hdel(self._errors_key, stream_id)
            await pipe.execute()
        EVENTS_HANDLED.labels(self.topic, self.group, "dead_lettered").inc()
        logger.error(
            "event dead-lettered",
            extra={**self._log_fields(), "stream_id": stream_id, "error": error},
        )

    def _log_fields(self) -> dict[str, str]:
        return {"topic": self.topic, "group": self.group, "consumer": self.name}


async def ensure_groups(bus: EventBus, topics: Sequence[tuple[str, str]]) -> None:
    """Creates (topic, group) pairs up front, so nothing published meanwhile is missed."""
    for topic, group in topics:
        try:
            await bus.ensure_group(topic, group)
        except ResponseError:
            logger.exception("cannot create consumer group", extra={"topic": topic})
