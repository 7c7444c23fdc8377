"""The CDN manager: CDN and origin URLs for published objects, health with failover, and
invalidation when a video is deleted or re-transcoded."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from prometheus_client import Counter, Gauge

from stream_svc import metrics
from stream_svc.adapters.catalogue import Change
from stream_svc.domain.playback import (
    SERVED_BY_CDN,
    SERVED_BY_ORIGIN,
    Delivery,
    SegmentLocation,
)
from stream_svc.domain.playback_manifests import Pathway
from stream_svc.domain.playback_model import Unavailable

logger = logging.getLogger(__name__)

SEGMENT_REDIRECTS = Counter(
    "reels_stream_segment_redirects", "Segment redirects by where they point.", ["served_by"]
)
CDN_UP = Gauge("reels_stream_cdn_up", "1 while the last CDN probe got an answer.")
ORIGIN_UP = Gauge("reels_stream_origin_up", "1 while the last origin probe got an answer.")
CDN_INVALIDATIONS = Counter(
    "reels_stream_cdn_invalidations", "CDN invalidations by reason.", ["reason"]
)

UNAVAILABLE_MESSAGE = (
    "Playback is temporarily unavailable: neither the CDN nor the origin storage answers. "
    "Please try again in a moment."
)


@dataclass(frozen=True)
class Health:
    cdn: bool
    origin: bool
    checked_at: float


async def http_answers(url: str, timeout_s: float) -> bool:
    """Whether `url` answers an HTTP GET with a status below 500 within the timeout.

    A 403 or 404 still proves the server is up; connection errors, timeouts and 5xx
    (a CDN whose edge is failing) do not.
    """
    parts = urlsplit(url)
    secure = parts.scheme == "https"
    port = parts.port or (443 if secure else 80)
    path = parts.path or "/"
    request = (
        f"GET {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nUser-Agent: reels-stream-probe\r\n"
        "Connection: close\r\n\r\n"
    ).encode()
    try:
        async with asyncio.timeout(timeout_s):
            reader, writer = await asyncio.open_connection(
                parts.hostname, port, ssl=True if secure else None
            )
            try:
                writer.write(request)
                await writer.drain()
                status_line = await reader.readline()
            finally:
                writer.close()
    except (OSError, TimeoutError):
        return False
    fields = status_line.split()
    if len(fields) < 2 or not fields[1].isdigit():
        return False
    return int(fields[1]) < 500


Probe = Callable[[str, float], Any]


class CdnManager:
    """Locates segments on the CDN, or on the origin when the CDN is down.

    CDN URLs carry the catalogue version (`{CDN_URL}/v{version}/{bucket}/{key}`): the local
    stand-in strips it before asking the origin but keys its cache by it, so a re-transcoded
    video (new version) never meets stale cached objects. The Envoy stand-in has no purge
    API; invalidation is therefore (1) no URL of the old version is handed out any more,
    (2) every invalidation is recorded, and (3) the stand-in keeps objects at most its
    shared-cache TTL (s-maxage), so a deleted video's cached copies are gone within it.

    Health is probed with short timeouts and cached for `health_ttl_s`, shared by every
    concurrent request (one probe in flight at a time).
    """

    def __init__(
        self,
        *,
        cdn_url: str,
        origin_url: str,
        bucket: str,
        presigner: Any,
        probe: Probe = http_answers,
        probe_timeout_s: float = 0.5,
        health_ttl_s: float = 2.0,
        url_ttl_s: float = 900.0,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._cdn = cdn_url.rstrip("/")
        self._origin = origin_url.rstrip("/")
        self._bucket = bucket
        self._presigner = presigner
        self._probe = probe
        self._probe_timeout = probe_timeout_s
        self._health_ttl = health_ttl_s
        self._url_ttl = url_ttl_s
        self._clock = clock
        self._monotonic = monotonic
        self._health: Health | None = None
        self._lock = asyncio.Lock()

    # URLs ------------------------------------------------------------------------------

    def cdn_url(self, key: str, version: int) -> str:
        return f"{self._cdn}/v{version}/{self._bucket}/{key}"

    def cdn_base(self, prefix: str, version: int) -> str:
        return f"{self._cdn}/v{version}/{self._bucket}/{prefix}"

    def origin_url(self, key: str) -> str:
        return f"{self._origin}/{self._bucket}/{key}"

    def origin_base(self, prefix: str) -> str:
        return f"{self._origin}/{self._bucket}/{prefix}"

    def presigned_origin_url(self, key: str) -> str:
        return self._presigner.generate_presigned_url(
            "get_object",
            Params={"Bucket": self._bucket, "Key": key},
            ExpiresIn=int(self._url_ttl),
        )

    # Health ----------------------------------------------------------------------------

    async def health(self) -> Health:
        current = self._health
        if current is not None and self._monotonic() - current.checked_at < self._health_ttl:
            return current
        async with self._lock:
            current = self._health
            if current is not None and self._monotonic() - current.checked_at < self._health_ttl:
                return current
            cdn, origin = await asyncio.gather(
                self._timed_probe("cdn", f"{self._cdn}/healthz"),
                self._timed_probe("origin", f"{self._origin}/"),
            )
            if current is not None and (current.cdn, current.origin) != (cdn, origin):
                logger.warning(
                    "segment delivery changed",
                    extra={"cdn_up": cdn, "origin_up": origin},
                )
            CDN_UP.set(1 if cdn else 0)
            ORIGIN_UP.set(1 if origin else 0)
            self._health = Health(bool(cdn), bool(origin), self._monotonic())
            return self._health

    async def _timed_probe(self, target: str, url: str) -> bool:
        started = time.perf_counter()
        answered = bool(await self._probe(url, self._probe_timeout))
        metrics.CDN_PROBE_LATENCY_MS.labels(target).observe((time.perf_counter() - started) * 1000)
        if not answered:
            metrics.CDN_PROBE_ERRORS.labels(target).inc()
        return answered

    # Playback --------------------------------------------------------------------------

    async def locate(self, object_key: str, version: int) -> SegmentLocation:
        health = await self.health()
        expires_at = self._clock() + self._url_ttl
        if health.cdn:
            SEGMENT_REDIRECTS.labels(SERVED_BY_CDN).inc()
            return SegmentLocation(self.cdn_url(object_key, version), SERVED_BY_CDN, expires_at)
        if health.origin:
            SEGMENT_REDIRECTS.labels(SERVED_BY_ORIGIN).inc()
            # Signing is local computation (no request to the store).
            url = self.presigned_origin_url(object_key)
            return SegmentLocation(url, SERVED_BY_ORIGIN, expires_at)
        raise Unavailable(UNAVAILABLE_MESSAGE)

    async def delivery(self, object_prefix: str, version: int) -> Delivery:
        """The CDN and origin pathways for a DASH MPD, the healthy one first."""
        health = await self.health()
        cdn = Pathway("cdn", self.cdn_base(object_prefix, version))
        origin = Pathway("origin", self.origin_base(object_prefix))
        if health.cdn:
            return Delivery("cdn", (cdn, origin))
        return Delivery("origin" if health.origin else "down", (origin, cdn))

    async def invalidate(self, change: Change) -> None:
        """Stops handing out the invalidated version's CDN URLs (already done by the
        catalogue's new version or deletion) and counts it; the stand-in forgets the
        cached copies within its shared-cache TTL."""
        if change.invalidated_version is None or change.reason is None:
            return
        CDN_INVALIDATIONS.labels(change.reason).inc()
        logger.info(
            "CDN invalidated",
            extra={
                "video_id": change.video_id,
                "reason": change.reason,
                "version": change.invalidated_version,
                "cdn_prefix": self.cdn_base(change.object_prefix or "", change.invalidated_version),
            },
        )
