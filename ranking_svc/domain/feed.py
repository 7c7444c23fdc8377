"""The feed: four candidate sources under deadlines, scoring, seen filter, author cap, pages."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypeVar

from ranking_svc.domain.cursor import CursorCodec, CursorState
from ranking_svc.domain.memo import ExpiringMemo
from ranking_svc.domain.merge import cap_authors, merge_sources
from ranking_svc.domain.model import (
    ALGO_PERSONAL,
    ALGO_TRENDING,
    ALGOS,
    Candidate,
    Components,
    Engagement,
    Fallback,
    InvalidArgument,
    Page,
    RankedItem,
    Source,
    Tier,
    Unavailable,
    Video,
)
from ranking_svc.domain.ports import (
    Deep,
    DependencyFailed,
    Facts,
    FeedStore,
    Session,
    VideoIndex,
)
from ranking_svc.domain.scoring import (
    Freshness,
    Weights,
    combine,
    completion_component,
    engagement_components,
    normalised_affinity,
)

logger = logging.getLogger(__name__)
T = TypeVar("T")

DEFAULT_LIMIT = 30
MAX_LIMIT = 50
HOT_LIST_SIZE = 100

# The dependency names fallback reasons and metrics use.
DEP_FOLLOWING = "ranking.following"
DEP_EXPLORATION = "ranking.exploration"
DEP_TRENDING = "stream.GetTrendingFacts"
DEP_AFFINITY = "stream.GetAffinityFacts"
DEP_HISTORY = "stream.GetWatchHistory"
DEP_ENGAGEMENT = "stream.BatchGetEngagement"
DEP_RECALL = "embed.RecallForUser"
DEP_SCORE = "embed.ScoreCandidates"
DEP_SEEN = "redis.seen"


@dataclass(frozen=True)
class FeedSettings:
    weights: Weights = field(default_factory=Weights)
    freshness: Freshness = field(default_factory=Freshness)
    # Each source's own deadline, in seconds.
    following_timeout_s: float = 0.25
    trending_timeout_s: float = 0.15
    affinity_timeout_s: float = 0.15
    recall_timeout_s: float = 0.08
    score_timeout_s: float = 0.08
    engagement_timeout_s: float = 0.12
    following_window: timedelta = timedelta(hours=72)
    affinity_window: timedelta = timedelta(days=30)
    # How many candidates each source proposes, and how many are scored at most.
    per_source: int = 200
    pool_size: int = 500
    # How many ranked items one feed session holds (its pages are cut from them).
    session_items: int = 300
    # Facts every user's feed shares, reused this long by the process: the newest
    # published videos (exploration) and per-video engagement counters. Within the 60 s
    # a page is cached anyway; a followee's new video comes through `following`, which
    # is never reused. 0 (the domain's default, e.g. for simulations) reuses nothing;
    # the service sets RANKING_SHARED_FACTS_TTL_MS.
    shared_facts_ttl_s: float = 0.0


def page_limit(limit: int) -> int:
    if limit < 0 or limit > MAX_LIMIT:
        raise InvalidArgument(f"limit must be between 0 and {MAX_LIMIT}, got {limit}")
    return limit or DEFAULT_LIMIT


def check_algo(algo: str) -> str:
    algo = algo or ALGO_PERSONAL
    if algo not in ALGOS:
        raise InvalidArgument(f"algo must be one of {', '.join(ALGOS)}, got {algo!r}")
    return algo


@dataclass
class _Outcome:
    """What gathering learnt: results per source and the dependencies that failed."""

    failures: dict[str, str] = field(default_factory=dict)

    async def run(self, dependency: str, timeout_s: float, work: Awaitable[T]) -> T | None:
        started = time.monotonic()
        try:
            return await asyncio.wait_for(work, timeout_s)
        except TimeoutError:
            elapsed = (time.monotonic() - started) * 1000
            self.failures[dependency] = f"DEADLINE_EXCEEDED after {elapsed:.0f} ms"
        except DependencyFailed as failed:
            # Named after the source; the reason says which store inside it failed.
            suffix = "" if failed.dependency == dependency else f" ({failed.dependency})"
            self.failures[dependency] = f"{failed.reason}{suffix}"
        return None


class TrendingLists:
    """The top videos of a window with their metadata, cached for all users (hot lists)."""

    def __init__(
        self,
        index: VideoIndex,
        facts: Facts,
        store: FeedStore,
        clock: Callable[[], datetime],
    ) -> None:
        self._index = index
        self._facts = facts
        self._store = store
        self._clock = clock
        # One refresh per window at a time, shielded: a caller that stops waiting (its
        # deadline passed) leaves the refresh running, so the next caller finds the list.
        self._refreshing: dict[str, asyncio.Future[list[RankedItem]]] = {}
        self._last: dict[str, list[RankedItem]] = {}

    async def top(self, window: str) -> list[RankedItem]:
        cached = await self._store.hot(window)
        if cached is not None:
            self._last[window] = cached
            return cached
        refresh = self._refreshing.get(window)
        if refresh is None:
            refresh = asyncio.ensure_future(self._refresh(window))
            self._refreshing[window] = refresh
            refresh.add_done_callback(lambda done: self._finished(window, done))
        return await asyncio.shield(refresh)

    def last_known(self, window: str) -> list[RankedItem]:
        """The last hot list this process built, however old: the feed's last resort."""
        return self._last.get(window, [])

    def _finished(self, window: str, done: asyncio.Future[list[RankedItem]]) -> None:
        self._refreshing.pop(window, None)
        if not done.cancelled() and done.exception() is not None:
            logger.info("hot list refresh failed", extra={"window": window})

    async def _refresh(self, window: str) -> list[RankedItem]:
        facts = await self._facts.trending(window, HOT_LIST_SIZE)
        videos = await self._index.videos([f.video_id for f in facts])
        items = [
            RankedItem(
                video=videos[f.video_id],
                engagement=f.engagement,
                sources=(Source.TRENDING,),
                score=Components(
                    completion=f.engagement.completion_rate,
                    total=f.score,
                ),
            )
            for f in facts
            if f.video_id in videos
        ]
        await self._store.put_hot(window, items)
        self._last[window] = items
        return items


