"""The Redis cache of video metadata (`<ns>:video:metadata:{id}`, one hour)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from redis.asyncio import Redis
from reels.common.v1 import video_pb2

from media_svc.adapters import event_builders
from media_svc.adapters.event_builders import PublicUrl
from reels_runtime.config import Config

TTL_S = 3600
LoadRows = Callable[[list[uuid.UUID]], Awaitable[Mapping[uuid.UUID, Mapping[str, Any]]]]


class MetadataCache:
    """Read-through for BatchGetVideos; entries are dropped on every edit and deletion."""

    def __init__(self, redis: Redis, config: Config, public_url: PublicUrl) -> None:
        self._redis = redis
        self._prefix = config.redis_key("video", "metadata", "")
        self._public_url = public_url

    def _key(self, video_id: uuid.UUID) -> str:
        return f"{self._prefix}{video_id}"

    async def put(self, summary: video_pb2.VideoSummary) -> None:
        await self._redis.set(
            self._key(uuid.UUID(summary.video_id)), summary.SerializeToString(), ex=TTL_S
        )

    async def invalidate(self, video_id: uuid.UUID) -> None:
        await self._redis.delete(self._key(video_id))

    async def summaries(
        self, video_ids: list[uuid.UUID], load_rows: LoadRows
    ) -> dict[uuid.UUID, video_pb2.VideoSummary]:
        if not video_ids:
            return {}
        cached = await self._redis.mget([self._key(v) for v in video_ids])
        found = {
            video_id: video_pb2.VideoSummary.FromString(raw)
            for video_id, raw in zip(video_ids, cached, strict=True)
            if raw is not None
        }
        missing = [v for v in video_ids if v not in found]
        if missing:
            for video_id, row in (await load_rows(missing)).items():
                summary = event_builders.video_summary(row, self._public_url)
                found[video_id] = summary
                await self.put(summary)
        return found
