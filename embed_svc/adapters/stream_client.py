"""stream_svc as embed_svc calls it: watch history in, embeddings mirrored to ClickHouse."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC

import grpc
from google.protobuf import timestamp_pb2
from reels.common.v1 import embedding_pb2
from reels.stream.v1 import stream_service_pb2 as stream_pb2
from reels.stream.v1 import stream_service_pb2_grpc as stream_grpc

from embed_svc.domain.errors import DeadlineExceeded, Unavailable
from embed_svc.domain.model import VideoVector, WatchEntry
from reels_runtime.auth import ServiceTokenSource
from reels_runtime.channels import dial
from reels_runtime.config import Config
from reels_runtime.deadlines import DeadlineExhausted, inbound_time_remaining

SERVICE = stream_pb2.DESCRIPTOR.services_by_name["StreamService"].full_name
# History is on the recall path when nothing is precomputed: keep it short. The mirror
# runs in the background and may take longer (a batch of 500 vectors into ClickHouse).
HISTORY_BUDGET_S = 3.0
MIRROR_BUDGET_S = 10.0
_CALLER_GONE_S = 0.02


class StreamClient:
    """The History and Mirror ports over stream_svc's typed stubs, with deadlines."""

    def __init__(self, config: Config) -> None:
        self._channel, self._stub = dial(
            config.stream_svc_addr,
            stream_grpc.StreamServiceStub,
            SERVICE,
            HISTORY_BUDGET_S,
            {"MirrorEmbeddings": MIRROR_BUDGET_S},
            token_provider=ServiceTokenSource.from_config(config),
        )

    async def watch_history(self, user_id: str, limit: int) -> list[WatchEntry]:
        request = stream_pb2.GetWatchHistoryRequest(user_id=user_id, limit=limit)
        try:
            reply = await self._stub.GetWatchHistory(request)
        except DeadlineExhausted as error:
            raise DeadlineExceeded(str(error)) from None
        except grpc.aio.AioRpcError as error:
            remaining = inbound_time_remaining()
            if error.code() is grpc.StatusCode.DEADLINE_EXCEEDED and (
                remaining is not None and remaining <= _CALLER_GONE_S
            ):
                raise DeadlineExceeded("the deadline passed reading the watch history") from None
            # Our own budget ran out (or stream_svc is down) while the caller still waits.
            raise Unavailable(f"watch history unavailable ({error.code().name})") from None
        return [
            WatchEntry(
                video_id=entry.video_id,
                creator_id=entry.creator_id,
                watched_at=entry.watch_time.ToDatetime(tzinfo=UTC),
                completion=entry.completion_ratio,
            )
            for entry in reply.entries
        ]

    async def mirror(self, vectors: Sequence[VideoVector]) -> None:
        embeddings = []
        for v in vectors:
            generated = timestamp_pb2.Timestamp()
            generated.FromNanoseconds(int(v.generated_at * 1e9))
            embeddings.append(
                embedding_pb2.VideoEmbedding(
                    video_id=v.video_id,
                    vector=[float(x) for x in v.vector],
                    model_version=v.model_version,
                    generate_time=generated,
                    creator_id=v.creator_id,
                )
            )
        try:
            await self._stub.MirrorEmbeddings(
                stream_pb2.MirrorEmbeddingsRequest(embeddings=embeddings)
            )
        except grpc.aio.AioRpcError as error:
            raise Unavailable(f"mirror unavailable ({error.code().name})") from None

    async def close(self) -> None:
        await self._channel.close()
