"""The feed's scoring module: normalisation, weights, freshness and edge cases."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from ranking_svc.domain.model import Engagement
from ranking_svc.domain.scoring import (
    COMPLETION_PRIOR,
    Freshness,
    Weights,
    combine,
    completion_component,
    engagement_components,
    normalised_affinity,
)

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)


def test_default_weights_are_the_specified_ones() -> None:
    w = Weights()
    assert (w.completion, w.engagement, w.affinity, w.deep) == (0.40, 0.30, 0.20, 0.10)


def test_rules_weights_drop_the_deep_score_and_renormalise() -> None:
    rules = Weights().without_deep()
    assert rules.deep == 0
    everything_one = combine(rules, completion=1, engagement=1, affinity=1, deep=0, freshness=1)
    assert everything_one.total == pytest.approx(1.0)
    assert everything_one.deep == 0


@pytest.mark.parametrize("bad", [-0.1, math.nan])
def test_negative_or_nan_weights_are_refused(bad: float) -> None:
    with pytest.raises(ValueError):
        Weights(completion=bad)


def test_all_zero_weights_are_refused() -> None:
    with pytest.raises(ValueError):
        Weights(0, 0, 0, 0)


def test_no_engagement_yet_gives_the_prior_not_nan() -> None:
    assert completion_component(Engagement()) == pytest.approx(COMPLETION_PRIOR)
    assert engagement_components([Engagement(), Engagement()]) == [0.0, 0.0]


def test_zero_length_history_gives_zero_affinity() -> None:
    assert normalised_affinity({}) == {}
    assert normalised_affinity({"a": 0.0, "b": -1.0}) == {"a": 0.0, "b": 0.0}


def test_affinity_is_relative_to_the_strongest_creator() -> None:
    assert normalised_affinity({"a": 4.0, "b": 1.0}) == {"a": 1.0, "b": 0.25}


def test_completion_is_smoothed_so_few_views_cannot_win() -> None:
    few = completion_component(Engagement(views=2, completes=2, completion_rate=1.0))
    many = completion_component(Engagement(views=2000, completes=1800, completion_rate=0.9))
    assert many > few
    assert 0 <= few <= 1 and 0 <= many <= 1


def test_engagement_is_log_scaled_against_the_best_of_the_set() -> None:
    values = engagement_components(
        [Engagement(views=10), Engagement(views=1000, likes=100), Engagement()]
    )
    assert values[1] == pytest.approx(1.0)
    assert 0 < values[0] < values[1]
    assert values[2] == 0


def test_components_are_clamped_and_nan_counts_as_zero() -> None:
    parts = combine(
        Weights(), completion=2.0, engagement=-1, affinity=math.nan, deep=0.5, freshness=1.5
    )
    assert (parts.completion, parts.engagement, parts.affinity) == (1.0, 0.0, 0.0)
    assert parts.freshness == 1.0
    assert parts.total == pytest.approx((0.4 + 0.1 * 0.5) / 1.0)


def test_ties_give_equal_totals() -> None:
    a = combine(Weights(), completion=0.5, engagement=0.5, affinity=0, deep=0, freshness=1)
    b = combine(Weights(), completion=0.5, engagement=0.5, affinity=0, deep=0, freshness=1)
    assert a == b


def test_freshness_halves_per_half_life_above_the_floor() -> None:
    fresh = Freshness(half_life_hours=48, floor=0.2)
    assert fresh.factor(NOW, NOW) == pytest.approx(1.0)
    assert fresh.factor(NOW - timedelta(hours=48), NOW) == pytest.approx(0.2 + 0.8 * 0.5)
    assert fresh.factor(NOW - timedelta(days=365), NOW) == pytest.approx(0.2, abs=1e-6)
    # A clock skew (published "in the future") never exceeds 1.
    assert fresh.factor(NOW + timedelta(hours=1), NOW) == pytest.approx(1.0)
    assert fresh.factor(None, NOW) == 0.2


def test_freshness_scales_the_total() -> None:
    old = combine(Weights(), completion=1, engagement=1, affinity=1, deep=1, freshness=0.5)
    assert old.total == pytest.approx(0.5)


def test_default_freshness_lets_a_proven_older_video_beat_an_untested_new_one() -> None:
    # Rules tier (no deep score): a 4-day-old video with a good, well-observed completion
    # rate and engagement against one published now with no views at all.
    rules = Weights().without_deep()
    fresh = Freshness()
    proven = combine(
        rules,
        completion=completion_component(Engagement(views=400, completes=240, completion_rate=0.6)),
        engagement=0.8,
        affinity=0.0,
        deep=0.0,
        freshness=fresh.factor(NOW - timedelta(hours=96), NOW),
    )
    untested = combine(
        rules,
        completion=completion_component(Engagement()),
        engagement=0.0,
        affinity=0.0,
        deep=0.0,
        freshness=fresh.factor(NOW, NOW),
    )
    assert proven.total > untested.total
    # Between equals, the newer one still ranks first.
    same = {"completion": 0.5, "engagement": 0.5, "affinity": 0.0, "deep": 0.0}
    newer = combine(rules, **same, freshness=fresh.factor(NOW - timedelta(hours=1), NOW))
    older = combine(rules, **same, freshness=fresh.factor(NOW - timedelta(hours=50), NOW))
    assert newer.total > older.total


def test_default_freshness_is_documented_in_settings() -> None:
    from ranking_svc.settings import DEFAULTS, RankingSettings

    assert float(DEFAULTS["RANKING_FRESHNESS_FLOOR"]) == Freshness().floor
    assert float(DEFAULTS["RANKING_FRESHNESS_HALF_LIFE_HOURS"]) == Freshness().half_life_hours
    assert RankingSettings.from_env({}).feed.freshness == Freshness()
