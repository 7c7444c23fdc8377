"""embed_svc as the transcode worker calls it: EmbedVideo with a deadline, never fatal."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import grpc
from reels.embed.v1 import embed_service_pb2 as embed_pb2
from reels.embed.v1 import embed_service_pb2_grpc as embed_grpc

from media_svc.domain.jobs import JobTicket
from reels_runtime.auth import ServiceTokenSource
from reels_runtime.channels import dial
from reels_runtime.config import Config

logger = logging.getLogger(__name__)

SERVICE = embed_pb2.DESCRIPTOR.services_by_name["EmbedService"].full_name
# Ten small JPEGs through the model server take tens of milliseconds; the budget covers
# a cold model and a busy machine without holding a publish back for long.
EMBED_BUDGET_S = 10.0


class EmbedClient:
    """Returns the embedding's model version, or None when embed_svc could not make one."""

    def __init__(self, config: Config, budget_s: float = EMBED_BUDGET_S) -> None:
        self._channel, self._stub = dial(
            config.embed_svc_addr,
            embed_grpc.EmbedServiceStub,
            SERVICE,
            budget_s,
            token_provider=ServiceTokenSource.from_config(config),
        )

    async def embed_frames(
        self, video_id: str, creator_id: str, frames_jpeg: Sequence[bytes]
    ) -> str | None:
        request = embed_pb2.EmbedVideoRequest(
            video_id=video_id,
            creator_id=creator_id,
            frames=[embed_pb2.Frame(jpeg=frame) for frame in frames_jpeg],
        )
        try:
            reply = await self._stub.EmbedVideo(request)
        except grpc.aio.AioRpcError as error:
            # Publishing never waits on embeddings: the video is remembered and retried.
            logger.warning(
                "embedding not made; will retry",
                extra={"video_id": video_id, "code": error.code().name, "detail": error.details()},
            )
            return None
        return reply.model_version or "unknown"

    async def embed(self, ticket: JobTicket, frames_jpeg: Sequence[bytes]) -> str | None:
        return await self.embed_frames(str(ticket.video_id), ticket.creator_id, frames_jpeg)

    async def close(self) -> None:
        await self._channel.close()
