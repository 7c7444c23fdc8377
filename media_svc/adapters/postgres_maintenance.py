"""Background bookkeeping in `media.*`: embeddings to retry and deleted videos to purge."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from psycopg_pool import AsyncConnectionPool


@dataclass(frozen=True)
class PendingEmbedding:
    video_id: uuid.UUID
    creator_id: str
    object_prefix: str
    attempts: int


# Retry soon at first, then back off to once every ten minutes while embed_svc is down.
_BACKOFF_SQL = "LEAST(600, 5 * power(2, LEAST(attempts, 7)))"


class MaintenanceStore:
    def __init__(self, pool: AsyncConnectionPool) -> None:
        self._pool = pool

    async def due_embeddings(self, limit: int = 20) -> list[PendingEmbedding]:
        async with self._pool.connection() as conn:
            rows = await (
                await conn.execute(
                    """
                    SELECT p.video_id, v.creator_id, v.object_prefix, p.attempts
                    FROM media.pending_embeddings p JOIN media.videos v ON v.id = p.video_id
                    WHERE p.next_attempt_at <= now() AND v.status = 'published'
                    ORDER BY p.next_attempt_at LIMIT %s
                    """,
                    (limit,),
                )
            ).fetchall()
        return [PendingEmbedding(*row) for row in rows]

    async def embedding_made(self, video_id: uuid.UUID) -> None:
        async with self._pool.connection() as conn:
            await conn.execute(
                "DELETE FROM media.pending_embeddings WHERE video_id = %s", (video_id,)
            )

    async def embedding_failed(self, video_id: uuid.UUID, error: str) -> None:
        async with self._pool.connection() as conn:
            await conn.execute(
                f"""
                UPDATE media.pending_embeddings
                SET attempts = attempts + 1, last_error = %s,
                    next_attempt_at = now() + make_interval(secs => {_BACKOFF_SQL})
                WHERE video_id = %s
                """,  # noqa: S608 - the interpolated text is a constant expression
                (error[:500], video_id),
            )

    async def purge_due(self, grace_s: float, limit: int = 50) -> list[tuple[uuid.UUID, str]]:
        async with self._pool.connection() as conn:
            rows = await (
                await conn.execute(
                    """
                    SELECT id, object_prefix FROM media.videos
                    WHERE status = 'deleted' AND purged_at IS NULL
                      AND deleted_at <= now() - make_interval(secs => %s)
                    ORDER BY deleted_at LIMIT %s
                    """,
                    (grace_s, limit),
                )
            ).fetchall()
        return [(row[0], row[1]) for row in rows]

    async def purged(self, video_id: uuid.UUID) -> None:
        async with self._pool.connection() as conn:
            await conn.execute(
                "UPDATE media.videos SET purged_at = now() WHERE id = %s", (video_id,)
            )
