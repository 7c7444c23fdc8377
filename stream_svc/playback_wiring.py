"""Builds the playback half of stream_svc: catalogue consumers, CDN manager, caches, tokens."""

from __future__ import annotations

import dataclasses
import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass

from reels_runtime.auth import TokenSigner
from reels_runtime.config import Config, ConfigError
from reels_runtime.object_store import s3_client
from reels_runtime.topics import VIDEO_DELETED, VIDEO_PUBLISHED, VIDEO_UPDATED
from stream_svc.adapters.bandwidth import BandwidthReports
from stream_svc.adapters.catalogue import PostgresPlaybackCatalogue, PublishedObjects
from stream_svc.adapters.catalogue_events import CONSUMER_GROUP, TOPICS, CatalogueFeed
from stream_svc.adapters.cdn import CdnManager
from stream_svc.adapters.playback_cache import RedisBandwidthMemory, RedisManifestCache
from stream_svc.adapters.playback_events import BusPlaybackEvents
from stream_svc.domain.playback import PlaybackService
from stream_svc.domain.playback_manifests import PlaybackUrls
from stream_svc.wiring import Part, Shared


@dataclass(frozen=True)
class PlaybackSettings:
    """Playback's own knobs; every one has a default fit for the local stack."""

    # Lifetime of the playback tokens manifests put into segment URLs (a clip is at most
    # 3 minutes; the margin covers pauses).
    token_ttl_s: int = 900
    # The gateway's public URL for segment URLs; empty makes them root-relative.
    public_base_url: str = ""
    # The object store's URL as players reach it (origin redirects); S3_ENDPOINT_URL when
    # empty.
    origin_public_url: str = ""
    cdn_probe_timeout_s: float = 0.5
    cdn_health_ttl_s: float = 2.0

    def replace(self, **changes: object) -> PlaybackSettings:
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> PlaybackSettings:
        env = os.environ if environ is None else environ
        defaults = cls()
        return cls(
            token_ttl_s=int(_number(env, "PLAYBACK_TOKEN_TTL_SECONDS", defaults.token_ttl_s, 60)),
            public_base_url=env.get("PLAYBACK_PUBLIC_BASE_URL", "").strip(),
            origin_public_url=env.get("S3_PUBLIC_ENDPOINT_URL", "").strip(),
            cdn_probe_timeout_s=_number(
                env, "CDN_PROBE_TIMEOUT_SECONDS", defaults.cdn_probe_timeout_s, 0.05
            ),
            cdn_health_ttl_s=_number(env, "CDN_HEALTH_TTL_SECONDS", defaults.cdn_health_ttl_s, 0.0),
        )


def _number(env: Mapping[str, str], name: str, default: float, minimum: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(name, f"must be a number, got {raw!r}") from None
    if value < minimum:
        raise ConfigError(name, f"must be at least {minimum:g}, got {value:g}")
    return value


@dataclass
class Playback:
    """What the playback RPCs use, and what tests and tools reach into."""

    service: PlaybackService
    catalogue: PostgresPlaybackCatalogue
    cdn: CdnManager
    cache: RedisManifestCache


async def build_playback(
    config: Config, shared: Shared, settings: PlaybackSettings | None = None
) -> Part:
    settings = settings or PlaybackSettings.from_env()
    # Playback tokens (one per manifest) are EdDSA with the playback key, as the feed's are.
    signer = TokenSigner.playback_from_config(config)
    origin_url = settings.origin_public_url or config.s3_endpoint_url
    catalogue = PostgresPlaybackCatalogue(shared.pool)
    cache = RedisManifestCache(shared.redis, config)
    cdn = CdnManager(
        cdn_url=config.cdn_url,
        origin_url=origin_url,
        bucket=config.s3_bucket_video,
        presigner=s3_client(config, endpoint_url=origin_url, max_attempts=2),
        probe_timeout_s=settings.cdn_probe_timeout_s,
        health_ttl_s=settings.cdn_health_ttl_s,
        url_ttl_s=settings.token_ttl_s,
    )
    service = PlaybackService(
        catalogue=catalogue,
        cache=cache,
        delivery=cdn,
        events=BusPlaybackEvents(shared.bus),
        bandwidth=BandwidthReports(shared.pool, RedisBandwidthMemory(shared.redis, config)),
        mint_token=lambda user_id, video_id: signer.mint_playback(
            user_id, video_id, ttl=settings.token_ttl_s
        ),
        urls=PlaybackUrls(settings.public_base_url),
    )
    feed = CatalogueFeed(
        catalogue,
        PublishedObjects(s3_client(config, max_attempts=2), config.s3_bucket_video),
        cache,
        cdn,
    )
    handlers = {
        VIDEO_PUBLISHED: feed.on_published,
        VIDEO_UPDATED: feed.on_updated,
        VIDEO_DELETED: feed.on_deleted,
    }
    name = f"{config.service_name}-{socket.gethostname()}-{os.getpid()}"
    consumers = [
        shared.bus.consumer(topic, CONSUMER_GROUP, name, handlers[topic], message_type=message_type)
        for topic, message_type in TOPICS.items()
    ]

    return Part(
        deps=Playback(service=service, catalogue=catalogue, cdn=cdn, cache=cache),
        background=[consumer.run for consumer in consumers],
        stoppers=[consumer.stop for consumer in consumers],
        closers=[cache.close],
    )
