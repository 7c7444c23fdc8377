"""stream_svc and embed_svc through their stubs, each call with its deadline."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import grpc
from reels.embed.v1 import embed_service_pb2 as embed_pb
from reels.stream.v1 import stream_service_pb2 as stream_pb

from ranking_svc.domain.model import Engagement
from ranking_svc.domain.ports import DependencyFailed, Recalled, TrendingFact
from reels_runtime.deadlines import DeadlineExhausted

_WINDOWS = {
    "1h": stream_pb.TRENDING_WINDOW_1H,
    "24h": stream_pb.TRENDING_WINDOW_24H,
    "7d": stream_pb.TRENDING_WINDOW_7D,
}


async def _call(dependency: str, method: Any, request: Any) -> Any:
    try:
        return await method(request)
    except grpc.aio.AioRpcError as error:
        raise DependencyFailed(dependency, error.code().name) from error
    except DeadlineExhausted as error:
        raise DependencyFailed(dependency, "DEADLINE_EXCEEDED (no time left)") from error


def _engagement(counters: Any, completes: int, completion_rate: float) -> Engagement:
    return Engagement(
        views=counters.view_count,
        likes=counters.like_count,
        shares=counters.share_count,
        comments=counters.comment_count,
        completes=completes,
        completion_rate=completion_rate,
    )


class StreamFacts:
    """Trending, affinity, history and engagement facts (stream_svc, ClickHouse-backed)."""

    def __init__(self, stub: Any) -> None:
        self._stub = stub

    async def trending(self, window: str, limit: int) -> list[TrendingFact]:
        reply = await _call(
            "stream.GetTrendingFacts",
            self._stub.GetTrendingFacts,
            stream_pb.GetTrendingFactsRequest(window=_WINDOWS[window], limit=limit),
        )
        return [
            TrendingFact(
                v.video_id,
                v.creator_id,
                _engagement(v.counters, 0, v.completion_rate),
                v.trending_score,
            )
            for v in reply.videos
        ]

    async def affinity(self, user_id: str, limit: int) -> dict[str, float]:
        reply = await _call(
            "stream.GetAffinityFacts",
            self._stub.GetAffinityFacts,
            stream_pb.GetAffinityFactsRequest(user_id=user_id, limit=limit),
        )
        return {c.creator_id: c.weight for c in reply.creators}

    async def watched(self, user_id: str, limit: int) -> list[tuple[str, str]]:
        reply = await _call(
            "stream.GetWatchHistory",
            self._stub.GetWatchHistory,
            stream_pb.GetWatchHistoryRequest(user_id=user_id, limit=limit),
        )
        return [(e.video_id, e.creator_id) for e in reply.entries]

    async def engagement(self, video_ids: Sequence[str]) -> dict[str, Engagement]:
        reply = await _call(
            "stream.BatchGetEngagement",
            self._stub.BatchGetEngagement,
            stream_pb.BatchGetEngagementRequest(video_ids=list(video_ids)[:1000]),
        )
        return {
            e.video_id: _engagement(e.counters, e.complete_count, e.completion_rate)
            for e in reply.engagements
        }

    async def hashtags(self, window: str, limit: int) -> list[tuple[str, int, int]]:
        reply = await _call(
            "stream.GetHashtagCounts",
            self._stub.GetHashtagCounts,
            stream_pb.GetHashtagCountsRequest(window=_WINDOWS[window], limit=limit),
        )
        return [(h.hashtag, h.video_count, h.view_count) for h in reply.hashtags]

    async def sounds(self, window: str, limit: int) -> list[tuple[str, int, int]]:
        reply = await _call(
            "stream.GetSoundCounts",
            self._stub.GetSoundCounts,
            stream_pb.GetSoundCountsRequest(window=_WINDOWS[window], limit=limit),
        )
        return [(s.sound_id, s.video_count, s.view_count) for s in reply.sounds]


class EmbedDeep:
    """Deep recall, the ranking model's scores and similar creators (embed_svc)."""

    def __init__(self, stub: Any) -> None:
        self._stub = stub

    async def recall(self, user_id: str, k: int, exclude: Sequence[str]) -> list[Recalled]:
        reply = await _call(
            "embed.RecallForUser",
            self._stub.RecallForUser,
            embed_pb.RecallForUserRequest(
                user_id=user_id, k=min(k, 1000), exclude_video_ids=list(exclude)[:1000]
            ),
        )
        return [Recalled(v.video_id, v.creator_id, v.score) for v in reply.videos]

    async def score(self, user_id: str, video_ids: Sequence[str]) -> dict[str, float]:
        reply = await _call(
            "embed.ScoreCandidates",
            self._stub.ScoreCandidates,
            embed_pb.ScoreCandidatesRequest(user_id=user_id, video_ids=list(video_ids)[:1000]),
        )
        return {s.video_id: s.score for s in reply.scores}

    async def similar_creators(
        self, user_id: str, k: int, exclude: Sequence[str]
    ) -> list[tuple[str, float]]:
        reply = await _call(
            "embed.SimilarCreators",
            self._stub.SimilarCreators,
            embed_pb.SimilarCreatorsRequest(
                user_id=user_id, k=k, exclude_creator_ids=list(exclude)[:1000]
            ),
        )
        return [(c.creator_id, c.similarity) for c in reply.creators]
