"""Uploads through a real Envoy: multipart forms, resumable direct uploads, limits, errors."""

from __future__ import annotations

import uuid

import grpc
import httpx
import pytest
import pytest_asyncio
from reels.common.v1 import video_pb2
from reels.media.v1 import media_service_pb2_grpc as media_grpc

from media_svc.settings import MediaSettings
from tests.support.uploads import (
    Clips,
    Leftovers,
    assert_nothing_left,
    envoy_in_front_of,
    media_service,
    new_user,
    object_keys,
    set_quota_used,
    upload_requests,
    video_row,
    video_rows,
)

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]

UPLOAD = "/api/v1/reels/upload"
SESSIONS = "/api/v1/reels/uploads"


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> Clips:
    return Clips(tmp_path_factory.mktemp("clips"))


@pytest.fixture
async def http(gateway):
    async with httpx.AsyncClient(base_url=gateway.url, timeout=30.0) as client:
        yield client


@pytest.fixture(scope="module")
def strict_spool(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(tmp_path_factory.mktemp("edge-spool"))


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def strict_edge(config, keys, tmp_path_factory, strict_spool):
    """Envoy in front of a media_svc with a 1 MB limit, 2 uploads a day and a blocklist."""
    settings = MediaSettings.from_env(config, {}).replace(
        daily_upload_limit=2, moderation_blocklist=("spam",), upload_spool_dir=strict_spool
    )
    async with media_service(config.replace(video_upload_max_mb=1), settings) as server:
        with envoy_in_front_of(keys, tmp_path_factory.mktemp("edge"), server.target) as edge:
            yield edge


@pytest.fixture
async def strict_http(strict_edge):
    async with httpx.AsyncClient(base_url=strict_edge.url, timeout=30.0) as client:
        yield client


def _form(clip: bytes, name: str = "clip.mp4", content_type: str = "video/mp4", **fields):
    return {"file": (name, clip, content_type)}, {"title": "through the edge", **fields}


async def test_multipart_upload_through_envoy_answers_json_with_the_video_id(
    http, keys, clips, config, database_url
) -> None:
    creator = new_user()
    data = clips.portrait().read_bytes()
    files, fields = _form(data, hashtags=["#Edge", "upload, edge"], description="via Envoy")
    response = await http.post(UPLOAD, files=files, data=fields, headers=keys.user_headers(creator))
    assert response.status_code == 200, response.text
    body = response.json()
    video_id = body["video_id"]
    assert uuid.UUID(video_id)
    assert body["status"] == "VIDEO_STATUS_PROCESSING"
    assert body["upload_progress_percent"] == 100
    assert body["bytes_received"] == str(len(data))  # int64 travels as a JSON string
    assert body["status_url"] == f"/api/v1/reels/{video_id}/status"

    row = video_row(database_url, video_id)
    assert (row["creator_id"], row["status"]) == (creator, "processing")
    assert row["hashtags"] == ["edge", "upload"]
    assert object_keys(config, f"videos/{video_id}/") == {f"videos/{video_id}/original"}
    status = await http.get(body["status_url"], headers=keys.user_headers(creator))
    assert status.status_code == 200
    assert status.json()["status"] == "VIDEO_STATUS_PROCESSING"


@pytest.mark.security
@pytest.mark.parametrize(
    ("clip", "reason"),
    [("audio_only", "no video track"), ("image_as_mp4", "PNG image, not a video")],
)
async def test_bad_media_through_envoy_is_a_400_with_the_reason(
    http, keys, clips, config, database_url, clip: str, reason: str
) -> None:
    creator = new_user()
    before = await Leftovers.of(config, database_url, creator)
    files, fields = _form(getattr(clips, clip)().read_bytes())
    response = await http.post(UPLOAD, files=files, data=fields, headers=keys.user_headers(creator))
    assert response.status_code == 400
    assert reason in response.json()["message"]
    await assert_nothing_left(before, config, database_url, creator)


async def test_a_body_that_is_not_a_form_is_a_400(http, keys) -> None:
    response = await http.post(
        UPLOAD,
        content=b'{"title": "json is not a form"}',
        headers={**keys.user_headers(new_user()), "content-type": "application/json"},
    )
    assert response.status_code == 400
    assert "multipart/form-data" in response.json()["message"]


@pytest.mark.security
async def test_uploading_needs_a_token_at_the_edge(http, clips) -> None:
    files, fields = _form(clips.portrait().read_bytes())
    for headers in ({}, {"x-user-id": "alice"}):
        response = await http.post(UPLOAD, files=files, data=fields, headers=headers)
        assert response.status_code == 401
        assert response.json()["code"] == 401


@pytest.mark.security
async def test_blocked_metadata_through_envoy_is_a_400_naming_the_term(
    strict_http, keys, clips, config, database_url, strict_spool
) -> None:
    creator = new_user()
    before = await Leftovers.of(config, database_url, creator, strict_spool)
    files, fields = _form(clips.short().read_bytes(), description="cheap spam here")
    response = await strict_http.post(
        UPLOAD, files=files, data=fields, headers=keys.user_headers(creator)
    )
    assert response.status_code == 400
    assert "description: contains the blocked term 'spam'" in response.json()["message"]
    await assert_nothing_left(before, config, database_url, creator, strict_spool)


@pytest.mark.security
async def test_a_file_over_the_limit_through_envoy_is_a_400(
    strict_http, keys, config, database_url, strict_spool
) -> None:
    creator = new_user()
    before = await Leftovers.of(config, database_url, creator, strict_spool)
    files, fields = _form(b"\0" * (3 * 1024 * 1024))
    response = await strict_http.post(
        UPLOAD, files=files, data=fields, headers=keys.user_headers(creator)
    )
    assert response.status_code == 400
    assert "larger than the 1 MB upload limit" in response.json()["message"]
    await assert_nothing_left(before, config, database_url, creator, strict_spool)


@pytest.mark.security
async def test_the_daily_limit_through_envoy_is_a_429_saying_when_it_resets(
    strict_http, keys, clips, config, database_url
) -> None:
    creator = new_user()
    await set_quota_used(config, creator, 2)  # the day's two uploads are used
    files, fields = _form(clips.short().read_bytes())
    response = await strict_http.post(
        UPLOAD, files=files, data=fields, headers=keys.user_headers(creator)
    )
    assert response.status_code == 429
    message = response.json()["message"]
    assert "daily upload limit of 2 reached; it resets at " in message
    assert message.split("resets at ")[1][:20].endswith("T00:00:00Z")
    # The trailer becomes a Retry-After header, the standard hint for clients.
    assert 0 < int(response.headers["retry-after"]) <= 86400
    assert video_rows(database_url, creator) == []


async def test_resumable_upload_through_envoy_with_parts_put_to_the_store(
    http, keys, clips, database_url
) -> None:
    creator = new_user()
    data = clips.portrait().read_bytes()
    created = await http.post(
        SESSIONS,
        json={
            "title": "resumable",
            "content_type": "video/mp4",
            "size_bytes": str(len(data)),
            "hashtags": ["#Direct"],
        },
        headers=keys.user_headers(creator),
    )
    assert created.status_code == 200, created.text
    grant = created.json()
    assert [part["part_number"] for part in grant["parts"]] == [1]
    assert grant["expire_time"].endswith("Z")
    async with httpx.AsyncClient(timeout=30.0) as store:
        put = await store.put(grant["parts"][0]["url"], content=data)
    assert put.status_code == 200
    parts = [{"part_number": 1, "etag": put.headers["etag"]}]
    complete = f"{SESSIONS}/{grant['upload_id']}:complete"

    intruder = await http.post(
        complete, json={"parts": parts}, headers=keys.user_headers(new_user())
    )
    assert intruder.status_code == 404

    done = await http.post(complete, json={"parts": parts}, headers=keys.user_headers(creator))
    assert done.status_code == 200, done.text
    assert done.json()["video_id"] == grant["video_id"]
    assert done.json()["status"] == "VIDEO_STATUS_PROCESSING"
    again = await http.post(complete, json={"parts": parts}, headers=keys.user_headers(creator))
    assert again.json() == done.json()
    assert video_row(database_url, grant["video_id"])["status"] == "processing"


async def test_native_grpc_upload_through_envoy(gateway, keys, clips, database_url) -> None:
    async with grpc.aio.insecure_channel(gateway.address) as channel:
        stub = media_grpc.MediaServiceStub(channel)
        reply = await stub.UploadVideo(
            upload_requests(clips.portrait().read_bytes()),
            metadata=keys.user_metadata(new_user()),
            timeout=30,
        )
    assert reply.status == video_pb2.VIDEO_STATUS_PROCESSING
    assert video_row(database_url, reply.video_id)["status"] == "processing"
