"""Playback RPCs: HLS/DASH manifests, segment redirects, bandwidth reports."""

from __future__ import annotations

from reels.stream.v1 import stream_service_pb2_grpc


class PlaybackRpcs(stream_service_pb2_grpc.StreamServiceServicer):
    """GetHlsManifest, GetDashManifest, GetSegment, ReportBandwidth (built by issue 4)."""

    def __init__(self, *, playback: object, **rest: object) -> None:
        # Cooperative: StreamServicer passes both halves' dependencies by keyword.
        super().__init__(**rest)
        self._playback = playback
