"""Merging candidate sources, dropping what was seen, and capping each creator's share."""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TypeVar

from ranking_svc.domain.model import Candidate, Source

T = TypeVar("T")

# A creator may fill at most this many of any this-many consecutive slots.
AUTHOR_CAP = 2
AUTHOR_WINDOW = 10


def merge_sources(
    batches: Mapping[Source, Sequence[Candidate]], limit: int | None = None
) -> list[Candidate]:
    """One candidate per video, carrying every source that proposed it.

    Order is round-robin over the sources (in Source order), so a cap on the pool keeps
    some of every source; the strongest signal each source gave is kept.
    """
    merged: dict[str, Candidate] = {}
    queues = [deque(batches[source]) for source in sorted(batches)]
    order: list[str] = []
    while any(queues):
        for queue in queues:
            if not queue:
                continue
            candidate = queue.popleft()
            known = merged.get(candidate.video_id)
            if known is None:
                known = Candidate(candidate.video_id, candidate.creator_id)
                merged[candidate.video_id] = known
                order.append(candidate.video_id)
            known.sources |= candidate.sources
            known.trending_score = max(known.trending_score, candidate.trending_score)
            known.recall_score = max(known.recall_score, candidate.recall_score)
            if not known.creator_id:
                known.creator_id = candidate.creator_id
    result = [merged[video_id] for video_id in order]
    return result if limit is None else result[:limit]


def drop_seen(candidates: Iterable[T], seen: set[str], key: Callable[[T], str]) -> list[T]:
    return [c for c in candidates if key(c) not in seen]


def cap_authors(
    ranked: Sequence[T],
    creator_of: Callable[[T], str],
    *,
    cap: int = AUTHOR_CAP,
    window: int = AUTHOR_WINDOW,
) -> list[T]:
    """Reorders a ranked list so no creator has more than `cap` items in any `window`
    consecutive ones; an item that would break the cap waits for the first slot that
    admits it. Items that never fit (one creator dominates the tail) are dropped.
    """
    if cap <= 0 or window <= 0:
        raise ValueError("cap and window must be positive")
    # Each creator is looked up once; the scan below runs for every slot of the page.
    creators = [creator_of(item) for item in ranked]
    pending = list(range(len(ranked)))
    placed: list[int] = []
    recent: dict[str, int] = {}
    while pending:
        position = 0
        while position < len(pending) and recent.get(creators[pending[position]], 0) >= cap:
            position += 1
        if position == len(pending):
            break  # only over-represented creators remain
        index = pending.pop(position)
        placed.append(index)
        creator = creators[index]
        recent[creator] = recent.get(creator, 0) + 1
        if len(placed) >= window:
            # The next slot's window is the last window-1 items.
            recent[creators[placed[-window]]] -= 1
    return [ranked[index] for index in placed]


def satisfies_cap(
    items: Sequence[T],
    creator_of: Callable[[T], str],
    *,
    cap: int = AUTHOR_CAP,
    window: int = AUTHOR_WINDOW,
) -> bool:
    """Whether every `window` consecutive items hold at most `cap` per creator."""
    for start in range(max(1, len(items) - window + 1)):
        counts = Counter(creator_of(i) for i in items[start : start + window])
        if counts and max(counts.values()) > cap:
            return False
    return True
