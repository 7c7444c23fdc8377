"""media_svc wiring: config, pools, adapters, servicer, health, graceful stop."""

from __future__ import annotations

import asyncio
import logging

from psycopg_pool import AsyncConnectionPool
from redis.asyncio import Redis
from reels.media.v1 import media_service_pb2, media_service_pb2_grpc

from media_svc.adapters.malware_scan import ClamdScanner
from media_svc.adapters.media_probe import PyAVProber
from media_svc.adapters.metadata_cache import MetadataCache
from media_svc.adapters.object_store import ObjectStore, apply_bucket_access
from media_svc.adapters.outbox import OutboxRelay
from media_svc.adapters.pipeline_probes import PipelineProbe
from media_svc.adapters.postgres_uploads import PostgresUploadSessions, PostgresUploadVideos
from media_svc.adapters.postgres_videos import PostgresCatalogue, PostgresVideoRepository
from media_svc.adapters.s3_uploads import S3Originals
from media_svc.adapters.upload_limits import RedisUploadQuota
from media_svc.domain.metadata import Blocklist, MetadataPolicy
from media_svc.domain.uploads import UploadLimits, UploadService
from media_svc.events import TOPIC_TYPES
from media_svc.redis_keys import MediaKeys
from media_svc.servicer import Catalogue, MediaServicer
from media_svc.settings import MediaSettings
from reels_runtime.config import Config
from reels_runtime.db import open_pg_pool
from reels_runtime.eventbus import EventBus
from reels_runtime.server import ReelsServer, build_server, main

SERVICE_NAME = media_service_pb2.DESCRIPTOR.services_by_name["MediaService"].full_name
DEFAULT_LISTEN = "127.0.0.1:50051"
# How often abandoned upload sessions and half-done uploads are cleaned up.
UPLOAD_SWEEP_INTERVAL_S = 60.0

logger = logging.getLogger(__name__)


def build_upload_service(
    config: Config, settings: MediaSettings, pool: AsyncConnectionPool, redis: Redis
) -> UploadService:
    """The upload pipeline on PostgreSQL, Redis, the object store and PyAV."""
    return UploadService(
        videos=PostgresUploadVideos(pool),
        sessions=PostgresUploadSessions(pool),
        store=S3Originals(config, public_endpoint_url=settings.s3_public_endpoint_url),
        quota=RedisUploadQuota(
            redis, settings.daily_upload_limit, MediaKeys.from_config(config).upload_quota_prefix
        ),
        prober=PyAVProber(float(config.video_max_duration_seconds)),
        policy=MetadataPolicy(Blocklist(settings.moderation_blocklist), settings.moderation_mode),
        limits=UploadLimits(
            max_bytes=config.video_upload_max_bytes,
            session_ttl_s=settings.upload_session_ttl_s,
            part_size_bytes=settings.upload_part_size_bytes,
            spool_dir=settings.upload_spool_dir,
        ),
        scanner=ClamdScanner.from_url(
            settings.malware_scanner_url, timeout_s=settings.malware_scan_timeout_s
        )
        if settings.malware_scanner_url
        else None,
    )


async def _sweep_uploads(uploads: UploadService, interval_s: float) -> None:
    while True:
        try:
            swept = await uploads.sweep()
            if swept:
                logger.info("swept abandoned uploads", extra={"swept": swept})
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("upload sweep failed")
        await asyncio.sleep(interval_s)


async def create_server(config: Config, settings: MediaSettings | None = None) -> ReelsServer:
    """Builds media_svc on GRPC_LISTEN (port 0 in tests); call start() to serve."""
    settings = settings or MediaSettings.from_env(config)
    pool = await open_pg_pool(config.database_url, min_size=1, max_size=10, name="media_svc")
    redis = Redis.from_url(config.redis_url, socket_timeout=2.0, socket_connect_timeout=2.0)
    bus = EventBus(redis, config.event_stream_prefix)
    for topic, message_type in TOPIC_TYPES.items():
        bus.register(topic, message_type)
    store = ObjectStore(config)
    if settings.manage_bucket_access:
        await apply_bucket_access(config)
    keys = MediaKeys.from_config(config)
    uploads = build_upload_service(config, settings, pool, redis)
    catalogue = Catalogue(
        store=PostgresCatalogue(pool, settings.public_url),
        cache=MetadataCache(redis, config, settings.public_url),
        policy=MetadataPolicy(Blocklist(settings.moderation_blocklist), settings.moderation_mode),
        public_url=settings.public_url,
        purge_grace_s=settings.purge_grace_s,
    )
    servicer = MediaServicer(
        videos=PostgresVideoRepository(pool),
        pipeline_health=PipelineProbe(redis, bus, keys, store, config.cdn_url),
        uploads=uploads,
        catalogue=catalogue,
    )
    server = build_server(
        config,
        [SERVICE_NAME],
        [lambda s: media_service_pb2_grpc.add_MediaServiceServicer_to_server(servicer, s)],
        default_listen=DEFAULT_LISTEN,
    )
    # Events written with state changes (media.outbox) reach the bus from here too, so an
    # accepted upload is announced even while no transcode worker runs.
    relay = OutboxRelay(pool, bus)
    server.add_background_task(relay.run)
    server.on_stopping(relay.stop)
    server.add_background_task(lambda: _sweep_uploads(uploads, UPLOAD_SWEEP_INTERVAL_S))
    server.on_shutdown(pool.close)
    server.on_shutdown(redis.aclose)
    return server


def run() -> None:
    main(create_server, service_name="media_svc")
