"""RankingService over gRPC: proto in, domain call, proto out."""

from __future__ import annotations

from reels.ranking.v1 import ranking_service_pb2_grpc


class RankingServicer(ranking_service_pb2_grpc.RankingServiceServicer):
    """No RPC is implemented yet: every method answers UNIMPLEMENTED (its issue builds it)."""
