"""The upload pipeline's tables: `media.videos` rows while uploading, `media.upload_sessions`."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from media_svc.adapters import event_builders
from media_svc.adapters.outbox import enqueue
from media_svc.domain.metadata import CheckedMetadata, VideoMetadata
from media_svc.domain.uploads import SessionState, SourceInfo, UploadConflict, UploadSession
from media_svc.domain.videos import VideoStatus
from media_svc.events import VIDEO_UPLOADED

_MARK_PROCESSING = """
UPDATE media.videos
SET status = 'processing', title = %(title)s, description = %(description)s,
    hashtags = %(hashtags)s, sound_id = %(sound_id)s, moderation_flags = %(flags)s,
    duration_seconds = %(duration)s, width = %(width)s, height = %(height)s,
    frame_rate = %(frame_rate)s, size_bytes = %(size)s, content_type = %(content_type)s,
    original_key = %(original_key)s, object_prefix = %(prefix)s, progress_percent = 0,
    updated_at = now()
WHERE id = %(id)s AND status = 'uploading'
RETURNING *
"""


class UploadGone(UploadConflict):
    """The `uploading` row disappeared under an upload (swept, or deleted meanwhile)."""


class PostgresUploadVideos:
    """`media.videos` as the upload pipeline writes it."""

    def __init__(self, pool: AsyncConnectionPool) -> None:
        self._pool = pool

    async def insert_uploading(
        self, video_id: uuid.UUID, creator_id: str, metadata: VideoMetadata | None
    ) -> None:
        metadata = metadata or VideoMetadata(title="")
        async with self._pool.connection() as conn:
            await conn.execute(
                """
                INSERT INTO media.videos (id, creator_id, title, description, hashtags,
                                          sound_id, status, object_prefix)
                VALUES (%s, %s, %s, %s, %s, %s, 'uploading', %s)
                """,
                (
                    video_id,
                    creator_id,
                    metadata.title,
                    metadata.description,
                    list(metadata.hashtags),
                    metadata.sound_id,
                    f"videos/{video_id}/",
                ),
            )

    async def mark_processing(
        self,
        video_id: uuid.UUID,
        checked: CheckedMetadata,
        source: SourceInfo,
        size_bytes: int,
        original_key: str,
        object_prefix: str,
    ) -> None:
        metadata = checked.metadata
        params: dict[str, Any] = {
            "id": video_id,
            "title": metadata.title,
            "description": metadata.description,
            "hashtags": list(metadata.hashtags),
            "sound_id": metadata.sound_id,
            "flags": Jsonb([flag.as_json() for flag in checked.flags]),
            "duration": source.duration_seconds,
            "width": source.width,
            "height": source.height,
            "frame_rate": source.frame_rate or None,
            "size": size_bytes,
            "content_type": source.content_type,
            "original_key": original_key,
            "prefix": object_prefix,
        }
        # The state change and its event commit together (see adapters/outbox.py).
        async with self._pool.connection() as conn, conn.transaction():
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(_MARK_PROCESSING, params)
            row = await cur.fetchone()
            if row is None:
                raise UploadGone(f"video {video_id} is no longer being uploaded")
            await enqueue(conn, VIDEO_UPLOADED, event_builders.video_uploaded(row))

    async def delete_uploading(self, video_id: uuid.UUID) -> None:
        async with self._pool.connection() as conn:
            await conn.execute(
                "DELETE FROM media.videos WHERE id = %s AND status = 'uploading'", (video_id,)
            )

    async def status_and_size(self, video_id: uuid.UUID) -> tuple[VideoStatus, int] | None:
        async with self._pool.connection() as conn:
            row = await (
                await conn.execute(
                    "SELECT status, size_bytes FROM media.videos WHERE id = %s", (video_id,)
                )
            ).fetchone()
        return (VideoStatus(row[0]), int(row[1] or 0)) if row else None

    async def stale_uploading(self, before: datetime) -> list[uuid.UUID]:
        async with self._pool.connection() as conn:
            rows = await (
                await conn.execute(
                    "SELECT id FROM media.videos WHERE status = 'uploading' AND updated_at < %s"
                    " LIMIT 100",
                    (before,),
                )
            ).fetchall()
        return [row[0] for row in rows]


_SESSION_COLUMNS = """
upload_id, video_id, creator_id, s3_upload_id, object_key, title, description, hashtags,
sound_id, content_type, size_bytes, part_size_bytes, part_count, state, created_at,
expires_at
"""


def _session(row: dict[str, Any]) -> UploadSession:
    return UploadSession(
        upload_id=row["upload_id"],
        video_id=row["video_id"],
        creator_id=row["creator_id"],
        s3_upload_id=row["s3_upload_id"],
        object_key=row["object_key"],
        metadata=VideoMetadata(
            title=row["title"],
            description=row["description"],
            hashtags=tuple(row["hashtags"] or ()),
            sound_id=row["sound_id"],
        ),
        content_type=row["content_type"] or "",
        size_bytes=int(row["size_bytes"] or 0),
        part_size_bytes=int(row["part_size_bytes"] or 0),
        part_count=int(row["part_count"] or 0),
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        state=SessionState(row["state"]),
    )


class PostgresUploadSessions:
    """`media.upload_sessions`; every state change is one conditional UPDATE."""

    def __init__(self, pool: AsyncConnectionPool) -> None:
        self._pool = pool

    async def insert(self, session: UploadSession) -> None:
        metadata = session.metadata
        async with self._pool.connection() as conn:
            await conn.execute(
                f"INSERT INTO media.upload_sessions ({_SESSION_COLUMNS})"  # noqa: S608
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                (
                    session.upload_id,
                    session.video_id,
                    session.creator_id,
                    session.s3_upload_id,
                    session.object_key,
                    metadata.title,
                    metadata.description,
                    list(metadata.hashtags),
                    metadata.sound_id,
                    session.content_type,
                    session.size_bytes,
                    session.part_size_bytes,
                    session.part_count,
                    session.state.value,
                    session.created_at,
                    session.expires_at,
                ),
            )

    async def get(self, upload_id: uuid.UUID) -> UploadSession | None:
        async with self._pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(
                f"SELECT {_SESSION_COLUMNS} FROM media.upload_sessions"  # noqa: S608
                " WHERE upload_id = %s",
                (upload_id,),
            )
            row = await cur.fetchone()
        return _session(row) if row else None

    async def transition(
        self,
        upload_id: uuid.UUID,
        from_state: SessionState,
        to_state: SessionState,
        *,
        unexpired_at: datetime | None = None,
    ) -> bool:
        completed = "now()" if to_state is SessionState.COMPLETED else "completed_at"
        async with self._pool.connection() as conn:
            cur = await conn.execute(
                f"UPDATE media.upload_sessions SET state = %s, completed_at = {completed}"  # noqa: S608
                " WHERE upload_id = %s AND state = %s"
                " AND (%s::timestamptz IS NULL OR expires_at > %s::timestamptz)",
                (to_state.value, upload_id, from_state.value, unexpired_at, unexpired_at),
            )
            return cur.rowcount == 1

    async def delete(self, upload_id: uuid.UUID) -> None:
        async with self._pool.connection() as conn:
            await conn.execute(
                "DELETE FROM media.upload_sessions WHERE upload_id = %s", (upload_id,)
            )

    async def stale(self, now: datetime, completing_before: datetime) -> list[UploadSession]:
        async with self._pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(
                f"SELECT {_SESSION_COLUMNS} FROM media.upload_sessions"  # noqa: S608
                " WHERE (state = 'open' AND expires_at <= %s)"
                " OR (state = 'completing' AND expires_at <= %s)"
                " ORDER BY expires_at LIMIT 100",
                (now, completing_before),
            )
            return [_session(row) for row in await cur.fetchall()]
