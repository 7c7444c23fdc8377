"""What the upload pipeline works with: accepted types, errors, values and the ports its
adapters implement (PostgreSQL, the object store, the quota, the prober)."""

from __future__ import annotations

import enum
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Protocol

from media_svc.domain.metadata import CheckedMetadata, ModerationFlag, VideoMetadata
from media_svc.domain.videos import InvalidArgument, MediaError, VideoStatus

# What a creator may declare; the prober checks that the bytes agree.
ACCEPTED_CONTENT_TYPES = frozenset(
    {
        "video/mp4",
        "video/quicktime",
        "video/x-m4v",
        "video/3gpp",
        "video/3gpp2",
        "video/webm",
        "video/x-matroska",
        "video/matroska",
        "video/x-msvideo",
        "video/avi",
        "video/msvideo",
    }
)
# Declarations that say nothing about the file (browsers send these for unknown types).
GENERIC_CONTENT_TYPES = frozenset({"", "application/octet-stream", "binary/octet-stream"})
# S3 allows at most 10,000 parts per multipart upload.
MAX_PARTS = 10_000
# A session being completed past its expiry by this much is taken to be abandoned.
COMPLETING_GRACE = timedelta(hours=1)
# An `uploading` row this old belongs to a process that died mid-upload.
STALE_UPLOADING_AFTER = timedelta(hours=6)


def object_prefix(video_id: uuid.UUID) -> str:
    return f"videos/{video_id}/"


def original_key(video_id: uuid.UUID) -> str:
    """Object keys derive from the server-generated id only, never from a file name."""
    return f"{object_prefix(video_id)}original"


def status_url(video_id: uuid.UUID) -> str:
    return f"/api/v1/reels/{video_id}/status"


def megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):g} MB"


def base_content_type(raw: str | None) -> str:
    """ "Video/MP4; codecs=avc1" -> "video/mp4"."""
    return (raw or "").split(";", 1)[0].strip().lower()


# ---------------------------------------------------------------------------------------
# Errors (the servicer maps each to a status code)


class UploadTooLarge(InvalidArgument):
    """The file passes VIDEO_UPLOAD_MAX_MB."""


class MediaRejected(InvalidArgument):
    """The bytes are not an acceptable video; the message says why, for the creator."""


