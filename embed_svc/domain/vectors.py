"""Vector arithmetic: normalising, the user embedding's weighted mean, creator centroids."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import datetime

import numpy as np

from embed_svc.domain.model import WatchEntry

# A watch that barely started still says something; it counts at least this much.
MIN_COMPLETION_WEIGHT = 0.05


def normalised(vector: np.ndarray) -> np.ndarray | None:
    """The unit vector along `vector`, or None for a zero (or non-finite) vector."""
    vector = np.asarray(vector, dtype=np.float32)
    norm = float(np.linalg.norm(vector))
    if not math.isfinite(norm) or norm < 1e-12:
        return None
    return (vector / norm).astype(np.float32)


def watch_weight(entry: WatchEntry, now: datetime, half_life_h: float) -> float:
    """Completion times exponential time decay: a full watch now weighs 1."""
    age_h = max(0.0, (now - entry.watched_at).total_seconds() / 3600)
    completion = min(1.0, max(MIN_COMPLETION_WEIGHT, entry.completion))
    return completion * 0.5 ** (age_h / half_life_h)


def user_embedding(
    entries: Sequence[WatchEntry],
    vectors: dict[str, np.ndarray],
    now: datetime,
    half_life_h: float,
) -> tuple[np.ndarray | None, int]:
    """The completion-weighted, time-decayed mean of the watched videos' vectors.

    Returns the normalised mean (None when nothing usable was watched) and how many
    watched videos it was computed from (videos without a vector are skipped).
    """
    total: np.ndarray | None = None
    used = 0
    for entry in entries:
        vector = vectors.get(entry.video_id)
        if vector is None:
            continue
        weighted = vector.astype(np.float64) * watch_weight(entry, now, half_life_h)
        total = weighted if total is None else total + weighted
        used += 1
    if total is None:
        return None, 0
    mean = normalised(total)
    return mean, used if mean is not None else 0


def centroid(vectors: Iterable[np.ndarray]) -> np.ndarray | None:
    """The normalised mean of unit vectors (a creator's centroid), None when empty."""
    stacked = [np.asarray(v, dtype=np.float64) for v in vectors]
    if not stacked:
        return None
    return normalised(np.mean(np.stack(stacked), axis=0))
