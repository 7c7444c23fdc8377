"""The transactional outbox: events written with the state change, relayed to the bus.

A service writes its events into its own outbox table (`<schema>.outbox`: id bigserial,
event_id, topic, payload bytea, headers jsonb) in the transaction of the state change they
announce, so they exist exactly when the change committed. `headers` keeps the writer's
trace context and request id. An `OutboxRelay` publishes the rows in id order, each under
the context it was written in (its consumers' spans join the request's trace), and
deletes them in one transaction; when publishing fails the rows stay for the
next pass. A crash after publishing and before the delete commits publishes rows again:
consumers deduplicate on event_id. Several relays may run at once (FOR UPDATE SKIP LOCKED).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import re
import uuid
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from google.protobuf.message import Message
from opentelemetry import context as otel_context
from opentelemetry import propagate
from psycopg import AsyncConnection, sql
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from reels_runtime.context import request_scope
from reels_runtime.eventbus import EventBus, trace_headers

logger = logging.getLogger(__name__)

# (topic, message, event_id) in outbox order.
OutboxItem = tuple[str, Message, str]
PublishFn = Callable[[EventBus, Sequence[OutboxItem]], Awaitable[None]]

_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")
_REQUEST_ID = "request_id"


@contextmanager
def publishing_context(headers: Mapping[str, Any]) -> Iterator[None]:
    """Makes `headers` (from trace_headers) the current trace context and request id, so
    that EventBus.publish stamps them on the entries published inside."""
    carrier = {str(k): str(v) for k, v in headers.items() if k != _REQUEST_ID}
    token = otel_context.attach(propagate.extract(carrier))
    try:
        with request_scope(headers.get(_REQUEST_ID) or None):
            yield
    finally:
        otel_context.detach(token)


async def publish_each(bus: EventBus, items: Sequence[OutboxItem]) -> None:
    """The default publish: one `EventBus.publish` per row, in order."""
    for topic, message, event_id in items:
        await bus.publish(topic, message, event_id=event_id)


class Outbox:
    """One service's outbox table and the topics (with their message types) it may carry."""

    def __init__(
        self, schema: str, topic_types: Mapping[str, type[Message]], table: str = "outbox"
    ) -> None:
        for name in (schema, table):
            if not _IDENTIFIER.match(name):
                raise ValueError(f"not a plain SQL identifier: {name!r}")
        self.schema = schema
        self.table = table
        self.topic_types: Mapping[str, type[Message]] = dict(topic_types)
        self.identifier = sql.Identifier(schema, table)

    @property
    def name(self) -> str:
        return f"{self.schema}.{self.table}"

    async def enqueue(
        self, conn: AsyncConnection, topic: str, message: Message, *, event_id: str | None = None
    ) -> str:
        """Adds the event to the caller's transaction; it is published only if that commits."""
        ids = await self.enqueue_many(conn, [(topic, message, event_id)])
        return ids[0]

    async def enqueue_many(
        self, conn: AsyncConnection, items: Sequence[tuple[str, Message, str | None]]
    ) -> list[str]:
        """Adds (topic, message, event_id or None) rows, in order, to the caller's transaction.

        A message with an `event_id` field (every reels event: see
        reels/common/v1/events.proto) gets the row's id and an `occur_time` when it lacks
        them; one without (a `PlaybackEventBatch`) takes the given id or a new UUID."""
        headers = Jsonb(trace_headers())
        rows: list[tuple[str, str, bytes, Jsonb]] = []
        for topic, message, event_id in items:
            if topic not in self.topic_types:
                raise ValueError(f"{self.name} does not carry {topic!r}")
            fields = message.DESCRIPTOR.fields_by_name
            if "event_id" in fields:
                if not message.event_id:  # type: ignore[attr-defined]
                    message.event_id = event_id or str(uuid.uuid4())  # type: ignore[attr-defined]
                event_id = message.event_id  # type: ignore[attr-defined]
            if "occur_time" in fields and not message.HasField("occur_time"):
                message.occur_time.GetCurrentTime()  # type: ignore[attr-defined]
            event_id = event_id or str(uuid.uuid4())
            rows.append((event_id, topic, message.SerializeToString(), headers))
        if rows:
            async with conn.cursor() as cur:
                await cur.executemany(
                    sql.SQL(
                        "INSERT INTO {} (event_id, topic, payload, headers) VALUES (%s, %s, %s, %s)"
                    ).format(self.identifier),
                    rows,
                )
        return [row[0] for row in rows]

    def decode(self, topic: str, payload: bytes) -> Message:
        return self.topic_types[topic].FromString(payload)


class OutboxRelay:
    """Publishes outbox rows in order and deletes them; several relays may run at once."""

    def __init__(
        self,
        pool: AsyncConnectionPool,
        bus: EventBus,
        outbox: Outbox,
        *,
        publish: PublishFn = publish_each,
        batch: int = 100,
        idle_s: float = 0.2,
        max_backoff_s: float = 5.0,
    ) -> None:
        self._pool = pool
        self._bus = bus
        self._outbox = outbox
        self._publish = publish
        self._batch = batch
        self._idle_s = idle_s
        self._max_backoff_s = max_backoff_s
        self._stop = asyncio.Event()
        self._select = sql.SQL(
            "SELECT id, event_id, topic, payload, headers FROM {} ORDER BY id LIMIT %s"
            " FOR UPDATE SKIP LOCKED"
        ).format(outbox.identifier)
        self._delete = sql.SQL("DELETE FROM {} WHERE id = ANY(%s)").format(outbox.identifier)

    async def relay_once(self) -> int:
        """One pass: publishes up to `batch` rows and deletes them; returns how many."""
        async with self._pool.connection() as conn, conn.transaction():
            rows = await (await conn.execute(self._select, (self._batch,))).fetchall()
            if not rows:
                return 0
            # Consecutive rows of one writer share their headers: one publish per run.
            for headers, run in itertools.groupby(rows, key=lambda row: row[4] or {}):
                items = [
                    (topic, self._outbox.decode(topic, bytes(payload)), str(event_id))
                    for _, event_id, topic, payload, _ in run
                ]
                with publishing_context(headers):
                    await self._publish(self._bus, items)
            await conn.execute(self._delete, ([row[0] for row in rows],))
        return len(rows)

    def stop(self) -> None:
        """Asks run() to make one last pass (what committed meanwhile) and return."""
        self._stop.set()

    async def _pause(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self._stop.wait(), timeout=seconds)
        except TimeoutError:
            pass

    async def run(self) -> None:
        failures = 0
        while True:
            stopping = self._stop.is_set()
            try:
                relayed = await self.relay_once()
                failures = 0
            except asyncio.CancelledError:
                raise
            except Exception:
                # The rows stay in the outbox; the next pass publishes them.
                failures += 1
                if failures == 1 or failures % 50 == 0:
                    logger.exception(
                        "outbox relay pass failed",
                        extra={"outbox": self._outbox.name, "failures": failures},
                    )
                if stopping:
                    return
                await self._pause(min(self._max_backoff_s, self._idle_s * 2**failures))
                continue
            if stopping and relayed < self._batch:
                return
            if relayed < self._batch and not self._stop.is_set():
                await self._pause(self._idle_s)
