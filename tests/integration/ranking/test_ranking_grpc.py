"""ranking_svc through real gRPC stubs, in front of the real stream_svc, PostgreSQL and Redis;
embed_svc is not running here, so the feed is served by rules and says so."""

from __future__ import annotations

import asyncio
import time
import uuid

import grpc
import jwt
import pytest
import redis.asyncio as aioredis
from reels.ranking.v1 import ranking_service_pb2 as pb
from reels.ranking.v1 import ranking_service_pb2_grpc as ranking_grpc

from ranking_svc.domain.merge import satisfies_cap
from ranking_svc.metrics import FEED_CACHE_HITS, FEED_CACHE_MISSES
from tests.integration.ranking.ranking_support import new_id, publish_indexed, wait_indexed
from tests.integration.stream.engagement_support import delete_video, publish_video

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest.fixture
async def stub(ranking_server):
    async with grpc.aio.insecure_channel(ranking_server.target) as channel:
        yield ranking_grpc.RankingServiceStub(channel)


@pytest.fixture(scope="module")
async def catalogue(config, database_url, ranking_server) -> list[str]:
    """A dozen published videos by eight creators, so no feed of this module is empty."""
    ids = []
    for i in range(12):
        ids.append(await publish_video(config, f"catalogue-{i % 8}", title=f"catalogue clip {i}"))
    for video_id in ids:
        await wait_indexed(database_url, video_id)
    return ids


def auth(keys, user: str, name: str | None = None):
    return keys.user_metadata(user, name=name) if name else keys.user_metadata(user)


async def test_new_user_feed_holds_published_videos_with_reasons(stub, keys, catalogue) -> None:
    user = new_id("newbie")
    reply = await stub.GetFeed(pb.GetFeedRequest(limit=10), metadata=auth(keys, user), timeout=5)
    assert len(reply.items) == 10
    assert reply.tier == pb.SERVING_TIER_RULES
    dependencies = {r.dependency for r in reply.fallback_reasons}
    assert "embed.RecallForUser" in dependencies
    for item in reply.items:
        assert item.video_id and item.creator_id and item.title
        assert item.sources, "every item says why it is there"
        assert item.score.deep == 0 and 0 <= item.score.total <= 1
        assert f"/api/v1/reels/{item.video_id}/manifest.m3u8?token=" in item.hls_url
        assert f"/api/v1/reels/{item.video_id}/manifest.mpd?token=" in item.dash_url
        # The token is a short-lived playback token for this user and this video only.
        claims = jwt.decode(item.hls_url.split("token=")[1], options={"verify_signature": False})
        assert claims["sub"] == user and claims["vid"] == item.video_id
        # Signed with the Ed25519 playback key, not the RSA one.
        header = jwt.get_unverified_header(item.hls_url.split("token=")[1])
        assert (header["alg"], header["kid"]) == ("EdDSA", "reels-test-playback-1")
        assert item.dash_url.split("token=")[1] == item.hls_url.split("token=")[1]
    assert satisfies_cap(list(reply.items), lambda i: i.creator_id)


