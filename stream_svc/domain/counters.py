"""What a batch of newly seen events does to the PostgreSQL counters."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from stream_svc.domain.events import SESSION_ACTIONS, Action, RecordedEvent


@dataclass(frozen=True, order=True)
class SessionKey:
    """One viewing session: a user's session id on a video (empty ids share one session)."""

    video_id: str
    user_id: str
    session_id: str


@dataclass
class VideoDelta:
    views: int = 0
    completes: int = 0


@dataclass
class CounterPlan:
    """Views and completes per video, and the furthest watch time seen per session.

    Total watch time grows by how far each session's furthest watch moves, so a session's
    cumulative `watch_duration` counts once however many events report it.
    """

    videos: dict[str, VideoDelta] = field(default_factory=dict)
    session_watch_ms: dict[SessionKey, int] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not self.videos and not self.session_watch_ms


def plan_counters(fresh: Iterable[RecordedEvent]) -> CounterPlan:
    """The counter changes of events never counted before (the caller deduplicates)."""
    plan = CounterPlan()
    for event in fresh:
        if event.action not in SESSION_ACTIONS:
            continue  # likes, shares and comments are counted by their RPCs
        if event.action is Action.WATCH_START:
            plan.videos.setdefault(event.video_id, VideoDelta()).views += 1
        elif event.action is Action.WATCH_COMPLETE:
            plan.videos.setdefault(event.video_id, VideoDelta()).completes += 1
        if event.watch_ms > 0:
            key = SessionKey(event.video_id, event.user_id, event.session_id)
            plan.session_watch_ms[key] = max(plan.session_watch_ms.get(key, 0), event.watch_ms)
    return plan
