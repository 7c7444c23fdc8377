"""MediaService over gRPC: proto in, domain call, proto out; domain errors become codes here."""

from __future__ import annotations

from datetime import datetime

import grpc
from google.protobuf import duration_pb2, timestamp_pb2
from reels.common.v1 import video_pb2
from reels.media.v1 import media_service_pb2 as media_pb2
from reels.media.v1 import media_service_pb2_grpc as media_grpc

from media_svc.domain.processing_health import HealthState, PipelineHealth
from media_svc.domain.videos import (
    InvalidArgument,
    MediaError,
    Video,
    VideoNotFound,
    VideoRepository,
    get_video_status,
)
from reels_runtime.context import current_principal

_STATUS_CODES: dict[type[MediaError], grpc.StatusCode] = {
    InvalidArgument: grpc.StatusCode.INVALID_ARGUMENT,
    VideoNotFound: grpc.StatusCode.NOT_FOUND,
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


def _timestamp(value: datetime | None) -> timestamp_pb2.Timestamp | None:
    if value is None:
        return None
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(value)
    return stamp


def _seconds(value: float | None) -> duration_pb2.Duration | None:
    if value is None:
        return None
    span = duration_pb2.Duration()
    span.FromNanoseconds(round(value * 1e9))
    return span


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
                start_offset=_seconds(warning.start_seconds),
                end_offset=_seconds(warning.end_seconds),
            )
            for warning in video.quality_warnings
        ],
        create_time=_timestamp(video.created_at),
        update_time=_timestamp(video.updated_at),
        publish_time=_timestamp(video.published_at),
    )


def _health_response(health: PipelineHealth) -> media_pb2.GetVideoProcessingHealthResponse:
    response = media_pb2.GetVideoProcessingHealthResponse(
        state=_HEALTH_STATES[health.state],
        reasons=list(health.reasons),
        queue_depth=health.probes.queue_depth,
        live_workers=health.probes.live_workers,
        object_store_reachable=health.probes.object_store_reachable,
        cdn_reachable=health.probes.cdn_reachable,
    )
    response.check_time.GetCurrentTime()
    return response


class MediaServicer(media_grpc.MediaServiceServicer):
    """The RPCs media_svc implements; the rest answer UNIMPLEMENTED until they exist."""

    def __init__(self, videos: VideoRepository, pipeline_health) -> None:
        self._videos = videos
        self._pipeline_health = pipeline_health

    async def _abort(self, context: grpc.aio.ServicerContext, error: MediaError) -> None:
        code = _STATUS_CODES.get(type(error), grpc.StatusCode.FAILED_PRECONDITION)
        await context.abort(code, str(error))

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
