"""EmbedService over gRPC: proto in, domain call, proto out."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import NoReturn, TypeVar

import grpc
from google.protobuf import timestamp_pb2
from pymilvus.exceptions import MilvusException
from redis.exceptions import RedisError
from reels.common.v1 import embedding_pb2
from reels.embed.v1 import embed_service_pb2 as embed_pb2
from reels.embed.v1 import embed_service_pb2_grpc

from embed_svc.adapters.frames import RawFrame, decode_frames
from embed_svc.domain.errors import (
    DeadlineExceeded,
    EmbedError,
    InvalidInput,
    NotFound,
    Unavailable,
)
from embed_svc.domain.model import Scored, VideoVector
from embed_svc.domain.service import MAX_FRAMES, EmbedService
from embed_svc.metrics import GENERATIONS, RECALL_SOURCE
from reels_runtime.deadlines import DeadlineExhausted, inbound_time_remaining

logger = logging.getLogger(__name__)
_T = TypeVar("_T")

# Time kept back from the caller's deadline to send DEADLINE_EXCEEDED before it passes.
_ANSWER_MARGIN_S = 0.005
_CODES: dict[type[EmbedError], grpc.StatusCode] = {
    InvalidInput: grpc.StatusCode.INVALID_ARGUMENT,
    NotFound: grpc.StatusCode.NOT_FOUND,
    Unavailable: grpc.StatusCode.UNAVAILABLE,
    DeadlineExceeded: grpc.StatusCode.DEADLINE_EXCEEDED,
}


def _timestamp(seconds: float) -> timestamp_pb2.Timestamp:
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(datetime.fromtimestamp(seconds, UTC))
    return stamp


def _scored(hits: list[Scored]) -> list[embed_pb2.ScoredVideo]:
    return [
        embed_pb2.ScoredVideo(video_id=h.id, creator_id=h.creator_id, score=h.score) for h in hits
    ]


def _embedding(video: VideoVector) -> embedding_pb2.VideoEmbedding:
    return embedding_pb2.VideoEmbedding(
        video_id=video.video_id,
        vector=video.vector.tolist(),
        model_version=video.model_version,
        generate_time=_timestamp(video.generated_at),
        creator_id=video.creator_id,
    )


class EmbedServicer(embed_service_pb2_grpc.EmbedServiceServicer):
    """Every RPC runs its use case within the caller's remaining deadline."""

    def __init__(self, service: EmbedService) -> None:
        self._service = service

    async def _run(
        self, context: grpc.aio.ServicerContext, work: Callable[[], Awaitable[_T]]
    ) -> _T:
        """Runs `work`, stopping it when the caller's deadline is about to pass."""
        remaining = inbound_time_remaining()
        try:
            if remaining is None:
                return await work()
            if remaining <= _ANSWER_MARGIN_S:
                raise DeadlineExceeded("the deadline left no time for the work")
            async with asyncio.timeout(remaining - _ANSWER_MARGIN_S):
                return await work()
        except TimeoutError:
            await self._abort(context, DeadlineExceeded("the deadline passed"))
        except DeadlineExhausted as error:
            await self._abort(context, DeadlineExceeded(str(error)))
        except EmbedError as error:
            await self._abort(context, error)
        except (MilvusException, RedisError) as error:
            logger.warning("store unavailable", exc_info=error)
            await self._abort(
                context, Unavailable(f"a store is unavailable: {type(error).__name__}")
            )

    async def _abort(self, context: grpc.aio.ServicerContext, error: EmbedError) -> NoReturn:
        code = next(
            (_CODES[cls] for cls in type(error).__mro__ if cls in _CODES),
            grpc.StatusCode.INTERNAL,
        )
        await context.abort(code, str(error))
        raise AssertionError("unreachable: abort raises")

    async def EmbedVideo(
        self, request: embed_pb2.EmbedVideoRequest, context: grpc.aio.ServicerContext
    ) -> embed_pb2.EmbedVideoResponse:
        outcome = "error"

        async def work() -> VideoVector:
            frames = decode_frames(
                [
                    RawFrame(jpeg=f.jpeg, rgb=f.rgb, width=f.width, height=f.height)
                    for f in request.frames
                ],
                MAX_FRAMES,
            )
            return await self._service.embed_video(
                request.video_id,
                request.creator_id,
                frames,
                published_at=request.publish_time.seconds
                if request.HasField("publish_time")
                else 0,
                model_version=request.model_version,
            )

        try:
            video = await self._run(context, work)
            outcome = "ok"
        except asyncio.CancelledError:
            outcome = "cancelled"
            raise
        except BaseException:
            code = context.code()
            outcome = code.name.lower() if isinstance(code, grpc.StatusCode) else "error"
            raise
        finally:
            GENERATIONS.labels(outcome).inc()
        return embed_pb2.EmbedVideoResponse(
            video_id=video.video_id,
            embedding=video.vector.tolist(),
            model_version=video.model_version,
            dimension=int(video.vector.shape[0]),
        )

    async def BatchGetVideoEmbeddings(
        self,
        request: embed_pb2.BatchGetVideoEmbeddingsRequest,
        context: grpc.aio.ServicerContext,
    ) -> embed_pb2.BatchGetVideoEmbeddingsResponse:
        vectors, missing = await self._run(
            context,
            lambda: self._service.embeddings(list(request.video_ids), request.model_version),
        )
        return embed_pb2.BatchGetVideoEmbeddingsResponse(
            embeddings=[_embedding(v) for v in vectors], missing_video_ids=missing
        )

    async def GetUserEmbedding(
        self, request: embed_pb2.GetUserEmbeddingRequest, context: grpc.aio.ServicerContext
    ) -> embed_pb2.GetUserEmbeddingResponse:
        user = await self._run(context, lambda: self._service.user_vector(request.user_id))
        return embed_pb2.GetUserEmbeddingResponse(
            user_id=user.user_id,
            embedding=[] if user.vector is None else user.vector.tolist(),
            model_version=user.model_version,
            watched_video_count=user.watched_count,
            cold_start=user.cold_start,
            compute_time=_timestamp(user.computed_at),
        )

    async def RecallForUser(
        self, request: embed_pb2.RecallForUserRequest, context: grpc.aio.ServicerContext
    ) -> embed_pb2.RecallForUserResponse:
        recall = await self._run(
            context,
            lambda: self._service.recall(
                request.user_id, request.k, list(request.exclude_video_ids)
            ),
        )
        RECALL_SOURCE.labels(recall.source).inc()
        return embed_pb2.RecallForUserResponse(
            videos=_scored(recall.hits),
            model_version=recall.model_version,
            cold_start=recall.cold_start,
        )

    async def ScoreCandidates(
        self, request: embed_pb2.ScoreCandidatesRequest, context: grpc.aio.ServicerContext
    ) -> embed_pb2.ScoreCandidatesResponse:
        scores, version, unscored = await self._run(
            context, lambda: self._service.score(request.user_id, list(request.video_ids))
        )
        return embed_pb2.ScoreCandidatesResponse(
            scores=[embed_pb2.CandidateScore(video_id=v, score=s) for v, s in scores],
            model_version=version,
            unscored_video_ids=unscored,
        )

    async def SimilarVideos(
        self, request: embed_pb2.SimilarVideosRequest, context: grpc.aio.ServicerContext
    ) -> embed_pb2.SimilarVideosResponse:
        hits, version = await self._run(
            context, lambda: self._service.similar_videos(request.video_id, request.k)
        )
        return embed_pb2.SimilarVideosResponse(videos=_scored(hits), model_version=version)

    async def SimilarCreators(
        self, request: embed_pb2.SimilarCreatorsRequest, context: grpc.aio.ServicerContext
    ) -> embed_pb2.SimilarCreatorsResponse:
        hits, cold = await self._run(
            context,
            lambda: self._service.similar_creators(
                request.user_id, request.k, list(request.exclude_creator_ids)
            ),
        )
        return embed_pb2.SimilarCreatorsResponse(
            creators=[embed_pb2.SimilarCreator(creator_id=h.id, similarity=h.score) for h in hits],
            cold_start=cold,
        )
