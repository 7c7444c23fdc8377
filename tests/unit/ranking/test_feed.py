"""The feed service over in-memory fakes: sources, merge, tiers, fallbacks, pages."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest

from ranking_svc.domain.cursor import CursorCodec
from ranking_svc.domain.feed import FeedService, FeedSettings, TrendingLists
from ranking_svc.domain.merge import satisfies_cap
from ranking_svc.domain.model import (
    Engagement,
    Fallback,
    InvalidArgument,
    RankedItem,
    Source,
    Tier,
    Video,
)
from ranking_svc.domain.ports import DependencyFailed, Recalled, TrendingFact

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)
pytestmark = pytest.mark.asyncio


def video(n: int, creator: str, hours_old: float = 1.0) -> Video:
    return Video(
        video_id=f"v{n:04d}",
        creator_id=creator,
        title=f"video {n}",
        published_at=NOW - timedelta(hours=hours_old),
    )


class Index:
    def __init__(self, videos: Sequence[Video], follows: dict[str, set[str]]) -> None:
        self.by_id = {v.video_id: v for v in videos}
        self.follows = follows
        self.fail = False

    def _check(self) -> None:
        if self.fail:
            raise DependencyFailed("ranking.postgres", "UNAVAILABLE")

    async def videos(self, ids: Sequence[str]) -> dict[str, Video]:
        self._check()
        return {i: self.by_id[i] for i in ids if i in self.by_id}

    async def followee_videos(self, user_id: str, since: datetime, limit: int) -> list[Video]:
        self._check()
        creators = self.follows.get(user_id, set())
        found = [v for v in self.by_id.values() if v.creator_id in creators]
        return [v for v in found if v.published_at and v.published_at >= since][:limit]

    async def creators_videos(self, creators, since, per_creator, limit) -> list[Video]:
        self._check()
        return [v for v in self.by_id.values() if v.creator_id in creators][:limit]

    async def recent_videos(self, limit: int, since=None) -> list[Video]:
        self._check()
        ordered = sorted(self.by_id.values(), key=lambda v: v.published_at, reverse=True)
        return ordered[:limit]

    async def followees(self, user_id: str) -> set[str]:
        return self.follows.get(user_id, set())


class Facts:
    def __init__(self, trending: Sequence[TrendingFact], affinity: dict[str, float]) -> None:
        self._trending = list(trending)
        self._affinity = affinity
        self.engagements: dict[str, Engagement] = {}
        self.fail = False

    async def trending(self, window: str, limit: int) -> list[TrendingFact]:
        if self.fail:
            raise DependencyFailed("stream.GetTrendingFacts", "UNAVAILABLE")
        return self._trending[:limit]

    async def affinity(self, user_id: str, limit: int) -> dict[str, float]:
        if self.fail:
            raise DependencyFailed("stream.GetAffinityFacts", "UNAVAILABLE")
        return dict(self._affinity)

    async def watched(self, user_id: str, limit: int) -> list[tuple[str, str]]:
        return []

    async def engagement(self, ids: Sequence[str]) -> dict[str, Engagement]:
        if self.fail:
            raise DependencyFailed("stream.BatchGetEngagement", "UNAVAILABLE")
        return {i: self.engagements[i] for i in ids if i in self.engagements}


class Deep:
    def __init__(self, recalled: Sequence[Recalled] = ()) -> None:
        self.recalled = list(recalled)
        self.mode = "ok"  # ok, down, slow

    async def _behave(self, dependency: str) -> None:
        if self.mode == "down":
            raise DependencyFailed(dependency, "UNAVAILABLE")
        if self.mode == "slow":
            await asyncio.sleep(5)

    async def recall(self, user_id: str, k: int, exclude: Sequence[str]) -> list[Recalled]:
        await self._behave("embed.RecallForUser")
        return [r for r in self.recalled if r.video_id not in exclude][:k]

    async def score(self, user_id: str, ids: Sequence[str]) -> dict[str, float]:
        await self._behave("embed.ScoreCandidates")
        return {i: 0.5 for i in ids}


class Store:
    def __init__(self) -> None:
        self.seen_ids: dict[str, set[str]] = {}
        self.sessions: dict[tuple[str, str], object] = {}
        self.hot_lists: dict[str, list[RankedItem]] = {}

    async def seen(self, user_id: str) -> set[str]:
        return set(self.seen_ids.get(user_id, set()))

    async def save_session(self, user_id, session, page) -> None:
        self.sessions[(user_id, session)] = page

    async def load_session(self, user_id, session):
        return self.sessions.get((user_id, session))

    async def hot(self, window: str):
        return self.hot_lists.get(window)

    async def put_hot(self, window: str, items) -> None:
        self.hot_lists[window] = list(items)


class World:
    def __init__(self) -> None:
        videos = [video(i, f"c{i % 12}", hours_old=i % 100) for i in range(120)]
        videos.append(video(999, "star", hours_old=0.1))
        self.index = Index(videos, {"alice": {"star"}})
        self.facts = Facts(
            [
                TrendingFact(f"v{i:04d}", f"c{i % 12}", Engagement(views=1000 - i), 100.0 - i)
                for i in range(30)
            ],
            {"c3": 2.0, "c4": 1.0},
        )
        self.deep = Deep([Recalled(f"v{i:04d}", f"c{i % 12}", 0.9) for i in range(40, 60)])
        self.store = Store()
        self.fallbacks: list[Fallback] = []
        cursors = CursorCodec(b"k" * 32, 600)
        trending = TrendingLists(self.index, self.facts, self.store, lambda: NOW)
        self.feed = FeedService(
            self.index,
            self.facts,
            self.deep,
            self.store,
            trending,
            cursors,
            FeedSettings(recall_timeout_s=0.05, score_timeout_s=0.05),
            lambda: NOW,
            on_fallback=self.fallbacks.append,
        )


async def test_model_tier_merges_all_four_sources_with_reasons() -> None:
    world = World()
    page = await world.feed.page("alice", 50, "", "")
    assert page.tier is Tier.MODEL and page.fallbacks == ()
    sources = {s for item in page.items for s in item.sources}
    assert {Source.FOLLOWING, Source.TRENDING, Source.AFFINITY, Source.DEEP_RECALL} <= sources
    ids = [i.video.video_id for i in page.items]
    assert len(ids) == len(set(ids)), "no duplicates"
    assert satisfies_cap(page.items, lambda i: i.video.creator_id)
    assert "v0999" in ids, "the followed creator's new video is in the feed"
    totals = [i.score.total for i in page.items]
    assert all(0 <= t <= 1 for t in totals)
    assert all(i.score.deep > 0 for i in page.items)


@pytest.mark.parametrize("mode", ["down", "slow"])
async def test_deep_failure_falls_back_to_rules_within_budget(mode: str) -> None:
    world = World()
    world.deep.mode = mode
    started = asyncio.get_running_loop().time()
    page = await world.feed.page("alice", 30, "", "ch")
    elapsed = asyncio.get_running_loop().time() - started
    assert elapsed < 1.0
    assert page.tier is Tier.RULES
    deps = {f.dependency for f in page.fallbacks}
    assert deps == {"embed.RecallForUser", "embed.ScoreCandidates"}
    if mode == "slow":
        assert all("DEADLINE_EXCEEDED" in f.reason for f in page.fallbacks)
    assert len(page.items) == 30
    assert all(i.score.deep == 0 for i in page.items)
    assert world.fallbacks  # counted


async def test_only_trending_left_serves_trending_only() -> None:
    world = World()
    world.deep.mode = "down"
    original = world.facts.affinity

    async def affinity_down(user_id: str, limit: int) -> dict[str, float]:
        raise DependencyFailed("stream.GetAffinityFacts", "UNAVAILABLE")

    world.facts.affinity = affinity_down  # type: ignore[method-assign]
    # Trending is already in the hot list; then the index goes away.
    await world.feed.page("bob", 10, "", "trending")
    world.index.fail = True
    page = await world.feed.page("carol", 10, "", "ch")
    assert page.tier is Tier.TRENDING_ONLY
    assert page.items and all(Source.TRENDING in i.sources for i in page.items)
    world.facts.affinity = original  # type: ignore[method-assign]


async def test_new_user_gets_a_full_feed() -> None:
    world = World()
    page = await world.feed.page("newbie", 30, "", "")
    assert len(page.items) == 30
    assert {Source.TRENDING, Source.EXPLORATION} & {s for i in page.items for s in i.sources}


async def test_seen_videos_are_left_out_but_the_feed_is_never_empty() -> None:
    world = World()
    everything = set(world.index.by_id)
    world.store.seen_ids["dave"] = set(list(everything)[:50])
    page = await world.feed.page("dave", 50, "", "")
    assert not {i.video.video_id for i in page.items} & world.store.seen_ids["dave"]
    world.store.seen_ids["erin"] = everything
    page = await world.feed.page("erin", 30, "", "")
    assert page.items, "a user who saw everything still gets a feed"


async def test_pages_follow_their_cursor_without_repeats() -> None:
    world = World()
    first = await world.feed.page("alice", 20, "", "")
    second = await world.feed.page("alice", 20, first.next_cursor, "")
    assert first.next_cursor and second.items
    assert second.tier == first.tier
    assert not {i.video.video_id for i in first.items} & {i.video.video_id for i in second.items}
    joined = list(first.items) + list(second.items)
    assert satisfies_cap(joined, lambda i: i.video.creator_id)


async def test_cursor_for_another_limit_or_algo_is_invalid() -> None:
    world = World()
    first = await world.feed.page("alice", 20, "", "")
    with pytest.raises(InvalidArgument):
        await world.feed.page("alice", 10, first.next_cursor, "")
    with pytest.raises(InvalidArgument):
        await world.feed.page("alice", 20, first.next_cursor, "trending")
    with pytest.raises(InvalidArgument):
        await world.feed.page("mallory", 20, first.next_cursor, "")


@pytest.mark.parametrize(("limit", "algo"), [(-1, ""), (51, ""), (10, "random")])
async def test_bad_limit_or_algo_is_invalid(limit: int, algo: str) -> None:
    with pytest.raises(InvalidArgument):
        await World().feed.page("alice", limit, "", algo)


async def test_trending_algo_ranks_by_trending_score() -> None:
    world = World()
    page = await world.feed.page("frank", 10, "", "trending")
    assert page.tier is Tier.TRENDING_ONLY
    scores = [i.score.total for i in page.items]
    assert scores[0] == max(scores)
    assert satisfies_cap(page.items, lambda i: i.video.creator_id)


async def test_when_every_source_fails_the_last_hot_list_still_serves() -> None:
    world = World()
    await world.feed.page("bob", 10, "", "trending")  # a hot list was built once
    world.store.hot_lists.clear()  # ... and has expired from the cache since
    world.index.fail = True
    world.facts.fail = True
    world.deep.mode = "down"
    page = await world.feed.page("carol", 10, "", "ch")
    assert page.tier is Tier.TRENDING_ONLY
    assert page.items
    assert {f.dependency for f in page.fallbacks} >= {"ranking.following", "embed.RecallForUser"}
