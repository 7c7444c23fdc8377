"""Resumable direct uploads: presigned part URLs PUT straight to SeaweedFS, then completed."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import grpc
import httpx
import psycopg
import pytest
import pytest_asyncio
from reels.common.v1 import video_pb2
from reels.media.v1 import media_service_pb2 as media_pb2
from reels.media.v1 import media_service_pb2_grpc as media_grpc

from media_svc.server import build_upload_service
from media_svc.settings import MediaSettings
from reels_runtime.db import open_pg_pool
from tests.support.uploads import (
    Clips,
    Leftovers,
    assert_nothing_left,
    media_service,
    new_user,
    object_keys,
    open_multipart_uploads,
    quota_used,
    session_rows,
    upload_requests,
    uploaded_event,
    video_row,
)

pytestmark = pytest.mark.asyncio(loop_scope="session")

DEADLINE_S = 30.0
MiB = 1024 * 1024


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> Clips:
    return Clips(tmp_path_factory.mktemp("clips"))


@pytest.fixture
async def stub(media_server):
    async with grpc.aio.insecure_channel(media_server.target) as channel:
        yield media_grpc.MediaServiceStub(channel)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def flag_server(config):
    """Moderation flags instead of refusing, and the smallest part size S3 allows."""
    settings = MediaSettings.from_env(config, {}).replace(
        moderation_blocklist=("spam",),
        moderation_mode="flag",
        upload_part_size_bytes=5 * MiB,
    )
    async with media_service(config, settings) as server:
        yield server


@pytest.fixture
async def flagging(flag_server):
    async with grpc.aio.insecure_channel(flag_server.target) as channel:
        yield media_grpc.MediaServiceStub(channel)


def _create(size: int, **fields) -> media_pb2.CreateUploadSessionRequest:
    return media_pb2.CreateUploadSessionRequest(
        **{"title": "direct", "content_type": "video/mp4", "size_bytes": size, **fields}
    )


async def put_parts(
    grant: media_pb2.CreateUploadSessionResponse, data: bytes, order=None
) -> list[media_pb2.CompletedPart]:
    """PUTs each part to its presigned URL, as a client does, and keeps the ETags."""
    etags: dict[int, str] = {}
    parts = list(grant.parts) if order is None else [grant.parts[i] for i in order]
    async with httpx.AsyncClient(timeout=30.0) as http:
        for part in parts:
            start = (part.part_number - 1) * grant.part_size_bytes
            response = await http.put(part.url, content=data[start : start + grant.part_size_bytes])
            assert response.status_code == 200, response.text
            etags[part.part_number] = response.headers["etag"]
    return [
        media_pb2.CompletedPart(part_number=number, etag=etag)
        for number, etag in sorted(etags.items())
    ]


def _complete(upload_id: str, parts) -> media_pb2.CompleteUploadSessionRequest:
    return media_pb2.CompleteUploadSessionRequest(upload_id=upload_id, parts=parts)


async def _refused(call, code: grpc.StatusCode) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    assert caught.value.code() is code, caught.value.details()
    return caught.value


async def test_direct_upload_is_validated_stored_and_completes_idempotently(
    stub, keys, clips, config, database_url
) -> None:
    creator = new_user()
    metadata = keys.user_metadata(creator)
    data = clips.portrait().read_bytes()
    grant = await stub.CreateUploadSession(
        _create(len(data), hashtags=["#Direct"], file_name="clip.mp4"),
        metadata=metadata,
        timeout=DEADLINE_S,
    )
    video_id = grant.video_id
    assert uuid.UUID(grant.upload_id) and uuid.UUID(video_id)
    assert grant.part_size_bytes == 8 * MiB
    assert [part.part_number for part in grant.parts] == [1]
    url = urlsplit(grant.parts[0].url)
    query = parse_qs(url.query)
    # Scoped to this video's original and this part, signed, expiring within minutes.
    assert url.path.endswith(f"/videos/{video_id}/original")
    assert query["partNumber"] == ["1"]
    assert query["X-Amz-Expires"] == ["900"]
    assert "content-length" in query["X-Amz-SignedHeaders"][0]
    expires = grant.expire_time.ToDatetime(tzinfo=UTC)
    assert timedelta(minutes=14) < expires - datetime.now(UTC) <= timedelta(minutes=15)
    assert [row["state"] for row in session_rows(database_url, creator)] == ["open"]
    assert video_row(database_url, video_id) is None  # reserved, not created yet

    parts = await put_parts(grant, data)
    reply = await stub.CompleteUploadSession(
        _complete(grant.upload_id, parts), metadata=metadata, timeout=DEADLINE_S
    )
    assert reply.video_id == video_id
    assert reply.status == video_pb2.VIDEO_STATUS_PROCESSING
    assert reply.bytes_received == len(data)
    assert reply.upload_progress_percent == 100
    assert reply.status_url == f"/api/v1/reels/{video_id}/status"

    row = video_row(database_url, video_id)
    assert row["status"] == "processing"
    assert row["creator_id"] == creator
    assert row["hashtags"] == ["direct"]
    assert (row["width"], row["height"], row["size_bytes"]) == (360, 640, len(data))
    assert object_keys(config, f"videos/{video_id}/") == {f"videos/{video_id}/original"}
    assert not [u for u in open_multipart_uploads(config) if video_id in u[0]]
    assert [row["state"] for row in session_rows(database_url, creator)] == ["completed"]
    assert (await uploaded_event(config, video_id)).size_bytes == len(data)

    again = await stub.CompleteUploadSession(
        _complete(grant.upload_id, []), metadata=metadata, timeout=DEADLINE_S
    )
    assert again == reply
    assert await quota_used(config, creator) == 1


async def test_a_two_part_upload_completes_whatever_order_the_parts_came_in(
    flagging, keys, clips, config, database_url
) -> None:
    creator = new_user()
    metadata = keys.user_metadata(creator)
    data = clips.large().read_bytes()
    assert len(data) > 5 * MiB
    grant = await flagging.CreateUploadSession(
        _create(len(data)), metadata=metadata, timeout=DEADLINE_S
    )
    assert grant.part_size_bytes == 5 * MiB
    assert [part.part_number for part in grant.parts] == [1, 2]
    parts = await put_parts(grant, data, order=[1, 0])
    reply = await flagging.CompleteUploadSession(
        _complete(grant.upload_id, parts[::-1]), metadata=metadata, timeout=DEADLINE_S
    )
    assert reply.bytes_received == len(data)
    assert video_row(database_url, grant.video_id)["size_bytes"] == len(data)


@pytest.mark.security
async def test_presigned_urls_accept_only_their_own_part_and_size(stub, keys, clips) -> None:
    data = clips.portrait().read_bytes()
    grant = await stub.CreateUploadSession(
        _create(len(data)), metadata=keys.user_metadata(new_user()), timeout=DEADLINE_S
    )
    url = grant.parts[0].url
    other_key = url.replace(grant.video_id, str(uuid.uuid4()))
    other_part = url.replace("partNumber=1", "partNumber=2")
    async with httpx.AsyncClient(timeout=30.0) as http:
        assert (await http.put(other_key, content=data)).status_code == 403
        assert (await http.put(other_part, content=data)).status_code == 403
        assert (await http.put(url, content=data + b"extra")).status_code == 403
        assert (await http.put(url, content=data)).status_code == 200


async def test_a_missing_or_mismatched_part_is_refused_and_the_upload_can_resume(
    stub, keys, clips, config, database_url
) -> None:
    creator = new_user()
    metadata = keys.user_metadata(creator)
    data = clips.portrait().read_bytes()
    grant = await stub.CreateUploadSession(
        _create(len(data)), metadata=metadata, timeout=DEADLINE_S
    )
    error = await _refused(
        stub.CompleteUploadSession(
            _complete(grant.upload_id, [media_pb2.CompletedPart(part_number=1, etag='"x"')]),
            metadata=metadata,
            timeout=DEADLINE_S,
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    assert "part 1 has not been uploaded" in error.details()
    parts = await put_parts(grant, data)
    error = await _refused(
        stub.CompleteUploadSession(
            _complete(grant.upload_id, [media_pb2.CompletedPart(part_number=1, etag='"00ff"')]),
            metadata=metadata,
            timeout=DEADLINE_S,
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    assert "ETag does not match" in error.details()
    error = await _refused(
        stub.CompleteUploadSession(
            _complete(grant.upload_id, []), metadata=metadata, timeout=DEADLINE_S
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    assert "missing part(s) 1" in error.details()
    assert [row["state"] for row in session_rows(database_url, creator)] == ["open"]
    reply = await stub.CompleteUploadSession(
        _complete(grant.upload_id, parts), metadata=metadata, timeout=DEADLINE_S
    )
    assert reply.status == video_pb2.VIDEO_STATUS_PROCESSING


@pytest.mark.security
async def test_another_user_cannot_complete_someone_elses_upload(
    stub, keys, clips, database_url
) -> None:
    owner, intruder = new_user(), new_user()
    data = clips.portrait().read_bytes()
    grant = await stub.CreateUploadSession(
        _create(len(data)), metadata=keys.user_metadata(owner), timeout=DEADLINE_S
    )
    parts = await put_parts(grant, data)
    error = await _refused(
        stub.CompleteUploadSession(
            _complete(grant.upload_id, parts),
            metadata=keys.user_metadata(intruder),
            timeout=DEADLINE_S,
        ),
        grpc.StatusCode.NOT_FOUND,
    )
    assert error.details() == f"upload {grant.upload_id} not found"
    assert video_row(database_url, grant.video_id) is None
    # The owner's upload is untouched and still completes.
    reply = await stub.CompleteUploadSession(
        _complete(grant.upload_id, parts), metadata=keys.user_metadata(owner), timeout=DEADLINE_S
    )
    assert reply.video_id == grant.video_id
    # Once completed, the intruder still learns nothing.
    await _refused(
        stub.CompleteUploadSession(
            _complete(grant.upload_id, parts),
            metadata=keys.user_metadata(intruder),
            timeout=DEADLINE_S,
        ),
        grpc.StatusCode.NOT_FOUND,
    )


def _expire(database_url: str, upload_id: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(
            "UPDATE media.upload_sessions SET expires_at = now() - interval '1 minute'"
            " WHERE upload_id = %s",
            (upload_id,),
        )


async def test_an_expired_session_is_refused_and_released(
    stub, keys, clips, config, database_url
) -> None:
    creator = new_user()
    metadata = keys.user_metadata(creator)
    data = clips.portrait().read_bytes()
    grant = await stub.CreateUploadSession(
        _create(len(data)), metadata=metadata, timeout=DEADLINE_S
    )
    parts = await put_parts(grant, data)
    _expire(database_url, grant.upload_id)
    error = await _refused(
        stub.CompleteUploadSession(
            _complete(grant.upload_id, parts), metadata=metadata, timeout=DEADLINE_S
        ),
        grpc.StatusCode.FAILED_PRECONDITION,
    )
    assert "expired" in error.details() and "start a new upload" in error.details()
    assert [row["state"] for row in session_rows(database_url, creator)] == ["expired"]
    assert not [u for u in open_multipart_uploads(config) if grant.video_id in u[0]]
    assert object_keys(config, f"videos/{grant.video_id}/") == set()
    assert video_row(database_url, grant.video_id) is None
    assert await quota_used(config, creator) == 0


async def test_the_sweeper_expires_abandoned_sessions(
    stub, keys, clips, config, database_url
) -> None:
    creator = new_user()
    data = clips.portrait().read_bytes()
    grant = await stub.CreateUploadSession(
        _create(len(data)), metadata=keys.user_metadata(creator), timeout=DEADLINE_S
    )
    await put_parts(grant, data)
    _expire(database_url, grant.upload_id)
    pool = await open_pg_pool(database_url, min_size=1, max_size=2)
    try:
        from redis.asyncio import Redis

        async with Redis.from_url(config.redis_url) as redis:
            uploads = build_upload_service(config, MediaSettings.from_env(config, {}), pool, redis)
            assert await uploads.sweep() >= 1
    finally:
        await pool.close()
    assert [row["state"] for row in session_rows(database_url, creator)] == ["expired"]
    assert not [u for u in open_multipart_uploads(config) if grant.video_id in u[0]]
    assert await quota_used(config, creator) == 0


@pytest.mark.security
async def test_bad_media_uploaded_directly_is_refused_and_leaves_nothing(
    stub, keys, clips, config, database_url
) -> None:
    creator = new_user()
    metadata = keys.user_metadata(creator)
    before = await Leftovers.of(config, database_url, creator)
    data = clips.image_as_mp4().read_bytes()
    grant = await stub.CreateUploadSession(
        _create(len(data)), metadata=metadata, timeout=DEADLINE_S
    )
    parts = await put_parts(grant, data)
    error = await _refused(
        stub.CompleteUploadSession(
            _complete(grant.upload_id, parts), metadata=metadata, timeout=DEADLINE_S
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    assert "PNG image, not a video" in error.details()
    await assert_nothing_left(before, config, database_url, creator)
    # The session is gone with everything else: a retry finds nothing.
    await _refused(
        stub.CompleteUploadSession(
            _complete(grant.upload_id, parts), metadata=metadata, timeout=DEADLINE_S
        ),
        grpc.StatusCode.NOT_FOUND,
    )


@pytest.mark.parametrize(
    ("request_fields", "reason"),
    [
        ({"content_type": "image/png"}, "not an accepted video type"),
        ({"size_bytes": 0}, "size_bytes must be the file's size"),
        ({"size_bytes": 501 * MiB}, "larger than the 500 MB upload limit"),
        ({"title": ""}, "title: is required"),
    ],
)
async def test_session_requests_are_checked_before_anything_is_reserved(
    stub, keys, config, database_url, request_fields, reason: str
) -> None:
    creator = new_user()
    before = await Leftovers.of(config, database_url, creator)
    error = await _refused(
        stub.CreateUploadSession(
            _create(1000, **request_fields),
            metadata=keys.user_metadata(creator),
            timeout=DEADLINE_S,
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    assert reason in error.details()
    await assert_nothing_left(before, config, database_url, creator)


async def test_malformed_and_unknown_upload_ids(stub, keys) -> None:
    metadata = keys.user_metadata(new_user())
    error = await _refused(
        stub.CompleteUploadSession(_complete("../x", []), metadata=metadata, timeout=DEADLINE_S),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    assert "upload_id must be a UUID" in error.details()
    await _refused(
        stub.CompleteUploadSession(
            _complete(str(uuid.uuid4()), []), metadata=metadata, timeout=DEADLINE_S
        ),
        grpc.StatusCode.NOT_FOUND,
    )


async def test_flag_mode_accepts_and_shows_the_flags_in_the_status(
    flagging, keys, clips, database_url
) -> None:
    creator = new_user()
    metadata = keys.user_metadata(creator)
    reply = await flagging.UploadVideo(
        upload_requests(clips.portrait().read_bytes(), title="no SPAM here", hashtags=["spam"]),
        metadata=metadata,
        timeout=DEADLINE_S,
    )
    status = await flagging.GetVideoStatus(
        media_pb2.GetVideoStatusRequest(video_id=reply.video_id),
        metadata=metadata,
        timeout=DEADLINE_S,
    )
    assert status.status == video_pb2.VIDEO_STATUS_PROCESSING
    assert [(f.field, f.term) for f in status.moderation_flags] == [
        ("title", "spam"),
        ("hashtags", "spam"),
    ]
    assert "moderation blocklist" in status.moderation_flags[0].reason
    stored = video_row(database_url, reply.video_id)["moderation_flags"]
    assert [flag["term"] for flag in stored] == ["spam", "spam"]
