"""The engagement use cases over in-memory stores."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime

import pytest

from stream_svc.domain.analytics import Counters
from stream_svc.domain.errors import InvalidArgument, NotFound, PermissionDenied
from stream_svc.domain.events import Action, ClientEvent, RecordedEvent
from stream_svc.domain.model import Comment, Engagement, VideoInfo, WatchEntry
from stream_svc.domain.service import EngagementService

NOW = datetime(2026, 5, 1, tzinfo=UTC)
LIVE = "11111111-1111-4111-8111-111111111111"
GONE = "22222222-2222-4222-8222-222222222222"


class Store:
    def __init__(self) -> None:
        self.videos = {
            LIVE: VideoInfo(LIVE, "creator", published_at=NOW, duration_s=10.0),
            GONE: VideoInfo(GONE, "creator", published_at=NOW, deleted=True),
        }
        self.likes: set[tuple[str, str]] = set()
        self.comments: dict[str, Comment] = {}
        # The events stored with each change (the outbox of the real store).
        self.liked_events: list[RecordedEvent] = []

    async def video(self, video_id: str) -> VideoInfo | None:
        return self.videos.get(video_id)

    async def like(self, event: RecordedEvent) -> tuple[bool, Counters]:
        changed = (event.video_id, event.user_id) not in self.likes
        self.likes.add((event.video_id, event.user_id))
        if changed:
            self.liked_events.append(event)
        return changed, Counters(likes=len(self.likes))

    async def comment(self, video_id: str, comment_id: str) -> Comment | None:
        found = self.comments.get(comment_id)
        return found if found and found.video_id == video_id else None

    async def delete_comment(self, video_id: str, comment_id: str) -> tuple[bool, Counters]:
        return self.comments.pop(comment_id, None) is not None, Counters()

    async def engagements(self, video_ids: Sequence[str]) -> dict[str, Engagement]:
        return {
            v: Engagement(v, Counters(views=1), 0, 0.0, 0.0)
            for v in video_ids
            if v in self.videos and self.videos[v].live
        }

    async def live_video_ids(self, video_ids: Sequence[str]) -> set[str]:
        return {v for v in video_ids if v in self.videos and self.videos[v].live}


class Log:
    async def watch_history(self, user_id: str, since: datetime, limit: int) -> list[WatchEntry]:
        return [WatchEntry(GONE, "c", NOW, 1.0, 5.0), WatchEntry(LIVE, "c", NOW, 0.5, 2.0)]


class Publisher:
    def __init__(self) -> None:
        self.playback: list[RecordedEvent] = []

    async def playback_events(self, events: Sequence[RecordedEvent]) -> None:
        self.playback.extend(events)


class Cache:
    def __init__(self) -> None:
        self.dropped: list[str] = []

    async def drop(self, video_ids: Sequence[str]) -> None:
        self.dropped.extend(video_ids)


def service() -> tuple[EngagementService, Store, Publisher, Cache]:
    store, cache = Store(), Cache()
    publisher = Publisher()
    return (
        EngagementService(store, Log(), publisher, cache, clock=lambda: NOW),  # type: ignore[arg-type]
        store,
        publisher,
        cache,
    )


def run(coro):
    return asyncio.run(coro)


def test_only_accepted_events_are_published() -> None:
    svc, _, publisher, _ = service()
    verdict = run(
        svc.record_playback_events(
            LIVE.upper(),
            "u",
            [
                ClientEvent("a", Action.WATCH_START, NOW),
                ClientEvent("b", None, NOW),
                ClientEvent("c", Action.WATCH_COMPLETE, NOW, position_s=10.0),
            ],
        )
    )
    assert [r.index for r in verdict.rejected] == [1]
    assert [e.client_event_id for e in publisher.playback] == ["a", "c"]
    assert {e.creator_id for e in publisher.playback} == {"creator"}


def test_deleted_and_unknown_videos_are_not_found() -> None:
    svc, *_ = service()
    for video in (GONE, "33333333-3333-4333-8333-333333333333"):
        with pytest.raises(NotFound):
            run(svc.like(video, "u"))
    with pytest.raises(InvalidArgument):
        run(svc.record_playback_events(LIVE, "u", []))


def test_a_repeated_like_publishes_and_invalidates_once() -> None:
    svc, store, _, cache = service()
    run(svc.like(LIVE, "u"))
    run(svc.like(LIVE, "u"))
    assert len(store.liked_events) == 1
    event = store.liked_events[0]
    assert event.action is Action.LIKE
    assert (event.video_id, event.user_id, event.creator_id) == (LIVE, "u", "creator")
    assert cache.dropped == [LIVE]


@pytest.mark.security
def test_only_the_author_deletes_a_comment() -> None:
    svc, store, _, cache = service()
    comment_id = "44444444-4444-4444-8444-444444444444"
    store.comments[comment_id] = Comment(comment_id, LIVE, "author", "hi", NOW)
    with pytest.raises(PermissionDenied):
        run(svc.delete_comment(LIVE, comment_id, "creator"))
    run(svc.delete_comment(LIVE, comment_id, "author"))
    assert comment_id not in store.comments
    with pytest.raises(NotFound):
        run(svc.delete_comment(LIVE, comment_id, "author"))
    assert cache.dropped == [LIVE]


def test_batch_engagement_keeps_the_order_and_lists_the_missing() -> None:
    svc, *_ = service()
    found, missing = run(svc.batch_engagement([GONE, LIVE.upper(), "junk", LIVE]))
    assert [e.video_id for e in found] == [LIVE, LIVE]
    assert missing == [GONE, "junk"]


def test_watch_history_leaves_out_deleted_videos() -> None:
    svc, *_ = service()
    assert [e.video_id for e in run(svc.watch_history("u", None, 0))] == [LIVE]
    with pytest.raises(InvalidArgument):
        run(svc.watch_history("", None, 0))
