"""The `media.videos` table behind the VideoRepository interface."""

from __future__ import annotations

import uuid
from typing import Any

from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from media_svc.domain.videos import QualityWarning, Video, VideoStatus

_SELECT_VIDEO = """
SELECT id, creator_id, title, status, progress_percent, created_at, updated_at,
       published_at, failure_reason, quality_warnings
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
        )
