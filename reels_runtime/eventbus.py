"""Event bus on Redis Streams: protobuf events, consumer groups, takeover and dead letters."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from google.protobuf import descriptor_pool, message_factory
from google.protobuf.message import DecodeError, Message
from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind
from prometheus_client import Counter, Gauge
from redis.asyncio import Redis
from redis.exceptions import RedisError, ResponseError

from reels_runtime.context import current_request_id, deadline_scope, request_scope

logger = logging.getLogger(__name__)
_tracer = trace.get_tracer("reels_runtime.eventbus")

DEFAULT_STREAM_PREFIX = "reels:events:"
DEAD_LETTER_TOPIC = "dead-letter"
# Streams are trimmed approximately (whole macro-nodes, cheap); the bound is generous
# because trimming a message nobody has read yet loses it.
DEFAULT_MAXLEN = 1_000_000
_ERRORS_TTL_S = 7 * 24 * 3600

EVENTS_PUBLISHED = Counter("reels_eventbus_published", "Events appended to a stream.", ["topic"])
EVENTS_HANDLED = Counter(
    "reels_eventbus_handled",
    "Events handled by a consumer group, by outcome (acked, failed, dead_lettered).",
    ["topic", "group", "outcome"],
)
EVENTS_PENDING = Gauge(
    "reels_eventbus_pending", "Delivered but not yet acknowledged events.", ["topic", "group"]
)
EVENTS_LAG = Gauge(
    "reels_eventbus_lag", "Events not yet delivered to the consumer group.", ["topic", "group"]
)


@dataclass(frozen=True)
class Event:
    """One delivered event: the decoded message and its envelope."""

    topic: str
    stream_id: str
    event_id: str
    event_type: str
    published_at: dt.datetime | None
    # 1 on first delivery; handlers that are not idempotent by nature can use event_id.
    deliveries: int
    message: Message


Handler = Callable[[Event], Awaitable[None]]


class PoisonEntry(ValueError):
    """An entry no retry can fix (undecodable, unknown type): straight to dead letters."""


def decode_entry(
    topic: str, fields: Mapping[bytes, bytes], message_type: type[Message] | None
) -> tuple[str, Message]:
    """The event type and message of one stream entry, as `message_type` (or, when None,
    the type the entry names); raises PoisonEntry when the entry cannot be one."""
    event_type = _text(fields.get(b"event_type", b""))
    payload = fields.get(b"payload")
    if not event_type or payload is None:
        raise PoisonEntry("entry lacks event_type or payload")
    message_type = message_type or _lookup_type(event_type)
    if message_type.DESCRIPTOR.full_name != event_type:
        raise PoisonEntry(
            f"topic {topic} carries {message_type.DESCRIPTOR.full_name}, got {event_type}"
        )
    try:
        message = message_type.FromString(payload)
    except DecodeError as error:
        raise PoisonEntry(f"payload does not decode as {event_type}: {error}") from None
    return event_type, message


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def trace_headers() -> dict[str, str]:
    """The caller's W3C trace context and request id: the fields every bus entry carries so
    that its consumer's span joins the caller's trace (an outbox row keeps them too)."""
    headers: dict[str, str] = {}
    propagate.inject(headers)
    request_id = current_request_id()
    if request_id:
        headers["request_id"] = request_id
    return headers


class EventBus:
    """Publishes protobuf messages to `<prefix><topic>` streams and builds consumers.

    `redis` must return bytes (decode_responses=False): payloads are binary.
    """

    def __init__(
        self,
        redis: Redis,
        stream_prefix: str = DEFAULT_STREAM_PREFIX,
        *,
        maxlen: int | None = DEFAULT_MAXLEN,
    ) -> None:
        self.redis = redis
        self.stream_prefix = stream_prefix
        self.maxlen = maxlen
        self._types: dict[str, type[Message]] = {}

    @property
    def dead_letter_stream(self) -> str:
        return self.stream_key(DEAD_LETTER_TOPIC)

    def stream_key(self, topic: str) -> str:
        return f"{self.stream_prefix}{topic}"

    def register(self, topic: str, message_type: type[Message]) -> None:
        """Declares the message type a topic carries; publish and consume enforce it."""
        existing = self._types.get(topic)
        if existing is not None and existing is not message_type:
            raise ValueError(f"topic {topic} already carries {existing.DESCRIPTOR.full_name}")
        self._types[topic] = message_type

    def message_type_for(self, topic: str) -> type[Message] | None:
        return self._types.get(topic)

    async def publish(self, topic: str, message: Message, *, event_id: str | None = None) -> str:
        """Appends the event; returns its stream id. `event_id` defaults to a new UUID."""
        expected = self._types.get(topic)
        if expected is not None and not isinstance(message, expected):
            raise TypeError(
                f"topic {topic} carries {expected.DESCRIPTOR.full_name}, "
                f"not {message.DESCRIPTOR.full_name}"
            )
        fields: dict[str, str | bytes] = {
            "event_type": message.DESCRIPTOR.full_name,
            "payload": message.SerializeToString(),
            "event_id": event_id or str(uuid.uuid4()),
            "published_at": dt.datetime.now(dt.UTC).isoformat(),
        }
        fields.update(trace_headers())
        stream_id = await self.redis.xadd(
            self.stream_key(topic), fields, maxlen=self.maxlen, approximate=True
        )
        EVENTS_PUBLISHED.labels(topic).inc()
        return _text(stream_id)

    async def ensure_group(self, topic: str, group: str, start_id: str = "0") -> None:
        """Creates the stream and group if missing; `start_id="0"` includes the backlog."""
        try:
            await self.redis.xgroup_create(
                self.stream_key(topic), group, id=start_id, mkstream=True
            )
        except ResponseError as error:
            if "BUSYGROUP" not in str(error):
                raise

    async def pending_count(self, topic: str, group: str) -> int:
        """Events delivered to the group but not acknowledged."""
        try:
            summary = await self.redis.xpending(self.stream_key(topic), group)
        except ResponseError:
            return 0  # no such stream or group yet
        return int(summary["pending"])

    async def lag(self, topic: str, group: str) -> int:
        """Events in the stream not yet delivered to the group."""
        key = self.stream_key(topic)
        try:
            groups = await self.redis.xinfo_groups(key)
        except ResponseError:
            return 0
        for info in groups:
            if _text(info["name"]) != group:
                continue
            if info.get("lag") is not None:
                return int(info["lag"])
            # Redis cannot tell after some deletions; count what follows the cursor.
            entries = await self.redis.xrange(key, min=f"({_text(info['last-delivered-id'])}")
            return len(entries)
        return 0

    async def dead_letters(self, count: int = 100) -> list[dict[str, str | bytes]]:
        """The oldest dead-lettered entries (payload stays bytes), for inspection and replay."""
        entries = await self.redis.xrange(self.dead_letter_stream, count=count)
        result = []
        for stream_id, fields in entries:
            entry: dict[str, str | bytes] = {"dead_letter_id": _text(stream_id)}
            for key, value in fields.items():
                name = _text(key)
                entry[name] = value if name == "payload" else _text(value)
            result.append(entry)
        return result

    def consumer(
        self,
        topic: str,
        group: str,
        consumer: str,
        handler: Handler,
        *,
        message_type: type[Message] | None = None,
        batch: int = 16,
        block_ms: int = 1000,
        claim_idle_ms: int = 60_000,
        max_deliveries: int = 5,
        handler_timeout_s: float | None = 60.0,
        start_id: str = "0",
    ) -> Consumer:
        if message_type is not None:
            self.register(topic, message_type)
        return Consumer(
            self,
            topic,
            group,
            consumer,
            handler,
            batch=batch,
            block_ms=block_ms,
            claim_idle_ms=claim_idle_ms,
            max_deliveries=max_deliveries,
            handler_timeout_s=handler_timeout_s,
            start_id=start_id,
        )

    async def consume(
        self, topic: str, group: str, consumer: str, handler: Handler, **options: Any
    ) -> None:
        """Runs a consumer until it is cancelled (see `consumer` for the options)."""
        await self.consumer(topic, group, consumer, handler, **options).run()


class GroupMember:
    """What every member of a consumer group shares, whatever it reads at a time: its
    stream, the hash of its events' last errors, stopping, a loop that outlives Redis
    failures, and dead-lettering. Subclasses provide `run_once()`."""

    def __init__(
        self,
        bus: EventBus,
        topic: str,
        group: str,
        name: str,
        *,
        batch: int,
        claim_idle_ms: int,
        start_id: str,
    ) -> None:
        self.bus = bus
        self.topic = topic
        self.group = group
        self.name = name
        self._batch = batch
        self._claim_idle_ms = claim_idle_ms
        self._start_id = start_id
        self._key = bus.stream_key(topic)
        # Last handler error per pending entry, so the dead-letter record can say why
        # even when another consumer gives up on it.
        self._errors_key = f"{self._key}:errors:{group}"
        self._stopping = asyncio.Event()
        self._next_claim = 0.0
        self._group_ready = False

    def stop(self) -> None:
        """Finish the work in hand, then return from run() (within the read's block)."""
        self._stopping.set()

    async def run_once(self) -> int:
        raise NotImplementedError

    def _page_size(self) -> int:
        """How many entries to read or claim at a time."""
        return self._batch

    async def run(self) -> None:
        while not self._stopping.is_set():
            try:
                await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                # Redis restarting or failing over: back off, keep the consumer alive, and
                # recreate the group in case the restarted Redis lost it.
                logger.exception("event consumer loop failed", extra=self._log_fields())
                self._group_ready = False
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), timeout=1.0)

    async def _ensure_group(self) -> None:
        if not self._group_ready:
            await self.bus.ensure_group(self.topic, self.group, self._start_id)
            self._group_ready = True

    async def _claimed_pages(self) -> AsyncIterator[list[tuple[str, Mapping[bytes, bytes]]]]:
        """Pages of entries idle longer than claim_idle_ms, from any member, now this
        one's (XAUTOCLAIM): a crashed member's work. Entries trimmed away while pending are
        acknowledged and left out. Ends after the last page or once stopping."""
        cursor = "0-0"
        while not self._stopping.is_set():
            result = await self.bus.redis.xautoclaim(
                self._key,
                self.group,
                self.name,
                min_idle_time=self._claim_idle_ms,
                start_id=cursor,
                count=self._page_size(),
            )
            cursor, entries = _text(result[0]), result[1]
            live = []
            for stream_id, fields in entries:
                if fields is None:  # trimmed away while pending: nothing left to do
                    await self.bus.redis.xack(self._key, self.group, stream_id)
                    continue
                live.append((_text(stream_id), fields))
            yield live
            if cursor == "0-0" or not entries:
                break

    async def _update_gauges(self) -> None:
        EVENTS_PENDING.labels(self.topic, self.group).set(
            await self.bus.pending_count(self.topic, self.group)
        )
        EVENTS_LAG.labels(self.topic, self.group).set(await self.bus.lag(self.topic, self.group))

    async def _record_errors(self, errors: Mapping[str, str]) -> None:
        async with self.bus.redis.pipeline(transaction=False) as pipe:
            pipe.hset(self._errors_key, mapping=dict(errors))
            # Entries go on ack; the expiry only sweeps those of events trimmed away.
            pipe.expire(self._errors_key, _ERRORS_TTL_S)
            await pipe.execute()

    async def _dead_letter(
        self, stream_id: str, fields: Mapping[bytes, bytes], error: str, deliveries: int
    ) -> None:
        await dead_letter(
            self.bus,
            DeadLetter(self.topic, self.group, self.name, stream_id, error, deliveries),
            fields,
            errors_key=self._errors_key,
        )

    def _log_fields(self) -> dict[str, str]:
        return {"topic": self.topic, "group": self.group, "consumer": self.name}