class UploadLimitExceeded(MediaError):
    """The creator has used today's upload quota."""

    def __init__(self, limit: int, resets_at: datetime, now: datetime) -> None:
        left = max(0, int((resets_at - now).total_seconds()))
        hours, minutes = divmod(left // 60, 60)
        super().__init__(
            f"daily upload limit of {limit} reached; it resets at "
            f"{resets_at.strftime('%Y-%m-%dT%H:%M:%SZ')} (in {hours} h {minutes} min)"
        )
        self.limit = limit
        self.resets_at = resets_at
        self.retry_after_s = left


class UploadSessionNotFound(MediaError):
    """No such upload session, or one belonging to someone else (not told apart)."""


class UploadSessionExpired(MediaError):
    """The session's presigned URLs and the session itself have expired."""


class UploadConflict(MediaError):
    """Another request is completing this session right now."""


class StoreUnavailable(MediaError):
    """The object store, the quota store or the database did not answer."""


# ---------------------------------------------------------------------------------------
# Values


@dataclass(frozen=True)
class SourceInfo:
    """What the prober measured in an accepted file."""

    container: str
    content_type: str
    video_codec: str
    width: int
    height: int
    frame_rate: float
    duration_seconds: float
    has_audio: bool
    audio_codec: str | None = None


@dataclass(frozen=True)
class UploadLimits:
    max_bytes: int
    session_ttl_s: int = 900
    part_size_bytes: int = 8 * 1024 * 1024
    spool_dir: Path | None = None
    # The gRPC stream's contract: at most 1 MiB of file per message.
    chunk_max_bytes: int = 1024 * 1024


@dataclass(frozen=True)
class QuotaSlot:
    """One upload counted against a creator's quota on a UTC day."""

    creator_id: str
    day: date


@dataclass(frozen=True)
class Accepted:
    """An upload accepted for processing (the answer of every door)."""

    video_id: uuid.UUID
    creator_id: str
    bytes_received: int
    status: VideoStatus = VideoStatus.PROCESSING
    moderation_flags: tuple[ModerationFlag, ...] = ()

    @property
    def status_url(self) -> str:
        return status_url(self.video_id)


@dataclass(frozen=True)
class StoredPart:
    part_number: int
    etag: str
    size: int


@dataclass(frozen=True)
class PresignedPart:
    part_number: int
    url: str


class SessionState(enum.StrEnum):
    OPEN = "open"
    COMPLETING = "completing"
    COMPLETED = "completed"
    ABORTED = "aborted"
    EXPIRED = "expired"


@dataclass(frozen=True)
class UploadSession:
    """A resumable direct upload (`media.upload_sessions`)."""

    upload_id: uuid.UUID
    video_id: uuid.UUID
    creator_id: str
    s3_upload_id: str
    object_key: str
    metadata: VideoMetadata
    content_type: str
    size_bytes: int
    part_size_bytes: int
    part_count: int
    created_at: datetime
    expires_at: datetime
    state: SessionState = SessionState.OPEN

    @property
    def slot(self) -> QuotaSlot:
        return QuotaSlot(self.creator_id, self.created_at.astimezone(UTC).date())

    def part_size(self, part_number: int) -> int:
        if part_number < self.part_count:
            return self.part_size_bytes
        return self.size_bytes - self.part_size_bytes * (self.part_count - 1)


@dataclass(frozen=True)
class SessionGrant:
    """A new session and where to PUT each part."""

    session: UploadSession
    parts: tuple[PresignedPart, ...]


# ---------------------------------------------------------------------------------------
# What the pipeline depends on (adapters implement these)


class UploadQuota(Protocol):
    async def take(self, creator_id: str, now: datetime) -> QuotaSlot:
        """Counts one upload; raises UploadLimitExceeded when the day's quota is used."""
        ...

    async def give_back(self, slot: QuotaSlot) -> None: ...


class OriginalStore(Protocol):
    async def put_file(self, key: str, path: Path, content_type: str) -> None: ...
    async def fetch(self, key: str, path: Path, max_bytes: int) -> int:
        """Downloads the object to `path`; raises UploadTooLarge past `max_bytes`."""
        ...

    async def delete(self, key: str) -> None: ...
    async def create_multipart(self, key: str, content_type: str) -> str: ...
    async def presign_part(
        self, key: str, s3_upload_id: str, part_number: int, size: int, expires_in_s: int
    ) -> str: ...
    async def list_parts(self, key: str, s3_upload_id: str) -> Mapping[int, StoredPart]: ...
    async def complete_multipart(
        self, key: str, s3_upload_id: str, parts: Sequence[tuple[int, str]]
    ) -> None:
        """Raises InvalidArgument when the store refuses the part list."""
        ...

    async def abort_multipart(self, key: str, s3_upload_id: str) -> None: ...


class UploadVideos(Protocol):
    async def insert_uploading(
        self, video_id: uuid.UUID, creator_id: str, metadata: VideoMetadata | None
    ) -> None: ...
    async def mark_processing(
        self,
        video_id: uuid.UUID,
        checked: CheckedMetadata,
        source: SourceInfo,
        size_bytes: int,
        original_key: str,
        object_prefix: str,
    ) -> None:
        """`uploading` -> `processing` and `video.uploaded`, atomically."""
        ...

    async def delete_uploading(self, video_id: uuid.UUID) -> None:
        """Removes the row of a rejected upload (only while it is still `uploading`)."""
        ...

    async def status_and_size(self, video_id: uuid.UUID) -> tuple[VideoStatus, int] | None: ...
    async def stale_uploading(self, before: datetime) -> list[uuid.UUID]: ...


class UploadSessions(Protocol):
    async def insert(self, session: UploadSession) -> None: ...
    async def get(self, upload_id: uuid.UUID) -> UploadSession | None: ...
    async def transition(
        self,
        upload_id: uuid.UUID,
        from_state: SessionState,
        to_state: SessionState,
        *,
        unexpired_at: datetime | None = None,
    ) -> bool:
        """Moves the session if it is in `from_state` (and, when given, not expired at
        `unexpired_at`); False when another request got there first."""
        ...

    async def delete(self, upload_id: uuid.UUID) -> None: ...
    async def stale(self, now: datetime, completing_before: datetime) -> list[UploadSession]: ...


class MalwareScanner(Protocol):
    async def __call__(self, path: Path) -> str | None:
        """The name of the threat found in the file, or None when it is clean; raises
        StoreUnavailable when the scanner cannot give a verdict."""
        ...


class MediaProber(Protocol):
    async def __call__(
        self, path: Path, *, declared_content_type: str | None, file_name: str | None
    ) -> SourceInfo:
        """Raises MediaRejected with a reason the creator can act on."""
        ...


@dataclass
class Leftovers:
    """What a rejected upload must undo."""

    slot: QuotaSlot | None = None
    spool: Path | None = None
    row: uuid.UUID | None = None
    object_key: str | None = None
    session: UploadSession | None = None
    done: bool = False
