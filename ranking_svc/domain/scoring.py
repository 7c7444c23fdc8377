"""The feed's score: weighted, normalised components times a freshness decay."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from ranking_svc.domain.model import Components, Engagement

# Completion is smoothed towards this prior over this many pseudo-views, so a video with no
# views yet is neither perfect nor worthless, and three views cannot outrank three thousand.
COMPLETION_PRIOR = 0.35
COMPLETION_PSEUDO_VIEWS = 5.0


@dataclass(frozen=True)
class Weights:
    """Component weights (they need not sum to 1: the total divides by their sum)."""

    completion: float = 0.40
    engagement: float = 0.30
    affinity: float = 0.20
    deep: float = 0.10

    def __post_init__(self) -> None:
        values = (self.completion, self.engagement, self.affinity, self.deep)
        if any(v < 0 or math.isnan(v) for v in values):
            raise ValueError(f"weights must be >= 0, got {values}")
        if sum(values) <= 0:
            raise ValueError("at least one weight must be positive")

    def without_deep(self) -> Weights:
        """The rules tier's weights: no deep score; the total renormalises over the rest."""
        if self.completion + self.engagement + self.affinity <= 0:
            return Weights(completion=1.0, engagement=0.0, affinity=0.0, deep=0.0)
        return Weights(self.completion, self.engagement, self.affinity, 0.0)


# The freshness floor: what an old video's score keeps at least. 0.25 let any brand-new
# video without a single view (completion at its prior, no engagement) outrank a proven
# 4-day-old one, so pages filled with untested uploads (bench/sim_feed.py: -10 % completion
# against a plain popularity order); at 0.6 age still orders equals, but evidence wins.
FRESHNESS_FLOOR = 0.6
FRESHNESS_HALF_LIFE_HOURS = 48.0


@dataclass(frozen=True)
class Freshness:
    """exp decay with a half-life, never below a floor, so a great older video still ranks."""

    half_life_hours: float = FRESHNESS_HALF_LIFE_HOURS
    floor: float = FRESHNESS_FLOOR

    def factor(self, published_at: datetime | None, now: datetime) -> float:
        if published_at is None:
            return self.floor
        age_h = max(0.0, (now - published_at).total_seconds() / 3600.0)
        decay = 0.5 ** (age_h / self.half_life_hours) if self.half_life_hours > 0 else 1.0
        return self.floor + (1.0 - self.floor) * decay


def completion_component(engagement: Engagement) -> float:
    """The smoothed completion rate, in [0, 1]."""
    views = max(0, engagement.views)
    rate = _unit(engagement.completion_rate)
    smoothed = (rate * views + COMPLETION_PRIOR * COMPLETION_PSEUDO_VIEWS) / (
        views + COMPLETION_PSEUDO_VIEWS
    )
    return _unit(smoothed)


def interactions(engagement: Engagement) -> float:
    """Weighted interactions: a share or comment says more than a like, a like than a view."""
    return (
        max(0, engagement.likes)
        + 2.0 * max(0, engagement.shares)
        + 2.0 * max(0, engagement.comments)
        + 0.1 * max(0, engagement.views)
    )


def engagement_components(engagements: Sequence[Engagement]) -> list[float]:
    """Each video's interactions on a log scale relative to the best of the set, in [0, 1].

    All zero (nothing engaged yet) gives all zero rather than a division by zero.
    """
    logs = [math.log1p(interactions(e)) for e in engagements]
    best = max(logs, default=0.0)
    if best <= 0:
        return [0.0 for _ in logs]
    return [value / best for value in logs]


def normalised_affinity(weights: Mapping[str, float]) -> dict[str, float]:
    """Creator weights divided by the largest, in [0, 1]; negative weights count as 0."""
    best = max((w for w in weights.values() if w > 0), default=0.0)
    if best <= 0:
        return {creator: 0.0 for creator in weights}
    return {creator: max(0.0, w) / best for creator, w in weights.items()}


def _unit(value: float) -> float:
    """`value` clamped to [0, 1]; NaN counts as 0. (Called for every component of every
    candidate: the common case, already in range, is one chained comparison.)"""
    if 0.0 <= value <= 1.0:
        return value
    if math.isnan(value):
        return 0.0
    return 1.0 if value > 1.0 else 0.0


def combine(
    weights: Weights,
    *,
    completion: float,
    engagement: float,
    affinity: float,
    deep: float,
    freshness: float,
) -> Components:
    """The weighted mean of the components (each clamped to [0, 1]) times freshness."""
    completion, engagement, affinity = _unit(completion), _unit(engagement), _unit(affinity)
    deep, freshness = _unit(deep), _unit(freshness)
    total_weight = weights.completion + weights.engagement + weights.affinity + weights.deep
    weighted = (
        weights.completion * completion
        + weights.engagement * engagement
        + weights.affinity * affinity
        + weights.deep * deep
    ) / total_weight
    return Components(
        completion=completion,
        engagement=engagement,
        affinity=affinity,
        deep=deep if weights.deep > 0 else 0.0,
        freshness=freshness,
        total=weighted * freshness,
    )
