"""Engagement RPCs: playback events, likes, shares, comments, analytics and facts."""

from __future__ import annotations

from reels.stream.v1 import stream_service_pb2_grpc


class EngagementRpcs(stream_service_pb2_grpc.StreamServiceServicer):
    """Events, engagement, analytics and the internal fact RPCs (built by issue 4)."""

    def __init__(self, *, engagement: object, **rest: object) -> None:
        # Cooperative: StreamServicer passes both halves' dependencies by keyword.
        super().__init__(**rest)
        self._engagement = engagement
