"""The internal fact RPCs ranking_svc and embed_svc read: trending, hashtags, sounds,
affinity, watch history, batch engagement, and the embeddings mirror."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import grpc
import pytest
from reels.common.v1 import embedding_pb2
from reels.stream.v1 import stream_service_pb2 as pb
from reels.stream.v1 import stream_service_pb2_grpc as stream_grpc

from tests.integration.stream.engagement_support import (
    delete_video,
    engagement,
    eventually,
    new_id,
    publish_video,
    service_auth,
    session_events,
    user_auth,
    wait_published,
    wait_views,
)

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest.fixture
async def stub(stream_server):
    async with grpc.aio.insecure_channel(stream_server.target) as channel:
        yield stream_grpc.StreamServiceStub(channel)


async def _watch(stub, keys, video_id: str, user: str, reached: list[str]) -> None:
    batch = []
    for i, step in enumerate(reached):
        batch += session_events(f"{user}-{i}", step)
    reply = await stub.RecordPlaybackEvents(
        pb.RecordPlaybackEventsRequest(video_id=video_id, events=batch),
        metadata=user_auth(keys, user),
    )
    assert not reply.rejected_events


async def _trending(stub, keys, window=pb.TRENDING_WINDOW_1H, limit=500):
    reply = await stub.GetTrendingFacts(
        pb.GetTrendingFactsRequest(window=window, limit=limit), metadata=service_auth(keys)
    )
    return {v.video_id: v for v in reply.videos}, [v.video_id for v in reply.videos]


async def test_trending_facts_move_with_engagement_and_drop_deleted_videos(
    stub, keys, config
) -> None:
    tag, sound = new_id("tag"), new_id("sound")
    calm_creator, hot_creator = new_id("calm"), new_id("hot")
    calm = await publish_video(config, calm_creator, hashtags=[tag, f"{tag}-b"], sound_id=sound)
    hot = await publish_video(config, hot_creator, hashtags=[tag.upper()], sound_id=sound)
    for video_id in (calm, hot):
        await wait_published(stub, keys, video_id)
    facts, _ = await _trending(stub, keys)
    assert calm not in facts and hot not in facts

    await _watch(stub, keys, calm, new_id("u"), ["complete", "50", "start"])
    await _watch(stub, keys, hot, new_id("u"), ["complete"] * 4 + ["25", "75"])
    await stub.LikeVideo(pb.LikeVideoRequest(video_id=hot), metadata=user_auth(keys, "fan"))
    await stub.ShareVideo(
        pb.ShareVideoRequest(video_id=hot, platform="whatsapp"), metadata=user_auth(keys, "fan")
    )
    await wait_views(stub, keys, calm, 3)
    await wait_views(stub, keys, hot, 6)

    def both_in(result) -> bool:
        found, _ = result
        return (
            calm in found
            and hot in found
            and found[hot].counters.like_count == 1
            and found[hot].counters.share_count == 1
        )

    facts, order = await eventually(lambda: _trending(stub, keys), both_in)
    assert order.index(hot) < order.index(calm)
    assert facts[hot].creator_id == hot_creator
    assert facts[hot].counters == pb.EngagementCounters(view_count=6, like_count=1, share_count=1)
    assert facts[hot].completion_rate == pytest.approx(4 / 6)
    assert facts[calm].counters.view_count == 3
    assert facts[calm].completion_rate == pytest.approx(1 / 3)
    assert facts[hot].trending_score > facts[calm].trending_score > 0
    assert facts[calm].publish_time.ToDatetime() <= datetime.now(UTC).replace(tzinfo=None)
    for window in (pb.TRENDING_WINDOW_24H, pb.TRENDING_WINDOW_7D):
        found, _ = await _trending(stub, keys, window)
        assert found[hot].counters.view_count == 6

    tags = await stub.GetHashtagCounts(
        pb.GetHashtagCountsRequest(window=pb.TRENDING_WINDOW_24H), metadata=service_auth(keys)
    )
    by_tag = {t.hashtag: t for t in tags.hashtags}
    assert (by_tag[tag].video_count, by_tag[tag].view_count) == (2, 9)
    # "Most used": by how many videos carry the tag, then by views.
    ranked = [(t.video_count, t.view_count) for t in tags.hashtags]
    assert ranked == sorted(ranked, reverse=True)
    assert (by_tag[f"{tag}-b"].video_count, by_tag[f"{tag}-b"].view_count) == (1, 3)
    sounds = await stub.GetSoundCounts(
        pb.GetSoundCountsRequest(window=pb.TRENDING_WINDOW_24H, limit=500),
        metadata=service_auth(keys),
    )
    by_sound = {s.sound_id: s for s in sounds.sounds}
    assert (by_sound[sound].video_count, by_sound[sound].view_count) == (2, 9)

    await delete_video(config, hot, hot_creator)
    await eventually(lambda: engagement(stub, keys, hot), lambda e: e is None)
    facts, _ = await eventually(lambda: _trending(stub, keys), lambda r: hot not in r[0])
    assert calm in facts
    tags = await stub.GetHashtagCounts(
        pb.GetHashtagCountsRequest(window=pb.TRENDING_WINDOW_24H, limit=500),
        metadata=service_auth(keys),
    )
    by_tag = {t.hashtag: t for t in tags.hashtags}
    assert (by_tag[tag].video_count, by_tag[tag].view_count) == (1, 3)


async def test_fact_requests_are_validated(stub, keys) -> None:
    auth = service_auth(keys)
    for call in (
        stub.GetTrendingFacts(pb.GetTrendingFactsRequest(), metadata=auth),
        stub.GetTrendingFacts(
            pb.GetTrendingFactsRequest(window=pb.TRENDING_WINDOW_1H, limit=501), metadata=auth
        ),
        stub.GetHashtagCounts(pb.GetHashtagCountsRequest(), metadata=auth),
        stub.GetSoundCounts(
            pb.GetSoundCountsRequest(window=pb.TRENDING_WINDOW_7D, limit=-1), metadata=auth
        ),
        stub.GetAffinityFacts(pb.GetAffinityFactsRequest(), metadata=auth),
        stub.GetWatchHistory(pb.GetWatchHistoryRequest(user_id="u", limit=1001), metadata=auth),
        stub.BatchGetEngagement(
            pb.BatchGetEngagementRequest(video_ids=[str(uuid.uuid4()) for _ in range(1001)]),
            metadata=auth,
        ),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await call
        assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT


@pytest.mark.security
async def test_fact_rpcs_are_internal(stub, keys) -> None:
    auth = user_auth(keys, new_id("user"))
    for call in (
        stub.GetTrendingFacts(
            pb.GetTrendingFactsRequest(window=pb.TRENDING_WINDOW_1H), metadata=auth
        ),
        stub.GetWatchHistory(pb.GetWatchHistoryRequest(user_id="someone"), metadata=auth),
        stub.GetAffinityFacts(pb.GetAffinityFactsRequest(user_id="someone"), metadata=auth),
        stub.BatchGetEngagement(pb.BatchGetEngagementRequest(video_ids=[]), metadata=auth),
        stub.MirrorEmbeddings(pb.MirrorEmbeddingsRequest(), metadata=auth),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await call
        assert caught.value.code() is grpc.StatusCode.PERMISSION_DENIED


async def test_affinity_and_watch_history_of_a_user(stub, keys, config) -> None:
    user = new_id("user")
    watched, liked, shared = new_id("watched"), new_id("liked"), new_id("shared")
    completed = await publish_video(config, watched)
    halfway = await publish_video(config, watched)
    favourite = await publish_video(config, liked)
    passed_on = await publish_video(config, shared)
    for video_id in (completed, halfway, favourite, passed_on):
        await wait_published(stub, keys, video_id)
    empty = await stub.GetAffinityFacts(
        pb.GetAffinityFactsRequest(user_id=user), metadata=service_auth(keys)
    )
    assert list(empty.creators) == []

    await _watch(stub, keys, halfway, user, ["50"])
    await _watch(stub, keys, completed, user, ["complete"])
    await stub.LikeVideo(pb.LikeVideoRequest(video_id=favourite), metadata=user_auth(keys, user))
    await stub.ShareVideo(
        pb.ShareVideoRequest(video_id=passed_on, platform="message"),
        metadata=user_auth(keys, user),
    )
    await wait_views(stub, keys, completed, 1)

    async def history() -> pb.GetWatchHistoryResponse:
        return await stub.GetWatchHistory(
            pb.GetWatchHistoryRequest(user_id=user), metadata=service_auth(keys)
        )

    entries = (await eventually(history, lambda r: len(r.entries) == 2)).entries
    assert [e.video_id for e in entries] == [completed, halfway]  # most recent first
    assert [e.creator_id for e in entries] == [watched, watched]
    assert [e.completion_ratio for e in entries] == [1.0, 0.5]
    assert [e.watch_duration.ToTimedelta() for e in entries] == [
        timedelta(seconds=20),
        timedelta(seconds=10),
    ]
    later = pb.GetWatchHistoryRequest(user_id=user)
    later.since_time.FromDatetime(datetime.now(UTC) + timedelta(minutes=5))
    assert list((await stub.GetWatchHistory(later, metadata=service_auth(keys))).entries) == []

    async def affinity() -> pb.GetAffinityFactsResponse:
        return await stub.GetAffinityFacts(
            pb.GetAffinityFactsRequest(user_id=user), metadata=service_auth(keys)
        )

    creators = (await eventually(affinity, lambda r: len(r.creators) == 3)).creators
    assert [c.creator_id for c in creators] == [shared, liked, watched]
    assert [round(c.weight, 3) for c in creators] == [1.0, round(2 / 3, 3), round(1 / 3, 3)]
    assert [(c.completed_count, c.liked_count, c.shared_count) for c in creators] == [
        (0, 0, 1),
        (0, 1, 0),
        (1, 0, 0),
    ]

    # A deleted video leaves the history and the affinity it gave.
    await delete_video(config, completed, watched)
    await eventually(lambda: engagement(stub, keys, completed), lambda e: e is None)
    assert [e.video_id for e in (await history()).entries] == [halfway]
    assert [c.creator_id for c in (await affinity()).creators] == [shared, liked]


async def test_facts_asked_together_answer_as_each_asked_alone(stub, keys, config) -> None:
    # A user's history and affinity asked at once (as a fresh feed page asks them), by
    # several users, with different windows: requests that wait for ClickHouse together
    # share one read of watch_history, and each still gets exactly its own answer.
    creator = new_id("creator")
    videos = [await publish_video(config, creator) for _ in range(3)]
    for video_id in videos:
        await wait_published(stub, keys, video_id)
    users = [new_id("user") for _ in range(3)]
    for i, user in enumerate(users):
        for video_id in videos[: i + 1]:
            await _watch(stub, keys, video_id, user, ["complete"] if i != 1 else ["50"])
    for i, video_id in enumerate(videos):
        await wait_views(stub, keys, video_id, len(users) - i)
    auth = service_auth(keys)
    future = pb.GetWatchHistoryRequest()
    future.since_time.FromDatetime(datetime.now(UTC) + timedelta(minutes=5))

    def calls(user: str) -> list:
        return [
            stub.GetWatchHistory(pb.GetWatchHistoryRequest(user_id=user), metadata=auth),
            stub.GetAffinityFacts(pb.GetAffinityFactsRequest(user_id=user), metadata=auth),
            stub.GetWatchHistory(
                pb.GetWatchHistoryRequest(user_id=user, since_time=future.since_time),
                metadata=auth,
            ),
            stub.GetWatchHistory(pb.GetWatchHistoryRequest(user_id=user, limit=1), metadata=auth),
        ]

    alone = []
    for user in users:
        for call in calls(user):
            alone.append(await call)
    together = await asyncio.gather(*(call for _ in range(3) for u in users for call in calls(u)))
    assert list(together) == alone * 3
    histories = [alone[4 * i] for i in range(len(users))]
    assert [len(h.entries) for h in histories] == [1, 2, 3]
    assert [e.completion_ratio for e in histories[1].entries] == [0.5, 0.5]
    assert [len(alone[4 * i + 1].creators) for i in range(len(users))] == [1, 0, 1]
    assert all(not alone[4 * i + 2].entries for i in range(len(users)))
    assert [len(alone[4 * i + 3].entries) for i in range(len(users))] == [1, 1, 1]


async def test_batch_engagement_lists_what_is_missing(stub, keys, config) -> None:
    creator = new_id("creator")
    video_id = await publish_video(config, creator)
    await wait_published(stub, keys, video_id)
    await _watch(stub, keys, video_id, new_id("u"), ["complete", "50"])
    await wait_views(stub, keys, video_id, 2)
    unknown = str(uuid.uuid4())
    reply = await stub.BatchGetEngagement(
        pb.BatchGetEngagementRequest(video_ids=[unknown, video_id.upper(), "junk"]),
        metadata=service_auth(keys),
    )
    assert list(reply.missing_video_ids) == [unknown, "junk"]
    [found] = reply.engagements
    assert found.video_id == video_id
    assert found.counters.view_count == 2
    assert found.complete_count == 1
    assert found.completion_rate == 0.5
    assert found.average_watch_duration.ToTimedelta() == timedelta(seconds=15)


async def test_mirror_embeddings_upserts_and_validates(stub, keys) -> None:
    auth = service_auth(keys, "embed_svc")
    video_id = str(uuid.uuid4())
    embedding = embedding_pb2.VideoEmbedding(
        video_id=video_id, vector=[0.6, 0.8], model_version="video_encoder/1", creator_id="c"
    )
    embedding.generate_time.FromDatetime(datetime.now(UTC))
    request = pb.MirrorEmbeddingsRequest(embeddings=[embedding])
    for _ in range(2):
        reply = await stub.MirrorEmbeddings(request, metadata=auth)
        assert reply.upserted_count == 1
    for bad in (
        [embedding_pb2.VideoEmbedding(vector=[1.0], model_version="m")],
        [embedding_pb2.VideoEmbedding(video_id=video_id, model_version="m")],
        [embedding_pb2.VideoEmbedding(video_id=video_id, vector=[1.0])],
        [embedding] * 501,
    ):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await stub.MirrorEmbeddings(pb.MirrorEmbeddingsRequest(embeddings=bad), metadata=auth)
        assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT
