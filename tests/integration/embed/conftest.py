"""embed_svc through its real stub, with a service token, over the session's embed_server."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import numpy as np
import pytest_asyncio
from reels.embed.v1 import embed_service_pb2 as embed_pb2
from reels.embed.v1 import embed_service_pb2_grpc as embed_grpc

from reels_runtime.server import ReelsServer


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def embed_channel(embed_server: ReelsServer) -> AsyncIterator[grpc.aio.Channel]:
    channel = grpc.aio.insecure_channel(
        embed_server.target,
        options=[("grpc.max_send_message_length", 64 << 20)],
    )
    yield channel
    await channel.close()


@pytest_asyncio.fixture(loop_scope="session")
async def embed(embed_channel: grpc.aio.Channel) -> embed_grpc.EmbedServiceStub:
    return embed_grpc.EmbedServiceStub(embed_channel)


@pytest_asyncio.fixture(loop_scope="session")
async def auth(keys) -> list[tuple[str, str]]:
    """A service token, as ranking_svc or media_svc would send (every RPC is internal)."""
    return [("authorization", f"Bearer {keys.signer.mint_service('ranking_svc')}")]


def rgb_frames(clip: np.ndarray) -> list[embed_pb2.Frame]:
    """Raw RGB frames of a uint8 [T, H, W, 3] clip."""
    return [
        embed_pb2.Frame(rgb=frame.tobytes(), width=frame.shape[1], height=frame.shape[0])
        for frame in clip
    ]
