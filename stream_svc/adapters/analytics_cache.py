"""Redis cache of video analytics (`<namespace>:analytics:<video_id>`, one hour)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import asdict
from datetime import datetime

from redis.asyncio import Redis
from redis.exceptions import RedisError

from stream_svc.domain.analytics import BitrateShare, Counters, RetentionPoint, VideoAnalytics

logger = logging.getLogger(__name__)

TTL_S = 3600


def _encode(analytics: VideoAnalytics) -> str:
    data = asdict(analytics)
    data["compute_time"] = analytics.compute_time.isoformat()
    return json.dumps(data, separators=(",", ":"))


def _decode(raw: bytes | str) -> VideoAnalytics:
    data = json.loads(raw)
    return VideoAnalytics(
        video_id=data["video_id"],
        counters=Counters(**data["counters"]),
        completion_rate_p50=data["completion_rate_p50"],
        completion_rate_p95=data["completion_rate_p95"],
        average_watch_s=data["average_watch_s"],
        retention=tuple(RetentionPoint(**p) for p in data["retention"]),
        trending_score=data["trending_score"],
        bitrate_distribution=tuple(BitrateShare(**b) for b in data["bitrate_distribution"]),
        hd_session_ratio=data["hd_session_ratio"],
        rebuffer_ratio=data["rebuffer_ratio"],
        startup_p50_s=data["startup_p50_s"],
        startup_p95_s=data["startup_p95_s"],
        compute_time=datetime.fromisoformat(data["compute_time"]),
    )


class RedisAnalyticsCache:
    """Figures live for an hour, and are dropped as soon as new events or engagement of
    the video are recorded, so a creator never waits an hour to see what happened.

    The cache is an optimisation: when Redis fails, analytics are computed afresh.
    """

    def __init__(self, redis: Redis, key: Callable[[str], str], ttl_s: int = TTL_S) -> None:
        self._redis = redis
        self._key = key
        self._ttl = ttl_s

    async def get(self, video_id: str) -> VideoAnalytics | None:
        try:
            raw = await self._redis.get(self._key(video_id))
        except RedisError:
            logger.warning("analytics cache unavailable", exc_info=True)
            return None
        if raw is None:
            return None
        try:
            return _decode(raw)
        except (ValueError, KeyError, TypeError):
            return None  # written by an older release: recompute

    async def put(self, analytics: VideoAnalytics) -> None:
        try:
            await self._redis.set(self._key(analytics.video_id), _encode(analytics), ex=self._ttl)
        except RedisError:
            logger.warning("analytics cache unavailable", exc_info=True)

    async def drop(self, video_ids: Sequence[str]) -> None:
        if not video_ids:
            return
        try:
            await self._redis.delete(*(self._key(v) for v in video_ids))
        except RedisError:
            logger.warning("analytics cache unavailable", exc_info=True)
