"""What the ranking domain needs from the outside world, as small interfaces."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from ranking_svc.domain.model import Engagement, Fallback, RankedItem, Tier, Video


class DependencyFailed(Exception):
    """A peer or store did not answer usefully; the feed falls back instead of failing."""

    def __init__(self, dependency: str, reason: str) -> None:
        super().__init__(f"{dependency}: {reason}")
        self.dependency = dependency
        self.reason = reason


@dataclass(frozen=True)
class TrendingFact:
    video_id: str
    creator_id: str
    engagement: Engagement
    score: float


@dataclass(frozen=True)
class Recalled:
    video_id: str
    creator_id: str
    score: float


@dataclass(frozen=True)
class CreatorProfile:
    creator_id: str
    display_name: str
    follower_count: int
    following_count: int
    video_count: int


@dataclass(frozen=True)
class Session:
    """A ranked feed list the pages of one feed session are cut from, and how it was made."""

    items: tuple[RankedItem, ...]
    tier: Tier
    fallbacks: tuple[Fallback, ...] = ()


class VideoIndex(Protocol):
    """ranking's own index of published videos, follows and profiles (PostgreSQL)."""

    async def videos(self, video_ids: Sequence[str]) -> dict[str, Video]: ...

    async def followee_videos(self, user_id: str, since: datetime, limit: int) -> list[Video]: ...

    async def creators_videos(
        self, creator_ids: Sequence[str], since: datetime, per_creator: int, limit: int
    ) -> list[Video]: ...

    async def recent_videos(self, limit: int, since: datetime | None = None) -> list[Video]: ...

    async def followees(self, user_id: str) -> set[str]: ...


class Facts(Protocol):
    """Engagement facts from stream_svc."""

    async def trending(self, window: str, limit: int) -> list[TrendingFact]: ...

    async def affinity(self, user_id: str, limit: int) -> dict[str, float]: ...

    async def watched(self, user_id: str, limit: int) -> list[tuple[str, str]]: ...

    async def engagement(self, video_ids: Sequence[str]) -> dict[str, Engagement]: ...


class Deep(Protocol):
    """Deep recall and the ranking model, through embed_svc."""

    async def recall(self, user_id: str, k: int, exclude: Sequence[str]) -> list[Recalled]: ...

    async def score(self, user_id: str, video_ids: Sequence[str]) -> dict[str, float]: ...


class FeedStore(Protocol):
    """Seen filters, feed sessions and the hot lists (Redis)."""

    async def seen(self, user_id: str) -> set[str]: ...

    async def save_session(self, user_id: str, session: str, page: Session) -> None: ...

    async def load_session(self, user_id: str, session: str) -> Session | None: ...

    async def hot(self, window: str) -> list[RankedItem] | None: ...

    async def put_hot(self, window: str, items: Sequence[RankedItem]) -> None: ...
