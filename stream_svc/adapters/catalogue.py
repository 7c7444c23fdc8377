"""stream_svc's own catalogue of playable videos in PostgreSQL, and the reader that fills it
from the objects media_svc published."""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from stream_svc.domain.playback_model import PlaybackVideo, Track, tracks_to_json

logger = logging.getLogger(__name__)

_COLUMNS = (
    "video_id, creator_id, object_prefix, version, duration_seconds, tracks, dash_mpd, "
    "deleted_at, publish_event_id, source_update_time, dash_manifest_key"
)


@dataclass(frozen=True)
class Publication:
    """A published state of a video, as read from its event and objects."""

    video: PlaybackVideo  # its version is assigned by the catalogue
    dash_manifest_key: str
    event_id: str
    update_time: datetime | None
    published_at: datetime | None


@dataclass(frozen=True)
class Change:
    """What applying an event did: whether playback must forget cached state."""

    applied: bool
    video_id: str
    object_prefix: str | None = None
    # Set when CDN URLs of this version stop being handed out (re-transcode or deletion).
    invalidated_version: int | None = None
    reason: str | None = None


def _video(row: dict[str, Any]) -> PlaybackVideo:
    tracks = row["tracks"]
    if isinstance(tracks, str):
        tracks = json.loads(tracks)
    return PlaybackVideo(
        video_id=str(row["video_id"]),
        creator_id=row["creator_id"],
        object_prefix=row["object_prefix"],
        version=row["version"],
        duration_s=row["duration_seconds"],
        tracks=tuple(Track.from_json(track) for track in tracks),
        mpd=row["dash_mpd"],
    )


