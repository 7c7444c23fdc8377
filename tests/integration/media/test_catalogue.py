"""Edits, batch reads and quality warnings of published videos, through a real worker."""

from __future__ import annotations

import asyncio
import uuid

import grpc
import pytest
from google.protobuf import field_mask_pb2
from redis.asyncio import Redis
from reels.common.v1 import events_pb2, video_pb2
from reels.media.v1 import media_service_pb2 as media_pb2
from reels.media.v1 import media_service_pb2_grpc as media_grpc

from tests.integration.media.worker_support import upload, wait_for_status, worker_process
from tests.support.clips import make_clip

pytestmark = pytest.mark.asyncio(loop_scope="session")

PUBLISHED = video_pb2.VIDEO_STATUS_PUBLISHED


@pytest.fixture
async def stub(media_server):
    async with grpc.aio.insecure_channel(media_server.target) as channel:
        yield media_grpc.MediaServiceStub(channel)


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    root = tmp_path_factory.mktemp("catalogue-clips")
    return {
        "sharp": make_clip(root / "sharp.mp4", 360, 640, 3.0),
        "blurred": make_clip(root / "blurred.mp4", 360, 640, 3.0, pattern="blur"),
    }


@pytest.fixture(scope="module")
def service_token(keys) -> list[tuple[str, str]]:
    return [("authorization", f"Bearer {keys.signer.mint_service('ranking_svc')}")]


async def test_edit_by_creator_publishes_an_update_and_refreshes_batch_reads(
    stub, keys, config, service_environ, clips, service_token, tmp_path
) -> None:
    creator = f"creator-{uuid.uuid4().hex[:8]}"
    auth = keys.user_metadata(creator)
    with worker_process(service_environ, tmp_path / "worker.log"):
        video_id = await upload(stub, auth, clips["sharp"], "before")
        await wait_for_status(stub, auth, video_id, PUBLISHED)
    batch = media_pb2.BatchGetVideosRequest(video_ids=[video_id, str(uuid.uuid4())])
    first = await stub.BatchGetVideos(batch, metadata=service_token, timeout=5)
    assert [v.title for v in first.videos] == ["before"]
    assert len(first.missing_video_ids) == 1
    assert first.videos[0].renditions  # the published ladder travels with the summary

    edit = media_pb2.UpdateVideoRequest(
        video_id=video_id,
        video=media_pb2.VideoMetadata(title="  after  ", hashtags=["#New", "new", "Two"]),
        update_mask=field_mask_pb2.FieldMask(paths=["title", "hashtags"]),
    )
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.UpdateVideo(edit, metadata=keys.user_metadata("mallory"), timeout=5)
    assert caught.value.code() is grpc.StatusCode.PERMISSION_DENIED
    reply = await stub.UpdateVideo(edit, metadata=auth, timeout=5)
    assert reply.video.title == "after"
    assert list(reply.video.hashtags) == ["new", "two"]

    second = await stub.BatchGetVideos(batch, metadata=service_token, timeout=5)
    assert second.videos[0].title == "after"  # the metadata cache was invalidated
    redis = Redis.from_url(config.redis_url)
    try:
        for _ in range(50):
            entries = await redis.xrange(f"{config.event_stream_prefix}video.updated")
            updates = [
                events_pb2.VideoUpdatedEvent.FromString(fields[b"payload"]) for _, fields in entries
            ]
            mine = [u for u in updates if u.video.video_id == video_id]
            if mine:
                break
            await asyncio.sleep(0.1)  # the outbox relay runs every 0.2 s
    finally:
        await redis.aclose()
    assert mine and sorted(mine[0].update_mask.paths) == ["hashtags", "title"]


@pytest.mark.security
async def test_edits_are_validated_and_batch_reads_need_a_service(
    stub, keys, service_token
) -> None:
    bad = media_pb2.UpdateVideoRequest(
        video_id=str(uuid.uuid4()),
        video=media_pb2.VideoMetadata(title="x" * 151),
        update_mask=field_mask_pb2.FieldMask(paths=["title"]),
    )
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.UpdateVideo(bad, metadata=keys.user_metadata("alice"), timeout=5)
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    unknown_field = media_pb2.UpdateVideoRequest(
        video_id=str(uuid.uuid4()), update_mask=field_mask_pb2.FieldMask(paths=["creator_id"])
    )
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.UpdateVideo(unknown_field, metadata=keys.user_metadata("alice"), timeout=5)
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "creator_id" in caught.value.details()
    request = media_pb2.BatchGetVideosRequest(video_ids=[str(uuid.uuid4())])
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.BatchGetVideos(request, metadata=keys.user_metadata("alice"), timeout=5)
    assert caught.value.code() is grpc.StatusCode.PERMISSION_DENIED
    malformed = media_pb2.BatchGetVideosRequest(video_ids=["nope"])
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.BatchGetVideos(malformed, metadata=service_token, timeout=5)
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT


async def test_a_blurred_clip_is_published_with_a_blur_warning_for_its_creator(
    stub, keys, service_environ, clips, tmp_path
) -> None:
    auth = keys.user_metadata(f"creator-{uuid.uuid4().hex[:8]}")
    with worker_process(service_environ, tmp_path / "worker.log"):
        blurred = await upload(stub, auth, clips["blurred"], "soft focus")
        sharp = await upload(stub, auth, clips["sharp"], "crisp")
        blurred_status = await wait_for_status(stub, auth, blurred, PUBLISHED)
        sharp_status = await wait_for_status(stub, auth, sharp, PUBLISHED)
    blur = video_pb2.QUALITY_WARNING_KIND_BLUR
    assert blur in [w.kind for w in blurred_status.quality_warnings]
    assert blur not in [w.kind for w in sharp_status.quality_warnings]
    assert all(w.message for w in blurred_status.quality_warnings)
