"""A stream_svc with a small ingestion backlog bound, on a Redis namespace of its own.

It shares the session's PostgreSQL (so it knows the session's published videos and its
counters are the session's) but not its event streams: no consumer of the session server
reads what it publishes, only what a test runs against its namespace (a consumer process
it can pause, or none at all).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from redis.asyncio import Redis
from reels.stream.v1 import stream_service_pb2 as pb

from reels_runtime.config import Config
from reels_runtime.server import ReelsServer
from tests.integration.stream.engagement_support import session_events

GROUP = "stream_engagement"  # stream_svc.engagement_wiring.GROUP


@dataclass(frozen=True)
class Backpressured:
    server: ReelsServer
    config: Config

    @property
    def stream_key(self) -> str:
        return f"{self.config.event_stream_prefix}video_events"


@asynccontextmanager
async def backpressured_stream(config: Config, max_backlog: int) -> AsyncIterator[Backpressured]:
    """stream_svc (RPCs only: STREAM_ENGAGEMENT_CONSUMERS=false) refusing events beyond
    `max_backlog` events behind on its own namespace; its keys are removed afterwards."""
    from stream_svc.server import create_server

    own = config.replace(
        service_name="stream_svc",
        redis_namespace=f"{config.redis_namespace}-bp{uuid.uuid4().hex[:6]}",
    )
    changes = {"STREAM_EVENTS_MAX_BACKLOG": str(max_backlog), "STREAM_ENGAGEMENT_CONSUMERS": "0"}
    saved = {name: os.environ.get(name) for name in changes}
    os.environ.update(changes)
    try:
        server = await create_server(own)
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    await server.start()
    try:
        yield Backpressured(server, own)
    finally:
        await server.stop(grace=1)
        redis = Redis.from_url(own.redis_url)
        try:
            async for key in redis.scan_iter(match=f"{own.redis_namespace}:*", count=500):
                await redis.delete(key)
        finally:
            await redis.aclose()


def sessions_batch(prefix: str, sessions: int) -> list[pb.PlaybackEvent]:
    """`sessions` complete viewing sessions (6 events each: startup, start .. complete)."""
    return [e for s in range(sessions) for e in session_events(f"{prefix}-s{s}", "complete")]


async def stream_length(config: Config, key: str) -> int:
    redis = Redis.from_url(config.redis_url)
    try:
        return int(await redis.xlen(key))
    finally:
        await redis.aclose()
