"""GetVideoStatus over native gRPC: a real media_svc on port 0, real PostgreSQL, typed stubs."""

from __future__ import annotations

import uuid

import grpc
import psycopg
import pytest
from psycopg.types.json import Jsonb
from reels.common.v1 import video_pb2
from reels.media.v1 import media_service_pb2 as media_pb2
from reels.media.v1 import media_service_pb2_grpc as media_grpc

pytestmark = pytest.mark.asyncio(loop_scope="session")

DEADLINE_S = 2.0


def insert_video(database_url: str, creator_id: str, status: str, **columns: object) -> str:
    """A catalogue row as the upload path leaves it (the upload RPCs arrive with issue 3)."""
    video_id = str(uuid.uuid4())
    values = {"id": video_id, "creator_id": creator_id, "status": status, **columns}
    if status == "published":
        values.setdefault("published_at", "now()")
    names = ", ".join(values)
    placeholders = ", ".join("%s" for _ in values)
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(
            f"INSERT INTO media.videos ({names}) VALUES ({placeholders})",  # noqa: S608
            [Jsonb(v) if isinstance(v, list) else v for v in values.values()],
        )
    return video_id


@pytest.fixture
async def stub(media_server):
    async with grpc.aio.insecure_channel(media_server.target) as channel:
        yield media_grpc.MediaServiceStub(channel)


async def test_creator_sees_processing_video_with_progress_and_warnings(
    stub, keys, database_url
) -> None:
    warnings = [{"kind": "blur", "message": "The picture is blurred.", "start_seconds": 1.5}]
    video_id = insert_video(
        database_url,
        "alice",
        "processing",
        title="first clip",
        progress_percent=42,
        quality_warnings=warnings,
    )
    reply = await stub.GetVideoStatus(
        media_pb2.GetVideoStatusRequest(video_id=video_id),
        metadata=keys.user_metadata("alice"),
        timeout=DEADLINE_S,
    )
    assert reply.video_id == video_id
    assert reply.creator_id == "alice"
    assert reply.title == "first clip"
    assert reply.status == video_pb2.VIDEO_STATUS_PROCESSING
    assert reply.progress_percent == 42
    assert [w.kind for w in reply.quality_warnings] == [video_pb2.QUALITY_WARNING_KIND_BLUR]
    assert reply.quality_warnings[0].start_offset.ToMilliseconds() == 1500
    assert reply.create_time.seconds > 0
    assert not reply.HasField("publish_time")


async def test_unknown_video_is_not_found(stub, keys) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.GetVideoStatus(
            media_pb2.GetVideoStatusRequest(video_id=str(uuid.uuid4())),
            metadata=keys.user_metadata("alice"),
            timeout=DEADLINE_S,
        )
    assert caught.value.code() is grpc.StatusCode.NOT_FOUND
    assert "not found" in caught.value.details()


async def test_malformed_video_id_is_invalid_argument(stub, keys) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.GetVideoStatus(
            media_pb2.GetVideoStatusRequest(video_id="../etc/passwd"),
            metadata=keys.user_metadata("alice"),
            timeout=DEADLINE_S,
        )
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "UUID" in caught.value.details()


@pytest.mark.security
async def test_someone_elses_unpublished_video_is_not_found(stub, keys, database_url) -> None:
    video_id = insert_video(database_url, "alice", "uploading")
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.GetVideoStatus(
            media_pb2.GetVideoStatusRequest(video_id=video_id),
            metadata=keys.user_metadata("bob"),
            timeout=DEADLINE_S,
        )
    assert caught.value.code() is grpc.StatusCode.NOT_FOUND


async def test_published_video_is_visible_to_everyone(stub, keys, database_url) -> None:
    video_id = insert_video(database_url, "alice", "published", progress_percent=100)
    reply = await stub.GetVideoStatus(
        media_pb2.GetVideoStatusRequest(video_id=video_id),
        metadata=keys.user_metadata("bob"),
        timeout=DEADLINE_S,
    )
    assert reply.status == video_pb2.VIDEO_STATUS_PUBLISHED
    assert reply.publish_time.seconds > 0


@pytest.mark.security
async def test_missing_or_forged_token_is_unauthenticated(stub, keys) -> None:
    request = media_pb2.GetVideoStatusRequest(video_id=str(uuid.uuid4()))
    forged = keys.signer.mint_user("alice")[:-4] + "AAAA"
    for metadata in ([], [("authorization", f"Bearer {forged}")], [("x-user-id", "alice")]):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await stub.GetVideoStatus(request, metadata=metadata, timeout=DEADLINE_S)
        assert caught.value.code() is grpc.StatusCode.UNAUTHENTICATED


async def test_processing_health_reports_real_probes(stub) -> None:
    reply = await stub.GetVideoProcessingHealth(
        media_pb2.GetVideoProcessingHealthRequest(), timeout=DEADLINE_S
    )
    # SeaweedFS runs; no transcode worker and no CDN exist in this session.
    assert reply.object_store_reachable is True
    assert reply.cdn_reachable is False
    assert reply.live_workers == 0
    assert reply.state == media_pb2.PROCESSING_HEALTH_STATE_UNHEALTHY
    assert "no transcode worker is running" in reply.reasons
