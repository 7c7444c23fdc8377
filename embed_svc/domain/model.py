"""embed_svc's values: video vectors, watch entries, user embeddings, scored results."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np


@dataclass(frozen=True)
class VideoVector:
    """One video's stored embedding and what is kept beside it."""

    video_id: str
    creator_id: str
    model_version: str  # e.g. "video_encoder/1"
    vector: np.ndarray  # float32 [D], L2-normalised
    # When the video was published (seconds since the epoch); 0 while it is not.
    published_at: int = 0
    generated_at: float = 0.0  # seconds since the epoch


@dataclass(frozen=True)
class WatchEntry:
    """One video a user watched, as stream_svc reports it."""

    video_id: str
    creator_id: str
    watched_at: datetime
    completion: float  # 0..1


@dataclass(frozen=True)
class UserVector:
    """A user's embedding; `vector` is None for a user without usable history."""

    user_id: str
    vector: np.ndarray | None
    model_version: str
    watched_count: int
    computed_at: float  # seconds since the epoch

    @property
    def cold_start(self) -> bool:
        return self.vector is None


@dataclass(frozen=True)
class Scored:
    """A search hit: a video (or creator) id with its cosine similarity."""

    id: str
    creator_id: str
    score: float


@dataclass(frozen=True)
class Recall:
    """The answer of a recall: hits nearest first, on one model version."""

    hits: list[Scored]
    model_version: str
    cold_start: bool
    # Where the hits came from: "precomputed", "computed" (searched now) or "cold_start".
    source: str = "computed"
