"""Resumable direct uploads: the client PUTs parts to presigned URLs, then completes the
session, and the file goes through the same validation as the other doors."""

from __future__ import annotations

import asyncio
import logging
import math
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path

from media_svc.domain.metadata import MetadataPolicy, RawMetadata, VideoMetadata
from media_svc.domain.upload_model import (
    ACCEPTED_CONTENT_TYPES,
    COMPLETING_GRACE,
    MAX_PARTS,
    STALE_UPLOADING_AFTER,
    Accepted,
    Leftovers,
    OriginalStore,
    PresignedPart,
    SessionGrant,
    SessionState,
    UploadConflict,
    UploadLimits,
    UploadQuota,
    UploadSession,
    UploadSessionExpired,
    UploadSessionNotFound,
    UploadSessions,
    UploadVideos,
    base_content_type,
    original_key,
)
from media_svc.domain.videos import InvalidArgument

logger = logging.getLogger(__name__)


class ResumableUploads:
    """The session half of `UploadService` (which mixes it in and provides what is
    declared here: its stores, its policy and the steps every door shares)."""

    videos: UploadVideos
    sessions: UploadSessions
    store: OriginalStore
    quota: UploadQuota
    policy: MetadataPolicy
    limits: UploadLimits
    _clock: Callable[[], datetime]
    _discard: Callable[[Leftovers], Awaitable[None]]
    _check_size: Callable[[int], None]
    _spool_path: Callable[[uuid.UUID], Path]
    _accept: Callable[..., Awaitable[Accepted]]

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
        leftovers = Leftovers(slot=await self.quota.take(creator_id, now))
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
        leftovers = Leftovers(slot=session.slot, object_key=session.object_key, session=session)
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
                await self._discard(Leftovers(object_key=session.object_key, row=session.video_id))
                await self._release_expired(session)
            swept += 1
        for video_id in await self.videos.stale_uploading(now - STALE_UPLOADING_AFTER):
            await self._discard(Leftovers(object_key=original_key(video_id), row=video_id))
            swept += 1
        return swept


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
