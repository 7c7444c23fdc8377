"""The engagement use cases: what each RPC does, over the stores' interfaces."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from stream_svc.domain import analytics as maths
from stream_svc.domain.affinity import LOOKBACK, CreatorAffinity, creator_affinities
from stream_svc.domain.analytics import (
    Bucket,
    Counters,
    CreatorRange,
    Granularity,
    VideoAnalytics,
    VideoRangeFacts,
)
from stream_svc.domain.engagement import (
    DEFAULT_COMMENT_PAGE,
    MAX_BATCH_ENGAGEMENT,
    MAX_COMMENT_PAGE,
    MAX_MIRROR_BATCH,
    CommentCursor,
    bounded_limit,
    canonical_uuid,
    comment_text,
    decode_cursor,
    encode_cursor,
    page_size,
    parse_uuid,
    share_platform,
)
from stream_svc.domain.errors import InvalidArgument, NotFound, PermissionDenied
from stream_svc.domain.events import (
    MAX_BATCH,
    Action,
    BatchVerdict,
    ClientEvent,
    RecordedEvent,
    engagement_event,
    judge_batch,
)
from stream_svc.domain.model import (
    AnalyticsCache,
    Comment,
    EmbeddingRecord,
    Engagement,
    EngagementStore,
    EventLog,
    Publisher,
    TagCount,
    TrendingRow,
    VideoInfo,
    WatchEntry,
)
from stream_svc.domain.trending import Window, trending_score

Clock = Callable[[], datetime]

DEFAULT_TRENDING, MAX_TRENDING = 100, 500
DEFAULT_TAGS, MAX_TAGS = 50, 500
DEFAULT_AFFINITY, MAX_AFFINITY = 50, 500
DEFAULT_HISTORY, MAX_HISTORY = 200, 1000
DEFAULT_HISTORY_SPAN = timedelta(days=30)
# Trending ranks at most this many of the window's most engaged videos (by raw weighted
# engagement) — far more than any caller's limit, and a bound on the work.
TRENDING_CANDIDATES = 5000


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class CommentsPage:
    comments: list[Comment]
    next_page_token: str


@dataclass(frozen=True)
class TrendingFact:
    row: TrendingRow
    score: float

    @property
    def completion_rate(self) -> float:
        return maths.completion_rate(self.row.completes, self.row.counters.views)


@dataclass(frozen=True)
class CreatorAnalytics:
    creator_id: str
    video_count: int
    totals: Counters
    total_watch_s: float
    average_completion_rate: float
    series: list[Bucket]
    peak_hours: list[tuple[int, int]]
    top_videos: list[VideoRangeFacts]


class EngagementService:
    def __init__(
        self,
        store: EngagementStore,
        log: EventLog,
        publisher: Publisher,
        cache: AnalyticsCache,
        *,
        clock: Clock = _now,
    ) -> None:
        self._store = store
        self._log = log
        self._publisher = publisher
        self._cache = cache
        self._clock = clock

    async def _live_video(self, video_id: str) -> VideoInfo:
        video_id = parse_uuid(video_id)
        video = await self._store.video(video_id)
        if video is None or not video.live:
            raise NotFound(f"video {video_id} not found")
        return video

    # -- playback events ------------------------------------------------------------------

    async def record_playback_events(
        self, video_id: str, user_id: str, events: Sequence[ClientEvent]
    ) -> BatchVerdict:
        video_id = parse_uuid(video_id)
        if not events:
            raise InvalidArgument("events must hold at least one event")
        if len(events) > MAX_BATCH:
            raise InvalidArgument(f"events must hold at most {MAX_BATCH} events")
        video = await self._live_video(video_id)
        verdict = judge_batch(
            events,
            video_id=video.video_id,
            user_id=user_id,
            creator_id=video.creator_id,
            now=self._clock(),
            video_duration_s=video.duration_s,
        )
        if verdict.accepted:
            await self._publisher.playback_events(verdict.accepted)
        return verdict

    # -- likes, shares, comments ----------------------------------------------------------

    async def like(self, video_id: str, user_id: str) -> Counters:
        video = await self._live_video(video_id)
        event = self._engagement_event(Action.LIKE, video, user_id)
        changed, counters = await self._store.like(event)
        if changed:
            await self._cache.drop([video.video_id])
        return counters

    async def unlike(self, video_id: str, user_id: str) -> Counters:
        video = await self._live_video(video_id)
        changed, counters = await self._store.unlike(video, user_id, self._clock())
        if changed:
            await self._cache.drop([video.video_id])
        return counters

    async def share(self, video_id: str, user_id: str, platform: str) -> Counters:
        video_id = parse_uuid(video_id)
        platform = share_platform(platform)
        video = await self._live_video(video_id)
        event = self._engagement_event(Action.SHARE, video, user_id)
        counters = await self._store.share(event, platform)
        await self._cache.drop([video.video_id])
        return counters

    async def create_comment(
        self, video_id: str, author_id: str, text: str
    ) -> tuple[Comment, Counters]:
        video_id = parse_uuid(video_id)
        text = comment_text(text)
        video = await self._live_video(video_id)
        comment_id = str(uuid.uuid4())
        event = self._engagement_event(Action.COMMENT, video, author_id, comment_id)
        comment, counters = await self._store.add_comment(event, comment_id, text)
        await self._cache.drop([video.video_id])
        return comment, counters

    async def list_comments(self, video_id: str, size: int, token: str) -> CommentsPage:
        video_id = parse_uuid(video_id)
        limit = page_size(size, default=DEFAULT_COMMENT_PAGE, maximum=MAX_COMMENT_PAGE)
        after = decode_cursor(token, video_id)
        video = await self._live_video(video_id)
        rows = await self._store.comments(video.video_id, after, limit + 1)
        page, more = rows[:limit], len(rows) > limit
        next_token = ""
        if more and page:
            last = page[-1]
            next_token = encode_cursor(CommentCursor(video_id, last.created_at, last.comment_id))
        return CommentsPage(page, next_token)

    async def delete_comment(self, video_id: str, comment_id: str, user_id: str) -> Counters:
        video_id = parse_uuid(video_id)
        comment_id = parse_uuid(comment_id, "comment_id")
        video = await self._live_video(video_id)
        comment = await self._store.comment(video.video_id, comment_id)
        if comment is None:
            raise NotFound(f"comment {comment_id} not found")
        if comment.author_id != user_id:
            raise PermissionDenied("only the comment's author may delete it")
        changed, counters = await self._store.delete_comment(video.video_id, comment_id)
        if changed:
            await self._cache.drop([video.video_id])
        return counters

    def _engagement_event(
        self, action: Action, video: VideoInfo, user_id: str, key: str | None = None
    ) -> RecordedEvent:
        return engagement_event(
            action,
            event_id=str(uuid.uuid4()) if key is None else f"{action.value}:{key}",
            video_id=video.video_id,
            user_id=user_id,
            creator_id=video.creator_id,
            now=self._clock(),
        )

    # -- analytics ------------------------------------------------------------------------

    async def video_analytics(self, video_id: str, user_id: str) -> VideoAnalytics:
        video = await self._live_video(video_id)
        if video.creator_id != user_id:
            raise PermissionDenied("only the video's creator may read its analytics")
        cached = await self._cache.get(video.video_id)
        if cached is not None:
            return cached
        now = self._clock()
        counters = await self._store.counters(video.video_id)
        facts = await self._log.video_facts(video.video_id)
        rows = await self._log.window_engagement(Window.H24, now, 1, video_id=video.video_id)
        score = trending_score(rows[0].engagement) if rows else 0.0
        result = maths.video_analytics(video.video_id, counters, facts, score, now)
        await self._cache.put(result)
        return result

    async def creator_analytics(
        self,
        creator_id: str,
        user_id: str,
        start: datetime | None,
        end: datetime | None,
        granularity: Granularity,
        top_count: int,
    ) -> CreatorAnalytics:
        if not creator_id:
            raise InvalidArgument("creator_id is required")
        if creator_id != user_id:
            raise PermissionDenied("only the creator may read their analytics")
        span: CreatorRange = maths.creator_range(start, end, granularity, top_count, self._clock())
        videos = [v for v in await self._store.creator_videos(creator_id) if v.live]
        facts = await self._log.creator_facts(videos, span)
        totals = Counters(
            views=sum(b.counters.views for b in facts.buckets.values()),
            likes=sum(b.counters.likes for b in facts.buckets.values()),
            shares=sum(b.counters.shares for b in facts.buckets.values()),
            comments=sum(b.counters.comments for b in facts.buckets.values()),
        )
        return CreatorAnalytics(
            creator_id=creator_id,
            video_count=len(videos),
            totals=totals,
            total_watch_s=sum(b.watch_ms for b in facts.buckets.values()) / 1000,
            average_completion_rate=(
                facts.session_completion_sum / facts.sessions if facts.sessions else 0.0
            ),
            series=maths.fill_series(span, facts.buckets),
            peak_hours=maths.peak_hours(facts.views_by_hour),
            top_videos=maths.top_videos(facts.videos, span.top_videos),
        )

    # -- facts for the other services -----------------------------------------------------

    async def trending(self, window: Window | None, limit: int) -> list[TrendingFact]:
        if window is None:
            raise InvalidArgument("window must be 1h, 24h or 7d")
        limit = bounded_limit(limit, default=DEFAULT_TRENDING, maximum=MAX_TRENDING)
        rows = await self._log.window_engagement(window, self._clock(), TRENDING_CANDIDATES)
        facts = [TrendingFact(row, trending_score(row.engagement)) for row in rows]
        facts.sort(key=lambda f: (-f.score, -f.row.counters.views, f.row.video_id))
        return facts[:limit]

    async def hashtags(self, window: Window | None, limit: int) -> list[TagCount]:
        if window is None:
            raise InvalidArgument("window must be 1h, 24h or 7d")
        limit = bounded_limit(limit, default=DEFAULT_TAGS, maximum=MAX_TAGS)
        return await self._log.hashtag_counts(window, self._clock(), limit)

    async def sounds(self, window: Window | None, limit: int) -> list[TagCount]:
        if window is None:
            raise InvalidArgument("window must be 1h, 24h or 7d")
        limit = bounded_limit(limit, default=DEFAULT_TAGS, maximum=MAX_TAGS)
        return await self._log.sound_counts(window, self._clock(), limit)

    async def affinity(self, user_id: str, limit: int) -> list[CreatorAffinity]:
        if not user_id:
            raise InvalidArgument("user_id is required")
        limit = bounded_limit(limit, default=DEFAULT_AFFINITY, maximum=MAX_AFFINITY)
        now = self._clock()
        since = now - LOOKBACK
        completed = await self._log.completed(user_id, since)
        live = await self._store.live_video_ids(sorted({c.video_id for c in completed}))
        interactions = [c for c in completed if c.video_id in live]
        interactions += await self._store.liked_and_shared(user_id, since)
        return creator_affinities(interactions, now, limit)

    async def watch_history(
        self, user_id: str, since: datetime | None, limit: int
    ) -> list[WatchEntry]:
        if not user_id:
            raise InvalidArgument("user_id is required")
        limit = bounded_limit(limit, default=DEFAULT_HISTORY, maximum=MAX_HISTORY)
        since = since or self._clock() - DEFAULT_HISTORY_SPAN
        # Ask for more than the limit: deleted videos are dropped afterwards.
        entries = await self._log.watch_history(user_id, since, limit * 2 + 10)
        live = await self._store.live_video_ids([e.video_id for e in entries])
        return [e for e in entries if e.video_id in live][:limit]

    async def batch_engagement(
        self, video_ids: Sequence[str]
    ) -> tuple[list[Engagement], list[str]]:
        if len(video_ids) > MAX_BATCH_ENGAGEMENT:
            raise InvalidArgument(f"at most {MAX_BATCH_ENGAGEMENT} video ids may be asked for")
        # Each id is parsed once (a page asks for hundreds).
        keys = [canonical_uuid(v) for v in video_ids]
        found = await self._store.engagements([k for k in keys if k is not None])
        engagements, missing = [], []
        for raw, key in zip(video_ids, keys, strict=True):
            engagement = found.get(key) if key is not None else None
            if engagement is not None:
                engagements.append(engagement)
            else:
                missing.append(raw)
        return engagements, missing

    async def mirror_embeddings(self, records: Sequence[EmbeddingRecord]) -> int:
        if len(records) > MAX_MIRROR_BATCH:
            raise InvalidArgument(f"at most {MAX_MIRROR_BATCH} embeddings per call")
        for index, record in enumerate(records):
            if not record.video_id:
                raise InvalidArgument(f"embeddings[{index}] lacks its video_id")
            if not record.vector:
                raise InvalidArgument(f"embeddings[{index}] lacks its vector")
            if not record.model_version:
                raise InvalidArgument(f"embeddings[{index}] lacks its model_version")
        if not records:
            return 0
        return await self._log.mirror_embeddings(records)
