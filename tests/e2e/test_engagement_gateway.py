"""Playback events, likes, comments and analytics as JSON through a real Envoy."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import grpc
import httpx
import pytest
from redis.asyncio import Redis
from reels.stream.v1 import stream_service_pb2_grpc as stream_grpc

from reels_runtime import localstack
from reels_runtime.eventbus import EventBus
from tests.conftest import gateway_config
from tests.integration.stream.backpressure_support import (
    GROUP,
    backpressured_stream,
    stream_length,
)
from tests.integration.stream.engagement_support import (
    new_id,
    publish_video,
    wait_published,
    wait_views,
)
from tests.support.processes import free_port, http_status, running, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]


@pytest.fixture
async def http(gateway):
    async with httpx.AsyncClient(base_url=gateway.url, timeout=10.0) as client:
        yield client


@pytest.fixture
async def stub(stream_server):
    async with grpc.aio.insecure_channel(stream_server.target) as channel:
        yield stream_grpc.StreamServiceStub(channel)


@pytest.fixture
async def video(stub, keys, config) -> tuple[str, str]:
    creator = new_id("creator")
    video_id = await publish_video(config, creator, duration_s=20.0)
    await wait_published(stub, keys, video_id)
    return video_id, creator


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


async def test_events_are_posted_as_json_and_judged_one_by_one(http, stub, keys, video) -> None:
    video_id, creator = video
    viewer = new_id("viewer")
    body = {
        "events": [
            {
                "event_id": "e-start",
                "action": "PLAYBACK_ACTION_WATCH_START",
                "event_time": _now(),
                "session_id": "s1",
                "device": "web",
                "bitrate_kbps": 2500,
                "watch_duration": "0s",
            },
            {"event_id": "e-bad", "action": "PLAYBACK_ACTION_REBUFFER", "event_time": _now()},
            {
                "event_id": "e-done",
                "action": "PLAYBACK_ACTION_WATCH_COMPLETE",
                "event_time": _now(),
                "session_id": "s1",
                "watch_duration": "20s",
                "position": "20s",
            },
        ]
    }
    path = f"/api/v1/reels/{video_id}/events"
    for _ in range(2):  # a retried POST counts once
        response = await http.post(path, json=body, headers=keys.user_headers(viewer))
        assert response.status_code == 200, response.text
        reply = response.json()
        assert reply["accepted_count"] == 2
        assert reply["rejected_events"] == [
            {
                "index": 1,
                "event_id": "e-bad",
                "reason": "a rebuffer event needs a positive rebuffer_duration",
            }
        ]
    await wait_views(stub, keys, video_id, views=1, completes=1)

    unknown_action = {"events": [{"event_id": "x", "action": "DANCE", "event_time": _now()}]}
    response = await http.post(path, json=unknown_action, headers=keys.user_headers(viewer))
    assert response.status_code == 400
    response = await http.post(path, json=body)
    assert response.status_code == 401
    response = await http.post(path, json={"events": []}, headers=keys.user_headers(viewer))
    assert response.status_code == 400

    analytics = f"/api/v1/reels/{video_id}/analytics"
    response = await http.get(analytics, headers=keys.user_headers(creator))
    assert response.status_code == 200, response.text
    figures = response.json()
    assert figures["counters"]["view_count"] == "1"  # int64 travels as a JSON string
    assert figures["completion_rate_p50"] == 1
    assert figures["average_watch_duration"] == "20s"


async def test_likes_and_comments_through_the_gateway(http, keys, video) -> None:
    video_id, _ = video
    alice, mallory = new_id("alice"), new_id("mallory")
    like = f"/api/v1/reels/{video_id}/like"
    for _ in range(2):
        response = await http.post(like, json={}, headers=keys.user_headers(alice))
        assert response.status_code == 200, response.text
        assert response.json()["liked"] is True
        assert response.json()["counters"]["like_count"] == "1"
    response = await http.delete(like, headers=keys.user_headers(alice))
    assert response.status_code == 200
    assert response.json()["liked"] is False
    assert response.json()["counters"]["like_count"] == "0"

    share = await http.post(
        f"/api/v1/reels/{video_id}/share",
        json={"platform": "copy_link"},
        headers=keys.user_headers(alice),
    )
    assert share.status_code == 200
    assert share.json()["counters"]["share_count"] == "1"

    comments = f"/api/v1/reels/{video_id}/comments"
    ids = []
    for text in ("first", "second", "third"):
        response = await http.post(comments, json={"text": text}, headers=keys.user_headers(alice))
        assert response.status_code == 200, response.text
        ids.append(response.json()["comment"]["comment_id"])
    assert response.json()["comment"]["author_id"] == alice
    response = await http.post(comments, json={"text": ""}, headers=keys.user_headers(alice))
    assert response.status_code == 400

    page = await http.get(comments, params={"page_size": 2}, headers=keys.user_headers(mallory))
    assert page.status_code == 200
    first = page.json()
    assert [c["text"] for c in first["comments"]] == ["third", "second"]
    rest = await http.get(
        comments,
        params={"page_size": 2, "page_token": first["next_page_token"]},
        headers=keys.user_headers(mallory),
    )
    assert [c["text"] for c in rest.json()["comments"]] == ["first"]
    assert rest.json()["next_page_token"] == ""


@pytest.mark.security
async def test_other_users_cannot_delete_comments_or_read_analytics(http, keys, video) -> None:
    video_id, creator = video
    alice, mallory = new_id("alice"), new_id("mallory")
    created = await http.post(
        f"/api/v1/reels/{video_id}/comments",
        json={"text": "mine"},
        headers=keys.user_headers(alice),
    )
    comment = f"/api/v1/reels/{video_id}/comments/{created.json()['comment']['comment_id']}"
    response = await http.delete(comment, headers=keys.user_headers(mallory))
    assert response.status_code == 403
    response = await http.get(
        f"/api/v1/reels/{video_id}/analytics", headers=keys.user_headers(mallory)
    )
    assert response.status_code == 403
    response = await http.get(
        f"/api/v1/creators/{creator}/videos/analytics", headers=keys.user_headers(mallory)
    )
    assert response.status_code == 403
    response = await http.get(
        f"/api/v1/creators/{creator}/videos/analytics", headers=keys.user_headers(creator)
    )
    assert response.status_code == 200
    assert response.json()["video_count"] == 1
    response = await http.delete(comment, headers=keys.user_headers(alice))
    assert response.status_code == 200
    assert response.json()["counters"]["comment_count"] == "0"


async def test_events_past_the_backlog_bound_are_a_429_with_retry_after(
    keys, config, video, tmp_path: Path
) -> None:
    """A real Envoy in front of a stream_svc whose consumer group exists but reads nothing
    (a stopped consumer): the batch that takes the backlog past the bound is accepted, the
    next one refused as HTTP 429 with a JSON body and a Retry-After header."""
    video_id, _ = video
    async with backpressured_stream(config, max_backlog=50) as bp:
        redis = Redis.from_url(bp.config.redis_url)
        try:
            await EventBus(redis, bp.config.event_stream_prefix).ensure_group("video_events", GROUP)
        finally:
            await redis.aclose()
        unused = f"127.0.0.1:{free_port()}"
        path, port, admin_port = gateway_config(
            keys, tmp_path / "envoy.yaml", unused, bp.server.target, unused
        )
        admin = f"http://127.0.0.1:{admin_port}"
        with running(localstack.envoy_command(path), tmp_path / "envoy.log"):
            wait_until(lambda: http_status(f"{admin}/ready") == 200, 30, "Envoy")
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
                viewer = new_id("viewer")
                events = f"/api/v1/reels/{video_id}/events"

                def batch(tag: str) -> dict:
                    return {
                        "events": [
                            {
                                "event_id": f"{tag}-{k}",
                                "action": "PLAYBACK_ACTION_WATCH_START",
                                "event_time": _now(),
                                "session_id": f"{tag}-{k}",
                                "watch_duration": "0s",
                            }
                            for k in range(60)
                        ]
                    }

                response = await http.post(
                    events, json=batch("a"), headers=keys.user_headers(viewer)
                )
                assert response.status_code == 200, response.text
                assert response.json()["accepted_count"] == 60
                await asyncio.sleep(0.3)  # past the server's 0.2 s backlog reading
                length = await stream_length(bp.config, bp.stream_key)
                response = await http.post(
                    events, json=batch("b"), headers=keys.user_headers(viewer)
                )
                assert response.status_code == 429, response.text
                assert response.headers["content-type"].startswith("application/json")
                assert "60 events behind (bound 50)" in response.json()["message"]
                assert 1 <= int(response.headers["retry-after"]) <= 30
                assert await stream_length(bp.config, bp.stream_key) == length
