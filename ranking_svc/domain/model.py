"""The ranking domain's plain data: videos, candidates, scored items, tiers and errors."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime


class RankingError(Exception):
    """Base of the errors the servicer turns into status codes."""


class InvalidArgument(RankingError):
    """The request is malformed (INVALID_ARGUMENT)."""


class NotFound(RankingError):
    """The named thing does not exist (NOT_FOUND)."""


class Unavailable(RankingError):
    """Nothing can answer right now (UNAVAILABLE)."""


class Source(enum.IntEnum):
    """Why a candidate is in the feed (same numbers as the proto's CandidateSource)."""

    FOLLOWING = 1
    TRENDING = 2
    AFFINITY = 3
    DEEP_RECALL = 4
    EXPLORATION = 5


class Tier(enum.IntEnum):
    """Which ranking served a page (same numbers as the proto's ServingTier)."""

    MODEL = 1
    RULES = 2
    TRENDING_ONLY = 3


ALGO_PERSONAL = "ch"
ALGO_TRENDING = "trending"
ALGOS = (ALGO_PERSONAL, ALGO_TRENDING)
WINDOWS = ("1h", "24h", "7d")


@dataclass(frozen=True)
class Video:
    """A published video as ranking's own index knows it."""

    video_id: str
    creator_id: str
    title: str = ""
    description: str = ""
    hashtags: tuple[str, ...] = ()
    sound_id: str = ""
    duration_s: float = 0.0
    thumbnail_url: str = ""
    preview_url: str = ""
    published_at: datetime | None = None
    creator_name: str = ""


@dataclass(frozen=True)
class Engagement:
    """A video's counters and completion rate (from stream_svc)."""

    views: int = 0
    likes: int = 0
    shares: int = 0
    comments: int = 0
    completes: int = 0
    completion_rate: float = 0.0


@dataclass
class Candidate:
    """A video proposed by one or more sources, with what each source knows about it."""

    video_id: str
    creator_id: str
    sources: set[Source] = field(default_factory=set)
    # The trending score from stream_svc, or the recall similarity from embed_svc.
    trending_score: float = 0.0
    recall_score: float = 0.0


@dataclass(frozen=True)
class Components:
    """The normalised parts of an item's score and the total it was ranked by."""

    completion: float = 0.0
    engagement: float = 0.0
    affinity: float = 0.0
    deep: float = 0.0
    freshness: float = 1.0
    total: float = 0.0


@dataclass(frozen=True)
class RankedItem:
    """A scored feed item with everything needed to render its card."""

    video: Video
    engagement: Engagement
    sources: tuple[Source, ...]
    score: Components


@dataclass(frozen=True)
class Fallback:
    """A dependency the page had to do without, and why."""

    dependency: str
    reason: str


@dataclass(frozen=True)
class Page:
    """One page of a list, with the cursor of the next page ("" when there is no more)."""

    items: tuple[RankedItem, ...]
    next_cursor: str
    tier: Tier = Tier.MODEL
    fallbacks: tuple[Fallback, ...] = ()
