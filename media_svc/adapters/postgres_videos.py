"""The `media.videos` table behind the VideoRepository interface."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from google.protobuf import field_mask_pb2
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool
from reels.common.v1 import events_pb2

from media_svc.adapters import event_builders
from media_svc.adapters.event_builders import PublicUrl
from media_svc.adapters.outbox import enqueue
from media_svc.domain.catalogue import FailedVideo
from media_svc.domain.videos import QualityWarning, Video, VideoModerationFlag, VideoStatus
from media_svc.events import VIDEO_DELETED, VIDEO_UPDATED, VIDEO_UPLOADED

_SELECT_VIDEO = """
SELECT id, creator_id, title, status, progress_percent, created_at, updated_at,
       published_at, failure_reason, quality_warnings, moderation_flags, duration_seconds
FROM media.videos
WHERE id = %s
"""


def _warnings(raw: Any) -> tuple[QualityWarning, ...]:
    return tuple(
        QualityWarning(
            kind=item["kind"],
            message=item["message"],
            start_seconds=item.get("start_seconds"),
            end_seconds=item.get("end_seconds"),
        )
        for item in raw or ()
    )


class PostgresVideoRepository:
    """Reads and writes `media.videos` through a psycopg connection pool."""

    def __init__(self, pool: AsyncConnectionPool) -> None:
        self._pool = pool

    async def get(self, video_id: uuid.UUID) -> Video | None:
        async with self._pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(_SELECT_VIDEO, (video_id,))
            row = await cur.fetchone()
        if row is None:
            return None
        return Video(
            video_id=row["id"],
            creator_id=row["creator_id"],
            title=row["title"] or "",
            status=VideoStatus(row["status"]),
            progress_percent=row["progress_percent"] or 0,
            created_at=row["created_at"],
            updated_at=row["updated_at"],
            published_at=row["published_at"],
            failure_reason=row["failure_reason"],
            quality_warnings=_warnings(row["quality_warnings"]),
            moderation_flags=tuple(
                VideoModerationFlag(
                    field=item.get("field", ""),
                    term=item.get("term", ""),
                    reason=item.get("reason", ""),
                )
                for item in row["moderation_flags"] or ()
            ),
            duration_seconds=row["duration_seconds"],
        )


class PostgresCatalogue:
    """Deletion, edits and replays of `media.videos`, each with its event in the outbox."""

    def __init__(self, pool: AsyncConnectionPool, public_url: PublicUrl) -> None:
        self._pool = pool
        self._public_url = public_url

    async def owner_and_status(self, video_id: uuid.UUID) -> tuple[str, VideoStatus] | None:
        async with self._pool.connection() as conn:
            row = await (
                await conn.execute(
                    "SELECT creator_id, status FROM media.videos WHERE id = %s", (video_id,)
                )
            ).fetchone()
        return (row[0], VideoStatus(row[1])) if row else None

    async def mark_deleted(self, video_id: uuid.UUID, grace_s: float) -> datetime:
        grace = timedelta(seconds=grace_s)
        async with self._pool.connection() as conn, conn.transaction():
            row = await (
                await conn.execute(
                    """
                    UPDATE media.videos
                    SET status = 'deleted', deleted_at = now(), updated_at = now()
                    WHERE id = %s AND status <> 'deleted'
                    RETURNING deleted_at, creator_id, object_prefix
                    """,
                    (video_id,),
                )
            ).fetchone()
            if row is None:  # already deleted: answer as the first deletion did
                deleted_at = (
                    await (
                        await conn.execute(
                            "SELECT deleted_at FROM media.videos WHERE id = %s", (video_id,)
                        )
                    ).fetchone()
                )[0]
                return deleted_at + grace
            deleted_at, creator_id, prefix = row
            await conn.execute(
                "DELETE FROM media.pending_embeddings WHERE video_id = %s", (video_id,)
            )
            await enqueue(
                conn,
                VIDEO_DELETED,
                events_pb2.VideoDeletedEvent(
                    video_id=str(video_id),
                    creator_id=creator_id,
                    object_key_prefix=prefix or "",
                    purge_time=event_builders.timestamp(deleted_at + grace),
                ),
            )
        return deleted_at + grace

    async def update_metadata(self, video_id: uuid.UUID, changes: dict[str, Any]) -> None:
        columns = [
            name for name in ("title", "description", "hashtags", "sound_id") if name in changes
        ]
        assignments = ", ".join(f"{name} = %s" for name in columns)
        async with self._pool.connection() as conn, conn.transaction():
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(
                f"UPDATE media.videos SET {assignments}, updated_at = now()"  # noqa: S608
                " WHERE id = %s AND status <> 'deleted' RETURNING *",
                [changes[name] for name in columns] + [video_id],
            )
            row = await cur.fetchone()
            # Consumers keep copies of published videos only; a draft's edits travel with
            # its video.published event later.
            if row is not None and row["status"] == "published":
                await enqueue(
                    conn,
                    VIDEO_UPDATED,
                    events_pb2.VideoUpdatedEvent(
                        video=event_builders.video_summary(row, self._public_url),
                        update_mask=field_mask_pb2.FieldMask(paths=columns),
                    ),
                )

    async def replay(self, video_id: uuid.UUID) -> int | None:
        async with self._pool.connection() as conn, conn.transaction():
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(
                """
                UPDATE media.videos
                SET status = 'processing', failure_reason = NULL, transcode_attempts = 0,
                    progress_percent = 0, updated_at = now()
                WHERE id = %s AND status = 'failed'
                RETURNING *
                """,
                (video_id,),
            )
            row = await cur.fetchone()
            if row is None:
                return None
            replayed = await (
                await conn.execute(
                    "UPDATE media.failed_videos SET replayed_at = now(),"
                    " replay_count = replay_count + 1 WHERE video_id = %s RETURNING replay_count",
                    (video_id,),
                )
            ).fetchone()
            await enqueue(conn, VIDEO_UPLOADED, event_builders.video_uploaded(row))
        return replayed[0] if replayed else 1

    async def failed(
        self, limit: int, after: tuple[datetime, uuid.UUID] | None
    ) -> list[FailedVideo]:
        """Dead letters not replayed yet, newest first; `after` is the last one already seen."""
        keyset = "AND (f.last_error_at, f.video_id) < (%s, %s)" if after else ""
        async with self._pool.connection() as conn:
            rows = await (
                await conn.execute(
                    f"""
                    SELECT f.video_id, v.creator_id, v.title, f.reason, f.attempts,
                           f.first_failed_at, f.last_error_at, f.replay_count
                    FROM media.failed_videos f JOIN media.videos v ON v.id = f.video_id
                    WHERE f.replayed_at IS NULL {keyset}
                    ORDER BY f.last_error_at DESC, f.video_id DESC
                    LIMIT %s
                    """,  # noqa: S608 - keyset is one of two constant strings
                    [*(after or ()), limit],
                )
            ).fetchall()
        return [FailedVideo(*row) for row in rows]

    async def rows(self, video_ids: list[uuid.UUID]) -> dict[uuid.UUID, dict[str, Any]]:
        """The rows of these videos that are not deleted, by id."""
        async with self._pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(
                "SELECT * FROM media.videos WHERE id = ANY(%s) AND status <> 'deleted'",
                (video_ids,),
            )
            return {row["id"]: row for row in await cur.fetchall()}
