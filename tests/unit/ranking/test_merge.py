"""Merging sources, dedup, the seen filter and the author cap."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from ranking_svc.domain.merge import cap_authors, drop_seen, merge_sources, satisfies_cap
from ranking_svc.domain.model import Candidate, Source


def cand(video: str, creator: str, source: Source, **scores: float) -> Candidate:
    return Candidate(video, creator, {source}, **scores)


def test_duplicates_across_sources_merge_into_one_with_every_source() -> None:
    merged = merge_sources(
        {
            Source.FOLLOWING: [cand("v1", "c1", Source.FOLLOWING)],
            Source.TRENDING: [
                cand("v1", "c1", Source.TRENDING, trending_score=3.0),
                cand("v2", "c2", Source.TRENDING, trending_score=1.0),
            ],
            Source.DEEP_RECALL: [cand("v1", "c1", Source.DEEP_RECALL, recall_score=0.7)],
        }
    )
    assert [c.video_id for c in merged] == ["v1", "v2"]
    assert merged[0].sources == {Source.FOLLOWING, Source.TRENDING, Source.DEEP_RECALL}
    assert merged[0].trending_score == 3.0 and merged[0].recall_score == 0.7


def test_merge_is_round_robin_so_a_capped_pool_keeps_every_source() -> None:
    batches = {
        Source.FOLLOWING: [cand(f"f{i}", "a", Source.FOLLOWING) for i in range(50)],
        Source.TRENDING: [cand(f"t{i}", "b", Source.TRENDING) for i in range(50)],
        Source.AFFINITY: [cand(f"a{i}", "c", Source.AFFINITY) for i in range(50)],
        Source.DEEP_RECALL: [cand(f"d{i}", "d", Source.DEEP_RECALL) for i in range(50)],
    }
    pool = merge_sources(batches, limit=20)
    assert len(pool) == 20
    assert {next(iter(c.sources)) for c in pool} == set(batches)


def test_empty_sources_merge_to_nothing() -> None:
    assert merge_sources({}) == []
    assert merge_sources({Source.TRENDING: []}) == []


def test_seen_videos_are_dropped() -> None:
    items = [cand("v1", "a", Source.TRENDING), cand("v2", "a", Source.TRENDING)]
    assert [c.video_id for c in drop_seen(items, {"v1"}, lambda c: c.video_id)] == ["v2"]


def test_author_cap_reorders_to_two_per_ten() -> None:
    ranked = [("x", i) for i in range(5)] + [(f"c{i}", i) for i in range(20)]
    capped = cap_authors(ranked, lambda item: item[0])
    assert satisfies_cap(capped, lambda item: item[0])
    # The best two of the dominant creator lead; the rest wait for a slot.
    assert capped[:2] == [("x", 0), ("x", 1)]
    assert len(capped) == 25


def test_author_cap_drops_what_can_never_fit() -> None:
    only_one = [("x", i) for i in range(10)]
    capped = cap_authors(only_one, lambda item: item[0])
    assert capped == [("x", 0), ("x", 1)]


@pytest.mark.parametrize("seed", range(20))
def test_author_cap_holds_for_random_lists(seed: int) -> None:
    rng = random.Random(seed)
    ranked = [(rng.choice("abcdefg"), i) for i in range(rng.randint(0, 80))]
    capped = cap_authors(ranked, lambda item: item[0])
    assert satisfies_cap(capped, lambda item: item[0])
    assert len(set(capped)) == len(capped)
    # Order among kept items of one creator is the ranked order.
    for creator in "abcdefg":
        kept = [i for c, i in capped if c == creator]
        assert kept == sorted(kept)


def test_satisfies_cap_detects_a_violation() -> None:
    assert not satisfies_cap(["a", "b", "a", "a"], lambda c: c)
    assert satisfies_cap(["a", "a"] + ["b"] * 0 + [str(i) for i in range(8)] + ["a"], lambda c: c)


def _reference_cap(ranked, creator_of, cap=2, window=10):
    """The rule as written: each slot takes the first waiting item whose creator has fewer
    than `cap` items among the previous window-1 slots."""
    result, pending = [], list(ranked)
    while pending:
        recent = Counter(creator_of(i) for i in result[-(window - 1) :])
        fits = [i for i in pending if recent[creator_of(i)] < cap]
        if not fits:
            break
        pending.remove(fits[0])
        result.append(fits[0])
    return result


@pytest.mark.parametrize("seed", range(40))
def test_cap_authors_follows_the_rule_on_random_pages(seed: int) -> None:
    rng = random.Random(seed)
    creators = [f"c{k}" for k in range(rng.randint(1, 12))]
    # Skewed: a few creators dominate, as on real pages.
    ranked = [(rng.choice(creators[: rng.randint(1, len(creators))]), n) for n in range(120)]
    capped = cap_authors(ranked, lambda item: item[0])
    assert capped == _reference_cap(ranked, lambda item: item[0])
    assert satisfies_cap(capped, lambda item: item[0])
