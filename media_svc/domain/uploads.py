"""Uploads: three doors (gRPC stream, multipart form, presigned direct upload), one pipeline.

The pipeline's values and ports live in `upload_model`, the resumable-session door in
`upload_sessions`; both are re-exported here, where the servicer and adapters import them.
"""

from __future__ import annotations

import asyncio
import logging
import os
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from media_svc.domain.metadata import CheckedMetadata, MetadataPolicy, RawMetadata
from media_svc.domain.upload_model import (
    ACCEPTED_CONTENT_TYPES,
    COMPLETING_GRACE,
    GENERIC_CONTENT_TYPES,
    MAX_PARTS,
    STALE_UPLOADING_AFTER,
    Accepted,
    Leftovers,
    MalwareScanner,
    MediaProber,
    MediaRejected,
    OriginalStore,
    PresignedPart,
    QuotaSlot,
    SessionGrant,
    SessionState,
    SourceInfo,
    StoredPart,
    StoreUnavailable,
    UploadConflict,
    UploadLimitExceeded,
    UploadLimits,
    UploadQuota,
    UploadSession,
    UploadSessionExpired,
    UploadSessionNotFound,
    UploadSessions,
    UploadTooLarge,
    UploadVideos,
    base_content_type,
    megabytes,
    object_prefix,
    original_key,
    status_url,
)
from media_svc.domain.upload_sessions import ResumableUploads
from media_svc.domain.videos import InvalidArgument, VideoStatus

__all__ = [
    "ACCEPTED_CONTENT_TYPES",
    "COMPLETING_GRACE",
    "GENERIC_CONTENT_TYPES",
    "MAX_PARTS",
    "STALE_UPLOADING_AFTER",
    "Accepted",
    "IncomingUpload",
    "MalwareScanner",
    "MediaProber",
    "MediaRejected",
    "OriginalStore",
    "PresignedPart",
    "QuotaSlot",
    "SessionGrant",
    "SessionState",
    "SourceInfo",
    "StoreUnavailable",
    "StoredPart",
    "UploadConflict",
    "UploadLimitExceeded",
    "UploadLimits",
    "UploadQuota",
    "UploadService",
    "UploadSession",
    "UploadSessionExpired",
    "UploadSessionNotFound",
    "UploadSessions",
    "UploadTooLarge",
    "UploadVideos",
    "base_content_type",
    "object_prefix",
    "original_key",
    "status_url",
]

logger = logging.getLogger(__name__)


def _utcnow() -> datetime:
    return datetime.now(UTC)


class UploadService(ResumableUploads):
    """The upload pipeline the three doors share.

    Every door takes a daily-quota slot for the authenticated creator, validates and
    moderates the metadata, gets the bytes onto local disk (spooled in chunks, or fetched
    back from the object store for a direct upload), validates them with the prober, has
    them scanned for malware when a scanner is configured, keeps the original under
    `videos/{video_id}/original` and moves the video from `uploading` to `processing`
    together with its `video.uploaded` event. Whatever rejects an upload (bad media, too
    big, refused metadata, malware, a cancelled client, a failing store) leaves no
    object, no row and no session behind, and gives the quota slot back.
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
        scanner: MalwareScanner | None = None,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self.videos = videos
        self.sessions = sessions
        self.store = store
        self.quota = quota
        self.prober = prober
        self.policy = policy
        self.limits = limits
        # Off (None) until a scanner is configured (UPLOAD_MALWARE_SCANNER).
        self.scanner = scanner
        self._clock = clock

    # -- streamed uploads (gRPC client stream and multipart form) ------------------------

    @asynccontextmanager
    async def receive(self, creator_id: str) -> AsyncIterator[IncomingUpload]:
        """One streamed upload: describe it, open the file, write chunks, finish.

        Leaving the block without `finish()` having succeeded (an error, a cancelled
        client) rejects the upload and cleans up after it.
        """
        leftovers = Leftovers()
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

    async def _discard(self, leftovers: Leftovers) -> None:
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
        leftovers: Leftovers,
        upload_original: bool,
    ) -> Accepted:
        source = await self.prober(
            path, declared_content_type=declared_content_type or None, file_name=file_name
        )
        if self.scanner is not None:
            threat = await self.scanner(path)
            if threat is not None:
                logger.warning(
                    "upload refused by the malware scanner",
                    extra={"video_id": str(video_id), "threat": threat},
                )
                raise MediaRejected(f"the file was refused by the malware scanner ({threat})")
        key = original_key(video_id)
        if upload_original:
            leftovers.object_key = key
            await self.store.put_file(key, path, source.content_type)
        await self.videos.mark_processing(
            video_id, checked, source, size, key, object_prefix(video_id)
        )
        return Accepted(video_id, creator_id, size, VideoStatus.PROCESSING, checked.flags)

    # -- helpers ----------------------------------------------------------------------------

    def too_large(self) -> UploadTooLarge:
        return UploadTooLarge(
            f"the video is larger than the {megabytes(self.limits.max_bytes)} upload "
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

    def __init__(self, service: UploadService, creator_id: str, leftovers: Leftovers) -> None:
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
