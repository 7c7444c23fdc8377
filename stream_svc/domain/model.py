"""What the engagement half stores and reads, and the interfaces of its stores."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from stream_svc.domain.affinity import CreatorInteraction
from stream_svc.domain.analytics import (
    BucketFacts,
    Counters,
    CreatorRange,
    VideoAnalytics,
    VideoFacts,
    VideoRangeFacts,
)
from stream_svc.domain.engagement import CommentCursor
from stream_svc.domain.events import RecordedEvent
from stream_svc.domain.trending import Window, WindowEngagement


@dataclass(frozen=True)
class Rendition:
    name: str
    height: int
    bitrate_kbps: int


@dataclass(frozen=True)
class VideoInfo:
    """stream_svc's copy of a video, from video.published / updated / deleted."""

    video_id: str
    creator_id: str
    title: str = ""
    duration_s: float | None = None
    published_at: datetime | None = None
    deleted: bool = False

    @property
    def live(self) -> bool:
        return self.published_at is not None and not self.deleted


@dataclass(frozen=True)
class VideoRecord:
    """A video as the catalogue events describe it (for ClickHouse `videos`)."""

    video_id: str
    creator_id: str
    title: str
    description: str
    hashtags: tuple[str, ...]
    sound_id: str
    duration_s: float
    renditions: tuple[Rendition, ...]
    thumbnail_key: str
    preview_key: str
    published_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class Comment:
    comment_id: str
    video_id: str
    author_id: str
    text: str
    created_at: datetime
    deleted: bool = False


@dataclass(frozen=True)
class Engagement:
    """A video's lifetime engagement (BatchGetEngagement)."""

    video_id: str
    counters: Counters
    completes: int
    completion_rate: float
    average_watch_s: float


@dataclass(frozen=True)
class TrendingRow:
    """One video's engagement in a window, as ClickHouse counts it."""

    video_id: str
    creator_id: str
    published_at: datetime | None
    counters: Counters
    completes: int
    engagement: WindowEngagement


@dataclass(frozen=True)
class TagCount:
    tag: str
    video_count: int
    view_count: int


@dataclass(frozen=True)
class WatchEntry:
    video_id: str
    creator_id: str
    watched_at: datetime
    completion: float
    watch_s: float


@dataclass(frozen=True)
class CreatorFacts:
    buckets: dict[datetime, BucketFacts]
    views_by_hour: dict[int, int]
    videos: list[VideoRangeFacts]
    session_completion_sum: float
    sessions: int


@dataclass(frozen=True)
class EmbeddingRecord:
    video_id: str
    vector: tuple[float, ...]
    model_version: str
    generated_at: datetime
    creator_id: str = ""


class EngagementStore(Protocol):
    """PostgreSQL: the videos stream_svc knows, counters, likes, shares and comments."""

    async def video(self, video_id: str) -> VideoInfo | None: ...
    async def counters(self, video_id: str) -> Counters: ...
    # A like, unlike, share or comment is stored together with the events announcing it
    # (the new count included), which reach the bus only if, and once, it is stored. A
    # repeated like or a missing unlike changes nothing and announces nothing.
    async def like(self, event: RecordedEvent) -> tuple[bool, Counters]: ...
    async def unlike(
        self, video: VideoInfo, user_id: str, at: datetime
    ) -> tuple[bool, Counters]: ...
    async def share(self, event: RecordedEvent, platform: str) -> Counters: ...
    async def add_comment(
        self, event: RecordedEvent, comment_id: str, text: str
    ) -> tuple[Comment, Counters]: ...
    async def comments(
        self, video_id: str, after: CommentCursor | None, limit: int
    ) -> list[Comment]: ...
    async def comment(self, video_id: str, comment_id: str) -> Comment | None: ...
    async def delete_comment(self, video_id: str, comment_id: str) -> tuple[bool, Counters]: ...
    async def engagements(self, video_ids: Sequence[str]) -> dict[str, Engagement]: ...
    async def live_video_ids(self, video_ids: Sequence[str]) -> set[str]: ...
    async def liked_and_shared(self, user_id: str, since: datetime) -> list[CreatorInteraction]: ...
    async def creator_videos(self, creator_id: str) -> list[VideoInfo]: ...


class EventLog(Protocol):
    """ClickHouse: events, watch history, the video copy and the embeddings mirror."""

    async def video_facts(self, video_id: str) -> VideoFacts: ...
    async def window_engagement(
        self, window: Window, now: datetime, cap: int, video_id: str | None = None
    ) -> list[TrendingRow]: ...
    async def hashtag_counts(self, window: Window, now: datetime, limit: int) -> list[TagCount]: ...
    async def sound_counts(self, window: Window, now: datetime, limit: int) -> list[TagCount]: ...
    async def watch_history(
        self, user_id: str, since: datetime, limit: int
    ) -> list[WatchEntry]: ...
    async def completed(self, user_id: str, since: datetime) -> list[CreatorInteraction]: ...
    async def creator_facts(
        self, videos: Sequence[VideoInfo], span: CreatorRange
    ) -> CreatorFacts: ...
    async def mirror_embeddings(self, records: Sequence[EmbeddingRecord]) -> int: ...


class Publisher(Protocol):
    """The event bus: `video_events` (the engagement topics go with the EngagementStore's
    writes, through its outbox)."""

    async def playback_events(self, events: Sequence[RecordedEvent]) -> None: ...


class AnalyticsCache(Protocol):
    async def get(self, video_id: str) -> VideoAnalytics | None: ...
    async def put(self, analytics: VideoAnalytics) -> None: ...
    async def drop(self, video_ids: Sequence[str]) -> None: ...
