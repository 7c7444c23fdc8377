"""JSON and native gRPC through a real Envoy in front of the real services."""

from __future__ import annotations

import subprocess
import time
import uuid

import grpc
import httpx
import jwt
import pytest
from reels.media.v1 import media_service_pb2 as media_pb2
from reels.media.v1 import media_service_pb2_grpc as media_grpc

from reels_runtime import localstack
from tests.integration.media.test_video_status import insert_video

pytestmark = pytest.mark.e2e


@pytest.fixture
async def http(gateway):
    async with httpx.AsyncClient(base_url=gateway.url, timeout=5.0) as client:
        yield client


def status_path(video_id: str) -> str:
    return f"/api/v1/reels/{video_id}/status"


@pytest.mark.asyncio(loop_scope="session")
async def test_status_of_own_video_is_json_with_snake_case_fields(http, keys, database_url) -> None:
    video_id = insert_video(database_url, "alice", "processing", title="hi", progress_percent=7)
    response = await http.get(status_path(video_id), headers=keys.user_headers("alice"))
    assert response.status_code == 200
    body = response.json()
    assert body["video_id"] == video_id
    assert body["status"] == "VIDEO_STATUS_PROCESSING"
    assert body["progress_percent"] == 7
    assert body["title"] == "hi"


@pytest.mark.asyncio(loop_scope="session")
async def test_unknown_video_is_404_json(http, keys) -> None:
    video_id = str(uuid.uuid4())
    response = await http.get(status_path(video_id), headers=keys.user_headers("alice"))
    assert response.status_code == 404
    assert response.json()["message"] == f"video {video_id} not found"


@pytest.mark.asyncio(loop_scope="session")
async def test_malformed_video_id_is_400_json(http, keys) -> None:
    response = await http.get(status_path("not-a-uuid"), headers=keys.user_headers("alice"))
    assert response.status_code == 400
    assert "UUID" in response.json()["message"]


@pytest.mark.asyncio(loop_scope="session")
@pytest.mark.security
async def test_token_problems_are_refused_at_the_edge(http, keys) -> None:
    path = status_path(str(uuid.uuid4()))
    now = int(time.time())
    expired = keys.signer.mint_user("alice", ttl=-120)
    with keys.private_key_path.open("rb") as pem:
        private_pem = pem.read()
    wrong_audience = jwt.encode(
        {"sub": "alice", "iss": "reels-local", "aud": "someone-else", "exp": now + 60},
        private_pem,
        algorithm="RS256",
        headers={"kid": "reels-test-1"},
    )
    unsigned = jwt.encode(
        {"sub": "alice", "iss": "reels-local", "aud": "reels", "exp": now + 60},
        key=None,
        algorithm="none",
    )
    cases = {
        "missing": ({}, 401),
        "bare user header": ({"x-user-id": "alice"}, 401),
        "expired": ({"authorization": f"Bearer {expired}"}, 401),
        "alg none": ({"authorization": f"Bearer {unsigned}"}, 401),
        "wrong audience": ({"authorization": f"Bearer {wrong_audience}"}, 403),
    }
    for name, (headers, expected) in cases.items():
        response = await http.get(path, headers=headers)
        assert response.status_code == expected, name
        assert response.headers["content-type"] == "application/json", name
        assert response.json()["code"] == expected, name


@pytest.mark.asyncio(loop_scope="session")
async def test_unknown_path_is_404_json(http, keys) -> None:
    response = await http.get("/api/v1/nothing-here", headers=keys.user_headers("alice"))
    assert response.status_code == 404
    assert response.json()["code"] == 404


@pytest.mark.asyncio(loop_scope="session")
async def test_video_processing_health_is_open(http) -> None:
    response = await http.get("/health/video-processing")
    assert response.status_code == 200
    body = response.json()
    assert body["object_store_reachable"] is True
    assert body["state"] == "PROCESSING_HEALTH_STATE_UNHEALTHY"


@pytest.mark.security
@pytest.mark.asyncio(loop_scope="session")
async def test_playback_routes_accept_a_signed_token_in_the_query(http, keys) -> None:
    video_id = str(uuid.uuid4())
    path = f"/api/v1/reels/{video_id}/manifest.m3u8"
    assert (await http.get(path)).status_code == 401
    token = keys.signer.mint_playback("alice", video_id)
    # Past the edge: stream_svc itself answers, NOT_FOUND for a video it never published
    # (Envoy's own 404 would say "no such route").
    response = await http.get(path, params={"token": token})
    assert response.status_code == 404
    assert "not published" in response.json()["message"]


@pytest.mark.asyncio(loop_scope="session")
async def test_cors_preflight_is_answered_without_a_token(http) -> None:
    response = await http.options(
        status_path(str(uuid.uuid4())),
        headers={
            "origin": "https://player.example",
            "access-control-request-method": "GET",
            "access-control-request-headers": "authorization",
        },
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "https://player.example"


@pytest.mark.security
@pytest.mark.asyncio(loop_scope="session")
async def test_native_grpc_through_envoy_needs_a_token(gateway, keys, database_url) -> None:
    video_id = insert_video(database_url, "alice", "uploading")
    async with grpc.aio.insecure_channel(gateway.address) as channel:
        stub = media_grpc.MediaServiceStub(channel)
        request = media_pb2.GetVideoStatusRequest(video_id=video_id)
        reply = await stub.GetVideoStatus(
            request, metadata=keys.user_metadata("alice"), timeout=2.0
        )
        assert reply.video_id == video_id
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await stub.GetVideoStatus(request, timeout=2.0)
        assert caught.value.code() is grpc.StatusCode.UNAUTHENTICATED


def test_rendered_gateway_config_validates(gateway) -> None:
    result = subprocess.run(
        [*localstack.envoy_command(gateway.config_path), "--mode", "validate"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "OK" in result.stdout
