"""The growth-rate trending score: decayed weighted engagement, boosted by its growth."""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from datetime import timedelta

from stream_svc.domain.events import Action


class Window(enum.Enum):
    H1 = timedelta(hours=1)
    H24 = timedelta(hours=24)
    D7 = timedelta(days=7)

    @property
    def seconds(self) -> float:
        return self.value.total_seconds()

    @property
    def half_life_s(self) -> float:
        # An event loses half its weight over a quarter of the window, so the newest
        # quarter dominates without the rest of the window counting for nothing.
        return self.seconds / 4


# What one action is worth: effortful, spreading actions weigh more than a view.
ACTION_WEIGHTS: dict[Action, float] = {
    Action.WATCH_START: 1.0,
    Action.WATCH_COMPLETE: 2.0,
    Action.LIKE: 3.0,
    Action.COMMENT: 4.0,
    Action.SHARE: 5.0,
}
# Pseudo-engagement added to both windows so that 1 → 3 views is not a threefold "trend".
GROWTH_PRIOR = 10.0
# Growth boosts the score by its square root, capped, so a burst cannot beat volume alone.
MAX_GROWTH_BOOST = 4.0


def decay(age_s: float, half_life_s: float) -> float:
    """The weight of an event `age_s` seconds old (1 now, 1/2 after a half-life)."""
    return math.pow(2.0, -max(age_s, 0.0) / half_life_s)


@dataclass(frozen=True)
class WindowEngagement:
    """Weighted engagement of one video: the current window decayed and raw, the previous
    window raw."""

    decayed: float
    current: float
    previous: float


def growth(current: float, previous: float) -> float:
    """How many times the current window's engagement exceeds the previous one's, smoothed."""
    return (current + GROWTH_PRIOR) / (previous + GROWTH_PRIOR)


def trending_score(engagement: WindowEngagement) -> float:
    """Decayed engagement times the square root of growth (the boost capped); 0 without
    engagement in the window."""
    if engagement.current <= 0 or engagement.decayed <= 0:
        return 0.0
    boost = min(math.sqrt(growth(engagement.current, engagement.previous)), MAX_GROWTH_BOOST)
    return engagement.decayed * boost


def weighted(counts: dict[Action, int]) -> float:
    """Undecayed weighted engagement of action counts."""
    return sum(ACTION_WEIGHTS.get(action, 0.0) * n for action, n in counts.items())
