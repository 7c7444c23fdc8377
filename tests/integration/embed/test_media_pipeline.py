"""The media pipeline with the real embed_svc and model server: a published video gets its
vector; with the model server stopped it is published anyway, and the vector follows once
the model server is back (media_svc retries the embedding)."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import grpc
import psycopg
import pytest
from reels.common.v1 import video_pb2
from reels.embed.v1 import embed_service_pb2 as embed_pb2
from reels.media.v1 import media_service_pb2_grpc as media_grpc

from tests.integration.media.worker_support import upload, wait_for_status, worker_process
from tests.integration.stream.engagement_support import eventually
from tests.support.clips import make_clip

pytestmark = pytest.mark.asyncio(loop_scope="session")

PUBLISHED = video_pb2.VIDEO_STATUS_PUBLISHED


@pytest.fixture
async def media(media_server):
    async with grpc.aio.insecure_channel(media_server.target) as channel:
        yield media_grpc.MediaServiceStub(channel)


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_clip(tmp_path_factory.mktemp("clips") / "short.mp4", 360, 640, 3.0)


async def _vector(embed, auth, video_id: str) -> embed_pb2.BatchGetVideoEmbeddingsResponse:
    return await embed.BatchGetVideoEmbeddings(
        embed_pb2.BatchGetVideoEmbeddingsRequest(video_ids=[video_id]), metadata=auth, timeout=5
    )


def _pending_attempts(database_url: str, video_id: str) -> int | None:
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "SELECT attempts FROM media.pending_embeddings WHERE video_id = %s", (video_id,)
        ).fetchone()
    return None if row is None else row[0]


async def test_a_published_video_has_a_recallable_vector(
    media, embed, auth, keys, embed_server, service_environ, clip, tmp_path
) -> None:
    creator = f"creator-{uuid.uuid4().hex[:8]}"
    user_auth = keys.user_metadata(creator)
    with worker_process(
        service_environ, tmp_path / "worker.log", EMBED_SVC_ADDR=embed_server.target
    ):
        video_id = await upload(media, user_auth, clip, "embedded on publish")
        await wait_for_status(media, user_auth, video_id, PUBLISHED)
    reply = await _vector(embed, auth, video_id)
    assert [e.video_id for e in reply.embeddings] == [video_id]
    assert reply.embeddings[0].creator_id == creator
    assert reply.embeddings[0].model_version == "video_encoder/1"
    # video.published reached embed_svc: the video is searchable (its own nearest).
    similar = await eventually(
        lambda: embed.SimilarVideos(
            embed_pb2.SimilarVideosRequest(video_id=video_id, k=5), metadata=auth, timeout=5
        ),
        lambda r: r is not None,
    )
    assert video_id not in {v.video_id for v in similar.videos}


async def test_a_stopped_model_server_delays_the_vector_not_the_publication(
    media,
    embed,
    auth,
    keys,
    embed_server,
    model_server,
    service_environ,
    database_url,
    clip,
    tmp_path,
) -> None:
    creator = f"creator-{uuid.uuid4().hex[:8]}"
    user_auth = keys.user_metadata(creator)
    with worker_process(
        service_environ, tmp_path / "worker.log", EMBED_SVC_ADDR=embed_server.target
    ):
        with model_server.stopped():
            video_id = await upload(media, user_auth, clip, "embedded later")
            await wait_for_status(media, user_auth, video_id, PUBLISHED)
            assert list((await _vector(embed, auth, video_id)).missing_video_ids) == [video_id]
            assert _pending_attempts(database_url, video_id) is not None  # remembered
        restarted = time.monotonic()
        # The worker retries with backoff (5 s, 10 s, ... while the server was down).
        reply = await eventually(
            lambda: _vector(embed, auth, video_id),
            lambda r: len(r.embeddings) == 1,
            within=90,
            interval=0.5,
        )
        assert reply.embeddings[0].creator_id == creator
        await eventually(
            lambda: _async(_pending_attempts(database_url, video_id)),
            lambda attempts: attempts is None,
            within=10,
        )
    assert time.monotonic() - restarted < 90
    # Published before its vector existed: once the vector arrives it is recallable.
    await eventually(
        lambda: embed.SimilarVideos(
            embed_pb2.SimilarVideosRequest(video_id=video_id, k=5), metadata=auth, timeout=5
        ),
        lambda r: r is not None,
    )


async def _async(value):
    return value
