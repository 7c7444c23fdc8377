"""StreamService over gRPC: proto in, domain call, proto out."""

from __future__ import annotations

from reels.stream.v1 import stream_service_pb2_grpc


class StreamServicer(stream_service_pb2_grpc.StreamServiceServicer):
    """No RPC is implemented yet: every method answers UNIMPLEMENTED (its issue builds it)."""
