"""Redis state of playback: the 5-minute manifest cache and each viewer's latest bandwidth."""

from __future__ import annotations

import asyncio
import json
import logging
import time

from redis.asyncio import Redis
from redis.exceptions import RedisError

from reels_runtime.config import Config
from stream_svc.domain.playback_model import PlaybackVideo

logger = logging.getLogger(__name__)

MANIFEST_TTL_S = 300
BANDWIDTH_TTL_S = 1800
_VIDEO_FIELD = "video"
# A reader that loaded the catalogue just before an invalidation may write its stale copy
# just after it; deleting once more a moment later closes that window.
_SECOND_DELETE_AFTER_S = 1.0


class RedisManifestCache:
    """One hash per video: its catalogue entry and its rendered manifest templates.

    The whole hash expires 5 minutes after it was created, and is deleted when the video is
    edited, re-transcoded or deleted, so the next request renders afresh. A Redis failure
    degrades to rendering every time; it never fails playback.
    """

    def __init__(self, redis: Redis, config: Config, ttl_s: int = MANIFEST_TTL_S) -> None:
        self._redis = redis
        self._prefix = config.redis_key("stream", "playback", "")
        self._ttl = ttl_s
        self._pending: set[asyncio.Task[None]] = set()

    def _key(self, video_id: str) -> str:
        return f"{self._prefix}{video_id}"

    async def get(
        self, video_id: str, variant: str | None
    ) -> tuple[PlaybackVideo | None, str | None]:
        fields = [_VIDEO_FIELD] if variant is None else [_VIDEO_FIELD, variant]
        try:
            values = await self._redis.hmget(self._key(video_id), fields)
        except RedisError:
            logger.warning("manifest cache unreadable", extra={"video_id": video_id})
            return None, None
        video = PlaybackVideo.from_json(json.loads(values[0])) if values[0] else None
        template = values[1].decode() if variant is not None and values[1] else None
        return video, template

    async def _put(self, video_id: str, field: str, value: str) -> None:
        key = self._key(video_id)
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.hset(key, field, value)
                pipe.expire(key, self._ttl, nx=True)
                await pipe.execute()
        except RedisError:
            logger.warning("manifest cache unwritable", extra={"video_id": video_id})

    async def put_video(self, video: PlaybackVideo) -> None:
        await self._put(video.video_id, _VIDEO_FIELD, json.dumps(video.to_json()))

    async def put_manifest(self, video_id: str, variant: str, template: str) -> None:
        await self._put(video_id, variant, template)

    async def invalidate(self, video_id: str) -> None:
        """Drops the video's cached state now and once more a second later."""
        await self._redis.delete(self._key(video_id))
        task = asyncio.create_task(self._delete_later(video_id))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _delete_later(self, video_id: str) -> None:
        await asyncio.sleep(_SECOND_DELETE_AFTER_S)
        try:
            await self._redis.delete(self._key(video_id))
        except RedisError:
            logger.warning("manifest cache second delete failed", extra={"video_id": video_id})

    async def close(self) -> None:
        for task in list(self._pending):
            task.cancel()
        await asyncio.gather(*self._pending, return_exceptions=True)


class RedisBandwidthMemory:
    """A viewer's latest usable throughput (Mbps), the hint for their next manifest."""

    def __init__(self, redis: Redis, config: Config, ttl_s: int = BANDWIDTH_TTL_S) -> None:
        self._redis = redis
        self._prefix = config.redis_key("stream", "bandwidth", "")
        self._ttl = ttl_s

    async def latest_mbps(self, user_id: str) -> float | None:
        try:
            raw = await self._redis.get(f"{self._prefix}{user_id}")
        except RedisError:
            return None
        if not raw:
            return None
        return float(json.loads(raw)["mbps"])

    async def remember(self, user_id: str, mbps: float) -> None:
        value = json.dumps({"mbps": mbps, "at": time.time()})
        await self._redis.set(f"{self._prefix}{user_id}", value, ex=self._ttl)
