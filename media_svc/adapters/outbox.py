"""The transactional outbox: events written with the state change, relayed to the bus."""

from __future__ import annotations

import asyncio
import logging
import uuid

from google.protobuf.message import Message
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from media_svc.events import TOPIC_TYPES
from reels_runtime.eventbus import EventBus

logger = logging.getLogger(__name__)


async def enqueue(conn: AsyncConnection, topic: str, message: Message) -> str:
    """Adds the event to the caller's transaction; it is published only if that commits."""
    if topic not in TOPIC_TYPES:
        raise ValueError(f"media_svc does not publish {topic!r}")
    # Every reels event carries event_id and occur_time (see reels/common/v1/events.proto).
    if not message.event_id:  # type: ignore[attr-defined]
        message.event_id = str(uuid.uuid4())  # type: ignore[attr-defined]
    if not message.HasField("occur_time"):
        message.occur_time.GetCurrentTime()  # type: ignore[attr-defined]
    event_id: str = message.event_id  # type: ignore[attr-defined]
    await conn.execute(
        "INSERT INTO media.outbox (event_id, topic, payload) VALUES (%s, %s, %s)",
        (event_id, topic, message.SerializeToString()),
    )
    return event_id


class OutboxRelay:
    """Publishes outbox rows in order and deletes them; several relays may run at once."""

    def __init__(
        self, pool: AsyncConnectionPool, bus: EventBus, batch: int = 100, idle_s: float = 0.2
    ) -> None:
        self._pool = pool
        self._bus = bus
        self._batch = batch
        self._idle_s = idle_s

    async def relay_once(self) -> int:
        async with self._pool.connection() as conn, conn.transaction():
            rows = await (
                await conn.execute(
                    "SELECT id, event_id, topic, payload FROM media.outbox ORDER BY id"
                    " LIMIT %s FOR UPDATE SKIP LOCKED",
                    (self._batch,),
                )
            ).fetchall()
            for _, event_id, topic, payload in rows:
                message = TOPIC_TYPES[topic].FromString(bytes(payload))
                await self._bus.publish(topic, message, event_id=str(event_id))
            if rows:
                await conn.execute(
                    "DELETE FROM media.outbox WHERE id = ANY(%s)", ([row[0] for row in rows],)
                )
        return len(rows)

    async def run(self) -> None:
        while True:
            try:
                relayed = await self.relay_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                # The rows stay in the outbox; the next pass publishes them.
                logger.exception("outbox relay pass failed")
                relayed = 0
            if relayed < self._batch:
                await asyncio.sleep(self._idle_s)