async def test_default_and_maximum_limit(stub, keys, catalogue) -> None:
    user = new_id("limits")
    reply = await stub.GetFeed(pb.GetFeedRequest(), metadata=auth(keys, user), timeout=5)
    assert 0 < len(reply.items) <= 30
    for bad in (-1, 51):
        with pytest.raises(grpc.aio.AioRpcError) as error:
            await stub.GetFeed(pb.GetFeedRequest(limit=bad), metadata=auth(keys, user), timeout=5)
        assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await stub.GetFeed(pb.GetFeedRequest(algo="best"), metadata=auth(keys, user), timeout=5)
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_cursor_pages_do_not_repeat_and_forged_cursors_are_refused(
    stub, keys, catalogue
) -> None:
    user = new_id("pager")
    first = await stub.GetFeed(pb.GetFeedRequest(limit=4), metadata=auth(keys, user), timeout=5)
    assert first.next_cursor
    second = await stub.GetFeed(
        pb.GetFeedRequest(limit=4, cursor=first.next_cursor), metadata=auth(keys, user), timeout=5
    )
    assert second.items
    assert not {i.video_id for i in first.items} & {i.video_id for i in second.items}
    forged = first.next_cursor[:-2] + ("AA" if first.next_cursor[-2:] != "AA" else "BB")
    for cursor, who, limit in (
        (forged, user, 4),
        ("not-a-cursor", user, 4),
        (first.next_cursor, new_id("thief"), 4),
        (first.next_cursor, user, 5),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as error:
            await stub.GetFeed(
                pb.GetFeedRequest(limit=limit, cursor=cursor), metadata=auth(keys, who), timeout=5
            )
        assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_pages_are_cached_per_user_cursor_limit_and_algo(
    stub, keys, config, catalogue
) -> None:
    user = new_id("cached")
    hits, misses = FEED_CACHE_HITS._value.get(), FEED_CACHE_MISSES._value.get()
    first = await stub.GetFeed(pb.GetFeedRequest(limit=6), metadata=auth(keys, user), timeout=5)
    again = await stub.GetFeed(pb.GetFeedRequest(limit=6), metadata=auth(keys, user), timeout=5)
    assert [i.video_id for i in again.items] == [i.video_id for i in first.items]
    assert FEED_CACHE_MISSES._value.get() == misses + 1
    assert FEED_CACHE_HITS._value.get() == hits + 1
    other = await stub.GetFeed(
        pb.GetFeedRequest(limit=6, algo="trending"), metadata=auth(keys, user), timeout=5
    )
    assert other.tier == pb.SERVING_TIER_TRENDING_ONLY
    assert FEED_CACHE_MISSES._value.get() == misses + 2
    client = aioredis.Redis.from_url(config.redis_url)
    try:
        key = f"{config.redis_namespace}:{user}:fresh:ch:6"
        assert await client.exists(key)
        assert 0 < await client.ttl(key) <= 60
        # Building the first page also cut and cached the next one: scrolling on is a hit.
        assert first.next_cursor
        next_key = f"{config.redis_namespace}:{user}:{first.next_cursor}:ch:6"
        for _ in range(50):
            if await client.exists(next_key):
                break
            await asyncio.sleep(0.1)
        hits = FEED_CACHE_HITS._value.get()
        second = await stub.GetFeed(
            pb.GetFeedRequest(limit=6, cursor=first.next_cursor),
            metadata=auth(keys, user),
            timeout=5,
        )
        assert FEED_CACHE_HITS._value.get() == hits + 1
        assert not {i.video_id for i in second.items} & {i.video_id for i in first.items}
        seen = await client.zrange(f"{config.redis_namespace}:seen:{user}", 0, -1)
        await asyncio.sleep(0.1)
        seen = await client.zrange(f"{config.redis_namespace}:seen:{user}", 0, -1)
        assert {s.decode() for s in seen} >= {i.video_id for i in first.items}
    finally:
        await client.aclose()


async def test_follower_sees_a_new_video_within_ten_seconds(
    stub, keys, config, database_url, catalogue
) -> None:
    creator, fan = new_id("creator"), new_id("fan")
    await publish_indexed(config, database_url, creator, title="first of the creator")
    await stub.FollowCreator(
        pb.FollowCreatorRequest(user_id=creator), metadata=auth(keys, fan), timeout=5
    )
    before = await stub.GetFeed(pb.GetFeedRequest(limit=50), metadata=auth(keys, fan), timeout=5)
    assert before.items
    published = time.monotonic()
    video_id = await publish_video(config, creator, title="brand new")
    while True:
        reply = await stub.GetFeed(pb.GetFeedRequest(limit=50), metadata=auth(keys, fan), timeout=5)
        found = [i for i in reply.items if i.video_id == video_id]
        if found:
            break
        assert time.monotonic() - published < 10, "not in the follower's feed within 10 s"
        await asyncio.sleep(0.2)
    assert pb.CANDIDATE_SOURCE_FOLLOWING in found[0].sources
    assert found[0].score.affinity > 0


async def test_follow_is_idempotent_and_counts(stub, keys, config, database_url) -> None:
    creator, fan = new_id("creator"), new_id("fan")
    await publish_indexed(config, database_url, creator)
    for _ in range(2):
        reply = await stub.FollowCreator(
            pb.FollowCreatorRequest(user_id=creator), metadata=auth(keys, fan), timeout=5
        )
        assert reply.following and reply.follower_count == 1
    profile = await stub.GetCreatorProfile(
        pb.GetCreatorProfileRequest(creator_id=creator), metadata=auth(keys, fan), timeout=5
    )
    assert profile.following and profile.follower_count == 1 and profile.video_count == 1
    assert len(profile.sample_videos) == 1
    for _ in range(2):
        reply = await stub.UnfollowCreator(
            pb.UnfollowCreatorRequest(user_id=creator), metadata=auth(keys, fan), timeout=5
        )
        assert not reply.following and reply.follower_count == 0
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await stub.FollowCreator(
            pb.FollowCreatorRequest(user_id=fan), metadata=auth(keys, fan), timeout=5
        )
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await stub.FollowCreator(
            pb.FollowCreatorRequest(user_id=new_id("nobody")), metadata=auth(keys, fan), timeout=5
        )
    assert error.value.code() == grpc.StatusCode.NOT_FOUND


async def test_profile_display_name_comes_from_the_token(stub, keys, config, database_url) -> None:
    creator, fan = new_id("named"), new_id("fan")
    await publish_indexed(config, database_url, creator)
    # The creator's own authenticated call records their display name.
    await stub.GetFeed(
        pb.GetFeedRequest(limit=1), metadata=auth(keys, creator, "Ada Lovelace"), timeout=5
    )
    deadline = time.monotonic() + 5
    while True:
        profile = await stub.GetCreatorProfile(
            pb.GetCreatorProfileRequest(creator_id=creator), metadata=auth(keys, fan), timeout=5
        )
        if profile.display_name == "Ada Lovelace" or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.1)
    assert profile.display_name == "Ada Lovelace"
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await stub.GetCreatorProfile(
            pb.GetCreatorProfileRequest(creator_id=new_id("ghost")), metadata=auth(keys, fan)
        )
    assert error.value.code() == grpc.StatusCode.NOT_FOUND


