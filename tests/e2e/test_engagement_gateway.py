"""Playback events, likes, comments and analytics as JSON through a real Envoy."""

from __future__ import annotations

from datetime import UTC, datetime

import grpc
import httpx
import pytest
from reels.stream.v1 import stream_service_pb2_grpc as stream_grpc

from tests.integration.stream.engagement_support import (
    new_id,
    publish_video,
    wait_published,
    wait_views,
)

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
