"""What a batch of newly seen events does to the PostgreSQL counters."""

from __future__ import annotations

from dataclasses import dataclass, field

from stream_svc.domain.events import SESSION_ACTIONS, Action, EventColumns


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


_SESSION_VALUES = frozenset(a.value for a in SESSION_ACTIONS)
_START = Action.WATCH_START.value
_COMPLETE = Action.WATCH_COMPLETE.value


def plan_counters(fresh: EventColumns) -> CounterPlan:
    """The counter changes of events never counted before (the caller deduplicates), over
    the batch held as columns (the consumer's hot path)."""
    plan = CounterPlan()
    furthest: dict[tuple[str, str, str], int] = {}
    videos = plan.videos
    for video_id, user_id, session_id, action, watch_ms in zip(
        fresh.video_id,
        fresh.user_id,
        fresh.session_id,
        fresh.action,
        fresh.watch_ms,
        strict=True,
    ):
        if action not in _SESSION_VALUES:
            continue  # likes, shares and comments are counted by their RPCs
        if action == _START:
            delta = videos.get(video_id)
            if delta is None:
                delta = videos[video_id] = VideoDelta()
            delta.views += 1
        elif action == _COMPLETE:
            delta = videos.get(video_id)
            if delta is None:
                delta = videos[video_id] = VideoDelta()
            delta.completes += 1
        if watch_ms > 0:
            key = (video_id, user_id, session_id)
            if watch_ms > furthest.get(key, 0):
                furthest[key] = watch_ms
    plan.session_watch_ms = {SessionKey(*key): ms for key, ms in furthest.items()}
    return plan
