"""ClickHouse for the engagement half: events, watch history, videos, embeddings, facts."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from clickhouse_connect.driver.client import Client

from stream_svc.domain.affinity import LOOKBACK, CreatorInteraction
from stream_svc.domain.analytics import (
    HD_MIN_HEIGHT,
    BucketFacts,
    Counters,
    CreatorRange,
    Granularity,
    RenditionSegments,
    VideoFacts,
    VideoRangeFacts,
    rendition_height,
)
from stream_svc.domain.events import (
    COLUMN_NAMES,
    MILESTONE_BY_VALUE,
    MILESTONES,
    PROGRESS_ACTIONS,
    SESSION_ACTIONS,
    EventColumns,
)
from stream_svc.domain.model import (
    CreatorFacts,
    EmbeddingRecord,
    TagCount,
    TrendingRow,
    VideoInfo,
    VideoRecord,
    WatchEntry,
)
from stream_svc.domain.trending import ACTION_WEIGHTS, Window, WindowEngagement
from stream_svc.domain.watch_rows import WatchRow, completed_interactions, history_entries

Run = Callable[..., Awaitable[Any]]

_EVENT_COLUMNS = [
    "event_id",
    "video_id",
    "creator_id",
    "user_id",
    "session_id",
    "action",
    "bitrate_kbps",
    "rendition",
    "device",
    "watch_ms",
    "position_ms",
    "startup_ms",
    "rebuffer_ms",
    "event_time",
    "segment_id",
]
# EventColumns holds the events in the order of the video_events columns above.
_UINT32_COLUMNS = frozenset(
    ("bitrate_kbps", "watch_ms", "position_ms", "startup_ms", "rebuffer_ms")
)
_HISTORY_COLUMNS = [
    "user_id",
    "video_id",
    "creator_id",
    "session_id",
    "watched_at",
    "watch_ms",
    "completion",
]
_VIDEO_COLUMNS = [
    "video_id",
    "creator_id",
    "title",
    "description",
    "hashtags",
    "sound_id",
    "duration_seconds",
    "width",
    "height",
    "thumbnail_key",
    "preview_key",
    "renditions",
    "rendition_heights",
    "rendition_kbps",
    "published_at",
    "updated_at",
    "deleted",
    "version",
]
_UINT32 = 2**32 - 1
_WATCH_INDEX = _EVENT_COLUMNS.index("watch_ms")
# EventColumns lists its fields in the order of the table's columns (times in ms).
assert [c.removesuffix("_ms") if c == "event_time_ms" else c for c in COLUMN_NAMES] == (
    _EVENT_COLUMNS
), "EventColumns and video_events disagree on the column order"

# A session's completion: the furthest milestone among its events.
_MILESTONE_SQL = (
    "multiIf("
    + ", ".join(
        f"action = '{action.value}', {ratio}"
        for action, ratio in sorted(MILESTONES.items(), key=lambda kv: -kv[1])
        if ratio > 0
    )
    + ", 0.0)"
)
_PROGRESS = [a.value for a in PROGRESS_ACTIONS]
_SESSION = [a.value for a in SESSION_ACTIONS]
_WEIGHTED = [a.value for a in ACTION_WEIGHTS]
_WEIGHT_SQL = (
    "multiIf("
    + ", ".join(f"action = '{a.value}', {w!r}" for a, w in ACTION_WEIGHTS.items())
    + ", 0.0)"
)
_BUCKET_SQL = {Granularity.HOUR: "toStartOfHour", Granularity.DAY: "toStartOfDay"}


def _u32(value: int) -> int:
    return min(max(value, 0), _UINT32)


def _u32_column(column: list[int]) -> list[int]:
    # min() and max() over the whole column run in C; values out of range are rare.
    if column and (min(column) < 0 or max(column) > _UINT32):
        return [_u32(v) for v in column]
    return column


def _token(kind: str, ids: Sequence[str]) -> str:
    # The same events always make the same token: a redelivered identical batch is
    # dropped by the tables' non_replicated_deduplication_window.
    digest = hashlib.sha256("\n".join(sorted(ids)).encode()).hexdigest()
    return f"{kind}:{digest}"


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _consume_outcome(task: asyncio.Future[Any]) -> None:
    if not task.cancelled():
        task.exception()  # retrieved: an abandoned call's error is not "never retrieved"


_ONE_USER = {"max_threads": 1}
# The most watch_history rows one per-user read returns (newest first).
USER_ROWS = 4000


class ClickHouseEvents:
    """Every ClickHouse call goes through `run` (one at a time, off the event loop)."""

    def __init__(self, client: Client, run: Run) -> None:
        self._client = client
        self._in_clickhouse = run
        # Per user, the read of their rows in flight and the window it covers.
        self._user_reads: dict[str, tuple[datetime, asyncio.Future[list[WatchRow]]]] = {}

    async def _run(self, fn: Callable[[], Any]) -> Any:
        # A caller that is cancelled (its RPC's deadline passed, the client went away) must
        # not release the ClickHouse lock while its thread is still inside chDB: the next
        # call would enter chDB concurrently, which deadlocks it. The call runs to its end
        # in a task of its own that keeps the lock; only the wait for it is cancelled.
        task = asyncio.ensure_future(self._in_clickhouse(fn))
        task.add_done_callback(_consume_outcome)
        return await asyncio.shield(task)

    # -- ingestion ------------------------------------------------------------------------

    async def already_stored(self, events: EventColumns) -> set[str]:
        """The ids among `events` that ClickHouse `video_events` holds already."""
        if not len(events):
            return set()
        videos = events.video_ids()
        ids = list(events.event_id)

        def query() -> set[str]:
            result = self._client.query(
                "SELECT DISTINCT event_id FROM video_events"
                " WHERE video_id IN {videos:Array(String)} AND event_id IN {ids:Array(String)}",
                parameters={"videos": videos, "ids": ids},
            )
            return {row[0] for row in result.result_rows}

        return await self._run(query)

    async def store(self, events: EventColumns) -> None:
        """Writes the events to `video_events` and their progress to `watch_history`, as
        columns (no Python object per row or value on the way into ClickHouse).

        watch_history goes first: its readers take maxima per session, so a row written
        twice (a crash between the two inserts) changes nothing there, while video_events
        is the table whose content decides whether a batch has landed.
        """
        if not len(events):
            return
        columns = [
            _u32_column(column) if name in _UINT32_COLUMNS else column
            for name, column in zip(COLUMN_NAMES, events.columns(), strict=True)
        ]
        # One history row per session and batch: readers take maxima per session, so the
        # furthest point of the batch tells all its progress events would have told.
        furthest: dict[tuple[str, str, str], list[Any]] = {}
        progress: list[str] = []
        milestones = MILESTONE_BY_VALUE
        for event_id, user_id, video_id, creator_id, session_id, action, at, watch in zip(
            events.event_id,
            events.user_id,
            events.video_id,
            events.creator_id,
            events.session_id,
            events.action,
            events.event_time_ms,
            columns[_WATCH_INDEX],
            strict=True,
        ):
            milestone = milestones.get(action)
            if milestone is None:
                continue
            progress.append(event_id)
            row = furthest.get((user_id, video_id, session_id))
            if row is None:
                furthest[(user_id, video_id, session_id)] = [
                    user_id,
                    video_id,
                    creator_id,
                    session_id,
                    at,
                    watch,
                    milestone,
                ]
            else:
                if at > row[4]:
                    row[4] = at
                if watch > row[5]:
                    row[5] = watch
                if milestone > row[6]:
                    row[6] = milestone
        history = [list(column) for column in zip(*furthest.values(), strict=True)]
        ids = events.event_id

        def insert() -> None:
            if history:
                self._client.insert(
                    "watch_history",
                    history,
                    column_names=_HISTORY_COLUMNS,
                    column_oriented=True,
                    settings={"insert_deduplication_token": _token("watch_history", progress)},
                )
            self._client.insert(
                "video_events",
                columns,
                column_names=_EVENT_COLUMNS,
                column_oriented=True,
                settings={"insert_deduplication_token": _token("video_events", ids)},
            )

        await self._run(insert)

    async def upsert_video(self, video: VideoRecord, *, version: int, deleted: bool) -> None:
        """A new version of the video's row (ReplacingMergeTree keeps the highest)."""
        video_rungs = [r for r in video.renditions if r.height > 0]
        top = max(video_rungs, key=lambda r: r.height, default=None)
        row = [
            video.video_id,
            video.creator_id,
            video.title,
            video.description,
            list(video.hashtags),
            video.sound_id,
            video.duration_s,
            0,
            top.height if top else 0,
            video.thumbnail_key,
            video.preview_key,
            [r.name for r in video.renditions],
            [min(r.height, 65535) for r in video.renditions],
            [_u32(r.bitrate_kbps) for r in video.renditions],
            video.published_at,
            video.updated_at,
            1 if deleted else 0,
            version,
        ]

        def insert() -> None:
            self._client.insert("videos", [row], column_names=_VIDEO_COLUMNS)

        await self._run(insert)

    async def mark_deleted(self, video_id: str, *, version: int) -> bool:
        """Writes the deleted version of the video's latest row; False when there is none."""

        def write() -> bool:
            result = self._client.query(
                f"SELECT {', '.join(_VIDEO_COLUMNS)} FROM videos FINAL"  # noqa: S608
                " WHERE video_id = {video:String}",
                parameters={"video": video_id},
            )
            if not result.result_rows:
                return False
            row = list(result.result_rows[0])
            row[_VIDEO_COLUMNS.index("deleted")] = 1
            row[_VIDEO_COLUMNS.index("version")] = max(
                version, row[_VIDEO_COLUMNS.index("version")] + 1
            )
            row[_VIDEO_COLUMNS.index("updated_at")] = datetime.now(UTC)
            self._client.insert("videos", [row], column_names=_VIDEO_COLUMNS)
            return True

        return await self._run(write)

    # -- video analytics ------------------------------------------------------------------

    async def video_facts(self, video_id: str) -> VideoFacts:
        params = {"video": video_id, "session": _SESSION, "progress": _PROGRESS}

        def query() -> VideoFacts:
            sessions = self._client.query(
                "SELECT completion, count(), sum(watch) FROM ("  # noqa: S608
                f" SELECT max({_MILESTONE_SQL}) AS completion, max(watch_ms) AS watch"
                " FROM video_events"
                " WHERE video_id = {video:String} AND action IN {session:Array(String)}"
                " GROUP BY user_id, session_id"
                " HAVING countIf(action IN {progress:Array(String)}) > 0"
                ") GROUP BY completion",
                parameters=params,
            ).result_rows
            startup = self._client.query(
                "SELECT startup_ms, count() FROM video_events"
                " WHERE video_id = {video:String} AND action = 'startup' GROUP BY startup_ms",
                parameters=params,
            ).result_rows
            rebuffer = self._client.command(
                "SELECT sum(rebuffer_ms) FROM video_events"
                " WHERE video_id = {video:String} AND action = 'rebuffer'",
                parameters=params,
            )
            ladder = self._client.query(
                "SELECT renditions, rendition_heights, rendition_kbps FROM videos FINAL"
                " WHERE video_id = {video:String}",
                parameters=params,
            ).result_rows
            segments = self._client.query(
                "SELECT rendition, max(bitrate_kbps), count() FROM video_events"
                " WHERE video_id = {video:String} AND action = 'watch_segment'"
                " AND rendition NOT IN ('', 'audio') AND NOT startsWith(segment_id, 'init')"
                " GROUP BY rendition",
                parameters=params,
            ).result_rows
            heights: dict[str, int] = {}
            kbps: dict[str, int] = {}
            if ladder:
                names, rung_heights, rung_kbps = ladder[0]
                for i, name in enumerate(names):
                    heights[name] = rung_heights[i] if i < len(rung_heights) else 0
                    kbps[name] = rung_kbps[i] if i < len(rung_kbps) else 0
            hd = [
                name
                for name, _, _ in segments
                if rendition_height(name, heights.get(name)) >= HD_MIN_HEIGHT
            ]
            segment_sessions, hd_sessions = self._client.query(
                "SELECT count(), countIf(hd * 2 > total) FROM ("
                " SELECT count() AS total, countIf(rendition IN {hd:Array(String)}) AS hd"
                " FROM video_events WHERE video_id = {video:String}"
                " AND action = 'watch_segment' AND rendition NOT IN ('', 'audio')"
                " AND NOT startsWith(segment_id, 'init')"
                " GROUP BY user_id, session_id)",
                parameters={**params, "hd": hd},
            ).result_rows[0]
            return VideoFacts(
                completion_histogram=[(float(c), int(n)) for c, n, _ in sessions],
                total_watch_ms=int(sum(w for _, _, w in sessions)),
                startup_histogram_ms=[(float(ms), int(n)) for ms, n in startup],
                rebuffer_ms=int(rebuffer or 0),
                segments=[
                    RenditionSegments(name, int(kbps.get(name) or top), int(n))
                    for name, top, n in segments
                ],
                segment_sessions=int(segment_sessions),
                hd_sessions=int(hd_sessions),
            )

        return await self._run(query)

    # -- trending, hashtags, sounds -------------------------------------------------------

    async def window_engagement(
        self, window: Window, now: datetime, cap: int, video_id: str | None = None
    ) -> list[TrendingRow]:
        """Engagement of the window ending now (counts, decayed and raw weighted) and of the
        window before it (raw weighted), for published, undeleted videos."""
        start = now - window.value
        params: dict[str, Any] = {
            "now": now,
            "start": start,
            "prev": start - window.value,
            "half": window.half_life_s,
            "actions": _WEIGHTED,
            "cap": cap,
            "video": video_id or "",
        }
        only = " AND video_id = {video:String}" if video_id else ""
        sql = (
            "SELECT e.video_id, v.creator_id, v.published_at, e.views, e.likes, e.shares,"  # noqa: S608
            " e.comments, e.completes, e.decayed, e.current, e.previous"
            " FROM ("
            "  SELECT video_id,"
            "   countIf(action = 'watch_start' AND event_time >= {start:DateTime64(3, 'UTC')})"
            "     AS views,"
            "   countIf(action = 'like' AND event_time >= {start:DateTime64(3, 'UTC')}) AS likes,"
            "   countIf(action = 'share' AND event_time >= {start:DateTime64(3, 'UTC')})"
            "     AS shares,"
            "   countIf(action = 'comment' AND event_time >= {start:DateTime64(3, 'UTC')})"
            "     AS comments,"
            "   countIf(action = 'watch_complete' AND event_time >= {start:DateTime64(3, 'UTC')})"
            "     AS completes,"
            f"  sumIf({_WEIGHT_SQL} * exp2(-greatest(0, dateDiff('millisecond', event_time,"
            "     {now:DateTime64(3, 'UTC')})) / 1000 / {half:Float64}),"
            "     event_time >= {start:DateTime64(3, 'UTC')}) AS decayed,"
            f"  sumIf({_WEIGHT_SQL}, event_time >= {{start:DateTime64(3, 'UTC')}}) AS current,"
            f"  sumIf({_WEIGHT_SQL}, event_time < {{start:DateTime64(3, 'UTC')}}) AS previous"
            "  FROM video_events"
            "  WHERE event_time >= {prev:DateTime64(3, 'UTC')}"
            "   AND event_time <= {now:DateTime64(3, 'UTC')}"
            f"   AND action IN {{actions:Array(String)}}{only}"
            "  GROUP BY video_id HAVING current > 0"
            " ) AS e"
            " INNER JOIN ("
            "  SELECT video_id, creator_id, published_at FROM videos FINAL WHERE deleted = 0"
            f"{only}"
            " ) AS v ON v.video_id = e.video_id"
            " ORDER BY e.current DESC, e.video_id LIMIT {cap:UInt32}"
        )

        def query() -> list[TrendingRow]:
            rows = self._client.query(sql, parameters=params).result_rows
            return [
                TrendingRow(
                    video_id=vid,
                    creator_id=creator,
                    published_at=_aware(published) if published else None,
                    counters=Counters(int(views), int(likes), int(shares), int(comments)),
                    completes=int(completes),
                    engagement=WindowEngagement(float(decayed), float(cur), float(prev)),
                )
                for (
                    vid,
                    creator,
                    published,
                    views,
                    likes,
                    shares,
                    comments,
                    completes,
                    decayed,
                    cur,
                    prev,
                ) in rows
            ]

        return await self._run(query)

    async def _tag_counts(
        self, column: str, window: Window, now: datetime, limit: int
    ) -> list[TagCount]:
        # `column` is one of two fixed expressions below, never caller input.
        sql = (
            "SELECT tag, countIf(published_at >= {start:DateTime64(3, 'UTC')}) AS video_count,"  # noqa: S608
            " sum(views) AS view_count FROM ("
            f"  SELECT {column}, v.published_at AS published_at, e.views AS views"
            "  FROM (SELECT video_id, hashtags, sound_id, published_at"
            "        FROM videos FINAL WHERE deleted = 0) AS v"
            "  LEFT JOIN ("
            "   SELECT video_id, count() AS views FROM video_events"
            "   WHERE action = 'watch_start' AND event_time >= {start:DateTime64(3, 'UTC')}"
            "    AND event_time <= {now:DateTime64(3, 'UTC')}"
            "   GROUP BY video_id"
            "  ) AS e ON e.video_id = v.video_id"
            " ) WHERE tag != ''"
            " GROUP BY tag HAVING video_count > 0 OR view_count > 0"
            " ORDER BY video_count DESC, view_count DESC, tag LIMIT {limit:UInt32}"
        )
        params = {"start": now - window.value, "now": now, "limit": limit}

        def query() -> list[TagCount]:
            rows = self._client.query(sql, parameters=params).result_rows
            return [TagCount(tag, int(videos), int(views)) for tag, videos, views in rows]

        return await self._run(query)

    async def hashtag_counts(self, window: Window, now: datetime, limit: int) -> list[TagCount]:
        return await self._tag_counts("arrayJoin(v.hashtags) AS tag", window, now, limit)

    async def sound_counts(self, window: Window, now: datetime, limit: int) -> list[TagCount]:
        return await self._tag_counts("v.sound_id AS tag", window, now, limit)

    # -- per user -------------------------------------------------------------------------
    # One user's rows are one sorted range of the table (ORDER BY user_id, watched_at). A
    # fresh feed page asks for the user's history and affinity at once: both are folded
    # from one read of the user's newest rows (stream_svc/domain/watch_rows.py), which the
    # two requests share while it is in flight. The read is bounded: a heavy viewer's
    # facts come from their newest USER_ROWS rows.

    async def watch_history(self, user_id: str, since: datetime, limit: int) -> list[WatchEntry]:
        return history_entries(await self._user_rows(user_id, since), since, limit)

    async def completed(self, user_id: str, since: datetime) -> list[CreatorInteraction]:
        return completed_interactions(await self._user_rows(user_id, since), since)

    async def _user_rows(self, user_id: str, since: datetime) -> list[WatchRow]:
        """The user's newest rows since `since` at least (callers filter by their own)."""
        shared = self._user_reads.get(user_id)
        if shared is not None and shared[0] <= since:
            return await asyncio.shield(shared[1])
        # Every read covers affinity's lookback, so whichever of a page's two requests
        # comes first, the other can share it.
        window = min(since, datetime.now(UTC) - LOOKBACK)
        read = asyncio.ensure_future(self._read_user_rows(user_id, window))
        self._user_reads[user_id] = (window, read)

        def forget(done: asyncio.Future[list[WatchRow]]) -> None:
            current = self._user_reads.get(user_id)
            if current is not None and current[1] is done:
                del self._user_reads[user_id]

        read.add_done_callback(forget)
        read.add_done_callback(_consume_outcome)  # every sharer may have stopped waiting
        return await asyncio.shield(read)

    async def _read_user_rows(self, user_id: str, since: datetime) -> list[WatchRow]:
        sql = (
            "SELECT video_id, session_id, creator_id, watched_at, completion, watch_ms"
            " FROM watch_history"
            " WHERE user_id = {user:String} AND watched_at >= {since:DateTime64(3, 'UTC')}"
            " ORDER BY watched_at DESC LIMIT {rows:UInt32}"
        )
        params = {"user": user_id, "since": since, "rows": USER_ROWS}

        def query() -> list[WatchRow]:
            rows = self._client.query(sql, parameters=params, settings=_ONE_USER).result_rows
            return [
                WatchRow(vid, session, creator, _aware(at), float(completion), int(watch))
                for vid, session, creator, at, completion, watch in rows
            ]

        return await self._run(query)

    # -- creator analytics ----------------------------------------------------------------

    async def creator_facts(self, videos: Sequence[VideoInfo], span: CreatorRange) -> CreatorFacts:
        titles = {v.video_id: v.title for v in videos}
        if not titles:
            return CreatorFacts({}, {}, [], 0.0, 0)
        bucket = _BUCKET_SQL[span.granularity]
        params = {
            "videos": sorted(titles),
            "start": span.start,
            "end": span.end,
            "session": _SESSION,
            "progress": _PROGRESS,
        }
        where = (
            " WHERE video_id IN {videos:Array(String)}"
            " AND event_time >= {start:DateTime64(3, 'UTC')}"
            " AND event_time < {end:DateTime64(3, 'UTC')}"
        )

        def query() -> CreatorFacts:
            counts = self._client.query(
                f"SELECT {bucket}(event_time) AS b, countIf(action = 'watch_start'),"  # noqa: S608
                " countIf(action = 'like'), countIf(action = 'share'),"
                f" countIf(action = 'comment') FROM video_events{where} GROUP BY b",
                parameters=params,
            ).result_rows
            sessions = self._client.query(
                "SELECT b, sum(watch), countIf(progressed), sumIf(completion, progressed) FROM ("  # noqa: S608
                f" SELECT {bucket}(min(event_time)) AS b, max(watch_ms) AS watch,"
                f"  max({_MILESTONE_SQL}) AS completion,"
                "  countIf(action IN {progress:Array(String)}) > 0 AS progressed"
                f" FROM video_events{where} AND action IN {{session:Array(String)}}"
                " GROUP BY video_id, user_id, session_id"
                ") GROUP BY b",
                parameters=params,
            ).result_rows
            hours = self._client.query(
                "SELECT toHour(event_time) AS h, count() FROM video_events"  # noqa: S608
                f"{where} AND action = 'watch_start' GROUP BY h",
                parameters=params,
            ).result_rows
            per_video = self._client.query(
                "SELECT video_id, countIf(action = 'watch_start'), countIf(action = 'like'),"  # noqa: S608
                " countIf(action = 'share'), countIf(action = 'comment'),"
                f" countIf(action = 'watch_complete') FROM video_events{where}"
                " GROUP BY video_id",
                parameters=params,
            ).result_rows
            buckets: dict[datetime, BucketFacts] = {}
            for b, views, likes, shares, comments in counts:
                facts = buckets.setdefault(_aware(b), BucketFacts())
                facts.counters = Counters(int(views), int(likes), int(shares), int(comments))
            session_count, completion_sum = 0, 0.0
            for b, watch, progressed, completion in sessions:
                buckets.setdefault(_aware(b), BucketFacts()).watch_ms += int(watch)
                session_count += int(progressed)
                completion_sum += float(completion)
            return CreatorFacts(
                buckets=buckets,
                views_by_hour={int(h): int(n) for h, n in hours},
                videos=[
                    VideoRangeFacts(
                        vid,
                        titles.get(vid, ""),
                        Counters(int(views), int(likes), int(shares), int(comments)),
                        int(completes),
                    )
                    for vid, views, likes, shares, comments, completes in per_video
                ],
                session_completion_sum=completion_sum,
                sessions=session_count,
            )

        return await self._run(query)

    # -- embeddings -----------------------------------------------------------------------

    async def mirror_embeddings(self, records: Sequence[EmbeddingRecord]) -> int:
        rows = [
            [r.video_id, list(r.vector), r.model_version, r.generated_at, r.creator_id]
            for r in records
        ]

        def insert() -> int:
            self._client.insert(
                "video_embeddings",
                rows,
                column_names=[
                    "video_id",
                    "embedding",
                    "model_version",
                    "generated_at",
                    "creator_id",
                ],
            )
            return len(rows)

        return await self._run(insert)
