"""PostgreSQL for the engagement half: the videos it knows, counters, likes, shares,
comments, and the exactly-once bookkeeping of consumed events."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager, suppress
from datetime import datetime

from psycopg import AsyncConnection
from psycopg.rows import tuple_row
from psycopg_pool import AsyncConnectionPool

from reels_runtime.outbox import OutboxItem
from stream_svc.adapters.engagement_bus import (
    COMMENTS,
    LIKES,
    OUTBOX,
    SHARES,
    commented_events,
    liked_events,
    shared_events,
    unliked_events,
)
from stream_svc.domain.affinity import CreatorInteraction, Interaction
from stream_svc.domain.analytics import Counters
from stream_svc.domain.counters import CounterPlan
from stream_svc.domain.engagement import CommentCursor, is_uuid
from stream_svc.domain.errors import NotFound
from stream_svc.domain.events import RecordedEvent
from stream_svc.domain.model import Comment, Engagement, VideoInfo

_COUNTERS = "view_count, like_count, share_count, comment_count"
_VIDEO = "video_id::text, creator_id, title, duration_seconds, published_at, deleted_at"


# Hundreds of ids go as one comma-separated text that PostgreSQL splits: psycopg spends
# three times the CPU sending them as a text[] (and the server more parsing it). Only
# UUIDs, which hold no comma, are ever passed (the callers checked them).
_UUID_LIST = "string_to_array(%s, ',')::uuid[]"


def _uuid_list(video_ids: Sequence[str]) -> str:
    return ",".join(video_ids)


def _counters(row: Sequence[object] | None) -> Counters:
    if row is None:
        return Counters()
    views, likes, shares, comments = row[:4]
    return Counters(int(views), int(likes), int(shares), int(comments))  # type: ignore[arg-type]


def _video(row: Sequence[object]) -> VideoInfo:
    video_id, creator, title, duration, published, deleted = row
    return VideoInfo(
        video_id=str(video_id),
        creator_id=str(creator or ""),
        title=str(title or ""),
        duration_s=float(duration) if duration is not None else None,  # type: ignore[arg-type]
        published_at=published,  # type: ignore[arg-type]
        deleted=deleted is not None,
    )


def _comment(row: Sequence[object]) -> Comment:
    comment_id, video_id, author, text, created, deleted = row
    return Comment(
        comment_id=str(comment_id),
        video_id=str(video_id),
        author_id=str(author),
        text=str(text),
        created_at=created,  # type: ignore[arg-type]
        deleted=deleted is not None,
    )


class PostgresEngagement:
    def __init__(self, pool: AsyncConnectionPool) -> None:
        self._pool = pool

    @asynccontextmanager
    async def _reading(self) -> AsyncIterator[AsyncConnection]:
        """A pooled connection for one read-only statement, in autocommit: the statement
        is its own transaction, so no BEGIN and COMMIT round trips go with it (a feed
        page's facts are four such reads)."""
        async with self._pool.connection() as conn:
            await conn.set_autocommit(True)  # the connection is idle: no round trip
            try:
                yield conn
            finally:
                # Back in the pool as it came (a broken connection is dropped anyway).
                with suppress(Exception):
                    await conn.set_autocommit(False)

    # -- reads ----------------------------------------------------------------------------

    async def video(self, video_id: str) -> VideoInfo | None:
        async with self._reading() as conn:
            cur = await conn.execute(
                f"SELECT {_VIDEO} FROM stream.video_engagement WHERE video_id = %s",  # noqa: S608
                (video_id,),
            )
            row = await cur.fetchone()
        return _video(row) if row else None

    async def counters(self, video_id: str) -> Counters:
        async with self._reading() as conn:
            cur = await conn.execute(
                f"SELECT {_COUNTERS} FROM stream.video_engagement WHERE video_id = %s",  # noqa: S608
                (video_id,),
            )
            return _counters(await cur.fetchone())

    async def engagements(self, video_ids: Sequence[str]) -> dict[str, Engagement]:
        if not video_ids:
            return {}
        async with self._reading() as conn:
            cur = await conn.execute(
                f"SELECT video_id::text, {_COUNTERS}, watch_complete_count,"  # noqa: S608
                " completion_rate, avg_watch_seconds FROM stream.video_engagement"
                f" WHERE video_id = ANY({_UUID_LIST})"
                " AND published_at IS NOT NULL AND deleted_at IS NULL",
                (_uuid_list(video_ids),),
            )
            rows = await cur.fetchall()
        # The columns come typed (bigint, double precision, none ever NULL): no conversions
        # for the hundreds of rows of a feed page.
        return {
            video_id: Engagement(
                video_id, Counters(views, likes, shares, comments), completes, rate, watch_s
            )
            for video_id, views, likes, shares, comments, completes, rate, watch_s in rows
        }

    async def live_video_ids(self, video_ids: Sequence[str]) -> set[str]:
        wanted = sorted({v for v in video_ids if is_uuid(v)})
        if not wanted:
            return set()
        async with self._reading() as conn:
            cur = await conn.execute(
                "SELECT video_id::text FROM stream.video_engagement"  # noqa: S608
                f" WHERE video_id = ANY({_UUID_LIST})"
                " AND published_at IS NOT NULL AND deleted_at IS NULL",
                (_uuid_list(wanted),),
            )
            return {row[0] for row in await cur.fetchall()}

    async def creator_videos(self, creator_id: str) -> list[VideoInfo]:
        async with self._reading() as conn:
            cur = await conn.execute(
                f"SELECT {_VIDEO} FROM stream.video_engagement WHERE creator_id = %s",  # noqa: S608
                (creator_id,),
            )
            return [_video(row) for row in await cur.fetchall()]

    async def liked_and_shared(self, user_id: str, since: datetime) -> list[CreatorInteraction]:
        async with self._reading() as conn:
            cur = await conn.execute(
                "SELECT e.creator_id, l.video_id::text, 'liked', l.created_at"
                " FROM stream.likes l JOIN stream.video_engagement e USING (video_id)"
                " WHERE l.user_id = %(user)s AND l.created_at >= %(since)s"
                " AND e.creator_id IS NOT NULL AND e.deleted_at IS NULL"
                " UNION ALL"
                " SELECT e.creator_id, s.video_id::text, 'shared', max(s.created_at)"
                " FROM stream.shares s JOIN stream.video_engagement e USING (video_id)"
                " WHERE s.user_id = %(user)s AND s.created_at >= %(since)s"
                " AND e.creator_id IS NOT NULL AND e.deleted_at IS NULL"
                " GROUP BY e.creator_id, s.video_id",
                {"user": user_id, "since": since},
            )
            rows = await cur.fetchall()
        return [CreatorInteraction(c, v, Interaction(kind), at) for c, v, kind, at in rows]

    # -- likes, shares, comments ----------------------------------------------------------

    # Each writes its events into stream.outbox in the transaction of the row and counter
    # change, with the count that change produced (see engagement_bus.OUTBOX): they reach
    # the bus exactly when the change committed, through the relay.

    async def like(self, event: RecordedEvent) -> tuple[bool, Counters]:
        changed, counters = await self._toggle_like(
            event.video_id,
            event.user_id,
            "INSERT INTO stream.likes (video_id, user_id) VALUES (%(video)s, %(user)s)"
            " ON CONFLICT DO NOTHING RETURNING 1",
            "+",
            lambda likes: liked_events(event, likes),
        )
        if changed:
            LIKES.inc()
        return changed, counters

    async def unlike(self, video: VideoInfo, user_id: str, at: datetime) -> tuple[bool, Counters]:
        return await self._toggle_like(
            video.video_id,
            user_id,
            "DELETE FROM stream.likes WHERE video_id = %(video)s AND user_id = %(user)s"
            " RETURNING 1",
            "-",
            lambda likes: unliked_events(video, user_id, at, likes),
        )

    async def _toggle_like(
        self,
        video_id: str,
        user_id: str,
        change: str,
        sign: str,
        events: Callable[[int], Sequence[OutboxItem]],
    ) -> tuple[bool, Counters]:
        # One statement: the like row and the counter move together or not at all, and a
        # concurrent duplicate waits on the primary key, then changes nothing (and so
        # enqueues no events). The events, with the count it returned, join its transaction.
        sql = (
            f"WITH changed AS ({change})"  # noqa: S608
            " UPDATE stream.video_engagement SET"
            f" like_count = greatest(0, like_count {sign} (SELECT count(*) FROM changed)),"
            " updated_at = now()"
            f" WHERE video_id = %(video)s RETURNING {_COUNTERS}, (SELECT count(*) FROM changed)"
        )
        async with self._pool.connection() as conn, conn.transaction():
            cur = await conn.execute(sql, {"video": video_id, "user": user_id})
            row = await cur.fetchone()
            if row is None:
                raise NotFound(f"video {video_id} not found")
            changed, counters = bool(row[4]), _counters(row)
            if changed:
                await OUTBOX.enqueue_many(conn, events(counters.likes))
        return changed, counters

    async def share(self, event: RecordedEvent, platform: str) -> Counters:
        async with self._pool.connection() as conn, conn.transaction():
            cur = await conn.execute(
                "WITH shared AS (INSERT INTO stream.shares (video_id, user_id, platform)"  # noqa: S608
                "  VALUES (%(video)s, %(user)s, %(platform)s) RETURNING 1)"
                " UPDATE stream.video_engagement SET"
                " share_count = share_count + (SELECT count(*) FROM shared), updated_at = now()"
                f" WHERE video_id = %(video)s RETURNING {_COUNTERS}",
                {"video": event.video_id, "user": event.user_id, "platform": platform},
            )
            row = await cur.fetchone()
            if row is None:
                raise NotFound(f"video {event.video_id} not found")
            counters = _counters(row)
            await OUTBOX.enqueue_many(conn, shared_events(event, platform, counters.shares))
        SHARES.inc()
        return counters

    async def add_comment(
        self, event: RecordedEvent, comment_id: str, text: str
    ) -> tuple[Comment, Counters]:
        """Stores `event.user_id`'s comment under `comment_id` (the key of `event`)."""
        async with self._pool.connection() as conn, conn.transaction():
            cur = await conn.execute(
                "INSERT INTO stream.comments (id, video_id, author_id, text)"
                " VALUES (%s, %s, %s, %s)"
                " RETURNING id, video_id, author_id, text, created_at, deleted_at",
                (comment_id, event.video_id, event.user_id, text),
            )
            row = await cur.fetchone()
            assert row is not None
            comment = _comment(row)
            cur = await conn.execute(
                "UPDATE stream.video_engagement SET comment_count = comment_count + 1,"  # noqa: S608
                f" updated_at = now() WHERE video_id = %s RETURNING {_COUNTERS}",
                (event.video_id,),
            )
            found = await cur.fetchone()
            if found is None:
                raise NotFound(f"video {event.video_id} not found")
            counters = _counters(found)
            await OUTBOX.enqueue_many(conn, commented_events(event, comment, counters.comments))
        COMMENTS.inc()
        return comment, counters

    async def comments(
        self, video_id: str, after: CommentCursor | None, limit: int
    ) -> list[Comment]:
        where = "video_id = %(video)s AND deleted_at IS NULL"
        params: dict[str, object] = {"video": video_id, "limit": limit}
        if after is not None:
            where += " AND (created_at, id) < (%(at)s, %(id)s::uuid)"
            params.update(at=after.created_at, id=after.comment_id)
        async with self._reading() as conn:
            cur = await conn.execute(
                "SELECT id, video_id, author_id, text, created_at, deleted_at"  # noqa: S608
                f" FROM stream.comments WHERE {where}"
                " ORDER BY created_at DESC, id DESC LIMIT %(limit)s",
                params,
            )
            return [_comment(row) for row in await cur.fetchall()]

    async def comment(self, video_id: str, comment_id: str) -> Comment | None:
        async with self._reading() as conn:
            cur = await conn.execute(
                "SELECT id, video_id, author_id, text, created_at, deleted_at"
                " FROM stream.comments WHERE id = %s AND video_id = %s",
                (comment_id, video_id),
            )
            row = await cur.fetchone()
        return _comment(row) if row else None

    async def delete_comment(self, video_id: str, comment_id: str) -> tuple[bool, Counters]:
        async with self._pool.connection() as conn:
            cur = await conn.execute(
                "WITH gone AS (UPDATE stream.comments SET deleted_at = now()"  # noqa: S608
                "  WHERE id = %(comment)s AND video_id = %(video)s AND deleted_at IS NULL"
                "  RETURNING 1)"
                " UPDATE stream.video_engagement SET"
                " comment_count = greatest(0, comment_count - (SELECT count(*) FROM gone)),"
                " updated_at = now()"
                f" WHERE video_id = %(video)s RETURNING {_COUNTERS}, (SELECT count(*) FROM gone)",
                {"comment": comment_id, "video": video_id},
            )
            row = await cur.fetchone()
        return (bool(row[4]), _counters(row)) if row else (False, Counters())

    # -- the catalogue (video.published / updated / deleted) ------------------------------

    async def record_video(
        self,
        video_id: str,
        creator_id: str,
        title: str,
        duration_s: float,
        published_at: datetime,
        version: int,
    ) -> tuple[bool, bool]:
        """Records a published or updated video; returns (newest, deleted): whether this
        version is at least as new as any applied before, and whether the video is
        deleted (a deletion may overtake the publication)."""
        async with self._pool.connection() as conn, conn.transaction():
            cur = await conn.execute(
                "SELECT catalogue_version, deleted_at FROM stream.video_engagement"
                " WHERE video_id = %s FOR UPDATE",
                (video_id,),
            )
            row = await cur.fetchone()
            if row is not None and int(row[0]) > version:
                return False, row[1] is not None
            await conn.execute(
                "INSERT INTO stream.video_engagement"
                " (video_id, creator_id, title, duration_seconds, published_at,"
                "  catalogue_version)"
                " VALUES (%(video)s, %(creator)s, %(title)s, %(duration)s, %(published)s,"
                "  %(version)s)"
                " ON CONFLICT (video_id) DO UPDATE SET creator_id = EXCLUDED.creator_id,"
                "  title = EXCLUDED.title, duration_seconds = EXCLUDED.duration_seconds,"
                "  published_at = coalesce(stream.video_engagement.published_at,"
                "                          EXCLUDED.published_at),"
                "  catalogue_version = EXCLUDED.catalogue_version, updated_at = now()",
                {
                    "video": video_id,
                    "creator": creator_id,
                    "title": title,
                    "duration": duration_s,
                    "published": published_at,
                    "version": version,
                },
            )
            return True, row is not None and row[1] is not None

    async def published_at(self, video_id: str) -> datetime | None:
        async with self._reading() as conn:
            cur = await conn.execute(
                "SELECT published_at FROM stream.video_engagement WHERE video_id = %s",
                (video_id,),
            )
            row = await cur.fetchone()
        return row[0] if row else None

    async def delete_video(
        self, video_id: str, creator_id: str, deleted_at: datetime, version: int
    ) -> int:
        """Marks the video deleted; returns the version its ClickHouse row must carry."""
        async with self._pool.connection() as conn:
            cur = await conn.execute(
                "INSERT INTO stream.video_engagement"
                " (video_id, creator_id, deleted_at, catalogue_version)"
                " VALUES (%(video)s, nullif(%(creator)s, ''), %(at)s, %(version)s)"
                " ON CONFLICT (video_id) DO UPDATE SET"
                "  deleted_at = coalesce(stream.video_engagement.deleted_at, EXCLUDED.deleted_at),"
                "  creator_id = coalesce(stream.video_engagement.creator_id,"
                "                        EXCLUDED.creator_id),"
                "  catalogue_version = greatest(stream.video_engagement.catalogue_version + 1,"
                "                               EXCLUDED.catalogue_version),"
                "  updated_at = now()"
                " RETURNING catalogue_version",
                {"video": video_id, "creator": creator_id, "at": deleted_at, "version": version},
            )
            row = await cur.fetchone()
        return int(row[0]) if row else version

    # -- maintenance ----------------------------------------------------------------------

    async def prune(self, before: datetime) -> tuple[int, int]:
        """Forgets event ids and sessions older than any redelivery or client retry."""
        async with self._pool.connection() as conn:
            events = await conn.execute(
                "DELETE FROM stream.processed_events WHERE processed_at < %s", (before,)
            )
            sessions = await conn.execute(
                "DELETE FROM stream.watch_sessions WHERE updated_at < %s", (before,)
            )
            return events.rowcount, sessions.rowcount

    async def average_completion_rate(self) -> float:
        async with self._reading() as conn:
            cur = await conn.execute(
                "SELECT coalesce(sum(watch_complete_count)::float8"
                " / nullif(sum(view_count), 0), 0) FROM stream.video_engagement"
                " WHERE deleted_at IS NULL"
            )
            row = await cur.fetchone()
        return min(1.0, float(row[0])) if row else 0.0


# -- exactly-once counting of consumed playback events -----------------------------------


async def claim_event_ids(conn: AsyncConnection, event_ids: Sequence[str]) -> set[str]:
    """Records the ids as processed; returns those recorded before (usually none, so the
    reply is empty rather than every id again). The rows stay locked until the
    transaction ends, so a concurrent consumer holding the same ids waits and then sees
    them as processed. The ids go as one binary text[]; PostgreSQL sorts them (the lock
    order that keeps concurrent claims free of deadlocks)."""
    if not event_ids:
        return set()
    cur = conn.cursor(row_factory=tuple_row)
    await cur.execute(
        "WITH input AS (SELECT DISTINCT id FROM unnest(%b::text[]) AS t(id)),"
        " claimed AS ("
        "  INSERT INTO stream.processed_events (event_id)"
        "  SELECT id FROM input ORDER BY id"
        "  ON CONFLICT DO NOTHING RETURNING event_id"
        ") SELECT id FROM input EXCEPT ALL SELECT event_id FROM claimed",
        (list(event_ids),),
    )
    return {row[0] for row in await cur.fetchall()}


async def apply_counters(conn: AsyncConnection, plan: CounterPlan) -> None:
    """Moves views, completes and total watch time by the plan, in the caller's
    transaction (the one that claimed the event ids)."""
    watch_delta: dict[str, float] = {}
    if plan.session_watch_ms:
        keys = sorted(plan.session_watch_ms)
        columns = (
            [k.video_id for k in keys],
            [k.user_id for k in keys],
            [k.session_id for k in keys],
            [plan.session_watch_ms[k] for k in keys],
        )
        await conn.execute(
            "INSERT INTO stream.watch_sessions (video_id, user_id, session_id)"
            " SELECT v, u, s FROM unnest(%s::uuid[], %s::text[], %s::text[]) AS t(v, u, s)"
            " ORDER BY v, u, s ON CONFLICT DO NOTHING",
            columns[:3],
        )
        # Lock the sessions whose maximum moves and read the maximum they had (after any
        # concurrent writer committed), then move it; the difference is new watch time.
        cur = await conn.execute(
            "WITH input AS ("
            "  SELECT * FROM unnest(%s::uuid[], %s::text[], %s::text[], %s::bigint[])"
            "  AS t(video_id, user_id, session_id, ms)"
            "), locked AS ("
            "  SELECT w.video_id, w.user_id, w.session_id, w.max_watch_ms AS old_ms, i.ms"
            "  FROM stream.watch_sessions w JOIN input i USING (video_id, user_id, session_id)"
            "  WHERE i.ms > w.max_watch_ms"
            "  ORDER BY w.video_id, w.user_id, w.session_id FOR UPDATE OF w"
            "), moved AS ("
            "  UPDATE stream.watch_sessions s SET max_watch_ms = l.ms, updated_at = now()"
            "  FROM locked l WHERE s.video_id = l.video_id AND s.user_id = l.user_id"
            "   AND s.session_id = l.session_id"
            "  RETURNING s.video_id, l.ms - l.old_ms AS delta"
            ") SELECT video_id::text, sum(delta) FROM moved GROUP BY video_id",
            columns,
        )
        watch_delta = {row[0]: float(row[1]) / 1000 for row in await cur.fetchall()}
    videos = sorted(set(plan.videos) | set(watch_delta))
    if not videos:
        return
    await conn.execute(
        "INSERT INTO stream.video_engagement (video_id)"
        " SELECT v FROM unnest(%s::uuid[]) AS t(v) ORDER BY v ON CONFLICT DO NOTHING",
        (videos,),
    )
    await conn.execute(
        "UPDATE stream.video_engagement e SET"
        " view_count = e.view_count + d.views,"
        " watch_complete_count = e.watch_complete_count + d.completes,"
        " total_watch_seconds = e.total_watch_seconds + d.watch_s,"
        " updated_at = now()"
        " FROM unnest(%s::uuid[], %s::bigint[], %s::bigint[], %s::float8[])"
        " AS d(video_id, views, completes, watch_s)"
        " WHERE e.video_id = d.video_id",
        (
            videos,
            [plan.videos[v].views if v in plan.videos else 0 for v in videos],
            [plan.videos[v].completes if v in plan.videos else 0 for v in videos],
            [watch_delta.get(v, 0.0) for v in videos],
        ),
    )
