"""MediaService over gRPC: proto in, domain call, proto out; domain errors become codes here."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import grpc
from google.api import httpbody_pb2
from reels.common.v1 import video_pb2
from reels.media.v1 import media_service_pb2 as media_pb2
from reels.media.v1 import media_service_pb2_grpc as media_grpc

from media_svc import metrics
from media_svc.adapters import event_builders
from media_svc.adapters.event_builders import PublicUrl
from media_svc.adapters.metadata_cache import MetadataCache
from media_svc.adapters.multipart import receive_multipart
from media_svc.adapters.postgres_videos import PostgresCatalogue
from media_svc.domain.catalogue import (
    NotReplayable,
    PermissionDenied,
    delete_video,
    replay_failed,
    update_video,
    validate_changes,
)
from media_svc.domain.metadata import MetadataPolicy, RawMetadata
from media_svc.domain.processing_health import HealthState, PipelineHealth
from media_svc.domain.uploads import (
    Accepted,
    StoreUnavailable,
    UploadConflict,
    UploadLimitExceeded,
    UploadService,
    UploadSessionExpired,
    UploadSessionNotFound,
    UploadTooLarge,
)
from media_svc.domain.videos import (
    InvalidArgument,
    MediaError,
    Video,
    VideoNotFound,
    VideoRepository,
    get_video_status,
    parse_video_id,
)
from media_svc.paging import decode_failed_cursor, encode_failed_cursor, page_size_of
from reels_runtime.context import current_principal

_LOG = logging.getLogger(__name__)

_STATUS_CODES: dict[type[MediaError], grpc.StatusCode] = {
    InvalidArgument: grpc.StatusCode.INVALID_ARGUMENT,
    VideoNotFound: grpc.StatusCode.NOT_FOUND,
    UploadSessionNotFound: grpc.StatusCode.NOT_FOUND,
    UploadLimitExceeded: grpc.StatusCode.RESOURCE_EXHAUSTED,
    UploadSessionExpired: grpc.StatusCode.FAILED_PRECONDITION,
    UploadConflict: grpc.StatusCode.ABORTED,
    StoreUnavailable: grpc.StatusCode.UNAVAILABLE,
    PermissionDenied: grpc.StatusCode.PERMISSION_DENIED,
    NotReplayable: grpc.StatusCode.FAILED_PRECONDITION,
}

_HEALTH_STATES = {
    HealthState.HEALTHY: media_pb2.PROCESSING_HEALTH_STATE_HEALTHY,
    HealthState.DEGRADED: media_pb2.PROCESSING_HEALTH_STATE_DEGRADED,
    HealthState.UNHEALTHY: media_pb2.PROCESSING_HEALTH_STATE_UNHEALTHY,
}

_QUALITY_WARNING_KINDS = {
    name.removeprefix("QUALITY_WARNING_KIND_").lower(): number
    for name, number in video_pb2.QualityWarningKind.items()
}


def _status_response(video: Video) -> media_pb2.GetVideoStatusResponse:
    return media_pb2.GetVideoStatusResponse(
        video_id=str(video.video_id),
        creator_id=video.creator_id,
        title=video.title,
        status=video_pb2.VideoStatus.Value(f"VIDEO_STATUS_{video.status.name}"),
        progress_percent=video.progress_percent,
        failure_reason=video.failure_reason or "",
        quality_warnings=[
            video_pb2.QualityWarning(
                kind=_QUALITY_WARNING_KINDS.get(warning.kind, 0),
                message=warning.message,
                start_offset=event_builders.duration(warning.start_seconds),
                end_offset=event_builders.duration(warning.end_seconds),
            )
            for warning in video.quality_warnings
        ],
        moderation_flags=[
            media_pb2.ModerationFlag(field=flag.field, term=flag.term, reason=flag.reason)
            for flag in video.moderation_flags
        ],
        duration=event_builders.duration(video.duration_seconds),
        create_time=event_builders.timestamp(video.created_at),
        update_time=event_builders.timestamp(video.updated_at),
        publish_time=event_builders.timestamp(video.published_at),
    )


def _health_response(health: PipelineHealth) -> media_pb2.GetVideoProcessingHealthResponse:
    response = media_pb2.GetVideoProcessingHealthResponse(
        state=_HEALTH_STATES[health.state],
        reasons=list(health.reasons),
        queue_depth=health.probes.queue_depth,
        live_workers=health.probes.live_workers,
        object_store_reachable=health.probes.object_store_reachable,
        cdn_reachable=health.probes.cdn_reachable,
        processed_count=health.probes.processed_count,
        failure_rate=health.probes.failure_rate,
        average_processing_duration=event_builders.duration(
            health.probes.average_processing_seconds
        ),
    )
    response.check_time.GetCurrentTime()
    return response


MAX_BATCH = 500

# A refused upload stream is read on for at most this much before the status goes out, so
# that a client still writing its (small) body receives the reason: grpcio reports a write
# that meets an already finished call as INTERNAL, hiding the server's status. Bodies over
# the size limit are never read on (the limit means "stop reading").
LINGER_MAX_BYTES = 4 * 1024 * 1024
LINGER_MAX_S = 1.0


async def _linger(request_iterator: AsyncIterator[Any], context: grpc.aio.ServicerContext) -> None:
    """Drain what the client is still sending, bounded in bytes, time and its deadline."""
    remaining = context.time_remaining()
    budget_s = LINGER_MAX_S if remaining is None else min(LINGER_MAX_S, remaining / 2)
    deadline = time.monotonic() + budget_s
    drained = 0

    async def drain() -> None:
        nonlocal drained
        async for message in request_iterator:
            drained += message.ByteSize()
            if drained > LINGER_MAX_BYTES or time.monotonic() > deadline:
                return

    try:
        await asyncio.wait_for(drain(), timeout=budget_s)
    except Exception as error:  # best effort: whatever the stream did, answer anyway
        _LOG.debug("stopped draining a refused upload after %d bytes: %r", drained, error)


@dataclass(frozen=True)
class Catalogue:
    """What the catalogue RPCs (delete, edit, dead letters, batch reads) work with."""

    store: PostgresCatalogue
    cache: MetadataCache
    policy: MetadataPolicy
    public_url: PublicUrl
    purge_grace_s: float


class MediaServicer(media_grpc.MediaServiceServicer):
    """The RPCs media_svc implements; the rest answer UNIMPLEMENTED until they exist."""

    def __init__(
        self,
        videos: VideoRepository,
        pipeline_health,
        *,
        uploads: UploadService | None = None,
        catalogue: Catalogue | None = None,
    ) -> None:
        self._videos = videos
        self._pipeline_health = pipeline_health
        self._uploads = uploads
        self._catalogue = catalogue

    async def _abort(self, context: grpc.aio.ServicerContext, error: MediaError) -> None:
        # The most specific mapped class wins (MetadataRefused is an InvalidArgument).
        code = next(
            (_STATUS_CODES[cls] for cls in type(error).__mro__ if cls in _STATUS_CODES),
            grpc.StatusCode.FAILED_PRECONDITION,
        )
        trailers: tuple[tuple[str, str], ...] = ()
        if isinstance(error, UploadLimitExceeded):
            trailers = (("retry-after", str(error.retry_after_s)),)
        await context.abort(code, str(error), trailers)

    async def _refuse_stream(
        self,
        request_iterator: AsyncIterator[Any],
        context: grpc.aio.ServicerContext,
        error: MediaError,
    ) -> None:
        if not isinstance(error, UploadTooLarge):
            await _linger(request_iterator, context)
        await self._abort(context, error)

    async def GetVideoStatus(
        self, request: media_pb2.GetVideoStatusRequest, context: grpc.aio.ServicerContext
    ) -> media_pb2.GetVideoStatusResponse:
        principal = current_principal()
        caller = principal.subject if principal else ""
        try:
            video = await get_video_status(self._videos, request.video_id, caller)
        except MediaError as error:
            await self._abort(context, error)
            raise AssertionError("unreachable: abort raises") from error
        return _status_response(video)

    async def GetVideoProcessingHealth(
        self,
        request: media_pb2.GetVideoProcessingHealthRequest,
        context: grpc.aio.ServicerContext,
    ) -> media_pb2.GetVideoProcessingHealthResponse:
        return _health_response(await self._pipeline_health())

    # -- uploads: three doors into one pipeline (domain/uploads.py) ------------------------

    def _upload_service(self) -> UploadService:
        if self._uploads is None:
            raise AssertionError("media_svc was built without its upload pipeline")
        return self._uploads

    async def UploadVideo(
        self,
        request_iterator: AsyncIterator[media_pb2.UploadVideoRequest],
        context: grpc.aio.ServicerContext,
    ) -> media_pb2.UploadVideoResponse:
        try:
            first = await anext(aiter(request_iterator), None)
            if first is None or first.WhichOneof("payload") != "metadata":
                raise InvalidArgument("the first message of the stream must carry metadata")
            metadata = first.metadata
            with metrics.track_upload("stream"):
                accepted = await self._upload_service().receive_stream(
                    _creator_id(),
                    RawMetadata(
                        title=metadata.title,
                        description=metadata.description,
                        hashtags=tuple(metadata.hashtags),
                        sound_id=metadata.sound_id,
                    ),
                    _chunks(request_iterator),
                    file_name=metadata.file_name or None,
                    content_type=metadata.content_type or None,
                    declared_size=metadata.size_bytes or None,
                )
        except MediaError as error:
            await self._refuse_stream(request_iterator, context, error)
            raise AssertionError("unreachable: abort raises") from error
        return media_pb2.UploadVideoResponse(**_accepted_fields(accepted))

    async def UploadVideoMultipart(
        self,
        request_iterator: AsyncIterator[httpbody_pb2.HttpBody],
        context: grpc.aio.ServicerContext,
    ) -> media_pb2.UploadVideoMultipartResponse:
        async def body() -> AsyncIterator[tuple[str, bytes]]:
            async for message in request_iterator:
                yield message.content_type, message.data

        try:
            with metrics.track_upload("multipart"):
                accepted = await receive_multipart(self._upload_service(), _creator_id(), body())
        except MediaError as error:
            await self._refuse_stream(request_iterator, context, error)
            raise AssertionError("unreachable: abort raises") from error
        return media_pb2.UploadVideoMultipartResponse(**_accepted_fields(accepted))

    async def CreateUploadSession(
        self, request: media_pb2.CreateUploadSessionRequest, context: grpc.aio.ServicerContext
    ) -> media_pb2.CreateUploadSessionResponse:
        try:
            grant = await self._upload_service().create_session(
                _creator_id(),
                RawMetadata(
                    title=request.title,
                    description=request.description,
                    hashtags=tuple(request.hashtags),
                    sound_id=request.sound_id,
                ),
                request.content_type,
                request.size_bytes,
            )
        except MediaError as error:
            await self._abort(context, error)
            raise AssertionError("unreachable: abort raises") from error
        session = grant.session
        return media_pb2.CreateUploadSessionResponse(
            upload_id=str(session.upload_id),
            video_id=str(session.video_id),
            part_size_bytes=session.part_size_bytes,
            parts=[
                media_pb2.UploadPart(part_number=part.part_number, url=part.url)
                for part in grant.parts
            ],
            expire_time=event_builders.timestamp(session.expires_at),
        )

    async def CompleteUploadSession(
        self, request: media_pb2.CompleteUploadSessionRequest, context: grpc.aio.ServicerContext
    ) -> media_pb2.CompleteUploadSessionResponse:
        try:
            with metrics.track_upload("session"):
                accepted = await self._upload_service().complete_session(
                    _creator_id(),
                    request.upload_id,
                    [(part.part_number, part.etag) for part in request.parts],
                )
        except MediaError as error:
            await self._abort(context, error)
            raise AssertionError("unreachable: abort raises") from error
        return media_pb2.CompleteUploadSessionResponse(**_accepted_fields(accepted))

    def _catalogue_service(self) -> Catalogue:
        if self._catalogue is None:
            raise AssertionError("media_svc was built without its catalogue")
        return self._catalogue

    async def DeleteVideo(
        self, request: media_pb2.DeleteVideoRequest, context: grpc.aio.ServicerContext
    ) -> media_pb2.DeleteVideoResponse:
        catalogue = self._catalogue_service()
        try:
            deletion = await delete_video(
                catalogue.store, request.video_id, _creator_id(), catalogue.purge_grace_s
            )
        except MediaError as error:
            await self._abort(context, error)
            raise AssertionError("unreachable: abort raises") from error
        await catalogue.cache.invalidate(deletion.video_id)
        return media_pb2.DeleteVideoResponse(
            video_id=str(deletion.video_id),
            status=video_pb2.VIDEO_STATUS_DELETED,
            purge_time=event_builders.timestamp(deletion.purge_at),
        )

    async def UpdateVideo(
        self, request: media_pb2.UpdateVideoRequest, context: grpc.aio.ServicerContext
    ) -> media_pb2.UpdateVideoResponse:
        catalogue = self._catalogue_service()
        paths = list(request.update_mask.paths) or [
            field.name for field, _ in request.video.ListFields()
        ]
        raw = {path: getattr(request.video, path, None) for path in paths}
        try:
            changes = validate_changes(raw, catalogue.policy)
            video_id = await update_video(catalogue.store, request.video_id, _creator_id(), changes)
        except MediaError as error:
            await self._abort(context, error)
            raise AssertionError("unreachable: abort raises") from error
        await catalogue.cache.invalidate(video_id)
        rows = await catalogue.store.rows([video_id])
        return media_pb2.UpdateVideoResponse(
            video=event_builders.video_summary(rows[video_id], catalogue.public_url)
        )

    async def ListFailedVideos(
        self, request: media_pb2.ListFailedVideosRequest, context: grpc.aio.ServicerContext
    ) -> media_pb2.ListFailedVideosResponse:
        catalogue = self._catalogue_service()
        try:
            page_size = page_size_of(request.page_size, default=50, maximum=200)
            after = decode_failed_cursor(request.page_token)
        except MediaError as error:
            await self._abort(context, error)
            raise AssertionError("unreachable: abort raises") from error
        letters = await catalogue.store.failed(page_size + 1, after)
        page, more = letters[:page_size], len(letters) > page_size
        return media_pb2.ListFailedVideosResponse(
            failed_videos=[
                media_pb2.FailedVideo(
                    video_id=str(letter.video_id),
                    creator_id=letter.creator_id,
                    title=letter.title,
                    reason=letter.reason,
                    attempts=letter.attempts,
                    last_error_time=event_builders.timestamp(letter.last_error_at),
                    create_time=event_builders.timestamp(letter.first_failed_at),
                    replay_count=letter.replay_count,
                )
                for letter in page
            ],
            next_page_token=encode_failed_cursor(page[-1]) if more else "",
        )

    async def ReplayFailedVideo(
        self, request: media_pb2.ReplayFailedVideoRequest, context: grpc.aio.ServicerContext
    ) -> media_pb2.ReplayFailedVideoResponse:
        try:
            video_id, replays = await replay_failed(
                self._catalogue_service().store, request.video_id
            )
        except MediaError as error:
            await self._abort(context, error)
            raise AssertionError("unreachable: abort raises") from error
        return media_pb2.ReplayFailedVideoResponse(
            video_id=str(video_id), status=video_pb2.VIDEO_STATUS_PROCESSING, replay_count=replays
        )

    async def BatchGetVideos(
        self, request: media_pb2.BatchGetVideosRequest, context: grpc.aio.ServicerContext
    ) -> media_pb2.BatchGetVideosResponse:
        catalogue = self._catalogue_service()
        try:
            video_ids = [parse_video_id(raw) for raw in request.video_ids]
        except MediaError as error:
            await self._abort(context, error)
            raise AssertionError("unreachable: abort raises") from error
        if len(video_ids) > MAX_BATCH:
            await context.abort(
                grpc.StatusCode.INVALID_ARGUMENT, f"at most {MAX_BATCH} video ids per call"
            )
        summaries = await catalogue.cache.summaries(video_ids, catalogue.store.rows)
        return media_pb2.BatchGetVideosResponse(
            videos=[summaries[v] for v in video_ids if v in summaries],
            missing_video_ids=[str(v) for v in video_ids if v not in summaries],
        )


def _creator_id() -> str:
    """The uploader is the verified caller (the access policy requires an end user)."""
    principal = current_principal()
    if principal is None or principal.user_id is None:
        raise AssertionError("the access policy admits only end users to uploads")
    return principal.user_id


async def _chunks(
    request_iterator: AsyncIterator[media_pb2.UploadVideoRequest],
) -> AsyncIterator[bytes]:
    async for message in request_iterator:
        if message.WhichOneof("payload") != "chunk":
            raise InvalidArgument("only the first message may carry metadata; send chunks after it")
        yield message.chunk


def _accepted_fields(accepted: Accepted) -> dict[str, Any]:
    """The fields the three upload responses share."""
    return {
        "video_id": str(accepted.video_id),
        "status": video_pb2.VideoStatus.Value(f"VIDEO_STATUS_{accepted.status.name}"),
        "upload_progress_percent": 100,
        "bytes_received": accepted.bytes_received,
        "status_url": accepted.status_url,
    }
