"""The expiring memo behind ranking's process-local reuse (seen marks, prefetches, counters)."""

from __future__ import annotations

from ranking_svc.domain.memo import ExpiringMemo


def test_a_value_lives_until_its_own_expiry() -> None:
    memo: ExpiringMemo[str, int] = ExpiringMemo(10)
    memo.put("a", 1, expires_at=5.0, now=0.0)
    memo.put("b", 2, expires_at=9.0, now=0.0)
    assert memo.get("a", 4.9) == 1
    assert memo.get("a", 5.0) is None
    assert memo.get("b", 5.0) == 2
    assert memo.get("missing", 0.0) is None
    memo.forget("b")
    assert memo.get("b", 5.0) is None


def test_past_the_bound_expired_entries_are_dropped_and_live_ones_kept() -> None:
    memo: ExpiringMemo[int, int] = ExpiringMemo(3)
    for key in range(4):
        memo.put(key, key, expires_at=10.0 if key % 2 else 1.0, now=0.0)
    assert len(memo) == 4
    memo.put(99, 99, expires_at=20.0, now=2.0)  # over the bound: keys 0 and 2 expired
    assert len(memo) == 3
    assert [memo.get(k, 2.0) for k in (1, 3, 99)] == [1, 3, 99]
