"""EmbedService over gRPC: proto in, domain call, proto out."""

from __future__ import annotations

from reels.embed.v1 import embed_service_pb2_grpc


class EmbedServicer(embed_service_pb2_grpc.EmbedServiceServicer):
    """No RPC is implemented yet: every method answers UNIMPLEMENTED (its issue builds it)."""
