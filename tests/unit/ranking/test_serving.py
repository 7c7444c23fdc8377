"""The serving helpers of the feed: playback tokens signed off the event loop and reused,
and the facts every user's feed shares reused for a few seconds (never in simulations)."""

from __future__ import annotations

from datetime import timedelta

from ranking_svc.domain.cursor import CursorCodec
from ranking_svc.domain.feed import FeedService, FeedSettings, TrendingLists
from ranking_svc.servicer import PlaybackLinks
from tests.unit.ranking.test_feed import NOW, World


class Minter:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    def __call__(self, user: str, video: str) -> str:
        self.calls.append((user, video))
        return f"tok-{user}-{video}-{len(self.calls)}"


def test_tokens_are_signed_once_per_user_and_video_and_renewed_at_half_life() -> None:
    minter, now = Minter(), [0.0]
    links = PlaybackLinks(minter, "https://cdn.example", 900, lambda: now[0])
    videos = [f"v{i}" for i in range(10)]
    first = links.tokens("u1", videos)
    assert sorted(first) == videos
    assert len(minter.calls) == 10
    # Reused for half the token's life, then signed again.
    assert links.tokens("u1", videos) == first
    assert len(minter.calls) == 10
    now[0] = 451.0
    renewed = links.tokens("u1", videos[:2])
    assert renewed != {v: first[v] for v in videos[:2]}
    assert len(minter.calls) == 12
    # Another user never gets this user's tokens.
    other = links.tokens("u2", videos[:1])
    assert other["v0"].startswith("tok-u2-v0")
    hls, dash = links.with_token("v1", "abc")
    assert hls == "https://cdn.example/api/v1/reels/v1/manifest.m3u8?token=abc"
    assert dash == "https://cdn.example/api/v1/reels/v1/manifest.mpd?token=abc"
    assert links.tokens("u1", ["v0"])["v0"] == renewed["v0"]


class CountingFacts:
    """Wraps the fake facts and counts the engagement ids asked for."""

    def __init__(self, inner) -> None:
        self._inner = inner
        self.asked: list[list[str]] = []

    def __getattr__(self, name: str):
        return getattr(self._inner, name)

    async def engagement(self, ids):
        self.asked.append(list(ids))
        return await self._inner.engagement(ids)


class Shared:
    """The fake world of test_feed with a FeedService that may reuse shared facts."""

    def __init__(self, ttl_s: float) -> None:
        world = World()
        self.index, self.facts = world.index, CountingFacts(world.facts)
        self.engagements = world.facts.engagements
        self.clock = [NOW]
        trending = TrendingLists(world.index, self.facts, world.store, lambda: self.clock[0])
        self.feed = FeedService(
            world.index,
            self.facts,
            world.deep,
            world.store,
            trending,
            CursorCodec(b"k" * 32, 600),
            FeedSettings(recall_timeout_s=0.05, score_timeout_s=0.05, shared_facts_ttl_s=ttl_s),
            lambda: self.clock[0],
        )

    def asked(self) -> set[str]:
        asked = {i for batch in self.facts.asked for i in batch}
        self.facts.asked.clear()
        return asked


async def test_shared_facts_are_reused_within_their_ttl() -> None:
    shared = Shared(5.0)
    await shared.feed.page("newcomer-1", 10, "", "ch")
    first = shared.asked()
    assert first
    await shared.feed.page("newcomer-2", 10, "", "ch")
    assert not shared.asked() & first
    shared.clock[0] = NOW + timedelta(seconds=6)
    await shared.feed.page("newcomer-3", 10, "", "ch")
    assert shared.asked() >= first


async def test_reused_engagement_ranks_as_fetched() -> None:
    shared = Shared(5.0)
    baseline = await shared.feed.page("newcomer-1", 10, "", "ch")
    again = await shared.feed.page("newcomer-2", 10, "", "ch")
    assert [i.video.video_id for i in again.items] == [i.video.video_id for i in baseline.items]
    assert [i.engagement for i in again.items] == [i.engagement for i in baseline.items]


async def test_nothing_is_reused_with_a_zero_ttl() -> None:
    shared = Shared(0.0)
    await shared.feed.page("newcomer-1", 10, "", "ch")
    first = shared.asked()
    await shared.feed.page("newcomer-2", 10, "", "ch")
    assert shared.asked() >= first
