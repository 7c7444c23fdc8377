"""Measures the processing pipeline for /health/video-processing, against the real parts."""

from __future__ import annotations

import asyncio
import urllib.error
import urllib.request

from redis.asyncio import Redis

from media_svc.adapters.object_store import ObjectStore
from media_svc.domain.processing_health import PipelineHealth, PipelineProbes, assess
from media_svc.redis_keys import MediaKeys
from reels_runtime.eventbus import EventBus
from reels_runtime.topics import VIDEO_UPLOADED

UPLOADED_TOPIC = VIDEO_UPLOADED
TRANSCODE_GROUP = "transcoders"


def _http_reachable(url: str, timeout_s: float) -> tuple[bool, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout_s):  # noqa: S310 - our own CDN URL
            return True, ""
    except urllib.error.HTTPError:
        return True, ""  # it answered; a 403/404 on the root still means it is up
    except OSError as error:
        return False, f"CDN unreachable at {url}: {error}"


class PipelineProbe:
    """Probes queue depth, workers, object store and CDN concurrently, each bounded."""

    def __init__(
        self,
        redis: Redis,
        bus: EventBus,
        keys: MediaKeys,
        store: ObjectStore,
        cdn_url: str,
        timeout_s: float = 1.0,
    ) -> None:
        self._redis = redis
        self._store = store
        self._cdn_url = cdn_url
        self._bus = bus
        self._keys = keys
        self._timeout_s = timeout_s

    async def _live_workers(self) -> int:
        count = 0
        async for _ in self._redis.scan_iter(
            match=f"{self._keys.worker_heartbeat_prefix}*", count=100
        ):
            count += 1
        return count

    async def __call__(self) -> PipelineHealth:
        lag, pending, live_workers, stats, store, cdn = await asyncio.gather(
            self._bus.lag(UPLOADED_TOPIC, TRANSCODE_GROUP),
            self._bus.pending_count(UPLOADED_TOPIC, TRANSCODE_GROUP),
            self._live_workers(),
            self._redis.hgetall(self._keys.worker_stats),
            self._store.reachable(),
            asyncio.to_thread(_http_reachable, self._cdn_url, self._timeout_s),
        )
        return assess(
            PipelineProbes(
                queue_depth=lag + pending,
                live_workers=live_workers,
                object_store_reachable=store[0],
                object_store_detail=store[1],
                cdn_reachable=cdn[0],
                cdn_detail=cdn[1],
                processed_count=int(stats.get(b"published", 0)),
                failed_count=int(stats.get(b"failed", 0)),
                processing_seconds=float(stats.get(b"seconds", 0.0)),
            )
        )
