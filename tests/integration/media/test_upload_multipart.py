"""UploadVideoMultipart over native gRPC: raw multipart bytes in HttpBody chunks, as Envoy sends."""

from __future__ import annotations

import asyncio

import grpc
import pytest
import pytest_asyncio
from google.api import httpbody_pb2
from reels.common.v1 import video_pb2
from reels.media.v1 import media_service_pb2_grpc as media_grpc

from media_svc.settings import MediaSettings
from tests.support.streaming_stub import StreamingStub
from tests.support.uploads import (
    Clips,
    Leftovers,
    assert_nothing_left,
    media_service,
    multipart_form,
    new_user,
    object_keys,
    uploaded_event,
    video_row,
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


def bodies(content_type: str, body: bytes, chunk: int = 16 * 1024):
    """The HttpBody stream Envoy's transcoder produces: content type first, then chunks."""

    async def messages():
        yield httpbody_pb2.HttpBody(content_type=content_type, data=body[:chunk])
        for start in range(chunk, len(body), chunk):
            yield httpbody_pb2.HttpBody(data=body[start : start + chunk])

    return messages()


async def _refused(call, code: grpc.StatusCode) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as caught:
        await call
    assert caught.value.code() is code, caught.value.details()
    return caught.value


@pytest.mark.parametrize("chunk", [7, 16 * 1024, 1024 * 1024])
async def test_a_form_is_parsed_as_it_streams_whatever_the_chunking(
    stub, keys, clips, config, database_url, chunk: int
) -> None:
    creator = new_user()
    data = clips.portrait().read_bytes()
    content_type, body = multipart_form(
        [
            ("title", "  Streamed form "),
            ("description", "über\r\nzwei Zeilen"),
            ("hashtags", "#One two,three"),
            ("hashtags", "#TWO"),
            ("hashtags[]", "four"),
            ("sound_id", "snd_9"),
        ],
        ("portrait.mp4", data, "video/mp4"),
        file_first=True,  # text fields after the file are fine too
    )
    if chunk == 7:  # byte-sized chunks only over the form's head, to keep the test fast
        head, rest = body[:600], body[600:]
        stream = bodies(content_type, head, 7)

        async def both():
            async for message in stream:
                yield message
            async for message in bodies("", rest):
                if message.data:
                    yield httpbody_pb2.HttpBody(data=message.data)

        messages = both()
    else:
        messages = bodies(content_type, body, chunk)
    reply = await stub.UploadVideoMultipart(
        messages, metadata=keys.user_metadata(creator), timeout=DEADLINE_S
    )
    assert reply.status == video_pb2.VIDEO_STATUS_PROCESSING
    assert reply.bytes_received == len(data)  # the file's bytes, not the form's
    row = video_row(database_url, reply.video_id)
    assert row["creator_id"] == creator
    assert row["title"] == "Streamed form"
    assert row["description"] == "über\nzwei Zeilen"
    assert row["hashtags"] == ["one", "two", "three", "four"]
    assert row["sound_id"] == "snd_9"
    assert row["status"] == "processing"
    assert object_keys(config, f"videos/{reply.video_id}/") == {f"videos/{reply.video_id}/original"}
    assert (await uploaded_event(config, reply.video_id)).creator_id == creator


FORM_PROBLEMS = [
    ("text/plain", None, "must be multipart/form-data with a boundary"),
    ("multipart/form-data", None, "must be multipart/form-data with a boundary"),
    (None, [("title", "x")], "has no 'file' part"),
    (None, [("title", "x"), ("visibility", "public")], "unknown form field 'visibility'"),
    (None, [("title", "x"), ("title", "y")], "'title' appears more than once"),
    (None, [("description", "no title")], "title: is required"),
]


@pytest.mark.parametrize(("content_type", "fields", "reason"), FORM_PROBLEMS)
async def test_malformed_forms_are_refused_and_leave_nothing(
    stub, keys, clips, config, database_url, content_type, fields, reason: str
) -> None:
    creator = new_user()
    before = await Leftovers.of(config, database_url, creator)
    with_file = fields is None or reason != "has no 'file' part"
    form_type, body = multipart_form(
        fields or [("title", "x")],
        ("clip.mp4", clips.portrait().read_bytes(), "video/mp4") if with_file else None,
    )
    error = await _refused(
        stub.UploadVideoMultipart(
            bodies(content_type or form_type, body),
            metadata=keys.user_metadata(creator),
            timeout=DEADLINE_S,
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    assert reason in error.details()
    await assert_nothing_left(before, config, database_url, creator)


@pytest.mark.security
async def test_an_interrupted_form_is_refused_and_leaves_nothing(
    stub, keys, clips, config, database_url
) -> None:
    creator = new_user()
    before = await Leftovers.of(config, database_url, creator)
    content_type, body = multipart_form(
        [("title", "cut short")], ("clip.mp4", clips.portrait().read_bytes(), "video/mp4")
    )
    error = await _refused(
        stub.UploadVideoMultipart(
            bodies(content_type, body[: len(body) // 2]),
            metadata=keys.user_metadata(creator),
            timeout=DEADLINE_S,
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    assert "ended before its closing boundary" in error.details()
    await assert_nothing_left(before, config, database_url, creator)


@pytest.mark.security
async def test_a_second_file_part_is_refused(stub, keys, clips, config, database_url) -> None:
    creator = new_user()
    before = await Leftovers.of(config, database_url, creator)
    data = clips.portrait().read_bytes()
    content_type, body = multipart_form([("title", "two files")], ("a.mp4", data, "video/mp4"))
    _, second = multipart_form([], ("b.mp4", data, "video/mp4"))
    # Splice the second file part in before the closing boundary.
    closing = b"--reels-test-boundary-7c1f--\r\n"
    first = body[: -len(closing)]

    async def messages():
        # The second part comes in the last message: the server refuses it after the client
        # has sent everything.
        async for message in bodies(content_type, first):
            yield message
        yield httpbody_pb2.HttpBody(data=second)

    error = await _refused(
        stub.UploadVideoMultipart(
            messages(), metadata=keys.user_metadata(creator), timeout=DEADLINE_S
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    assert "more than one 'file' part" in error.details()
    await assert_nothing_left(before, config, database_url, creator)


@pytest.fixture(scope="module")
def spool(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(tmp_path_factory.mktemp("spool"))


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def strict_server(config, spool):
    """1 MB at most and a blocklist that refuses."""
    settings = MediaSettings.from_env(config, {}).replace(
        moderation_blocklist=("spam",), upload_spool_dir=spool
    )
    async with media_service(config.replace(video_upload_max_mb=1), settings) as server:
        yield server


@pytest.mark.security
async def test_blocked_fields_sent_before_the_file_stop_the_upload_early(
    strict_server, keys, config, database_url, spool
) -> None:
    creator = new_user()
    before = await Leftovers.of(config, database_url, creator, spool)
    sent = 0
    total = 1000  # 4 MB: half of it is slack for flow-control windows on a busy machine
    content_type, head = multipart_form([("title", "spam for sale")], None)
    head = head[: -len(b"--reels-test-boundary-7c1f--\r\n")]
    file_head = (
        b'--reels-test-boundary-7c1f\r\nContent-Disposition: form-data; name="file"; '
        b'filename="x.mp4"\r\nContent-Type: video/mp4\r\n\r\n'
    )

    async def messages():
        nonlocal sent
        yield httpbody_pb2.HttpBody(content_type=content_type, data=head + file_head)
        for _ in range(total):
            sent += 1
            yield httpbody_pb2.HttpBody(data=b"\0" * 4096)
            await asyncio.sleep(0.002)

    async with grpc.aio.insecure_channel(strict_server.target) as channel:
        stub = StreamingStub(media_grpc.MediaServiceStub(channel), strict_server.target)
        error = await _refused(
            stub.UploadVideoMultipart(
                messages(), metadata=keys.user_metadata(creator), timeout=DEADLINE_S
            ),
            grpc.StatusCode.INVALID_ARGUMENT,
        )
    assert "title: contains the blocked term 'spam'" in error.details()
    assert sent < total / 2
    await assert_nothing_left(before, config, database_url, creator, spool)


@pytest.mark.security
async def test_a_form_over_the_size_limit_is_refused_while_streaming(
    strict_server, keys, config, database_url, spool
) -> None:
    creator = new_user()
    before = await Leftovers.of(config, database_url, creator, spool)
    content_type, body = multipart_form(
        [("title", "too big")], ("big.mp4", b"\0" * (3 * 1024 * 1024), "video/mp4")
    )
    async with grpc.aio.insecure_channel(strict_server.target) as channel:
        stub = StreamingStub(media_grpc.MediaServiceStub(channel), strict_server.target)
        error = await _refused(
            stub.UploadVideoMultipart(
                bodies(content_type, body), metadata=keys.user_metadata(creator), timeout=30
            ),
            grpc.StatusCode.INVALID_ARGUMENT,
        )
    assert "larger than the 1 MB upload limit" in error.details()
    await assert_nothing_left(before, config, database_url, creator, spool)
