"""Uploads: three doors (gRPC stream, multipart form, presigned direct upload), one pipeline."""

from __future__ import annotations

import asyncio
import enum
import logging
import math
import os
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import BinaryIO, Protocol

from media_svc.domain.metadata import (
    CheckedMetadata,
    MetadataPolicy,
    ModerationFlag,
    RawMetadata,
    VideoMetadata,
)
from media_svc.domain.videos import InvalidArgument, MediaError, VideoStatus

logger = logging.getLogger(__name__)

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


def _megabytes(size: int) -> str:
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


class MediaProber(Protocol):
    async def __call__(
        self, path: Path, *, declared_content_type: str | None, file_name: str | None
    ) -> SourceInfo:
        """Raises MediaRejected with a reason the creator can act on."""
        ...


# ---------------------------------------------------------------------------------------
# The pipeline


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class _Leftovers:
    """What a rejected upload must undo."""

    slot: QuotaSlot | None = None
    spool: Path | None = None
    row: uuid.UUID | None = None
    object_key: str | None = None
    session: UploadSession | None = None
    done: bool = False


class UploadService:
    """The upload pipeline the three doors share.

    Every door takes a daily-quota slot for the authenticated creator, validates and
    moderates the metadata, gets the bytes onto local disk (spooled in chunks, or fetched
    back from the object store for a direct upload), validates them with the prober,
    keeps the original under `videos/{video_id}/original` and moves the video from
    `uploading` to `processing` together with its `video.uploaded` event. Whatever
    rejects an upload (bad media, too big, refused metadata, a cancelled client, a
    failing store) leaves no object, no row and no session behind, and gives the quota
    slot back.
    """

    def __init__(
        self,
        *,
        videos: UploadVideos,
        sessions: UploadSessions,
        store: OriginalStore,
        quota: UploadQuota,
        prober: MediaProber,
        policy: MetadataPolicy,
        limits: UploadLimits,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self.videos = videos
        self.sessions = sessions
        self.store = store
        self.quota = quota
        self.prober = prober
        self.policy = policy
        self.limits = limits
        self._clock = clock

    # -- streamed uploads (gRPC client stream and multipart form) ------------------------

    @asynccontextmanager
    async def receive(self, creator_id: str) -> AsyncIterator[IncomingUpload]:
        """One streamed upload: describe it, open the file, write chunks, finish.

        Leaving the block without `finish()` having succeeded (an error, a cancelled
        client) rejects the upload and cleans up after it.
        """
        leftovers = _Leftovers()
        leftovers.slot = await self.quota.take(creator_id, self._clock())
        upload = IncomingUpload(self, creator_id, leftovers)
        try:
            yield upload
        finally:
            upload._close_spool()
            if leftovers.spool is not None:
                leftovers.spool.unlink(missing_ok=True)
            if not leftovers.done:
                # Shielded: a cancelled RPC must still clean up after itself.
                await asyncio.shield(self._discard(leftovers))

    async def receive_stream(
        self,
        creator_id: str,
        raw: RawMetadata,
        chunks: AsyncIterator[bytes],
        *,
        file_name: str | None = None,
        content_type: str | None = None,
        declared_size: int | None = None,
    ) -> Accepted:
        """The gRPC door: metadata first, then the file's chunks."""
        async with self.receive(creator_id) as upload:
            upload.describe(raw)
            await upload.open_file(
                file_name=file_name, content_type=content_type, declared_size=declared_size
            )
            async for chunk in chunks:
                if len(chunk) > self.limits.chunk_max_bytes:
                    raise InvalidArgument(
                        f"chunks may hold at most {self.limits.chunk_max_bytes} bytes, "
                        f"got {len(chunk)}"
                    )
                await upload.write(chunk)
            return await upload.finish()

    async def _discard(self, leftovers: _Leftovers) -> None:
        """Undoes a rejected upload; every step runs even when an earlier one fails."""
        steps: list[tuple[str, Callable[[], Awaitable[object]]]] = []
        if leftovers.session is not None:
            session = leftovers.session
            steps.append(
                (
                    "abort",
                    lambda: self.store.abort_multipart(session.object_key, session.s3_upload_id),
                )
            )
        if leftovers.object_key is not None:
            key = leftovers.object_key
            steps.append(("object", lambda: self.store.delete(key)))
        if leftovers.row is not None:
            video_id = leftovers.row
            steps.append(("row", lambda: self.videos.delete_uploading(video_id)))
        if leftovers.session is not None:
            upload_id = leftovers.session.upload_id
            steps.append(("session", lambda: self.sessions.delete(upload_id)))
        if leftovers.slot is not None:
            slot = leftovers.slot
            steps.append(("quota", lambda: self.quota.give_back(slot)))
        for name, step in steps:
            try:
                await step()
            except Exception:
                logger.exception("cleanup of a rejected upload failed", extra={"step": name})
        leftovers.done = True

    async def _accept(
        self,
        video_id: uuid.UUID,
        checked: CheckedMetadata,
        creator_id: str,
        path: Path,
        size: int,
        *,
        declared_content_type: str | None,
        file_name: str | None,
        leftovers: _Leftovers,
        upload_original: bool,
    ) -> Accepted:
        source = await self.prober(
            path, declared_content_type=declared_content_type or None, file_name=file_name
        )
        key = original_key(video_id)
        if upload_original:
            leftovers.object_key = key
            await self.store.put_file(key, path, source.content_type)
        await self.videos.mark_processing(
            video_id, checked, source, size, key, object_prefix(video_id)
        )
        return Accepted(video_id, creator_id, size, VideoStatus.PROCESSING, checked.flags)

    # -- resumable direct uploads --------------------------------------------------------

    async def create_session(
        self, creator_id: str, raw: RawMetadata, content_type: str, size_bytes: int
    ) -> SessionGrant:
        """Reserves a video id and opens a multipart upload with presigned part URLs."""
        checked = self.policy.check(raw)
        declared = base_content_type(content_type)
        if declared not in ACCEPTED_CONTENT_TYPES:
            raise InvalidArgument(
                f"content_type {content_type!r} is not an accepted video type "
                f"({', '.join(sorted(ACCEPTED_CONTENT_TYPES))})"
            )
        if size_bytes <= 0:
            raise InvalidArgument("size_bytes must be the file's size, a positive number")
        self._check_size(size_bytes)
        part_size = max(self.limits.part_size_bytes, math.ceil(size_bytes / MAX_PARTS))
        part_count = math.ceil(size_bytes / part_size)
        now = self._clock()
        leftovers = _Leftovers(slot=await self.quota.take(creator_id, now))
        try:
            video_id = uuid.uuid4()
            key = original_key(video_id)
            s3_upload_id = await self.store.create_multipart(key, declared)
            session = UploadSession(
                upload_id=uuid.uuid4(),
                video_id=video_id,
                creator_id=creator_id,
                s3_upload_id=s3_upload_id,
                object_key=key,
                metadata=checked.metadata,
                content_type=declared,
                size_bytes=size_bytes,
                part_size_bytes=part_size,
                part_count=part_count,
                created_at=now,
                expires_at=now + timedelta(seconds=self.limits.session_ttl_s),
            )
            # Until the row exists, aborting the store's upload is all there is to undo.
            leftovers.session = session
            parts = tuple(
                [
                    PresignedPart(
                        number,
                        await self.store.presign_part(
                            key,
                            s3_upload_id,
                            number,
                            session.part_size(number),
                            self.limits.session_ttl_s,
                        ),
                    )
                    for number in range(1, part_count + 1)
                ]
            )
            await self.sessions.insert(session)
        except BaseException:
            await asyncio.shield(self._discard(leftovers))
            raise
        return SessionGrant(session, parts)

    async def complete_session(
        self, creator_id: str, raw_upload_id: str, parts: Sequence[tuple[int, str]]
    ) -> Accepted:
        """Assembles the parts, validates the file like the other doors and accepts it.

        Idempotent: completing a completed session answers as the first completion did.
        """
        upload_id = _parse_upload_id(raw_upload_id)
        session = await self.sessions.get(upload_id)
        if session is None or session.creator_id != creator_id:
            raise UploadSessionNotFound(f"upload {upload_id} not found")
        if session.state is SessionState.COMPLETED:
            return await self._completed_answer(session)
        if session.state is SessionState.COMPLETING:
            raise UploadConflict(
                f"upload {upload_id} is being completed by another request; retry shortly"
            )
        now = self._clock()
        if session.state is not SessionState.OPEN or session.expires_at <= now:
            await self._expire(session)
            raise UploadSessionExpired(
                f"upload {upload_id} expired at "
                f"{session.expires_at.strftime('%Y-%m-%dT%H:%M:%SZ')}; start a new upload"
            )
        if not await self.sessions.transition(
            upload_id, SessionState.OPEN, SessionState.COMPLETING, unexpired_at=now
        ):
            # Someone else moved it meanwhile: answer from its new state.
            return await self.complete_session(creator_id, raw_upload_id, parts)
        try:
            await self._assemble(session, parts)
        except BaseException:
            # The parts stay: the client may upload a missing part and complete again.
            await asyncio.shield(
                self.sessions.transition(upload_id, SessionState.COMPLETING, SessionState.OPEN)
            )
            raise
        leftovers = _Leftovers(slot=session.slot, object_key=session.object_key, session=session)
        try:
            checked = self.policy.check(_raw(session.metadata))
            leftovers.row = session.video_id
            await self.videos.insert_uploading(session.video_id, creator_id, checked.metadata)
            leftovers.spool = self._spool_path(session.video_id)
            size = await self.store.fetch(
                session.object_key, leftovers.spool, self.limits.max_bytes
            )
            accepted = await self._accept(
                session.video_id,
                checked,
                creator_id,
                leftovers.spool,
                size,
                declared_content_type=session.content_type,
                file_name=None,
                leftovers=leftovers,
                upload_original=False,
            )
            await self.sessions.transition(
                upload_id, SessionState.COMPLETING, SessionState.COMPLETED
            )
            leftovers.done = True
            return accepted
        finally:
            if not leftovers.done:
                await asyncio.shield(self._discard(leftovers))
            if leftovers.spool is not None:
                leftovers.spool.unlink(missing_ok=True)

    async def _assemble(self, session: UploadSession, parts: Sequence[tuple[int, str]]) -> None:
        numbers = sorted(number for number, _ in parts)
        expected = list(range(1, session.part_count + 1))
        if numbers != expected:
            missing = sorted(set(expected) - set(numbers))
            extra = sorted(n for n in set(numbers) if n not in expected or numbers.count(n) > 1)
            problems = []
            if missing:
                problems.append(f"missing part(s) {_numbers(missing)}")
            if extra:
                problems.append(f"unknown or repeated part(s) {_numbers(extra)}")
            raise InvalidArgument(
                f"parts must list each of parts 1 to {session.part_count} once: "
                + "; ".join(problems)
            )
        stored = await self.store.list_parts(session.object_key, session.s3_upload_id)
        for number, etag in sorted(parts):
            part = stored.get(number)
            if part is None:
                raise InvalidArgument(f"part {number} has not been uploaded; PUT it, then retry")
            if _etag(part.etag) != _etag(etag):
                raise InvalidArgument(f"part {number}: the ETag does not match the uploaded part")
            if part.size != session.part_size(number):
                raise InvalidArgument(
                    f"part {number} has {part.size} bytes; {session.part_size(number)} expected"
                )
        await self.store.complete_multipart(
            session.object_key, session.s3_upload_id, [(n, stored[n].etag) for n in expected]
        )

    async def _completed_answer(self, session: UploadSession) -> Accepted:
        found = await self.videos.status_and_size(session.video_id)
        if found is None:
            raise UploadSessionNotFound(f"upload {session.upload_id} not found")
        status, size = found
        return Accepted(session.video_id, session.creator_id, size, status)

    async def _expire(self, session: UploadSession) -> None:
        """Marks an open session expired and releases what it held (once, whoever wins)."""
        if session.state is SessionState.OPEN and await self.sessions.transition(
            session.upload_id, SessionState.OPEN, SessionState.EXPIRED
        ):
            await self._release_expired(session)

    async def _release_expired(self, session: UploadSession) -> None:
        for step in (
            lambda: self.store.abort_multipart(session.object_key, session.s3_upload_id),
            lambda: self.quota.give_back(session.slot),
        ):
            try:
                await step()
            except Exception:
                logger.exception(
                    "releasing an expired upload failed",
                    extra={"upload_id": str(session.upload_id)},
                )

    async def sweep(self) -> int:
        """Expires abandoned sessions and removes uploads a dead process left half-done."""
        now = self._clock()
        swept = 0
        for session in await self.sessions.stale(now, now - COMPLETING_GRACE):
            if session.state is SessionState.OPEN:
                await self._expire(session)
            elif await self.sessions.transition(
                session.upload_id, SessionState.COMPLETING, SessionState.EXPIRED
            ):
                await self._discard(_Leftovers(object_key=session.object_key, row=session.video_id))
                await self._release_expired(session)
            swept += 1
        for video_id in await self.videos.stale_uploading(now - STALE_UPLOADING_AFTER):
            await self._discard(_Leftovers(object_key=original_key(video_id), row=video_id))
            swept += 1
        return swept

    # -- helpers ----------------------------------------------------------------------------

    def too_large(self) -> UploadTooLarge:
        return UploadTooLarge(
            f"the video is larger than the {_megabytes(self.limits.max_bytes)} upload "
            "limit; trim or compress it and try again"
        )

    def _check_size(self, size: int) -> None:
        if size > self.limits.max_bytes:
            raise self.too_large()

    def _spool_path(self, video_id: uuid.UUID) -> Path:
        # Named after the server's id only; mkstemp creates it private (0600).
        fd, name = tempfile.mkstemp(
            prefix=f"reels-upload-{video_id}-", suffix=".part", dir=self.limits.spool_dir
        )
        os.close(fd)
        return Path(name)


class IncomingUpload:
    """One streamed upload in progress (made by `UploadService.receive`)."""

    def __init__(self, service: UploadService, creator_id: str, leftovers: _Leftovers) -> None:
        self._service = service
        self.creator_id = creator_id
        self.video_id = uuid.uuid4()
        self.bytes_received = 0
        self._leftovers = leftovers
        self._checked: CheckedMetadata | None = None
        self._file: BinaryIO | None = None
        self._file_name: str | None = None
        self._content_type: str | None = None
        self._declared_size: int | None = None

    def describe(self, raw: RawMetadata) -> None:
        """Validates and moderates the complete metadata."""
        self._checked = self._service.policy.check(raw)

    def precheck(self, raw: RawMetadata) -> None:
        """Refuses early what the metadata seen so far already breaks."""
        self._service.policy.precheck(raw)

    async def open_file(
        self,
        *,
        file_name: str | None = None,
        content_type: str | None = None,
        declared_size: int | None = None,
    ) -> None:
        """The file starts: the declared facts are checked and the `uploading` row written."""
        if self._file is not None:
            raise InvalidArgument("an upload carries exactly one file")
        declared = base_content_type(content_type)
        if declared not in ACCEPTED_CONTENT_TYPES | GENERIC_CONTENT_TYPES:
            raise MediaRejected(
                f"the file is declared as {declared!r}, which is not a video type; upload "
                "an MP4, MOV, WebM or MKV file"
            )
        if declared_size is not None and declared_size < 0:
            raise InvalidArgument("size_bytes must not be negative")
        if declared_size:
            self._service._check_size(declared_size)
        self._file_name = file_name or None
        self._content_type = declared or None
        self._declared_size = declared_size or None
        self._leftovers.row = self.video_id
        await self._service.videos.insert_uploading(
            self.video_id, self.creator_id, self._checked.metadata if self._checked else None
        )
        self._leftovers.spool = self._service._spool_path(self.video_id)
        self._file = self._leftovers.spool.open("wb")

    async def write(self, chunk: bytes) -> None:
        """Appends bytes; refuses as soon as the total passes the size limit."""
        if self._file is None:
            raise InvalidArgument("file bytes arrived before the file started")
        if not chunk:
            return
        size = self.bytes_received + len(chunk)
        self._service._check_size(size)
        if self._declared_size is not None and size > self._declared_size:
            raise InvalidArgument(
                f"the file is longer than the declared size_bytes {self._declared_size}"
            )
        # Local disk writes of at most a chunk: short enough for the event loop.
        self._file.write(chunk)
        self.bytes_received = size

    async def finish(self, raw: RawMetadata | None = None) -> Accepted:
        """Validates the whole file and accepts it (`raw`: metadata that came last)."""
        if raw is not None:
            self.describe(raw)
        if self._checked is None:
            raise InvalidArgument("the upload has no metadata (a title is required)")
        if self._file is None or self.bytes_received == 0:
            raise InvalidArgument("the file is empty; attach the video file")
        if self._declared_size is not None and self.bytes_received != self._declared_size:
            raise InvalidArgument(
                f"the upload ended after {self.bytes_received} of the declared "
                f"{self._declared_size} bytes; send the whole file"
            )
        self._close_spool()
        assert self._leftovers.spool is not None
        accepted = await self._service._accept(
            self.video_id,
            self._checked,
            self.creator_id,
            self._leftovers.spool,
            self.bytes_received,
            declared_content_type=self._content_type,
            file_name=self._file_name,
            leftovers=self._leftovers,
            upload_original=True,
        )
        self._leftovers.done = True
        return accepted

    def _close_spool(self) -> None:
        if self._file is not None and not self._file.closed:
            self._file.close()


def _raw(metadata: VideoMetadata) -> RawMetadata:
    return RawMetadata(
        title=metadata.title,
        description=metadata.description,
        hashtags=metadata.hashtags,
        sound_id=metadata.sound_id or "",
    )


def _parse_upload_id(raw: str) -> uuid.UUID:
    try:
        return uuid.UUID(raw)
    except (ValueError, AttributeError, TypeError):
        raise InvalidArgument(f"upload_id must be a UUID, got {raw[:80]!r}") from None


def _etag(value: str) -> str:
    return value.strip().removeprefix("W/").strip('"').lower()


def _numbers(values: Sequence[int]) -> str:
    shown = ", ".join(str(n) for n in values[:10])
    return shown + (", ..." if len(values) > 10 else "")
