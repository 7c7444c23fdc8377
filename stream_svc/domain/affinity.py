"""Creator affinity: how strongly a user engages with each creator, time-decayed."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from stream_svc.domain.trending import decay

HALF_LIFE = timedelta(days=14)
LOOKBACK = timedelta(days=90)


class Interaction(enum.StrEnum):
    COMPLETED = "completed"
    LIKED = "liked"
    SHARED = "shared"


# A share says more about taste than a like, a like more than watching to the end.
INTERACTION_WEIGHTS = {Interaction.COMPLETED: 1.0, Interaction.LIKED: 2.0, Interaction.SHARED: 3.0}


@dataclass(frozen=True)
class CreatorInteraction:
    """One of a user's interactions with a creator's video (one per video and kind)."""

    creator_id: str
    video_id: str
    kind: Interaction
    at: datetime


@dataclass(frozen=True)
class CreatorAffinity:
    creator_id: str
    weight: float
    completed: int
    liked: int
    shared: int


def creator_affinities(
    interactions: Iterable[CreatorInteraction], now: datetime, limit: int
) -> list[CreatorAffinity]:
    """Creators by decayed weighted interactions, the strongest scaled to 1, strongest first.

    Each kind counts a video once (the latest interaction of that kind decides its age).
    """
    latest: dict[tuple[str, str, Interaction], datetime] = {}
    for item in interactions:
        key = (item.creator_id, item.video_id, item.kind)
        if key not in latest or item.at > latest[key]:
            latest[key] = item.at
    raw: dict[str, float] = {}
    counts: dict[str, dict[Interaction, int]] = {}
    for (creator, _video, kind), at in latest.items():
        age = (now - at).total_seconds()
        raw[creator] = raw.get(creator, 0.0) + INTERACTION_WEIGHTS[kind] * decay(
            age, HALF_LIFE.total_seconds()
        )
        per_kind = counts.setdefault(creator, dict.fromkeys(Interaction, 0))
        per_kind[kind] += 1
    if not raw:
        return []
    strongest = max(raw.values())
    ranked = sorted(raw.items(), key=lambda item: (-item[1], item[0]))[:limit]
    return [
        CreatorAffinity(
            creator_id=creator,
            weight=weight / strongest if strongest > 0 else 0.0,
            completed=counts[creator][Interaction.COMPLETED],
            liked=counts[creator][Interaction.LIKED],
            shared=counts[creator][Interaction.SHARED],
        )
        for creator, weight in ranked
    ]
