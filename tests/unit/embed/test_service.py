"""embed_svc's use cases over in-memory fakes: recall, cold start, exclusions, deletions,
refresh on watches, scoring, creators and the mirror queue."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from embed_svc.domain.errors import InvalidInput, NotFound
from embed_svc.domain.model import VideoVector, WatchEntry
from embed_svc.domain.service import EmbedService, Tuning
from tests.unit.embed.fakes import FakeCache, FakeEncoder, FakeHistory, FakeMirror, FakeStore

pytestmark = pytest.mark.asyncio(loop_scope="session")


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def _unit(*values: float) -> np.ndarray:
    v = np.zeros(8, np.float32)
    v[: len(values)] = values
    return v / np.linalg.norm(v)


@pytest.fixture
def parts():
    store, cache, history, mirror, clock = (
        FakeStore(),
        FakeCache(),
        FakeHistory(),
        FakeMirror(),
        Clock(),
    )
    service = EmbedService(
        encoder=FakeEncoder(),
        store=store,
        searcher=lambda q, limit, version: _first(store.search(q[np.newaxis], limit, version)),
        cache=cache,
        history=history,
        mirror=mirror,
        tuning=Tuning(recall_candidates=5, user_refresh_delay_s=1.0, recall_stale_s=60),
        clock=clock,
    )
    return service, store, cache, history, mirror, clock


async def _first(coroutine):
    return (await coroutine)[0]


async def _catalogue(store: FakeStore) -> None:
    # Two families: "red" near axis 0, "blue" near axis 1; creators r and b.
    rows = [
        VideoVector(f"red{i}", "r", "enc/1", _unit(1, 0.1 * i), published_at=1) for i in range(4)
    ] + [VideoVector(f"blue{i}", "b", "enc/1", _unit(0.1 * i, 1), published_at=1) for i in range(4)]
    await store.upsert(rows)


def _watch(video: str, completion: float = 1.0) -> WatchEntry:
    return WatchEntry(video, "", datetime.now(UTC), completion)


async def test_cold_start_is_empty_not_an_error(parts) -> None:
    service, store, *_ = parts
    await _catalogue(store)
    recall = await service.recall("nobody", 10)
    assert recall.cold_start and recall.hits == []
    assert store.searches == 0


async def test_recall_follows_history_and_is_precomputed(parts) -> None:
    service, store, cache, history, *_ = parts
    await _catalogue(store)
    history.entries["u"] = [_watch("red0"), _watch("red1")]
    recall = await service.recall("u", 3)
    assert [h.id[:3] for h in recall.hits] == ["red"] * 3
    assert "u" in cache.recalls and store.searches == 1
    assert recall.source == "computed"
    again = await service.recall("u", 3, exclude=["red0", "red1"])
    assert [h.id for h in again.hits][:2] == ["red2", "red3"]
    assert again.source == "precomputed"
    assert store.searches == 1  # read from the precomputed candidates


async def test_exclusions_beyond_the_precomputed_list_search_deeper(parts) -> None:
    service, store, _, history, *_ = parts
    await _catalogue(store)
    history.entries["u"] = [_watch("red0")]
    await service.recall("u", 3)  # precomputes 5 candidates of 8
    hits = (await service.recall("u", 3, exclude=["red0", "red1", "red2", "red3"])).hits
    assert len(hits) == 3 and not {h.id for h in hits} & {"red0", "red1", "red2", "red3"}


async def test_deleted_videos_are_filtered_and_removed(parts) -> None:
    service, store, _cache, history, *_ = parts
    await _catalogue(store)
    history.entries["u"] = [_watch("red0")]
    await service.recall("u", 3)
    await service.deleted("red1", "r")
    assert "red1" not in store.rows
    assert "red1" not in {h.id for h in (await service.recall("u", 5)).hits}
    # A late EmbedVideo for the deleted video never makes it recallable again.
    await service.embed_video("red1", "r", np.zeros((2, 4, 4, 3), np.uint8))
    assert "red1" not in store.rows


async def test_watches_refresh_the_user_when_the_history_has_them(parts) -> None:
    service, store, cache, history, _, clock = parts
    await _catalogue(store)
    assert (await service.recall("u", 3)).cold_start
    await service.watched("u", "blue0")
    clock.now += 2
    # stream_svc has not written the watch yet: the refresh is tried again later.
    assert await service.refresh_due_users() == 1
    assert "u" in cache.refresh
    history.entries["u"] = [_watch("blue0")]
    clock.now += 2
    assert await service.refresh_due_users() == 1
    assert "u" not in cache.refresh
    recall = await service.recall("u", 2)
    assert not recall.cold_start and all(h.id.startswith("blue") for h in recall.hits)


async def test_a_refresh_gives_up_waiting_for_a_watch_after_a_while(parts) -> None:
    service, _, cache, _, _, clock = parts
    await service.watched("u", "never-written")
    for _ in range(40):
        clock.now += 2
        await service.refresh_due_users()
    assert "u" not in cache.refresh


async def test_published_after_the_vector_makes_it_recallable(parts) -> None:
    service, store, _, history, *_ = parts
    video = await service.embed_video("new", "c", np.full((2, 4, 4, 3), 200, np.uint8))
    assert store.rows["new"].published_at == 0
    await service.published("new", "c", 1234)
    assert store.rows["new"].published_at == 1234
    history.entries["u"] = [_watch("new")]
    assert [h.id for h in (await service.recall("u", 1)).hits] == ["new"]
    assert video.model_version == "enc/1"


async def test_published_before_the_vector_is_remembered(parts) -> None:
    service, store, *_ = parts
    await service.published("early", "c", 99)
    await service.embed_video("early", "c", np.full((2, 4, 4, 3), 9, np.uint8))
    assert store.rows["early"].published_at == 99


async def test_scores_and_unscored(parts) -> None:
    service, store, _, history, *_ = parts
    await _catalogue(store)
    history.entries["u"] = [_watch("red0")]
    scores, version, unscored = await service.score("u", ["red1", "blue1", "ghost"])
    by_id = dict(scores)
    assert version == "rank/1" and unscored == ["ghost"]
    assert by_id["red1"] > by_id["blue1"]
    cold, _, _ = await service.score("cold", ["red1"])
    assert cold[0][1] == pytest.approx(0.5)  # the fake's score of a zero user vector


async def test_similar_videos_and_creators(parts) -> None:
    service, store, _, history, *_ = parts
    await _catalogue(store)
    for creator in ("r", "b"):
        await service.refresh_creator(creator)
    hits, version = await service.similar_videos("red0", 3)
    assert version == "enc/1" and [h.id[:3] for h in hits] == ["red"] * 3
    assert "red0" not in {h.id for h in hits}
    with pytest.raises(NotFound):
        await service.similar_videos("ghost", 3)
    history.entries["u"] = [_watch("blue2")]
    creators, cold = await service.similar_creators("u", 2)
    assert not cold and [c.id for c in creators] == ["b", "r"]
    creators, _ = await service.similar_creators("u", 2, exclude=["b"])
    assert [c.id for c in creators] == ["r"]


async def test_mirror_queue_drains(parts) -> None:
    service, _, cache, _, mirror, _ = parts
    await service.embed_video("m1", "c", np.zeros((1, 4, 4, 3), np.uint8))
    assert cache.mirror == {"m1"}
    assert await service.mirror_pending() == 1
    assert mirror.mirrored == ["m1"] and cache.mirror == set()


async def test_arguments_are_checked(parts) -> None:
    service, *_ = parts
    for call in (
        service.recall("", 1),
        service.recall("u", 1001),
        service.score("u", []),
        service.similar_videos("v", 201),
        service.embeddings(["x"] * 1001),
        service.embed_video("v", "", np.zeros((1, 4, 4, 3), np.uint8)),
        service.embed_video("v", "c", np.zeros((65, 4, 4, 3), np.uint8)),
    ):
        with pytest.raises(InvalidInput):
            await call