class PostgresPlaybackCatalogue:
    """`stream.playback_catalogue`: written by the video.* consumers, read by playback."""

    def __init__(self, pool: AsyncConnectionPool) -> None:
        self._pool = pool

    async def get(self, video_id: str) -> PlaybackVideo | None:
        async with self._pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(
                f"SELECT {_COLUMNS} FROM stream.playback_catalogue "  # noqa: S608
                "WHERE video_id = %s AND deleted_at IS NULL",
                (video_id,),
            )
            row = await cur.fetchone()
        return _video(row) if row else None

    async def stored(self, video_id: str) -> tuple[PlaybackVideo | None, dict[str, Any] | None]:
        """The row (deleted or not) with its bookkeeping columns, for the consumers."""
        async with self._pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(
                f"SELECT {_COLUMNS} FROM stream.playback_catalogue "  # noqa: S608
                "WHERE video_id = %s",
                (video_id,),
            )
            row = await cur.fetchone()
        if row is None:
            return None, None
        playable = row["deleted_at"] is None and row["tracks"] is not None
        return (_video(row) if playable else None), row

    async def publish(self, publication: Publication) -> Change:
        """Inserts or replaces a video's playable state; new tracks bump its version.

        Idempotent per event id; a deleted video stays deleted; an event older than the
        state already applied changes nothing.
        """
        video = publication.video
        async with self._pool.connection() as conn, conn.transaction():
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(
                "SELECT version, tracks, deleted_at, publish_event_id, source_update_time "
                "FROM stream.playback_catalogue WHERE video_id = %s FOR UPDATE",
                (video.video_id,),
            )
            row = await cur.fetchone()
            if row is not None and (
                row["deleted_at"] is not None
                or row["publish_event_id"] == publication.event_id
                or _older(publication.update_time, row["source_update_time"])
            ):
                return Change(applied=False, video_id=video.video_id)
            tracks = tracks_to_json(video.tracks)
            version = 1
            invalidated = None
            if row is not None:
                version = row["version"]
                if row["tracks"] is not None and row["tracks"] != tracks:
                    invalidated, version = version, version + 1
            await cur.execute(
                """
                INSERT INTO stream.playback_catalogue (
                    video_id, creator_id, object_prefix, dash_manifest_key, duration_seconds,
                    tracks, dash_mpd, version, publish_event_id, source_update_time,
                    published_at, updated_at)
                VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, now())
                ON CONFLICT (video_id) DO UPDATE SET
                    creator_id = EXCLUDED.creator_id,
                    object_prefix = EXCLUDED.object_prefix,
                    dash_manifest_key = EXCLUDED.dash_manifest_key,
                    duration_seconds = EXCLUDED.duration_seconds,
                    tracks = EXCLUDED.tracks,
                    dash_mpd = EXCLUDED.dash_mpd,
                    version = EXCLUDED.version,
                    publish_event_id = EXCLUDED.publish_event_id,
                    source_update_time = EXCLUDED.source_update_time,
                    published_at = EXCLUDED.published_at,
                    updated_at = now()
                """,
                (
                    video.video_id,
                    video.creator_id,
                    video.object_prefix,
                    publication.dash_manifest_key,
                    video.duration_s,
                    Jsonb(tracks),
                    video.mpd,
                    version,
                    publication.event_id,
                    publication.update_time,
                    publication.published_at,
                ),
            )
            if invalidated is not None:
                await _record_invalidation(
                    cur, video.video_id, video.object_prefix, "retranscoded", invalidated
                )
        return Change(
            applied=True,
            video_id=video.video_id,
            object_prefix=video.object_prefix,
            invalidated_version=invalidated,
            reason="retranscoded" if invalidated is not None else None,
        )

    async def touch(self, video_id: str, update_time: datetime | None) -> None:
        """Remembers that a newer state (a metadata edit) was seen."""
        async with self._pool.connection() as conn:
            await conn.execute(
                "UPDATE stream.playback_catalogue SET source_update_time = %s, "
                "updated_at = now() WHERE video_id = %s AND deleted_at IS NULL "
                "AND (source_update_time IS NULL OR source_update_time < %s)",
                (update_time, video_id, update_time),
            )

    async def delete(self, video_id: str, object_prefix: str, deleted_at: datetime) -> Change:
        """Marks the video deleted (a tombstone when it was never seen); idempotent."""
        async with self._pool.connection() as conn, conn.transaction():
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(
                """
                INSERT INTO stream.playback_catalogue (video_id, object_prefix, deleted_at)
                VALUES (%s, %s, %s)
                ON CONFLICT (video_id) DO UPDATE SET deleted_at = EXCLUDED.deleted_at,
                    updated_at = now()
                WHERE stream.playback_catalogue.deleted_at IS NULL
                RETURNING version
                """,
                (video_id, object_prefix or None, deleted_at),
            )
            row = await cur.fetchone()
            if row is None:
                return Change(applied=False, video_id=video_id)
            if object_prefix:
                await _record_invalidation(cur, video_id, object_prefix, "deleted", row["version"])
        return Change(
            applied=True,
            video_id=video_id,
            object_prefix=object_prefix,
            invalidated_version=row["version"],
            reason="deleted",
        )

    async def invalidations(self, video_id: str) -> list[dict[str, Any]]:
        async with self._pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(
                "SELECT object_prefix, reason, version, created_at FROM stream.cdn_invalidations "
                "WHERE video_id = %s ORDER BY id",
                (video_id,),
            )
            return list(await cur.fetchall())


def _older(candidate: datetime | None, applied: datetime | None) -> bool:
    return candidate is not None and applied is not None and candidate < applied


async def _record_invalidation(
    cur: Any, video_id: str, object_prefix: str, reason: str, version: int
) -> None:
    await cur.execute(
        "INSERT INTO stream.cdn_invalidations (video_id, object_prefix, reason, version) "
        "VALUES (%s, %s, %s, %s)",
        (video_id, object_prefix, reason, version),
    )
    logger.info(
        "CDN invalidation recorded",
        extra={"video_id": video_id, "reason": reason, "version": version},
    )


class ObjectMissing(LookupError):
    """The object store has no such key (its video was purged)."""


class PublishedObjects:
    """Reads media's playlists and MPD from the object store (boto3 runs in a thread)."""

    def __init__(self, client: Any, bucket: str) -> None:
        self._client = client
        self._bucket = bucket

    async def text(self, key: str) -> str:
        def read() -> str:
            try:
                body = self._client.get_object(Bucket=self._bucket, Key=key)["Body"]
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                    raise ObjectMissing(key) from None
                raise
            return body.read().decode("utf-8")

        return await asyncio.to_thread(read)
