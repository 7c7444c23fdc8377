"""UploadVideo over native gRPC: a real media_svc, PostgreSQL, Redis, SeaweedFS and PyAV."""

from __future__ import annotations

import asyncio
import socket
import uuid
from datetime import UTC, datetime, timedelta

import grpc
import pytest
import pytest_asyncio
from reels.common.v1 import video_pb2
from reels.media.v1 import media_service_pb2 as media_pb2
from reels.media.v1 import media_service_pb2_grpc as media_grpc

from media_svc.settings import MediaSettings
from tests.support.streaming_stub import StreamingStub
from tests.support.uploads import (
    Clips,
    Leftovers,
    assert_nothing_left,
    media_service,
    new_user,
    object_keys,
    quota_used,
    upload_requests,
    uploaded_event,
    video_row,
    video_rows,
)

pytestmark = pytest.mark.asyncio(loop_scope="session")

DEADLINE_S = 30.0


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> Clips:
    return Clips(tmp_path_factory.mktemp("clips"))


@pytest.fixture
async def stub(media_server):
    async with grpc.aio.insecure_channel(media_server.target) as channel:
        yield StreamingStub(media_grpc.MediaServiceStub(channel), media_server.target)


@pytest.fixture(scope="module")
def strict_spool(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(tmp_path_factory.mktemp("strict-spool"))


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def strict_server(config, strict_spool):
    """1 MB and 1 second at most, 3 uploads a day, and a blocklist that refuses."""
    settings = MediaSettings.from_env(config, {}).replace(
        daily_upload_limit=3,
        moderation_blocklist=("spam", "#scam"),
        upload_spool_dir=strict_spool,
    )
    limits = config.replace(video_upload_max_mb=1, video_max_duration_seconds=1)
    async with media_service(limits, settings) as server:
        yield server


@pytest.fixture
async def strict(strict_server):
    async with grpc.aio.insecure_channel(strict_server.target) as channel:
        yield StreamingStub(media_grpc.MediaServiceStub(channel), strict_server.target)


async def _refused(call, code: grpc.StatusCode) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as caught:
        await call
    assert caught.value.code() is code, caught.value.details()
    return caught.value


async def test_portrait_clip_is_stored_and_announced_and_its_status_shows_processing(
    stub, keys, clips, config, database_url
) -> None:
    creator = new_user()
    data = clips.portrait().read_bytes()
    reply = await stub.UploadVideo(
        upload_requests(
            data,
            title="  My   portrait clip ",
            description="first line\nsecond line",
            hashtags=["#Dance", "fun, #DANCE"],
            sound_id="snd-42",
            file_name="IMG_0001.mp4",
            content_type="video/mp4",
            size_bytes=len(data),
        ),
        metadata=keys.user_metadata(creator),
        timeout=DEADLINE_S,
    )
    video_id = reply.video_id
    assert uuid.UUID(video_id)
    assert reply.status == video_pb2.VIDEO_STATUS_PROCESSING
    assert reply.upload_progress_percent == 100
    assert reply.bytes_received == len(data)
    assert reply.status_url == f"/api/v1/reels/{video_id}/status"

    row = video_row(database_url, video_id)
    assert row is not None
    assert row["creator_id"] == creator
    assert row["status"] == "processing"
    assert row["title"] == "My portrait clip"
    assert row["description"] == "first line\nsecond line"
    assert row["hashtags"] == ["dance", "fun"]
    assert row["sound_id"] == "snd-42"
    assert (row["width"], row["height"]) == (360, 640)
    assert row["duration_seconds"] == pytest.approx(1.0, abs=0.1)
    assert row["frame_rate"] == pytest.approx(30.0)
    assert row["size_bytes"] == len(data)
    assert row["content_type"] == "video/mp4"
    assert row["object_prefix"] == f"videos/{video_id}/"
    assert row["original_key"] == f"videos/{video_id}/original"
    assert object_keys(config, f"videos/{video_id}/") == {f"videos/{video_id}/original"}

    event = await uploaded_event(config, video_id)
    assert event.creator_id == creator
    assert event.original_object_key == f"videos/{video_id}/original"
    assert event.object_key_prefix == f"videos/{video_id}/"
    assert (event.width, event.height, event.size_bytes) == (360, 640, len(data))
    assert event.content_type == "video/mp4"
    assert event.duration.ToMilliseconds() == pytest.approx(1000, abs=100)
    assert event.event_id

    status = await stub.GetVideoStatus(
        media_pb2.GetVideoStatusRequest(video_id=video_id),
        metadata=keys.user_metadata(creator),
        timeout=DEADLINE_S,
    )
    assert status.status == video_pb2.VIDEO_STATUS_PROCESSING
    assert status.title == "My portrait clip"
    assert status.duration.ToMilliseconds() == pytest.approx(1000, abs=100)
    assert list(status.moderation_flags) == []
    assert await quota_used(config, creator) == 1


@pytest.mark.security
async def test_object_keys_never_derive_from_the_client_file_name(
    stub, keys, clips, config
) -> None:
    reply = await stub.UploadVideo(
        upload_requests(clips.portrait().read_bytes(), file_name="../../../etc/passwd.mp4"),
        metadata=keys.user_metadata(new_user()),
        timeout=DEADLINE_S,
    )
    assert object_keys(config, f"videos/{reply.video_id}/") == {f"videos/{reply.video_id}/original"}
    assert not [key for key in object_keys(config, "") if "passwd" in key or ".." in key]


BAD_MEDIA = [
    ("corrupt", "damaged or incomplete"),
    ("truncated", "damaged or incomplete"),
    ("audio_only", "no video track"),
    ("image_as_mp4", "PNG image, not a video"),
]


@pytest.mark.security
@pytest.mark.parametrize(("clip", "reason"), BAD_MEDIA)
async def test_bad_media_is_refused_with_its_reason_and_leaves_nothing(
    stub, keys, clips, config, database_url, clip: str, reason: str
) -> None:
    creator = new_user()
    before = await Leftovers.of(config, database_url, creator)
    data = getattr(clips, clip)().read_bytes()
    error = await _refused(
        stub.UploadVideo(
            upload_requests(data, file_name=f"{clip}.mp4"),
            metadata=keys.user_metadata(creator),
            timeout=DEADLINE_S,
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    assert reason in error.details()
    await assert_nothing_left(before, config, database_url, creator)


@pytest.mark.security
async def test_an_hls_playlist_named_mp4_is_refused_without_fetching_its_url(
    stub, keys, clips, config, database_url
) -> None:
    creator = new_user()
    # A real listener where the playlist points: it must never see a connection.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        listener.setblocking(False)
        port = listener.getsockname()[1]
        playlist = clips.hls_as_mp4(f"http://127.0.0.1:{port}/segment.ts")
        before = await Leftovers.of(config, database_url, creator)
        error = await _refused(
            stub.UploadVideo(
                upload_requests(playlist.read_bytes(), file_name="clip.mp4"),
                metadata=keys.user_metadata(creator),
                timeout=DEADLINE_S,
            ),
            grpc.StatusCode.INVALID_ARGUMENT,
        )
        with pytest.raises(BlockingIOError):
            listener.accept()
    assert "HLS playlist" in error.details()
    await assert_nothing_left(before, config, database_url, creator)


@pytest.mark.security
@pytest.mark.parametrize(
    ("declared", "file_name", "reason"),
    [
        ("video/webm", "clip.mp4", "sent as video/webm, but it is an MP4"),
        ("video/mp4", "clip.webm", "ends in .webm, but the file is an MP4"),
        ("image/png", "clip.mp4", "not a video type"),
        ("video/mp4", "clip.exe", "ends in .exe"),
    ],
)
async def test_a_lying_content_type_or_extension_is_refused(
    stub, keys, clips, config, database_url, declared: str, file_name: str, reason: str
) -> None:
    creator = new_user()
    before = await Leftovers.of(config, database_url, creator)
    error = await _refused(
        stub.UploadVideo(
            upload_requests(
                clips.portrait().read_bytes(), content_type=declared, file_name=file_name
            ),
            metadata=keys.user_metadata(creator),
            timeout=DEADLINE_S,
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    assert reason in error.details()
    await assert_nothing_left(before, config, database_url, creator)


async def test_a_clip_over_the_maximum_duration_is_refused(
    strict, keys, clips, config, database_url, strict_spool
) -> None:
    creator = new_user()
    before = await Leftovers.of(config, database_url, creator, strict_spool)
    error = await _refused(
        strict.UploadVideo(
            upload_requests(clips.long().read_bytes()),
            metadata=keys.user_metadata(creator),
            timeout=DEADLINE_S,
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    assert "2.5 seconds long; the limit is 1 seconds" in error.details()
    await assert_nothing_left(before, config, database_url, creator, strict_spool)


@pytest.mark.security
async def test_a_file_over_the_size_limit_is_refused_as_soon_as_it_passes_it(
    strict, keys, config, database_url, strict_spool
) -> None:
    creator = new_user()
    before = await Leftovers.of(config, database_url, creator, strict_spool)
    sent = 0
    # 20 MiB in 64 KiB chunks against a 1 MB limit: half of it leaves room for gRPC's flow
    # control windows and a busy machine, and still proves the server stopped early.
    total_chunks = 320

    async def requests():
        nonlocal sent
        yield media_pb2.UploadVideoRequest(metadata=media_pb2.UploadVideoMetadata(title="big"))
        for _ in range(total_chunks):
            sent += 1
            yield media_pb2.UploadVideoRequest(chunk=b"\0" * 65536)
            await asyncio.sleep(0.005)  # a client on a real network

    error = await _refused(
        strict.UploadVideo(requests(), metadata=keys.user_metadata(creator), timeout=DEADLINE_S),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    assert "larger than the 1 MB upload limit" in error.details()
    # The server stopped reading long before the client was done.
    assert sent < total_chunks / 2
    await assert_nothing_left(before, config, database_url, creator, strict_spool)


@pytest.mark.security
async def test_a_declared_size_over_the_limit_is_refused_before_any_byte(
    strict, keys, config, database_url, strict_spool
) -> None:
    creator = new_user()
    before = await Leftovers.of(config, database_url, creator, strict_spool)
    error = await _refused(
        strict.UploadVideo(
            upload_requests(b"x" * 1000, size_bytes=500 * 1024 * 1024),
            metadata=keys.user_metadata(creator),
            timeout=DEADLINE_S,
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    assert "larger than the 1 MB upload limit" in error.details()
    await assert_nothing_left(before, config, database_url, creator, strict_spool)


@pytest.mark.security
@pytest.mark.parametrize(
    ("metadata", "reason"),
    [
        ({"title": "free SPAM inside"}, "title: contains the blocked term 'spam'"),
        ({"description": "so much spam"}, "description: contains the blocked term 'spam'"),
        ({"hashtags": ["fun", "#Scam"]}, "hashtags: contains the blocked term '#scam'"),
    ],
)
async def test_blocked_metadata_is_refused_naming_term_and_field(
    strict, keys, clips, config, database_url, strict_spool, metadata, reason: str
) -> None:
    creator = new_user()
    before = await Leftovers.of(config, database_url, creator, strict_spool)
    fields = {"title": "a clip", **metadata}
    error = await _refused(
        strict.UploadVideo(
            upload_requests(clips.short().read_bytes(), **fields),
            metadata=keys.user_metadata(creator),
            timeout=DEADLINE_S,
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    assert reason in error.details()
    await assert_nothing_left(before, config, database_url, creator, strict_spool)


@pytest.mark.parametrize(
    ("metadata", "reason"),
    [
        ({"title": "   "}, "title: is required"),
        ({"title": "t" * 151}, "title: has 151 characters; at most 150"),
        ({"description": "d" * 2201}, "description: has 2201 characters"),
        ({"hashtags": [f"tag{i}" for i in range(31)]}, "31 distinct hashtags; at most 30"),
        ({"hashtags": ["rock&roll"]}, "only letters, digits and underscores"),
        ({"sound_id": "../x"}, "sound_id"),
    ],
)
async def test_metadata_limits_are_enforced(
    stub, keys, clips, config, database_url, metadata, reason: str
) -> None:
    creator = new_user()
    before = await Leftovers.of(config, database_url, creator)
    fields = {"title": "a clip", **metadata}
    error = await _refused(
        stub.UploadVideo(
            upload_requests(clips.portrait().read_bytes(), **fields),
            metadata=keys.user_metadata(creator),
            timeout=DEADLINE_S,
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    assert reason in error.details()
    await assert_nothing_left(before, config, database_url, creator)


def _meta(**fields) -> media_pb2.UploadVideoRequest:
    return media_pb2.UploadVideoRequest(
        metadata=media_pb2.UploadVideoMetadata(**{"title": "t", **fields})
    )


def _chunk(data: bytes) -> media_pb2.UploadVideoRequest:
    return media_pb2.UploadVideoRequest(chunk=data)


@pytest.mark.parametrize(
    ("messages", "reason"),
    [
        ([_chunk(b"abc")], "first message of the stream must carry metadata"),
        ([], "first message of the stream must carry metadata"),
        ([_meta(), _chunk(b"abc"), _meta()], "only the first message may carry metadata"),
        ([_meta()], "the file is empty"),
        ([_meta(), _chunk(b"x" * (1024 * 1024 + 1))], "chunks may hold at most 1048576 bytes"),
        ([_meta(size_bytes=10), _chunk(b"x" * 5)], "ended after 5 of the declared 10 bytes"),
    ],
)
async def test_malformed_streams_are_refused(
    stub, keys, config, database_url, messages, reason: str
) -> None:
    creator = new_user()
    before = await Leftovers.of(config, database_url, creator)

    async def requests():
        for message in messages:
            yield message

    error = await _refused(
        stub.UploadVideo(requests(), metadata=keys.user_metadata(creator), timeout=DEADLINE_S),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    assert reason in error.details()
    await assert_nothing_left(before, config, database_url, creator)


async def test_a_cancelled_upload_leaves_nothing_behind(
    stub, keys, clips, config, database_url
) -> None:
    creator = new_user()
    before = await Leftovers.of(config, database_url, creator)
    data = clips.portrait().read_bytes()
    hold = asyncio.Event()

    async def requests():
        yield _meta()
        yield _chunk(data[:65536])
        await hold.wait()  # the client goes away mid-file

    # grpc.aio's call: cancelling it is what a client going away looks like to the server.
    call = stub.aio.UploadVideo(
        requests(), metadata=keys.user_metadata(creator), timeout=DEADLINE_S
    )
    for _ in range(100):  # the `uploading` row shows the bytes started arriving
        rows = video_rows(database_url, creator)
        if rows:
            break
        await asyncio.sleep(0.05)
    assert [row["status"] for row in rows] == ["uploading"]
    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call
    hold.set()
    await assert_nothing_left(before, config, database_url, creator)


@pytest.mark.security
async def test_the_daily_limit_refuses_with_the_reset_time_and_rejections_do_not_count(
    strict, keys, clips, config, database_url
) -> None:
    creator = new_user()
    metadata = keys.user_metadata(creator)
    # A refused upload gives its slot back ...
    await _refused(
        strict.UploadVideo(
            upload_requests(clips.audio_only().read_bytes()), metadata=metadata, timeout=30
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    assert await quota_used(config, creator) == 0
    # ... so all three of the day's uploads are still there.
    for _ in range(3):
        await strict.UploadVideo(
            upload_requests(clips.short().read_bytes()), metadata=metadata, timeout=30
        )
    call = strict.UploadVideo(
        upload_requests(clips.short().read_bytes()), metadata=metadata, timeout=30
    )
    error = await _refused(call, grpc.StatusCode.RESOURCE_EXHAUSTED)
    midnight = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT00:00:00Z")
    assert f"daily upload limit of 3 reached; it resets at {midnight}" in error.details()
    retry_after = dict(error.trailing_metadata() or ())["retry-after"]
    assert 0 < int(retry_after) <= 86400
    assert len(video_rows(database_url, creator)) == 3
    assert await quota_used(config, creator) == 3
    # Another creator is not affected.
    await strict.UploadVideo(
        upload_requests(clips.short().read_bytes()),
        metadata=keys.user_metadata(new_user()),
        timeout=30,
    )


@pytest.mark.security
async def test_uploads_need_an_end_user_token(stub, keys, clips) -> None:
    data = clips.portrait().read_bytes()
    forged = keys.signer.mint_user("alice")[:-4] + "AAAA"
    for metadata in ([], [("authorization", f"Bearer {forged}")], [("x-user-id", "alice")]):
        await _refused(
            stub.UploadVideo(upload_requests(data), metadata=metadata, timeout=DEADLINE_S),
            grpc.StatusCode.UNAUTHENTICATED,
        )
