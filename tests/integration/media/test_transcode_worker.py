"""The transcode worker end to end: a real worker process, PostgreSQL, Redis, SeaweedFS, PyAV."""

from __future__ import annotations

import asyncio
import os
import signal
import uuid
from pathlib import Path

import boto3
import grpc
import m3u8
import mpegdash.parser
import psycopg
import pytest
from reels.common.v1 import events_pb2, video_pb2
from reels.media.v1 import media_service_pb2 as media_pb2
from reels.media.v1 import media_service_pb2_grpc as media_grpc

from tests.integration.media.worker_support import (
    upload,
    wait_for_status,
    worker_process,
)
from tests.support.clips import make_clip

pytestmark = pytest.mark.asyncio(loop_scope="session")

PUBLISHED = video_pb2.VIDEO_STATUS_PUBLISHED


@pytest.fixture
async def stub(media_server):
    async with grpc.aio.insecure_channel(media_server.target) as channel:
        yield media_grpc.MediaServiceStub(channel)


@pytest.fixture(scope="module")
def portrait_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Long enough that a transcode spans several progress reports even on a busy machine.
    return make_clip(tmp_path_factory.mktemp("clips") / "portrait.mp4", 360, 640, 8.0)


@pytest.fixture
def s3(seaweedfs):
    return boto3.client(
        "s3",
        endpoint_url=seaweedfs.endpoint_url,
        aws_access_key_id=seaweedfs.access_key,
        aws_secret_access_key=seaweedfs.secret_key,
        region_name="us-east-1",
    )


def keys_under(s3, bucket: str, prefix: str) -> set[str]:
    response = s3.list_objects_v2(Bucket=bucket, Prefix=prefix)
    return {item["Key"] for item in response.get("Contents", ())}


async def published_events(config, video_id: str) -> list[events_pb2.VideoPublishedEvent]:
    from redis.asyncio import Redis

    redis = Redis.from_url(config.redis_url)
    try:
        entries = await redis.xrange(f"{config.event_stream_prefix}video.published")
    finally:
        await redis.aclose()
    events = [
        events_pb2.VideoPublishedEvent.FromString(fields[b"payload"]) for _, fields in entries
    ]
    return [event for event in events if event.video.video_id == video_id]


async def test_upload_is_transcoded_validated_and_published(
    stub, keys, config, service_environ, seaweedfs, s3, portrait_clip, tmp_path
) -> None:
    creator = f"creator-{uuid.uuid4().hex[:8]}"
    auth = keys.user_metadata(creator)
    with worker_process(service_environ, tmp_path / "worker.log"):
        video_id = await upload(stub, auth, portrait_clip, "portrait")
        progress: list[int] = []
        reply = await wait_for_status(stub, auth, video_id, PUBLISHED, seen_progress=progress)
        # Progress moved with the frames encoded, not in one jump.
        assert len({p for p in progress if 0 < p < 100}) >= 3, progress
        assert reply.progress_percent == 100
        assert reply.publish_time.seconds > 0
        for _ in range(50):  # the outbox relay publishes within moments
            events = await published_events(config, video_id)
            if events:
                break
            await asyncio.sleep(0.1)
    assert len(events) == 1
    event = events[0]
    assert event.video.creator_id == creator
    assert [r.name for r in event.video.renditions if r.kind == video_pb2.RENDITION_KIND_VIDEO] == [
        "360p"
    ]  # a 360x640 source is never upscaled
    prefix = f"videos/{video_id}/"
    stored = keys_under(s3, seaweedfs.bucket, prefix)
    for name in ("master.m3u8", "manifest.mpd", "thumbnail.jpg", "preview.gif", "original"):
        assert prefix + name in stored, name
    master = m3u8.loads(
        s3.get_object(Bucket=seaweedfs.bucket, Key=prefix + "master.m3u8")["Body"].read().decode()
    )
    assert master.is_variant
    for playlist in master.playlists:
        info = playlist.stream_info
        assert info.bandwidth > 0 and info.resolution and info.codecs
        media = m3u8.loads(
            s3.get_object(Bucket=seaweedfs.bucket, Key=prefix + playlist.uri)["Body"]
            .read()
            .decode()
        )
        base = prefix + playlist.uri.rpartition("/")[0] + "/"
        for segment in media.segments:
            assert base + segment.uri in stored
    mpd = mpegdash.parser.MPEGDASHParser.parse(
        s3.get_object(Bucket=seaweedfs.bucket, Key=prefix + "manifest.mpd")["Body"].read().decode()
    )
    assert mpd.periods[0].adaptation_sets