class FeedService:
    """Builds feed sessions (ranked lists) and cuts pages from them behind signed cursors."""

    def __init__(
        self,
        index: VideoIndex,
        facts: Facts,
        deep: Deep,
        store: FeedStore,
        trending: TrendingLists,
        cursors: CursorCodec,
        settings: FeedSettings,
        clock: Callable[[], datetime],
        on_fallback: Callable[[Fallback], None] = lambda _: None,
    ) -> None:
        self._index = index
        self._facts = facts
        self._deep = deep
        self._store = store
        self._trending = trending
        self._cursors = cursors
        self._settings = settings
        self._clock = clock
        self._on_fallback = on_fallback
        self._recent: tuple[float, int, list[Video]] | None = None
        self._engagements: ExpiringMemo[str, Engagement] = ExpiringMemo(200_000)

    def check_cursor(self, user_id: str, limit: int, cursor: str, algo: str) -> CursorState:
        """The cursor's state; InvalidArgument when forged, expired or issued for another
        user, algo or limit (checked before the page cache is consulted)."""
        binding = {"algo": algo, "limit": limit}
        return self._cursors.decode(cursor, kind="feed", user_id=user_id, binding=binding)

    async def page(self, user_id: str, limit: int, cursor: str, algo: str) -> Page:
        limit = page_limit(limit)
        algo = check_algo(algo)
        binding = {"algo": algo, "limit": limit}
        if cursor:
            state = self.check_cursor(user_id, limit, cursor, algo)
            stored = await self._store.load_session(user_id, state.session)
            if stored is None:
                raise InvalidArgument("cursor's feed session has expired; start again")
            return self._cut(
                stored.items,
                state.offset,
                limit,
                user_id,
                binding,
                state.session,
                stored.tier,
                stored.fallbacks,
            )
        if algo == ALGO_TRENDING:
            items, tier, fallbacks = await self._trending_session(user_id)
        else:
            items, tier, fallbacks = await self._personal_session(user_id)
        session = uuid.uuid4().hex[:16]
        if len(items) > limit:
            try:
                await self._store.save_session(
                    user_id, session, Session(tuple(items), tier, tuple(fallbacks))
                )
            except DependencyFailed:
                # The page is still served; without a stored session it is the last one.
                items = items[:limit]
        return self._cut(items, 0, limit, user_id, binding, session, tier, fallbacks)

    def _cut(
        self,
        items: Sequence[RankedItem],
        offset: int,
        limit: int,
        user_id: str,
        binding: dict[str, object],
        session: str,
        tier: Tier,
        fallbacks: Sequence[Fallback],
    ) -> Page:
        chunk = tuple(items[offset : offset + limit])
        end = offset + len(chunk)
        next_cursor = ""
        if end < len(items):
            next_cursor = self._cursors.encode(
                CursorState("feed", user_id, end, binding, session=session)
            )
        return Page(chunk, next_cursor, tier, tuple(fallbacks))

    async def _trending_session(
        self, user_id: str
    ) -> tuple[list[RankedItem], Tier, list[Fallback]]:
        outcome = _Outcome()
        seen_task = outcome.run(DEP_SEEN, 0.05, self._store.seen(user_id))
        hot_task = outcome.run(
            DEP_TRENDING, self._settings.trending_timeout_s, self._trending.top("24h")
        )
        seen, hot = await asyncio.gather(seen_task, hot_task)
        items = list(hot or [])
        unseen = [i for i in items if i.video.video_id not in (seen or set())]
        if len(unseen) < DEFAULT_LIMIT:
            # Never empty while trending videos exist: seen ones come back at the end.
            unseen += [i for i in items if i.video.video_id in (seen or set())]
        ranked = cap_authors(unseen, lambda i: i.video.creator_id)
        fallbacks = self._fallbacks(outcome)
        if hot is None:
            ranked, _ = await self._exploration_only(outcome)
            fallbacks = self._fallbacks(outcome)
            if not ranked and outcome.failures:
                raise Unavailable("neither stream_svc nor the index can answer")
        return ranked[: self._settings.session_items], Tier.TRENDING_ONLY, fallbacks

    async def _exploration_only(self, outcome: _Outcome) -> tuple[list[RankedItem], bool]:
        videos = await outcome.run(
            DEP_EXPLORATION,
            self._settings.following_timeout_s,
            self._index.recent_videos(self._settings.per_source),
        )
        items = [
            RankedItem(v, Engagement(), (Source.EXPLORATION,), Components()) for v in videos or []
        ]
        return cap_authors(items, lambda i: i.video.creator_id), videos is not None

    def _fallbacks(self, outcome: _Outcome) -> list[Fallback]:
        fallbacks = [Fallback(dep, reason) for dep, reason in sorted(outcome.failures.items())]
        for fallback in fallbacks:
            self._on_fallback(fallback)
        return fallbacks

    async def _personal_session(
        self, user_id: str
    ) -> tuple[list[RankedItem], Tier, list[Fallback]]:
        s = self._settings
        now = self._clock()
        outcome = _Outcome()

        async def following() -> list[Candidate]:
            videos = await self._index.followee_videos(
                user_id, now - s.following_window, s.per_source
            )
            known.update({v.video_id: v for v in videos})
            followed.update(v.creator_id for v in videos)
            return [Candidate(v.video_id, v.creator_id, {Source.FOLLOWING}) for v in videos]

        async def exploration() -> list[Candidate]:
            videos = await self._recent_videos(s.per_source // 2)
            known.update({v.video_id: v for v in videos})
            return [Candidate(v.video_id, v.creator_id, {Source.EXPLORATION}) for v in videos]

        async def trending() -> list[Candidate]:
            items = await self._trending.top("24h")
            for item in items:
                known[item.video.video_id] = item.video
            return [
                Candidate(
                    i.video.video_id,
                    i.video.creator_id,
                    {Source.TRENDING},
                    trending_score=i.score.total,
                )
                for i in items
            ]

        async def affinity() -> list[Candidate]:
            weights = await self._facts.affinity(user_id, 50)
            affinities.update(weights)
            top = sorted(weights, key=lambda c: -weights[c])[:30]
            if not top:
                return []
            videos = await self._index.creators_videos(
                top, now - s.affinity_window, 5, s.per_source
            )
            known.update({v.video_id: v for v in videos})
            return [Candidate(v.video_id, v.creator_id, {Source.AFFINITY}) for v in videos]

        async def recall() -> list[Candidate]:
            found = await self._deep.recall(user_id, s.per_source, sorted(seen)[:1000])
            return [
                Candidate(r.video_id, r.creator_id, {Source.DEEP_RECALL}, recall_score=r.score)
                for r in found
            ]

        async def history() -> None:
            for video_id, _creator in await self._facts.watched(user_id, 200):
                seen.add(video_id)

        known: dict[str, Video] = {}
        followed: set[str] = set()
        affinities: dict[str, float] = {}
        seen: set[str] = set(await outcome.run(DEP_SEEN, 0.05, self._store.seen(user_id)) or set())
        results = await asyncio.gather(
            outcome.run(DEP_FOLLOWING, s.following_timeout_s, following()),
            outcome.run(DEP_TRENDING, s.trending_timeout_s, trending()),
            outcome.run(DEP_AFFINITY, s.affinity_timeout_s, affinity()),
            outcome.run(DEP_RECALL, s.recall_timeout_s, recall()),
            outcome.run(DEP_EXPLORATION, s.following_timeout_s, exploration()),
            outcome.run(DEP_HISTORY, s.affinity_timeout_s, history()),
        )
        following_c, trending_c, affinity_c, recall_c, exploration_c, _ = results
        batches = {
            Source.FOLLOWING: following_c or [],
            Source.TRENDING: trending_c or [],
            Source.AFFINITY: affinity_c or [],
            Source.DEEP_RECALL: recall_c or [],
            Source.EXPLORATION: exploration_c or [],
        }
        pool = merge_sources(batches, limit=s.pool_size)
        missing = [c.video_id for c in pool if c.video_id not in known]
        if missing:
            # Recalled videos come as ids: their cards come from the index (deleted ones drop).
            try:
                known.update(await self._index.videos(missing))
            except DependencyFailed as failed:
                outcome.failures[failed.dependency] = failed.reason
        pool = [c for c in pool if c.video_id in known]
        ids = [c.video_id for c in pool]
        engagement_r, deep_r = await asyncio.gather(
            outcome.run(DEP_ENGAGEMENT, s.engagement_timeout_s, self._engagement(ids)),
            outcome.run(DEP_SCORE, s.score_timeout_s, self._deep_scores(user_id, ids)),
        )
        engagements = engagement_r or {}
        model_ok = DEP_RECALL not in outcome.failures and deep_r is not None
        non_trending = (DEP_FOLLOWING, DEP_AFFINITY, DEP_RECALL, DEP_EXPLORATION)
        if all(dep in outcome.failures for dep in non_trending) and trending_c is not None:
            tier = Tier.TRENDING_ONLY
        elif model_ok:
            tier = Tier.MODEL
        else:
            tier = Tier.RULES
        weights = s.weights if tier is Tier.MODEL else s.weights.without_deep()
        affinity_norm = normalised_affinity(affinities)
        for creator in followed:
            # Following is the strongest explicit signal of interest in a creator.
            affinity_norm[creator] = max(affinity_norm.get(creator, 0.0), 0.6)
        deep_scores = deep_r or {}
        neutral_deep = sum(deep_scores.values()) / len(deep_scores) if deep_scores else 0.0
        engagement_list = [engagements.get(c.video_id, Engagement()) for c in pool]
        engagement_norm = engagement_components(engagement_list)
        ranked: list[RankedItem] = []
        for candidate, engagement, eng_component in zip(
            pool, engagement_list, engagement_norm, strict=True
        ):
            video = known[candidate.video_id]
            components = combine(
                weights,
                completion=completion_component(engagement),
                engagement=eng_component,
                affinity=affinity_norm.get(video.creator_id, 0.0),
                deep=deep_scores.get(candidate.video_id, neutral_deep),
                freshness=s.freshness.factor(video.published_at, now),
            )
            ranked.append(
                RankedItem(video, engagement, tuple(sorted(candidate.sources)), components)
            )
        ranked.sort(key=_rank_key)
        unseen = [i for i in ranked if i.video.video_id not in seen]
        if len(unseen) < DEFAULT_LIMIT:
            # A feed is never empty while published videos exist: when the user has seen
            # (nearly) everything, seen videos come back after the unseen ones, best first.
            unseen += [i for i in ranked if i.video.video_id in seen]
        unseen = cap_authors(unseen, lambda i: i.video.creator_id)
        stale = self._trending.last_known("24h") if not unseen and outcome.failures else []
        if stale:
            # The sources failed (an overload, an outage): the last hot list this process
            # built, however old, still beats an empty page or an error.
            unseen = cap_authors(stale, lambda i: i.video.creator_id)
            tier = Tier.TRENDING_ONLY
        elif not unseen and all(dep in outcome.failures for dep in (*non_trending, DEP_TRENDING)):
            raise Unavailable("no candidate source answered")
        fallbacks = self._fallbacks(outcome) if tier is not Tier.MODEL else []
        if tier is Tier.MODEL:
            for dependency, reason in outcome.failures.items():
                self._on_fallback(Fallback(dependency, reason))
        return unseen[: s.session_items], tier, fallbacks

    async def _recent_videos(self, limit: int) -> list[Video]:
        """The newest published videos, shared by every user's exploration source."""
        now = self._clock().timestamp()
        known = self._recent
        if known is not None and known[0] > now and known[1] >= limit:
            return known[2][:limit]
        videos = await self._index.recent_videos(limit)
        if self._settings.shared_facts_ttl_s > 0:
            self._recent = (now + self._settings.shared_facts_ttl_s, limit, videos)
        return videos

    async def _engagement(self, ids: Sequence[str]) -> dict[str, Engagement]:
        """Engagement counters; those fetched in the last seconds are reused (trending
        and exploration candidates are the same for every user)."""
        if not ids:
            return {}
        ttl = self._settings.shared_facts_ttl_s
        now = self._clock().timestamp()
        found: dict[str, Engagement] = {}
        missing: list[str] = []
        for video_id in ids:
            known = self._engagements.get(video_id, now)
            if known is not None:
                found[video_id] = known
            else:
                missing.append(video_id)
        if missing:
            fetched = await self._facts.engagement(missing)
            found.update(fetched)
            if ttl > 0:
                expires = now + ttl
                for video_id in missing:
                    # A video without counters yet is remembered as such, too.
                    self._engagements.put(
                        video_id, fetched.get(video_id, Engagement()), expires, now
                    )
        return found

    async def _deep_scores(self, user_id: str, ids: Sequence[str]) -> dict[str, float]:
        if not ids:
            return {}
        return await self._deep.score(user_id, ids)


def _rank_key(item: RankedItem) -> tuple[float, float, str]:
    published = item.video.published_at.timestamp() if item.video.published_at else 0.0
    return (-item.score.total, -published, item.video.video_id)
