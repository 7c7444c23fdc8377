"""Playback RPCs: HLS/DASH manifests, segment redirects, bandwidth reports.

HLS media playlists: `GetHlsManifestRequest` has no field naming a rendition, so a media
playlist is asked for with the `x-reels-media-playlist` metadata (and the player session
with `x-reels-session-id`). Players never send these: the master playlist points at
`/api/v1/reels/{id}/stream/{rendition}/playlist.m3u8?token=…&session_id=…`, and the
gateway's Lua filter turns that path into this RPC plus the two headers (envoy/envoy.yaml).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NoReturn

import grpc
from google.api import httpbody_pb2
from google.protobuf import timestamp_pb2
from reels.stream.v1 import stream_service_pb2 as stream_pb2
from reels.stream.v1 import stream_service_pb2_grpc

from reels_runtime.context import current_principal
from stream_svc import metrics
from stream_svc.domain.bitrate import BandwidthReport, HintError, Hints, hints_from_headers
from stream_svc.domain.bitrate import validated_hints as _validated_hints
from stream_svc.domain.playback import (
    SERVED_BY_CDN,
    SERVED_BY_ORIGIN,
    Manifest,
    PlaybackService,
)
from stream_svc.domain.playback_model import (
    InvalidArgument,
    NotFound,
    PlaybackError,
    Unavailable,
)

if TYPE_CHECKING:
    from stream_svc.playback_wiring import Playback

MEDIA_PLAYLIST_METADATA = "x-reels-media-playlist"
SESSION_METADATA = "x-reels-session-id"
# The gateway's Lua filter turns a GetSegment answer carrying this into `302 Location:`.
REDIRECT_METADATA = "x-reels-location"

_CODES: dict[type[PlaybackError], grpc.StatusCode] = {
    InvalidArgument: grpc.StatusCode.INVALID_ARGUMENT,
    NotFound: grpc.StatusCode.NOT_FOUND,
    Unavailable: grpc.StatusCode.UNAVAILABLE,
}
_SERVED_BY = {
    SERVED_BY_CDN: stream_pb2.SEGMENT_SERVER_CDN,
    SERVED_BY_ORIGIN: stream_pb2.SEGMENT_SERVER_ORIGIN,
}


async def _abort(context: grpc.aio.ServicerContext, error: PlaybackError) -> NoReturn:
    code = next(
        (code for kind, code in _CODES.items() if isinstance(error, kind)),
        grpc.StatusCode.INTERNAL,
    )
    await context.abort(code, str(error))
    raise AssertionError("unreachable: abort raises")


def _cause(error: PlaybackError) -> str:
    """The segment_errors cause label: the status code's name, lower-case."""
    code = next((code for kind, code in _CODES.items() if isinstance(error, kind)), None)
    return code.name.lower() if code is not None else "internal"


def _metadata(context: grpc.aio.ServicerContext) -> dict[str, str]:
    """Invocation metadata by lower-case key (Envoy forwards HTTP headers lower-cased)."""
    values: dict[str, str] = {}
    for key, value in context.invocation_metadata() or ():
        if isinstance(value, bytes):
            continue  # binary (-bin) metadata carries no hints
        values.setdefault(key.lower(), value)
    return values


def _viewer() -> str:
    principal = current_principal()
    user_id = principal.user_id if principal is not None else None
    if not user_id:
        raise InvalidArgument("playback needs an end-user or playback token")
    return user_id


def _request_hints(request: Any) -> Hints:
    def field(name: str) -> Any:
        return getattr(request, name) if request.HasField(name) else None

    try:
        return _validated_hints(
            field("downlink_mbps"), field("ect"), field("rtt_ms"), field("save_data")
        )
    except HintError as error:
        raise InvalidArgument(str(error)) from None


def _http_body(manifest: Manifest) -> httpbody_pb2.HttpBody:
    return httpbody_pb2.HttpBody(
        content_type=manifest.content_type, data=manifest.body.encode("utf-8")
    )


class PlaybackRpcs(stream_service_pb2_grpc.StreamServiceServicer):
    """GetHlsManifest, GetDashManifest, GetSegment and ReportBandwidth."""

    def __init__(self, *, playback: Playback | None, **rest: object) -> None:
        # Cooperative: StreamServicer passes both halves' dependencies by keyword.
        super().__init__(**rest)
        self._playback = playback

    @property
    def _service(self) -> PlaybackService:
        if self._playback is None:
            raise RuntimeError("stream_svc was built without its playback half")
        return self._playback.service

    async def GetHlsManifest(
        self, request: stream_pb2.GetHlsManifestRequest, context: grpc.aio.ServicerContext
    ) -> httpbody_pb2.HttpBody:
        metadata = _metadata(context)
        rendition = metadata.get(MEDIA_PLAYLIST_METADATA)
        try:
            with metrics.timed("hls_media" if rendition else "hls_master"):
                user_id = _viewer()
                if rendition:
                    manifest = await self._service.hls_media(
                        request.video_id, rendition, user_id, metadata.get(SESSION_METADATA)
                    )
                else:
                    hints = _request_hints(request).merged_over(hints_from_headers(metadata))
                    manifest = await self._service.hls_master(request.video_id, user_id, hints)
        except PlaybackError as error:
            await _abort(context, error)
        return _http_body(manifest)

    async def GetDashManifest(
        self, request: stream_pb2.GetDashManifestRequest, context: grpc.aio.ServicerContext
    ) -> httpbody_pb2.HttpBody:
        metadata = _metadata(context)
        try:
            with metrics.timed("dash"):
                hints = _request_hints(request).merged_over(hints_from_headers(metadata))
                manifest = await self._service.dash(request.video_id, _viewer(), hints)
        except PlaybackError as error:
            await _abort(context, error)
        return _http_body(manifest)

    async def GetSegment(
        self, request: stream_pb2.GetSegmentRequest, context: grpc.aio.ServicerContext
    ) -> stream_pb2.GetSegmentResponse:
        try:
            with metrics.timed("segment"):
                viewer = _viewer()
                location = await self._service.segment(
                    request.video_id,
                    request.bitrate,
                    request.segment_id,
                    viewer,
                    request.session_id or None,
                )
        except PlaybackError as error:
            metrics.SEGMENT_ERRORS.labels(_cause(error)).inc()
            await _abort(context, error)
        metrics.segment_served(
            request.session_id or f"{viewer}/{request.video_id}", request.bitrate
        )
        await context.send_initial_metadata(
            ((REDIRECT_METADATA, location.url), ("cache-control", "private, no-store"))
        )
        expire = timestamp_pb2.Timestamp()
        expire.FromNanoseconds(round(location.expires_at * 1e9))
        return stream_pb2.GetSegmentResponse(
            location=location.url, served_by=_SERVED_BY[location.served_by], expire_time=expire
        )

    async def ReportBandwidth(
        self, request: stream_pb2.ReportBandwidthRequest, context: grpc.aio.ServicerContext
    ) -> stream_pb2.ReportBandwidthResponse:
        report = BandwidthReport(
            throughput_kbps=request.throughput_kbps,
            packet_loss_ratio=request.packet_loss_ratio,
            rtt_ms=request.rtt_ms,
            current_bitrate_kbps=request.current_bitrate_kbps,
        )
        try:
            rung = await self._service.report_bandwidth(
                request.video_id, _viewer(), request.session_id or None, report
            )
        except PlaybackError as error:
            await _abort(context, error)
        return stream_pb2.ReportBandwidthResponse(
            rendition=rung.name, bitrate_kbps=round(rung.bandwidth_bps / 1000)
        )
