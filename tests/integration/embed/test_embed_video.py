"""EmbedVideo end to end: frames through the real model server into Milvus, the cache and
the ClickHouse mirror; errors as the contract lists them."""

from __future__ import annotations

import asyncio
import time
import uuid

import grpc
import numpy as np
import pytest
from reels.embed.v1 import embed_service_pb2 as embed_pb2

from media_svc.transcode.images import encode_jpeg
from tests.integration.embed.conftest import rgb_frames

pytestmark = pytest.mark.asyncio(loop_scope="session")


def _clip(seed: int, frames: int = 10) -> np.ndarray:
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 255, size=(1, 240, 320, 3))
    drift = rng.integers(-8, 8, size=(frames, 1, 1, 3))
    return np.clip(base + drift, 0, 255).astype(np.uint8)


async def test_embed_video_returns_a_unit_vector_and_stores_it(embed, auth) -> None:
    video_id = f"video-{uuid.uuid4().hex[:10]}"
    clip = _clip(1)
    request = embed_pb2.EmbedVideoRequest(
        video_id=video_id,
        creator_id="creator-a",
        frames=[embed_pb2.Frame(jpeg=encode_jpeg(frame)) for frame in clip],
    )
    reply = await embed.EmbedVideo(request, metadata=auth, timeout=30)
    vector = np.asarray(reply.embedding)
    assert reply.dimension == 256 == vector.shape[0]
    assert abs(float(np.linalg.norm(vector)) - 1.0) < 1e-4
    assert reply.model_version == "video_encoder/1"

    got = await embed.BatchGetVideoEmbeddings(
        embed_pb2.BatchGetVideoEmbeddingsRequest(video_ids=[video_id, "no-such-video"]),
        metadata=auth,
        timeout=5,
    )
    assert [e.video_id for e in got.embeddings] == [video_id]
    assert got.missing_video_ids == ["no-such-video"]
    np.testing.assert_allclose(got.embeddings[0].vector, vector, atol=1e-6)
    assert got.embeddings[0].creator_id == "creator-a"

    # Raw RGB frames of the same clip give (nearly) the same vector as the JPEGs.
    again = await embed.EmbedVideo(
        embed_pb2.EmbedVideoRequest(
            video_id=video_id, creator_id="creator-a", frames=rgb_frames(clip)
        ),
        metadata=auth,
        timeout=30,
    )
    assert float(np.dot(again.embedding, vector)) > 0.98


async def test_bad_frames_and_ids_are_invalid_argument(embed, auth) -> None:
    cases = [
        embed_pb2.EmbedVideoRequest(video_id="", creator_id="c", frames=rgb_frames(_clip(2, 2))),
        embed_pb2.EmbedVideoRequest(video_id="v", creator_id="c"),
        embed_pb2.EmbedVideoRequest(
            video_id="v", creator_id="c", frames=[embed_pb2.Frame(jpeg=b"not a jpeg")]
        ),
        embed_pb2.EmbedVideoRequest(
            video_id="v",
            creator_id="c",
            frames=[embed_pb2.Frame(rgb=b"\0" * 10, width=4, height=4)],
        ),
        embed_pb2.EmbedVideoRequest(video_id="v", creator_id="c", frames=rgb_frames(_clip(3, 65))),
    ]
    for request in cases:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await embed.EmbedVideo(request, metadata=auth, timeout=10)
        assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT, caught.value.details()


async def test_an_unknown_model_version_is_not_found(embed, auth) -> None:
    request = embed_pb2.EmbedVideoRequest(
        video_id="v-unknown", creator_id="c", frames=rgb_frames(_clip(4, 3)), model_version="99"
    )
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await embed.EmbedVideo(request, metadata=auth, timeout=10)
    assert caught.value.code() is grpc.StatusCode.NOT_FOUND


async def test_without_a_service_token_it_is_unauthenticated(embed) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await embed.BatchGetVideoEmbeddings(
            embed_pb2.BatchGetVideoEmbeddingsRequest(video_ids=["x"]), timeout=5
        )
    assert caught.value.code() is grpc.StatusCode.UNAUTHENTICATED


async def test_a_stopped_model_server_is_unavailable_then_recovers(
    embed, auth, model_server
) -> None:
    request = embed_pb2.EmbedVideoRequest(
        video_id=f"video-{uuid.uuid4().hex[:10]}", creator_id="c", frames=rgb_frames(_clip(5))
    )
    with model_server.stopped():
        started = time.monotonic()
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await embed.EmbedVideo(request, metadata=auth, timeout=10)
        assert caught.value.code() is grpc.StatusCode.UNAVAILABLE
        assert time.monotonic() - started < 8  # an answer, not a hang until the deadline
    assert (await _until_embedded(embed, auth, request)).dimension == 256


async def _until_embedded(embed, auth, request, timeout_s: float = 15):
    """EmbedVideo once the restarted server is reachable again (the channel reconnects)."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return await embed.EmbedVideo(request, metadata=auth, timeout=30)
        except grpc.aio.AioRpcError as error:
            if error.code() is not grpc.StatusCode.UNAVAILABLE or time.monotonic() > deadline:
                raise
        await asyncio.sleep(0.2)


async def test_a_hung_model_server_costs_the_caller_its_deadline_not_more(
    embed, auth, model_server
) -> None:
    """SIGSTOP: the port accepts, nothing answers. embed_svc passes the caller's remaining
    time down, so the caller gets DEADLINE_EXCEEDED at its own deadline, not a hang."""
    request = embed_pb2.EmbedVideoRequest(
        video_id=f"video-{uuid.uuid4().hex[:10]}", creator_id="c", frames=rgb_frames(_clip(6))
    )
    caller_deadline_s = 3.0
    with model_server.paused():
        started = time.monotonic()
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await embed.EmbedVideo(request, metadata=auth, timeout=caller_deadline_s)
        elapsed = time.monotonic() - started
    assert caught.value.code() is grpc.StatusCode.DEADLINE_EXCEEDED, caught.value.details()
    assert caller_deadline_s - 0.5 < elapsed < caller_deadline_s + 2.0
    # Resumed: the same request goes through (nothing was stored half-way meanwhile).
    assert (await _until_embedded(embed, auth, request)).dimension == 256