async def test_search_blends_relevance_paginates_and_never_shows_deleted(
    stub, keys, config, database_url
) -> None:
    word = f"zebra{uuid.uuid4().hex[:6]}"
    creator, user = new_id("searcher"), new_id("reader")
    ids = [
        await publish_indexed(config, database_url, creator, title=f"{word} dance {i}")
        for i in range(3)
    ]
    tagged = await publish_indexed(config, database_url, creator, title="other", hashtags=[word])
    first = await stub.SearchVideos(
        pb.SearchVideosRequest(q=word, limit=2), metadata=auth(keys, user), timeout=5
    )
    assert len(first.items) == 2 and first.next_cursor
    second = await stub.SearchVideos(
        pb.SearchVideosRequest(q=word, limit=2, cursor=first.next_cursor),
        metadata=auth(keys, user),
        timeout=5,
    )
    found = [i.video_id for i in first.items] + [i.video_id for i in second.items]
    assert sorted(found) == sorted([*ids, tagged])
    # A title match weighs more than a hashtag match.
    assert found[-1] == tagged
    assert all(i.score.total > 0 for i in first.items)
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await stub.SearchVideos(
            pb.SearchVideosRequest(q="other words", limit=2, cursor=first.next_cursor),
            metadata=auth(keys, user),
        )
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    await delete_video(config, ids[0], creator)
    await wait_indexed(database_url, ids[0], deleted=True)
    after = await stub.SearchVideos(
        pb.SearchVideosRequest(q=word, limit=10), metadata=auth(keys, user), timeout=5
    )
    assert ids[0] not in {i.video_id for i in after.items}
    assert len(after.items) == 3
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await stub.SearchVideos(pb.SearchVideosRequest(q=""), metadata=auth(keys, user))
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_trending_lists_answer_and_validate(stub, keys, catalogue) -> None:
    user = new_id("trend")
    reply = await stub.GetTrendingVideos(
        pb.GetTrendingVideosRequest(window="7d", limit=5), metadata=auth(keys, user), timeout=10
    )
    assert reply.window == "7d" and len(reply.items) <= 5
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await stub.GetTrendingVideos(
            pb.GetTrendingVideosRequest(window="2d"), metadata=auth(keys, user)
        )
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    tags = await stub.GetTrendingHashtags(
        pb.GetTrendingHashtagsRequest(), metadata=auth(keys, user), timeout=10
    )
    counts = [h.video_count for h in tags.hashtags]
    assert counts == sorted(counts, reverse=True)
    sounds = await stub.GetTrendingSounds(
        pb.GetTrendingSoundsRequest(limit=5), metadata=auth(keys, user), timeout=10
    )
    assert len(sounds.sounds) <= 5


async def test_discover_suggests_creators_not_followed_yet(
    stub, keys, config, database_url
) -> None:
    popular, fan = new_id("popular"), new_id("fan")
    await publish_indexed(config, database_url, popular)
    for i in range(3):
        follower = new_id(f"f{i}")
        await stub.FollowCreator(
            pb.FollowCreatorRequest(user_id=popular), metadata=auth(keys, follower), timeout=5
        )
    reply = await stub.DiscoverCreators(
        pb.DiscoverCreatorsRequest(limit=50), metadata=auth(keys, fan), timeout=5
    )
    by_id = {c.creator_id: c for c in reply.creators}
    assert popular in by_id
    assert by_id[popular].follower_count == 3
    assert pb.DISCOVERY_SOURCE_POPULAR in by_id[popular].sources
    assert by_id[popular].sample_videos
    await stub.FollowCreator(
        pb.FollowCreatorRequest(user_id=popular), metadata=auth(keys, fan), timeout=5
    )
    reply = await stub.DiscoverCreators(
        pb.DiscoverCreatorsRequest(limit=50), metadata=auth(keys, fan), timeout=5
    )
    assert popular not in {c.creator_id for c in reply.creators}
    assert fan not in {c.creator_id for c in reply.creators}


async def test_anonymous_calls_are_refused(stub) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await stub.GetFeed(pb.GetFeedRequest(), timeout=5)
    assert error.value.code() == grpc.StatusCode.UNAUTHENTICATED