class Consumer(GroupMember):
    """One member of a consumer group: reads, handles, acks, takes over, dead-letters.

    A failed handler leaves its event pending; whichever consumer next finds it idle for
    `claim_idle_ms` retries it (XAUTOCLAIM), so the work of a crashed consumer is taken
    over the same way. An event is attempted at most `max_deliveries` times, then moved
    to the dead-letter stream with its last error and acknowledged.
    """

    def __init__(
        self,
        bus: EventBus,
        topic: str,
        group: str,
        name: str,
        handler: Handler,
        *,
        batch: int,
        block_ms: int,
        claim_idle_ms: int,
        max_deliveries: int,
        handler_timeout_s: float | None,
        start_id: str,
    ) -> None:
        if max_deliveries < 1 or batch < 1 or block_ms < 0 or claim_idle_ms < 1:
            raise ValueError("batch, max_deliveries and claim_idle_ms must be positive")
        super().__init__(
            bus, topic, group, name, batch=batch, claim_idle_ms=claim_idle_ms, start_id=start_id
        )
        self._handler = handler
        self._block_ms = block_ms
        self._max_deliveries = max_deliveries
        self._handler_timeout = handler_timeout_s

    async def run_once(self, *, claim: bool | None = None, block_ms: int | None = None) -> int:
        """One claim pass (when due, or when `claim` says so) and one read; returns the
        number of events handled."""
        await self._ensure_group()
        handled = 0
        if claim or (claim is None and time.monotonic() >= self._next_claim):
            handled += await self.claim_idle()
            # Check twice per idle period, so takeover happens within 1.5x claim_idle_ms.
            self._next_claim = time.monotonic() + self._claim_idle_ms / 2000
        response = await self.bus.redis.xreadgroup(
            self.group,
            self.name,
            {self._key: ">"},
            count=self._batch,
            block=self._block_ms if block_ms is None else block_ms,
        )
        for _stream, entries in response or ():
            for stream_id, fields in entries:
                if self._stopping.is_set():
                    return handled  # the rest stays pending for a later claim
                await self._process(_text(stream_id), fields, deliveries=1)
                handled += 1
        return handled

    async def claim_idle(self) -> int:
        """Takes over events idle longer than claim_idle_ms, from any consumer, and handles
        them."""
        handled = 0
        async for page in self._claimed_pages():
            for stream_id, fields in page:
                await self._process(stream_id, fields, deliveries=await self._deliveries(stream_id))
                handled += 1
        await self._update_gauges()
        return handled

    async def _deliveries(self, stream_id: str) -> int:
        pending = await self.bus.redis.xpending_range(
            self._key, self.group, min=stream_id, max=stream_id, count=1
        )
        return int(pending[0]["times_delivered"]) if pending else 1

    async def _process(
        self, stream_id: str, fields: Mapping[bytes, bytes], *, deliveries: int
    ) -> None:
        if deliveries > self._max_deliveries:
            # Delivered again after a crash mid-handling: the handler may be what crashes.
            error = await self.bus.redis.hget(self._errors_key, stream_id)
            reason = _text(error) if error else "consumer stopped while handling it"
            await self._dead_letter(stream_id, fields, reason, deliveries)
            return
        try:
            event = self._decode(stream_id, fields, deliveries)
        except PoisonEntry as poison:
            await self._dead_letter(stream_id, fields, str(poison), deliveries)
            return
        carrier = {_text(k): _text(v) for k, v in fields.items() if _text(k) == "traceparent"}
        request_id = _text(fields.get(b"request_id", b"")) or event.event_id
        handled = asyncio.Event()
        heartbeat = asyncio.create_task(self._heartbeat(stream_id, handled))
        try:
            with (
                request_scope(request_id),
                _tracer.start_as_current_span(
                    f"{self.topic} process",
                    context=propagate.extract(carrier),
                    kind=SpanKind.CONSUMER,
                    attributes={
                        "messaging.system": "redis",
                        "messaging.destination.name": self._key,
                        "messaging.message.id": event.event_id,
                        "messaging.consumer.group.name": self.group,
                    },
                ),
                # Outgoing RPCs inherit the handler's time limit as their deadline.
                deadline_scope(self._handler_timeout)
                if self._handler_timeout
                else contextlib.nullcontext(),
            ):
                async with asyncio.timeout(self._handler_timeout):
                    await self._handler(event)
        except asyncio.CancelledError:
            raise  # stopping: the event stays pending and will be claimed
        except Exception as exc:
            await self._failed(stream_id, fields, exc, deliveries)
            return
        finally:
            await self._stop_heartbeat(heartbeat, handled)
        async with self.bus.redis.pipeline(transaction=True) as pipe:
            pipe.xack(self._key, self.group, stream_id)
            pipe.hdel(self._errors_key, stream_id)
            await pipe.execute()
        EVENTS_HANDLED.labels(self.topic, self.group, "acked").inc()

    @property
    def _beat_interval(self) -> float:
        return self._claim_idle_ms / 3000

    async def _heartbeat(self, stream_id: str, handled: asyncio.Event) -> None:
        # A long handler (a transcode) resets its event's idle time, so nobody claims
        # work that is still in progress. JUSTID leaves the delivery count alone.
        interval = self._beat_interval
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(handled.wait(), interval)
                return
            try:
                # Bounded like every other call: a hung server must not hold the beat.
                async with asyncio.timeout(interval):
                    await self.bus.redis.xclaim(
                        self._key, self.group, self.name, 0, [stream_id], justid=True
                    )
            except (RedisError, TimeoutError) as exc:
                # A missed beat only risks a claim by another consumer (handled at most
                # once more); it must not end the heartbeat or fail the handler.
                logger.warning("event heartbeat failed: %r", exc, extra=self._log_fields())

    async def _stop_heartbeat(self, heartbeat: asyncio.Task[None], handled: asyncio.Event) -> None:
        """Ends the heartbeat by its flag as well as by cancelling it, and waits a bounded
        time: once, in CI, an event's processing was still waiting on its heartbeat 300 s
        after the handler had returned (a cancellation lost inside the Redis client is
        the likely cause), and nothing may hold an event like that."""
        handled.set()
        heartbeat.cancel()
        await asyncio.wait({heartbeat}, timeout=2 * self._beat_interval + 1.0)

    async def _failed(
        self, stream_id: str, fields: Mapping[bytes, bytes], exc: Exception, deliveries: int
    ) -> None:
        error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        if isinstance(exc, TimeoutError):
            error = f"handler exceeded {self._handler_timeout} s"
        logger.warning(
            "event handler failed",
            exc_info=exc,
            extra={**self._log_fields(), "stream_id": stream_id, "deliveries": deliveries},
        )
        if deliveries >= self._max_deliveries:
            await self._dead_letter(stream_id, fields, error, deliveries)
            return
        await self._record_errors({stream_id: error})
        EVENTS_HANDLED.labels(self.topic, self.group, "failed").inc()

    def _decode(self, stream_id: str, fields: Mapping[bytes, bytes], deliveries: int) -> Event:
        event_type, message = decode_entry(
            self.topic, fields, self.bus.message_type_for(self.topic)
        )
        published_raw = _text(fields.get(b"published_at", b""))
        try:
            published_at = dt.datetime.fromisoformat(published_raw) if published_raw else None
        except ValueError:
            published_at = None
        return Event(
            topic=self.topic,
            stream_id=stream_id,
            event_id=_text(fields.get(b"event_id", b"")) or stream_id,
            event_type=event_type,
            published_at=published_at,
            deliveries=deliveries,
            message=message,
        )


