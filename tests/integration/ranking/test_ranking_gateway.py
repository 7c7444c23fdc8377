"""Every ranking route as JSON through a real Envoy (transcoding, JWT) in front of ranking_svc."""

from __future__ import annotations

import uuid

import grpc
import httpx
import pytest
from google.protobuf import json_format
from reels.ranking.v1 import ranking_service_pb2 as pb
from reels.ranking.v1 import ranking_service_pb2_grpc as ranking_grpc

from tests.integration.ranking.ranking_support import new_id, publish_indexed

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]


@pytest.fixture
async def http(gateway):
    async with httpx.AsyncClient(base_url=gateway.url, timeout=10.0) as client:
        yield client


@pytest.fixture(scope="module")
async def creator(config, database_url, ranking_server) -> tuple[str, list[str]]:
    creator = new_id("gw-creator")
    word = f"gateway{uuid.uuid4().hex[:6]}"
    ids = [
        await publish_indexed(
            config, database_url, creator, title=f"{word} clip {i}", hashtags=["gw"]
        )
        for i in range(3)
    ]
    for i in range(6):  # other creators, so pages of 5 fill up under the author cap
        await publish_indexed(config, database_url, new_id(f"gw-other{i}"), title=f"other {i}")
    return creator, [word, *ids]


async def test_feed_is_json_with_items_tier_and_reasons(http, keys, creator) -> None:
    user = new_id("gw-user")
    response = await http.get("/api/v1/reels", params={"limit": 5}, headers=keys.user_headers(user))
    assert response.status_code == 200, response.text
    body = response.json()
    assert len(body["items"]) == 5
    assert body["tier"] in ("SERVING_TIER_MODEL", "SERVING_TIER_RULES")
    item = body["items"][0]
    for field in ("video_id", "creator_id", "title", "hls_url", "dash_url", "sources", "score"):
        assert field in item, field
    assert isinstance(item["view_count"], str)  # int64 travels as a JSON string
    assert "total" in item["score"]
    if body["tier"] == "SERVING_TIER_RULES":
        assert body["fallback_reasons"][0]["dependency"]
    assert body["next_cursor"]
    nxt = await http.get(
        "/api/v1/reels",
        params={"limit": 5, "cursor": body["next_cursor"]},
        headers=keys.user_headers(user),
    )
    assert nxt.status_code == 200, nxt.text
    assert not {i["video_id"] for i in nxt.json().get("items", [])} & {
        i["video_id"] for i in body["items"]
    }


async def test_feed_json_is_the_cached_document_and_matches_get_feed(
    http, keys, creator, ranking_server
) -> None:
    """GET /api/v1/reels is GetFeedJson: the page's JSON rendered once by ranking_svc and
    passed through by Envoy. A hit returns the very same bytes, and the page equals
    GetFeed's typed response for the same cursor in the proto JSON mapping."""
    user = new_id("gw-json")
    headers = keys.user_headers(user)
    first = await http.get("/api/v1/reels", params={"limit": 4}, headers=headers)
    assert first.status_code == 200, first.text
    assert first.headers["content-type"].startswith("application/json")
    again = await http.get("/api/v1/reels", params={"limit": 4}, headers=headers)
    assert again.content == first.content  # served from the page cache as stored
    cursor = first.json()["next_cursor"]
    assert cursor
    second = await http.get("/api/v1/reels", params={"limit": 4, "cursor": cursor}, headers=headers)
    assert second.status_code == 200, second.text
    async with grpc.aio.insecure_channel(ranking_server.target) as channel:
        typed = await ranking_grpc.RankingServiceStub(channel).GetFeed(
            pb.GetFeedRequest(limit=4, cursor=cursor),
            metadata=keys.user_metadata(user),
            timeout=5,
        )
    expected = json_format.MessageToDict(
        typed, preserving_proto_field_name=True, always_print_fields_with_no_presence=True
    )
    document = second.json()
    assert document["items"], "the second page holds items"
    # The cursor names the same stored session and offset: the same items, same tokens.
    # Only the next cursor may differ: it carries its expiry, stamped when each was cut
    # (or both are empty: the session ends with this page).
    assert bool(document.pop("next_cursor")) == bool(expected.pop("next_cursor"))
    assert document == expected


async def test_feed_errors_are_http_statuses(http, keys) -> None:
    user = new_id("gw-bad")
    bad = await http.get(
        "/api/v1/reels", params={"cursor": "forged.cursor"}, headers=keys.user_headers(user)
    )
    assert bad.status_code == 400
    too_many = await http.get(
        "/api/v1/reels", params={"limit": 51}, headers=keys.user_headers(user)
    )
    assert too_many.status_code == 400
    anonymous = await http.get("/api/v1/reels")
    assert anonymous.status_code == 401


async def test_trending_feed_algo(http, keys, creator) -> None:
    response = await http.get(
        "/api/v1/reels",
        params={"algo": "trending", "limit": 3},
        headers=keys.user_headers(new_id("gw")),
    )
    assert response.status_code == 200, response.text
    assert response.json()["tier"] == "SERVING_TIER_TRENDING_ONLY"


async def test_follow_unfollow_and_profile(http, keys, creator) -> None:
    creator_id, _ = creator
    fan = new_id("gw-fan")
    headers = keys.user_headers(fan)
    path = f"/api/v1/users/{creator_id}/follow"
    for _ in range(2):
        followed = await http.post(path, json={}, headers=headers)
        assert followed.status_code == 200, followed.text
        assert followed.json()["following"] is True
        assert followed.json()["follower_count"] == "1"
    profile = await http.get(f"/api/v1/creators/{creator_id}", headers=headers)
    assert profile.status_code == 200
    body = profile.json()
    assert body["following"] is True and body["video_count"] == "3"
    assert len(body["sample_videos"]) == 3
    unfollowed = await http.delete(path, headers=headers)
    assert unfollowed.status_code == 200
    assert unfollowed.json().get("following", False) is False
    own = await http.post(f"/api/v1/users/{fan}/follow", json={}, headers=headers)
    assert own.status_code == 400
    missing = await http.get(f"/api/v1/creators/{new_id('ghost')}", headers=headers)
    assert missing.status_code == 404


async def test_search_trending_hashtags_sounds_and_discovery(http, keys, creator) -> None:
    _creator_id, (word, *ids) = creator
    headers = keys.user_headers(new_id("gw-reader"))
    search = await http.get("/api/v1/reels/search", params={"q": word}, headers=headers)
    assert search.status_code == 200, search.text
    assert {i["video_id"] for i in search.json()["items"]} == set(ids)
    empty = await http.get("/api/v1/reels/search", params={"q": ""}, headers=headers)
    assert empty.status_code == 400
    trending = await http.get("/api/v1/reels/trending", params={"window": "24h"}, headers=headers)
    assert trending.status_code == 200, trending.text
    assert trending.json()["window"] == "24h"
    bad_window = await http.get("/api/v1/reels/trending", params={"window": "1y"}, headers=headers)
    assert bad_window.status_code == 400
    for path, field in (
        ("/api/v1/reels/trending-hashtags", "hashtags"),
        ("/api/v1/reels/trending-sounds", "sounds"),
    ):
        response = await http.get(path, headers=headers)
        assert response.status_code == 200, response.text
        assert isinstance(response.json().get(field, []), list)
    creators = await http.get("/api/v1/discover/creators", params={"limit": 50}, headers=headers)
    assert creators.status_code == 200, creators.text
    assert isinstance(creators.json().get("creators", []), list)
