"""The transcode job's view of `media.videos`: attempts, progress, publish, dead letters."""

from __future__ import annotations

import dataclasses
import uuid

from psycopg import AsyncConnection
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from media_svc.adapters import event_builders
from media_svc.adapters.outbox import enqueue
from media_svc.domain.jobs import JobTicket, Publication
from media_svc.events import VIDEO_PUBLISHED


class PostgresJobStore:
    """Each state change is one conditional UPDATE, so concurrent or repeated jobs are safe."""

    def __init__(self, pool: AsyncConnectionPool, public_url) -> None:
        self._pool = pool
        self._public_url = public_url

    async def start_attempt(self, video_id: uuid.UUID) -> JobTicket | None:
        async with self._pool.connection() as conn:
            row = await (
                await conn.execute(
                    """
                    UPDATE media.videos
                    SET transcode_attempts = transcode_attempts + 1, updated_at = now()
                    WHERE id = %s AND status = 'processing'
                    RETURNING creator_id, original_key, object_prefix, transcode_attempts
                    """,
                    (video_id,),
                )
            ).fetchone()
        if row is None:
            return None
        creator_id, original_key, prefix, attempt = row
        return JobTicket(video_id, creator_id, original_key, prefix, attempt)

    async def set_progress(self, video_id: uuid.UUID, percent: int) -> None:
        async with self._pool.connection() as conn:
            await conn.execute(
                """
                UPDATE media.videos SET progress_percent = %s, updated_at = now()
                WHERE id = %s AND status = 'processing' AND progress_percent < %s
                """,
                (percent, video_id, percent),
            )

    async def publish(self, ticket: JobTicket, publication: Publication) -> bool:
        renditions = [dataclasses.asdict(r) for r in publication.renditions]
        async with self._pool.connection() as conn, conn.transaction():
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(
                """
                UPDATE media.videos
                SET status = 'published', published_at = now(), updated_at = now(),
                    progress_percent = 100, failure_reason = NULL,
                    duration_seconds = %s, renditions = %s, thumbnail_key = %s,
                    preview_key = %s, quality_warnings = %s,
                    width = %s, height = %s, frame_rate = %s
                WHERE id = %s AND status = 'processing'
                RETURNING *
                """,
                (
                    publication.duration_seconds,
                    Jsonb(renditions),
                    publication.thumbnail_key,
                    publication.preview_key,
                    Jsonb(list(publication.quality_warnings)),
                    publication.width,
                    publication.height,
                    publication.frame_rate,
                    ticket.video_id,
                ),
            )
            row = await cur.fetchone()
            if row is None:
                return False  # deleted meanwhile, or another attempt won: nothing to publish
            event = event_builders.video_published(row, publication, self._public_url)
            await enqueue(conn, VIDEO_PUBLISHED, event)
            if publication.embedding_model_version is None:
                await _remember_missing_embedding(conn, ticket.video_id)
        return True

    async def record_failure(self, ticket: JobTicket, reason: str, final: bool) -> None:
        async with self._pool.connection() as conn, conn.transaction():
            if not final:
                await conn.execute(
                    "UPDATE media.videos SET failure_reason = %s, updated_at = now()"
                    " WHERE id = %s AND status = 'processing'",
                    (reason, ticket.video_id),
                )
                return
            updated = await conn.execute(
                "UPDATE media.videos SET status = 'failed', failure_reason = %s,"
                " updated_at = now() WHERE id = %s AND status = 'processing'",
                (reason, ticket.video_id),
            )
            if updated.rowcount == 0:
                return
            await conn.execute(
                """
                INSERT INTO media.failed_videos (video_id, reason, attempts, payload)
                VALUES (%s, %s, %s, %s)
                ON CONFLICT (video_id) DO UPDATE
                SET reason = EXCLUDED.reason, attempts = EXCLUDED.attempts,
                    last_error_at = now(), payload = EXCLUDED.payload, replayed_at = NULL
                """,
                (
                    ticket.video_id,
                    reason,
                    ticket.attempt,
                    Jsonb({"original_key": ticket.original_key, "prefix": ticket.object_prefix}),
                ),
            )


async def _remember_missing_embedding(conn: AsyncConnection, video_id: uuid.UUID) -> None:
    await conn.execute(
        "INSERT INTO media.pending_embeddings (video_id) VALUES (%s) ON CONFLICT DO NOTHING",
        (video_id,),
    )