async def test_creator_deletes_others_are_refused_and_objects_are_purged(
    stub, keys, service_environ, seaweedfs, s3, portrait_clip, tmp_path
) -> None:
    creator = f"creator-{uuid.uuid4().hex[:8]}"
    auth = keys.user_metadata(creator)
    with worker_process(service_environ, tmp_path / "worker.log"):
        video_id = await upload(stub, auth, portrait_clip, "to delete")
        await wait_for_status(stub, auth, video_id, PUBLISHED)
        request = media_pb2.DeleteVideoRequest(video_id=video_id)
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await stub.DeleteVideo(request, metadata=keys.user_metadata("mallory"), timeout=5)
        assert caught.value.code() is grpc.StatusCode.PERMISSION_DENIED
        deleted = await stub.DeleteVideo(request, metadata=auth, timeout=5)
        assert deleted.status == video_pb2.VIDEO_STATUS_DELETED
        again = await stub.DeleteVideo(request, metadata=auth, timeout=5)
        assert again.purge_time == deleted.purge_time  # idempotent
        prefix = f"videos/{video_id}/"
        for _ in range(100):  # grace 1 s, purge pass every 0.5 s
            if not keys_under(s3, seaweedfs.bucket, prefix):
                break
            await asyncio.sleep(0.1)
        assert not keys_under(s3, seaweedfs.bucket, prefix)


async def test_a_killed_worker_leaves_a_job_that_finishes_once_after_restart(
    stub, keys, config, service_environ, portrait_clip, tmp_path
) -> None:
    auth = keys.user_metadata(f"creator-{uuid.uuid4().hex[:8]}")
    with worker_process(service_environ, tmp_path / "first.log") as first:
        video_id = await upload(stub, auth, portrait_clip, "interrupted")
        request = media_pb2.GetVideoStatusRequest(video_id=video_id)
        for _ in range(600):
            reply = await stub.GetVideoStatus(request, metadata=auth, timeout=5)
            if 0 < reply.progress_percent < 90:
                break
            await asyncio.sleep(0.02)
        assert reply.status == video_pb2.VIDEO_STATUS_PROCESSING
        os.killpg(first.pid, signal.SIGKILL)  # mid-transcode, no chance to clean up
        first.wait(timeout=10)
    with worker_process(service_environ, tmp_path / "second.log"):
        await wait_for_status(stub, auth, video_id, PUBLISHED)
        await asyncio.sleep(1.0)  # any duplicate publication would have been relayed by now
        assert len(await published_events(config, video_id)) == 1


async def test_three_failures_dead_letter_then_replay_publishes(
    stub, keys, service_environ, database_url, seaweedfs, s3, portrait_clip, tmp_path
) -> None:
    auth = keys.user_metadata(f"creator-{uuid.uuid4().hex[:8]}")
    admin = keys.user_metadata("operator", roles=("admin",))
    video_id = await upload(stub, auth, portrait_clip, "poisoned")
    key = f"videos/{video_id}/original"
    good = s3.get_object(Bucket=seaweedfs.bucket, Key=key)["Body"].read()
    # The stored original goes bad after validation: every attempt fails the same way.
    s3.put_object(Bucket=seaweedfs.bucket, Key=key, Body=b"not a video at all" * 100)
    with worker_process(service_environ, tmp_path / "worker.log"):
        failed = await wait_for_status(stub, auth, video_id, video_pb2.VIDEO_STATUS_FAILED)
        assert failed.failure_reason
        with psycopg.connect(database_url) as conn:
            attempts = conn.execute(
                "SELECT attempts FROM media.failed_videos WHERE video_id = %s", (video_id,)
            ).fetchone()
        assert attempts == (3,)
        listed = await stub.ListFailedVideos(
            media_pb2.ListFailedVideosRequest(page_size=200), metadata=admin, timeout=5
        )
        assert video_id in [letter.video_id for letter in listed.failed_videos]
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await stub.ListFailedVideos(
                media_pb2.ListFailedVideosRequest(), metadata=auth, timeout=5
            )
        assert caught.value.code() is grpc.StatusCode.PERMISSION_DENIED
        s3.put_object(Bucket=seaweedfs.bucket, Key=key, Body=good)
        await stub.ReplayFailedVideo(
            media_pb2.ReplayFailedVideoRequest(video_id=video_id), metadata=admin, timeout=5
        )
        await wait_for_status(stub, auth, video_id, PUBLISHED)


async def test_an_unreachable_embed_service_does_not_block_publication(
    stub, keys, service_environ, database_url, portrait_clip, tmp_path
) -> None:
    auth = keys.user_metadata(f"creator-{uuid.uuid4().hex[:8]}")
    with worker_process(service_environ, tmp_path / "worker.log"):
        video_id = await upload(stub, auth, portrait_clip, "no embedding yet")
        await wait_for_status(stub, auth, video_id, PUBLISHED)
        await asyncio.sleep(1.5)  # a few retry passes (every 0.5 s)
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "SELECT attempts FROM media.pending_embeddings WHERE video_id = %s", (video_id,)
        ).fetchone()
    assert row is not None and row[0] >= 1  # remembered and retried, not forgotten
