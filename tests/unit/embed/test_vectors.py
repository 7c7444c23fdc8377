"""The user embedding's arithmetic: completion weights, time decay, normalisation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from embed_svc.domain.model import WatchEntry
from embed_svc.domain.vectors import centroid, normalised, user_embedding, watch_weight

NOW = datetime(2026, 1, 10, tzinfo=UTC)


def _entry(video: str, hours_ago: float, completion: float) -> WatchEntry:
    return WatchEntry(video, "c", NOW - timedelta(hours=hours_ago), completion)


def test_weight_is_completion_times_half_life_decay() -> None:
    assert watch_weight(_entry("a", 0, 1.0), NOW, 72) == 1.0
    assert abs(watch_weight(_entry("a", 72, 1.0), NOW, 72) - 0.5) < 1e-9
    assert abs(watch_weight(_entry("a", 0, 0.5), NOW, 72) - 0.5) < 1e-9
    assert watch_weight(_entry("a", 0, 0.0), NOW, 72) > 0  # a start still counts a little


def test_user_embedding_leans_to_completed_recent_watches() -> None:
    x, y = np.eye(4, dtype=np.float32)[0], np.eye(4, dtype=np.float32)[1]
    entries = [_entry("x", 1, 1.0), _entry("y", 200, 0.25), _entry("missing", 0, 1.0)]
    mean, used = user_embedding(entries, {"x": x, "y": y}, NOW, 72)
    assert used == 2
    assert mean is not None and abs(float(np.linalg.norm(mean)) - 1) < 1e-6
    assert mean[0] > 10 * mean[1] > 0


def test_no_usable_history_is_none() -> None:
    assert user_embedding([], {}, NOW, 72) == (None, 0)
    assert user_embedding([_entry("gone", 1, 1)], {}, NOW, 72) == (None, 0)
    assert normalised(np.zeros(3)) is None


def test_centroid_is_the_normalised_mean() -> None:
    c = centroid([np.array([1, 0], np.float32), np.array([0, 1], np.float32)])
    assert c is not None and np.allclose(c, [2**-0.5, 2**-0.5])
    assert centroid([]) is None
