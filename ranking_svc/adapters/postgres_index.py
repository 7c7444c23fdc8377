"""ranking's PostgreSQL schema: the index of published videos, follows and profiles."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from ranking_svc.domain.model import Video
from ranking_svc.domain.ports import CreatorProfile, DependencyFailed

DEPENDENCY = "ranking.postgres"

_VIDEO_COLUMNS = """
    v.video_id::text AS video_id, v.creator_id, v.title, v.description, v.hashtags,
    coalesce(v.sound_id, '') AS sound_id, coalesce(v.duration_seconds, 0) AS duration_seconds,
    v.thumbnail_url, v.preview_url, v.published_at, coalesce(p.display_name, '') AS creator_name
"""
_FROM = """
    FROM ranking.published_videos v
    LEFT JOIN ranking.creator_profiles p ON p.creator_id = v.creator_id
"""


def _video(row: dict[str, Any]) -> Video:
    return Video(
        video_id=row["video_id"],
        creator_id=row["creator_id"],
        title=row["title"],
        description=row["description"],
        hashtags=tuple(row["hashtags"] or ()),
        sound_id=row["sound_id"],
        duration_s=float(row["duration_seconds"]),
        thumbnail_url=row["thumbnail_url"],
        preview_url=row["preview_url"],
        published_at=row["published_at"],
        creator_name=row["creator_name"],
    )


def _uuids(ids: Sequence[str]) -> list[uuid.UUID]:
    result = []
    for raw in ids:
        try:
            result.append(uuid.UUID(raw))
        except ValueError:
            continue
    return result


@dataclass(frozen=True)
class IndexedVideo:
    """A video.published / video.updated summary as the index stores it."""

    video_id: str
    creator_id: str
    title: str
    description: str
    hashtags: list[str]
    sound_id: str
    duration_s: float
    thumbnail_url: str
    preview_url: str
    published_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class SearchHit:
    video: Video
    relevance: float


class PostgresIndex:
    """Reads and writes `ranking.*`; errors become DependencyFailed for the feed's sake."""

    def __init__(self, pool: AsyncConnectionPool) -> None:
        self._pool = pool

    async def _rows(self, query: str, params: Sequence[Any] | dict[str, Any]) -> list[dict]:
        try:
            async with self._pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
                await cur.execute(query, params)
                return await cur.fetchall() if cur.description else []
        except (psycopg.OperationalError, psycopg.errors.QueryCanceled) as error:
            raise DependencyFailed(DEPENDENCY, f"UNAVAILABLE: {error}") from error

    # -- the feed's reads ------------------------------------------------------------

    async def videos(self, video_ids: Sequence[str]) -> dict[str, Video]:
        ids = _uuids(video_ids)
        if not ids:
            return {}
        rows = await self._rows(
            f"SELECT {_VIDEO_COLUMNS} {_FROM} WHERE v.video_id = ANY(%s) AND v.deleted_at IS NULL",
            (ids,),
        )
        return {row["video_id"]: _video(row) for row in rows}

    async def followee_videos(self, user_id: str, since: datetime, limit: int) -> list[Video]:
        rows = await self._rows(
            f"""SELECT {_VIDEO_COLUMNS} {_FROM}
                JOIN ranking.follows f ON f.followee_id = v.creator_id
                WHERE f.follower_id = %s AND v.published_at >= %s AND v.deleted_at IS NULL
                ORDER BY v.published_at DESC LIMIT %s""",
            (user_id, since, limit),
        )
        return [_video(r) for r in rows]

    async def creators_videos(
        self, creator_ids: Sequence[str], since: datetime, per_creator: int, limit: int
    ) -> list[Video]:
        if not creator_ids:
            return []
        rows = await self._rows(
            f"""SELECT {_VIDEO_COLUMNS} FROM unnest(%s::text[]) AS c(creator_id)
                CROSS JOIN LATERAL (
                    SELECT * FROM ranking.published_videos v
                    WHERE v.creator_id = c.creator_id AND v.published_at >= %s
                      AND v.deleted_at IS NULL
                    ORDER BY v.published_at DESC LIMIT %s
                ) v
                LEFT JOIN ranking.creator_profiles p ON p.creator_id = v.creator_id
                LIMIT %s""",  # noqa: S608 - constant column lists, values are parameters
            (list(creator_ids), since, per_creator, limit),
        )
        return [_video(r) for r in rows]

    async def recent_videos(self, limit: int, since: datetime | None = None) -> list[Video]:
        rows = await self._rows(
            f"""SELECT {_VIDEO_COLUMNS} {_FROM}
                WHERE v.deleted_at IS NULL AND (%s::timestamptz IS NULL OR v.published_at >= %s)
                ORDER BY v.published_at DESC LIMIT %s""",
            (since, since, limit),
        )
        return [_video(r) for r in rows]

    async def followees(self, user_id: str) -> set[str]:
        rows = await self._rows(
            "SELECT followee_id FROM ranking.follows WHERE follower_id = %s", (user_id,)
        )
        return {r["followee_id"] for r in rows}

    async def followers(self, creator_id: str) -> list[str]:
        rows = await self._rows(
            "SELECT follower_id FROM ranking.follows WHERE followee_id = %s", (creator_id,)
        )
        return [r["follower_id"] for r in rows]

    # -- search ----------------------------------------------------------------------

    async def search(
        self, query: str, now: datetime, half_life_days: float, offset: int, limit: int
    ) -> list[SearchHit]:
        """Full-text matches, relevance blended with recency: 0.8 x relevance + 0.2 x
        2^(-age / half-life), relevance being ts_rank_cd scaled into [0, 1) (flag 32)."""
        rows = await self._rows(
            f"""WITH q AS (SELECT websearch_to_tsquery('english', %(q)s) AS query),
                hits AS (
                    SELECT {_VIDEO_COLUMNS}, ts_rank_cd(v.search_vector, q.query, 32) AS rel
                    {_FROM}, q
                    WHERE v.search_vector @@ q.query AND v.deleted_at IS NULL
                )
                SELECT *, 0.8 * rel + 0.2 * power(
                    0.5, greatest(0, extract(epoch FROM %(now)s - published_at)) / 86400.0
                    / %(half)s) AS blended
                FROM hits ORDER BY blended DESC, published_at DESC, video_id
                OFFSET %(offset)s LIMIT %(limit)s""",  # noqa: S608 - constant fragments
            {"q": query, "now": now, "half": half_life_days, "offset": offset, "limit": limit},
        )
        return [SearchHit(_video(r), float(r["blended"])) for r in rows]

    async def hashtag_counts(self, since: datetime, limit: int) -> list[tuple[str, int]]:
        rows = await self._rows(
            """SELECT tag, count(*) AS n FROM ranking.published_videos, unnest(hashtags) tag
               WHERE published_at >= %s AND deleted_at IS NULL
               GROUP BY tag ORDER BY n DESC, tag LIMIT %s""",
            (since, limit),
        )
        return [(r["tag"], int(r["n"])) for r in rows]

    async def sound_counts(self, since: datetime, limit: int) -> list[tuple[str, int]]:
        rows = await self._rows(
            """SELECT sound_id, count(*) AS n FROM ranking.published_videos
               WHERE published_at >= %s AND deleted_at IS NULL AND coalesce(sound_id, '') <> ''
               GROUP BY sound_id ORDER BY n DESC, sound_id LIMIT %s""",
            (since, limit),
        )
        return [(r["sound_id"], int(r["n"])) for r in rows]

    # -- profiles and follows --------------------------------------------------------

    async def ensure_profile(self, creator_id: str, display_name: str | None) -> None:
        await self._rows(
            """INSERT INTO ranking.creator_profiles (creator_id, display_name)
               VALUES (%(c)s, coalesce(%(n)s, ''))
               ON CONFLICT (creator_id) DO UPDATE SET display_name = excluded.display_name,
                   updated_at = now()
               WHERE %(n)s IS NOT NULL AND %(n)s <> ''
                 AND ranking.creator_profiles.display_name IS DISTINCT FROM %(n)s
               RETURNING creator_id""",
            {"c": creator_id, "n": display_name},
        )

    async def user_exists(self, user_id: str) -> bool:
        rows = await self._rows(
            """SELECT EXISTS (SELECT 1 FROM ranking.creator_profiles WHERE creator_id = %(u)s)
                   OR EXISTS (SELECT 1 FROM ranking.published_videos WHERE creator_id = %(u)s)
                   AS known""",
            {"u": user_id},
        )
        return bool(rows[0]["known"])

    async def follow(self, follower: str, followee: str) -> int:
        """Adds the follow (once) and returns the followee's follower count."""
        async with self._pool.connection() as conn, conn.transaction():
            cur = await conn.execute(
                """INSERT INTO ranking.follows (follower_id, followee_id) VALUES (%s, %s)
                   ON CONFLICT DO NOTHING""",
                (follower, followee),
            )
            if cur.rowcount:
                await self._count(conn, follower, followee, 1)
            return await self._follower_count(conn, followee)

    async def unfollow(self, follower: str, followee: str) -> int:
        async with self._pool.connection() as conn, conn.transaction():
            cur = await conn.execute(
                "DELETE FROM ranking.follows WHERE follower_id = %s AND followee_id = %s",
                (follower, followee),
            )
            if cur.rowcount:
                await self._count(conn, follower, followee, -1)
            return await self._follower_count(conn, followee)

    @staticmethod
    async def _count(
        conn: psycopg.AsyncConnection, follower: str, followee: str, delta: int
    ) -> None:
        # Profiles exist for both ends (the followee's may not yet: it is created here).
        await conn.execute(
            """INSERT INTO ranking.creator_profiles (creator_id) VALUES (%s), (%s)
               ON CONFLICT DO NOTHING""",
            (follower, followee),
        )
        await conn.execute(
            """UPDATE ranking.creator_profiles
               SET follower_count = greatest(0, follower_count + %s), updated_at = now()
               WHERE creator_id = %s""",
            (delta, followee),
        )
        await conn.execute(
            """UPDATE ranking.creator_profiles
               SET following_count = greatest(0, following_count + %s), updated_at = now()
               WHERE creator_id = %s""",
            (delta, follower),
        )

    @staticmethod
    async def _follower_count(conn: psycopg.AsyncConnection, creator_id: str) -> int:
        cur = await conn.execute(
            "SELECT follower_count FROM ranking.creator_profiles WHERE creator_id = %s",
            (creator_id,),
        )
        row = await cur.fetchone()
        return int(row[0]) if row else 0

    async def is_following(self, follower: str, followee: str) -> bool:
        rows = await self._rows(
            "SELECT 1 AS x FROM ranking.follows WHERE follower_id = %s AND followee_id = %s",
            (follower, followee),
        )
        return bool(rows)

    async def profile(self, creator_id: str) -> CreatorProfile | None:
        rows = await self._rows(
            """SELECT p.display_name, p.follower_count, p.following_count,
                      (SELECT count(*) FROM ranking.published_videos v
                       WHERE v.creator_id = %(c)s AND v.deleted_at IS NULL) AS video_count,
                      p.creator_id IS NOT NULL AS has_profile
               FROM (SELECT %(c)s::text AS id) i
               LEFT JOIN ranking.creator_profiles p ON p.creator_id = i.id""",
            {"c": creator_id},
        )
        row = rows[0]
        if not row["has_profile"] and not row["video_count"]:
            return None
        return CreatorProfile(
            creator_id=creator_id,
            display_name=row["display_name"] or "",
            follower_count=int(row["follower_count"] or 0),
            following_count=int(row["following_count"] or 0),
            video_count=int(row["video_count"]),
        )

    async def profiles(self, creator_ids: Sequence[str]) -> dict[str, CreatorProfile]:
        if not creator_ids:
            return {}
        rows = await self._rows(
            """SELECT c.id AS creator_id, coalesce(p.display_name, '') AS display_name,
                      coalesce(p.follower_count, 0) AS follower_count,
                      coalesce(p.following_count, 0) AS following_count
               FROM unnest(%s::text[]) AS c(id)
               LEFT JOIN ranking.creator_profiles p ON p.creator_id = c.id""",
            (list(creator_ids),),
        )
        return {
            r["creator_id"]: CreatorProfile(
                r["creator_id"], r["display_name"], r["follower_count"], r["following_count"], 0
            )
            for r in rows
        }

    async def popular_creators(self, limit: int) -> list[str]:
        rows = await self._rows(
            """SELECT p.creator_id FROM ranking.creator_profiles p
               WHERE EXISTS (SELECT 1 FROM ranking.published_videos v
                             WHERE v.creator_id = p.creator_id AND v.deleted_at IS NULL)
               ORDER BY p.follower_count DESC, p.creator_id LIMIT %s""",
            (limit,),
        )
        return [r["creator_id"] for r in rows]

    async def samples(self, creator_ids: Sequence[str], per_creator: int) -> list[Video]:
        return await self.creators_videos(
            creator_ids, datetime.fromtimestamp(0).astimezone(), per_creator, 10_000
        )

    # -- the index consumer's writes -------------------------------------------------

    async def upsert(self, video: IndexedVideo) -> bool:
        """Stores a published video unless a newer event was applied or it was deleted."""
        rows = await self._rows(
            """INSERT INTO ranking.published_videos AS v (video_id, creator_id, title,
                   description, hashtags, sound_id, duration_seconds, thumbnail_url,
                   preview_url, published_at, updated_at)
               VALUES (%(id)s, %(creator)s, %(title)s, %(description)s, %(hashtags)s,
                   nullif(%(sound)s, ''), %(duration)s, %(thumb)s, %(preview)s, %(published)s,
                   %(updated)s)
               ON CONFLICT (video_id) DO UPDATE SET creator_id = excluded.creator_id,
                   title = excluded.title, description = excluded.description,
                   hashtags = excluded.hashtags, sound_id = excluded.sound_id,
                   duration_seconds = excluded.duration_seconds,
                   thumbnail_url = coalesce(nullif(excluded.thumbnail_url, ''), v.thumbnail_url),
                   preview_url = coalesce(nullif(excluded.preview_url, ''), v.preview_url),
                   published_at = excluded.published_at, updated_at = excluded.updated_at
               WHERE v.deleted_at IS NULL AND v.updated_at <= excluded.updated_at
               RETURNING video_id""",
            {
                "id": uuid.UUID(video.video_id),
                "creator": video.creator_id,
                "title": video.title,
                "description": video.description,
                "hashtags": video.hashtags,
                "sound": video.sound_id,
                "duration": video.duration_s,
                "thumb": video.thumbnail_url,
                "preview": video.preview_url,
                "published": video.published_at,
                "updated": video.updated_at,
            },
        )
        await self._rows(
            "INSERT INTO ranking.creator_profiles (creator_id) VALUES (%s) ON CONFLICT DO NOTHING",
            (video.creator_id,),
        )
        return bool(rows)

    async def update(self, video: IndexedVideo) -> bool:
        """Applies an edit to a known video (an unknown one waits for its video.published)."""
        rows = await self._rows(
            """UPDATE ranking.published_videos v SET title = %(title)s,
                   description = %(description)s, hashtags = %(hashtags)s,
                   sound_id = nullif(%(sound)s, ''),
                   thumbnail_url = coalesce(nullif(%(thumb)s, ''), v.thumbnail_url),
                   preview_url = coalesce(nullif(%(preview)s, ''), v.preview_url),
                   updated_at = %(updated)s
               WHERE v.video_id = %(id)s AND v.deleted_at IS NULL
                 AND v.updated_at <= %(updated)s
               RETURNING video_id""",
            {
                "id": uuid.UUID(video.video_id),
                "title": video.title,
                "description": video.description,
                "hashtags": video.hashtags,
                "sound": video.sound_id,
                "thumb": video.thumbnail_url,
                "preview": video.preview_url,
                "updated": video.updated_at,
            },
        )
        return bool(rows)

    async def delete(self, video_id: str, creator_id: str, deleted_at: datetime) -> None:
        """Marks the video deleted; a tombstone row stops a late video.published."""
        await self._rows(
            """INSERT INTO ranking.published_videos AS v (video_id, creator_id, published_at,
                   updated_at, deleted_at)
               VALUES (%(id)s, %(creator)s, %(at)s, %(at)s, %(at)s)
               ON CONFLICT (video_id) DO UPDATE SET deleted_at = coalesce(v.deleted_at, %(at)s)
               RETURNING video_id""",
            {"id": uuid.UUID(video_id), "creator": creator_id, "at": deleted_at},
        )
