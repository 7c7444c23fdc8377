"""A throwaway event bus on the machine's Redis: its own key prefix, removed afterwards."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator

import redis.asyncio as aioredis

from reels_runtime.eventbus import EventBus
from tests.conftest import TEST_REDIS_URL


@contextlib.asynccontextmanager
async def scratch_bus(name: str) -> AsyncIterator[EventBus]:
    """An EventBus under `test:{name}:{random}:`; every key under it is deleted on exit."""
    client = aioredis.Redis.from_url(TEST_REDIS_URL)
    prefix = f"test:{name}:{uuid.uuid4().hex}:"
    try:
        yield EventBus(client, prefix)
    finally:
        keys = [key async for key in client.scan_iter(match=f"{prefix}*", count=500)]
        if keys:
            await client.delete(*keys)
        await client.aclose()
