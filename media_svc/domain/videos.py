"""Videos as media_svc sees them: their lifecycle and who may see what."""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol


class VideoStatus(enum.StrEnum):
    """The lifecycle of an upload; the values are the `media.videos.status` column's."""

    UPLOADING = "uploading"
    PROCESSING = "processing"
    PUBLISHED = "published"
    FAILED = "failed"
    DELETED = "deleted"


class MediaError(Exception):
    """A problem the caller can act on; the servicer maps each kind to a status code."""


class InvalidArgument(MediaError):
    """The request itself is malformed."""


class VideoNotFound(MediaError):
    """No such video, or none this caller may see (the two are not told apart)."""


@dataclass(frozen=True)
class QualityWarning:
    """Something the frame analysis flagged, shown to the creator."""

    kind: str
    message: str
    start_seconds: float | None = None
    end_seconds: float | None = None


@dataclass(frozen=True)
class VideoModerationFlag:
    """A blocklisted term that flagged the video's metadata, with the reason stored."""

    field: str
    term: str
    reason: str


@dataclass(frozen=True)
class Video:
    """One row of `media.videos`, as much as the status view needs."""

    video_id: uuid.UUID
    creator_id: str
    title: str
    status: VideoStatus
    progress_percent: int
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None = None
    failure_reason: str | None = None
    quality_warnings: tuple[QualityWarning, ...] = field(default_factory=tuple)
    moderation_flags: tuple[VideoModerationFlag, ...] = field(default_factory=tuple)
    duration_seconds: float | None = None


class VideoRepository(Protocol):
    """Where videos are kept (PostgreSQL in production, a dict in unit tests)."""

    async def get(self, video_id: uuid.UUID) -> Video | None: ...


def parse_video_id(raw: str) -> uuid.UUID:
    """Video ids are server-generated UUIDs; anything else is a malformed request."""
    try:
        return uuid.UUID(raw)
    except (ValueError, AttributeError, TypeError):
        raise InvalidArgument(f"video_id must be a UUID, got {raw!r}") from None


def visible_to(video: Video, caller_id: str) -> bool:
    """A creator sees every state of their own video; others see only published ones."""
    return video.creator_id == caller_id or video.status is VideoStatus.PUBLISHED


async def get_video_status(repo: VideoRepository, raw_video_id: str, caller_id: str) -> Video:
    """The upload-status view: malformed id, unknown id and someone else's draft all fail."""
    video_id = parse_video_id(raw_video_id)
    video = await repo.get(video_id)
    if video is None or not visible_to(video, caller_id):
        raise VideoNotFound(f"video {video_id} not found")
    return video