@dataclass(frozen=True)
class DeadLetter:
    """Which delivery of which event is given up on, by whom, and why."""

    topic: str
    group: str
    consumer: str
    stream_id: str
    error: str
    deliveries: int


async def dead_letter(
    bus: EventBus, letter: DeadLetter, fields: Mapping[bytes, bytes], *, errors_key: str
) -> None:
    """Moves one event to the dead-letter stream and acknowledges it, in one transaction:
    the event is either still pending or safely dead-lettered, never lost in between."""
    record: dict[str, str | bytes] = {
        _text(key): value for key, value in fields.items() if _text(key) != "traceparent"
    }
    record.update(
        {
            "topic": letter.topic,
            "group": letter.group,
            "consumer": letter.consumer,
            "stream_id": letter.stream_id,
            "error": letter.error,
            "deliveries": str(letter.deliveries),
            "dead_lettered_at": dt.datetime.now(dt.UTC).isoformat(),
        }
    )
    async with bus.redis.pipeline(transaction=True) as pipe:
        pipe.xadd(bus.dead_letter_stream, record, maxlen=bus.maxlen, approximate=True)
        pipe.xack(bus.stream_key(letter.topic), letter.group, letter.stream_id)
        pipe.hdel(errors_key, letter.stream_id)
        await pipe.execute()
    EVENTS_HANDLED.labels(letter.topic, letter.group, "dead_lettered").inc()
    logger.error(
        "event dead-lettered",
        extra={
            "topic": letter.topic,
            "group": letter.group,
            "consumer": letter.consumer,
            "stream_id": letter.stream_id,
            "error": letter.error,
        },
    )


def _lookup_type(event_type: str) -> type[Message]:
    try:
        descriptor = descriptor_pool.Default().FindMessageTypeByName(event_type)
    except KeyError:
        raise PoisonEntry(f"unknown event type {event_type}") from None
    return message_factory.GetMessageClass(descriptor)
