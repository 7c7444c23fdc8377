"""The transcode worker: consumes `video.uploaded`, publishes videos, and keeps house.

Runs as its own process (`python -m media_svc.worker`, a Deployment of its own in
Kubernetes) so it scales on queue depth apart from the RPC server, and so a killed worker
only hands its job over to another one (the event bus reclaims the pending message).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import sys
import time
import uuid
from dataclasses import dataclass

from prometheus_client import Counter, Gauge, Histogram, start_http_server
from redis.asyncio import Redis
from reels.common.v1 import events_pb2

from media_svc.adapters.embed_client import EmbedClient
from media_svc.adapters.engine import PyAVEngine
from media_svc.adapters.metadata_cache import MetadataCache
from media_svc.adapters.object_store import MediaObjects
from media_svc.adapters.outbox import OutboxRelay
from media_svc.adapters.pipeline_probes import TRANSCODE_GROUP, UPLOADED_TOPIC
from media_svc.adapters.postgres_jobs import PostgresJobStore
from media_svc.adapters.postgres_maintenance import MaintenanceStore, PendingEmbedding
from media_svc.adapters.postgres_videos import PostgresCatalogue
from media_svc.domain.jobs import TranscodeJob
from media_svc.events import TOPIC_TYPES
from media_svc.redis_keys import MediaKeys
from media_svc.settings import MediaSettings
from reels_runtime import telemetry
from reels_runtime.config import Config, ConfigError
from reels_runtime.db import open_pg_pool
from reels_runtime.eventbus import Event, EventBus

logger = logging.getLogger(__name__)

HEARTBEAT_TTL_S = 15
QUEUE_WARNING_DEPTH = 1000
RELAY_DRAIN_S = 5.0  # at most this long for the outbox relay's last pass at shutdown

JOBS = Counter("video_transcode_jobs_total", "Transcode jobs by outcome", ["outcome"])
TRANSCODE_SECONDS = Histogram(
    "video_transcoding_duration_seconds",
    "Time from the start of a job to its publication",
    buckets=(5, 10, 20, 30, 45, 60, 90, 120, 180, 300, 600),
)
QUEUE_DEPTH = Gauge("videos_in_processing_queue", "Uploaded videos waiting for a worker")


@dataclass
class Worker:
    """Everything one worker process runs beside its consumers."""

    config: Config
    settings: MediaSettings
    redis: Redis
    bus: EventBus
    job: TranscodeJob
    objects: MediaObjects
    maintenance: MaintenanceStore
    embedder: EmbedClient
    relay: OutboxRelay
    keys: MediaKeys
    cache: MetadataCache
    catalogue: PostgresCatalogue
    name: str

    async def handle(self, event: Event) -> None:
        message = event.message
        assert isinstance(message, events_pb2.VideoUploadedEvent)
        started = time.monotonic()
        outcome = await self.job.process(uuid.UUID(message.video_id))
        JOBS.labels(outcome).inc()
        if outcome == "published":
            # Warm video:metadata:{id} with the published state (read-through fills it).
            video_id = uuid.UUID(message.video_id)
            await self.cache.invalidate(video_id)
            await self.cache.summaries([video_id], self.catalogue.rows)
            elapsed = time.monotonic() - started
            TRANSCODE_SECONDS.observe(elapsed)
            await self.redis.hincrbyfloat(self.keys.worker_stats, "seconds", elapsed)
        if outcome in ("published", "failed"):
            await self.redis.hincrby(self.keys.worker_stats, outcome, 1)

    async def heartbeat(self) -> None:
        key = f"{self.keys.worker_heartbeat_prefix}{self.name}"
        while True:
            await self.redis.set(key, str(time.time()), ex=HEARTBEAT_TTL_S)
            depth = await self.bus.lag(
                UPLOADED_TOPIC, TRANSCODE_GROUP
            ) + await self.bus.pending_count(UPLOADED_TOPIC, TRANSCODE_GROUP)
            QUEUE_DEPTH.set(depth)
            if depth > QUEUE_WARNING_DEPTH:
                logger.warning("transcode queue is deep", extra={"queue_depth": depth})
            await asyncio.sleep(HEARTBEAT_TTL_S / 3)

    async def retry_embeddings(self) -> None:
        """Asks embed_svc again for every published video that still lacks a vector."""
        while True:
            try:
                for pending in await self.maintenance.due_embeddings():
                    await self._retry_embedding(pending)
            except asyncio.CancelledError:
                raise
            except Exception:
                # PostgreSQL or the object store failing must not end the retries for good.
                logger.exception("embedding retry pass failed")
            await asyncio.sleep(self.settings.embedding_retry_interval_s)

    async def _retry_embedding(self, pending: PendingEmbedding) -> None:
        try:
            keys = await self.objects.list_keys(f"{pending.object_prefix}frames/")
            frames = [await self.objects.get_bytes(key) for key in sorted(keys)]
        except Exception as error:
            await self.maintenance.embedding_failed(pending.video_id, f"frames unreadable: {error}")
            return
        version = await self.embedder.embed_frames(
            str(pending.video_id), pending.creator_id, frames
        )
        if version is None:
            await self.maintenance.embedding_failed(pending.video_id, "embed_svc unavailable")
        else:
            await self.maintenance.embedding_made(pending.video_id)
            logger.info("embedding made on retry", extra={"video_id": str(pending.video_id)})

    async def purge_deleted(self) -> None:
        """Removes the objects of videos deleted longer ago than the grace period."""
        while True:
            for video_id, prefix in await self.maintenance.purge_due(self.settings.purge_grace_s):
                removed = await self.objects.delete_prefix(prefix) if prefix else 0
                await self.maintenance.purged(video_id)
                logger.info("purged", extra={"video_id": str(video_id), "objects": removed})
            await asyncio.sleep(self.settings.purge_interval_s)


async def build_worker(config: Config, settings: MediaSettings) -> tuple[Worker, list]:
    pool = await open_pg_pool(config.database_url, min_size=1, max_size=6, name="media_worker")
    redis = Redis.from_url(config.redis_url, socket_timeout=10.0, socket_connect_timeout=2.0)
    bus = EventBus(redis, config.event_stream_prefix)
    for topic, message_type in TOPIC_TYPES.items():
        bus.register(topic, message_type)
    objects = MediaObjects(config)
    embedder = EmbedClient(config)
    job = TranscodeJob(
        PostgresJobStore(pool, settings.public_url),
        objects,
        PyAVEngine(
            include_hevc=settings.include_hevc,
            max_duration_s=config.video_max_duration_seconds,
        ),
        embedder,
        timeout_s=config.video_transcoding_timeout_seconds,
        progress_interval_s=settings.progress_interval_s,
        backoff_s=lambda attempt: settings.retry_backoff_s * 2 ** (attempt - 1),
    )
    worker = Worker(
        config=config,
        settings=settings,
        redis=redis,
        bus=bus,
        job=job,
        objects=objects,
        maintenance=MaintenanceStore(pool),
        embedder=embedder,
        relay=OutboxRelay(pool, bus),
        keys=MediaKeys.from_config(config),
        cache=MetadataCache(redis, config, settings.public_url),
        catalogue=PostgresCatalogue(pool, settings.public_url),
        name=f"{socket.gethostname()}-{os.getpid()}",
    )
    closers = [embedder.close, redis.aclose, pool.close]
    return worker, closers


async def run(config: Config, settings: MediaSettings, stop: asyncio.Event) -> None:
    worker, closers = await build_worker(config, settings)
    # A job may use its whole timeout on each attempt, plus the backoff between them.
    handler_timeout = config.video_transcoding_timeout_seconds * 3 + 120
    consumers = [
        worker.bus.consumer(
            UPLOADED_TOPIC,
            TRANSCODE_GROUP,
            f"{worker.name}-{slot}",
            worker.handle,
            batch=1,
            claim_idle_ms=settings.claim_idle_ms,
            handler_timeout_s=handler_timeout,
        )
        for slot in range(settings.worker_concurrency)
    ]
    tasks = [asyncio.create_task(consumer.run()) for consumer in consumers]
    tasks += [
        asyncio.create_task(coroutine)
        for coroutine in (worker.heartbeat(), worker.retry_embeddings(), worker.purge_deleted())
    ]
    relay = asyncio.create_task(worker.relay.run())
    logger.info("transcode worker started", extra={"consumers": len(consumers)})
    try:
        await stop.wait()
    finally:
        for consumer in consumers:
            consumer.stop()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        # The relay publishes what the jobs committed last (its final pass) before the
        # pool closes; rows it cannot reach in time stay for the next relay to publish.
        worker.relay.stop()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await asyncio.wait_for(relay, RELAY_DRAIN_S)
        await worker.redis.delete(f"{worker.keys.worker_heartbeat_prefix}{worker.name}")
        for close in closers:
            await close()


async def _main(config: Config, settings: MediaSettings) -> None:
    telemetry.configure("media_worker", config.log_level, config.otel_exporter_otlp_endpoint)
    if config.metrics_port:
        # The worker serves no gRPC: GRPC_LISTEN's host (0.0.0.0 in a pod) is the interface
        # of its /metrics; loopback otherwise, as for the services.
        start_http_server(config.metrics_port, _metrics_host(config.grpc_listen))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await run(config, settings, stop)


def _metrics_host(grpc_listen: str | None) -> str:
    host = (grpc_listen or "").rpartition(":")[0].strip("[]")
    return host or "127.0.0.1"


def main() -> None:
    try:
        config = Config.from_env(service_name="media_worker")
        settings = MediaSettings.from_env(config)
    except ConfigError as error:
        print(f"media_worker: configuration error: {error}", file=sys.stderr)
        sys.exit(2)
    asyncio.run(_main(config, settings))


if __name__ == "__main__":
    main()
