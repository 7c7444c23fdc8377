"""The growth-rate trending score."""

from __future__ import annotations

import math

import pytest

from stream_svc.domain.events import Action
from stream_svc.domain.trending import (
    ACTION_WEIGHTS,
    GROWTH_PRIOR,
    MAX_GROWTH_BOOST,
    Window,
    WindowEngagement,
    decay,
    growth,
    trending_score,
    weighted,
)


def test_no_engagement_in_the_window_scores_zero() -> None:
    assert trending_score(WindowEngagement(0.0, 0.0, 50.0)) == 0.0
    assert trending_score(WindowEngagement(0.0, 5.0, 0.0)) == 0.0


def test_decay_halves_every_half_life() -> None:
    half = Window.H24.half_life_s
    assert decay(0, half) == 1.0
    assert decay(half, half) == pytest.approx(0.5)
    assert decay(2 * half, half) == pytest.approx(0.25)
    assert decay(-10, half) == 1.0  # a clock a little ahead is not a bonus
    assert Window.H1.half_life_s == 900


def test_growing_beats_shrinking_at_equal_engagement() -> None:
    growing = trending_score(WindowEngagement(decayed=40, current=50, previous=5))
    steady = trending_score(WindowEngagement(decayed=40, current=50, previous=50))
    shrinking = trending_score(WindowEngagement(decayed=40, current=50, previous=500))
    assert growing > steady > shrinking > 0


def test_fresh_engagement_beats_old_engagement_of_the_same_size() -> None:
    fresh = trending_score(WindowEngagement(decayed=45, current=50, previous=10))
    stale = trending_score(WindowEngagement(decayed=10, current=50, previous=10))
    assert fresh > stale


def test_the_prior_tames_tiny_numbers_and_the_boost_is_capped() -> None:
    assert growth(3, 1) == pytest.approx((3 + GROWTH_PRIOR) / (1 + GROWTH_PRIOR))
    burst = trending_score(WindowEngagement(decayed=1000, current=1000, previous=0))
    assert burst == pytest.approx(1000 * min(math.sqrt(growth(1000, 0)), MAX_GROWTH_BOOST))
    assert burst <= 1000 * MAX_GROWTH_BOOST


def test_weights_rank_effortful_actions_higher() -> None:
    assert (
        weighted({Action.WATCH_START: 2, Action.SHARE: 1})
        == 2 * ACTION_WEIGHTS[Action.WATCH_START] + ACTION_WEIGHTS[Action.SHARE]
    )
    order = [Action.WATCH_START, Action.WATCH_COMPLETE, Action.LIKE, Action.COMMENT, Action.SHARE]
    assert [ACTION_WEIGHTS[a] for a in order] == sorted(ACTION_WEIGHTS[a] for a in order)
    assert weighted({Action.REBUFFER: 10}) == 0
