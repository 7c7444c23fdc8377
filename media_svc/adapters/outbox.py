"""media_svc's transactional outbox (`media.outbox`): see reels_runtime/outbox.py."""

from __future__ import annotations

from google.protobuf.message import Message
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from media_svc.events import TOPIC_TYPES
from reels_runtime import outbox
from reels_runtime.eventbus import EventBus

OUTBOX = outbox.Outbox("media", TOPIC_TYPES)


async def enqueue(conn: AsyncConnection, topic: str, message: Message) -> str:
    """Adds the event to the caller's transaction; it is published only if that commits."""
    return await OUTBOX.enqueue(conn, topic, message)


class OutboxRelay(outbox.OutboxRelay):
    """Publishes `media.outbox` rows in order and deletes them."""

    def __init__(
        self, pool: AsyncConnectionPool, bus: EventBus, batch: int = 100, idle_s: float = 0.2
    ) -> None:
        super().__init__(pool, bus, OUTBOX, batch=batch, idle_s=idle_s)
