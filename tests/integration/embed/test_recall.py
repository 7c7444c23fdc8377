"""Recall, scoring and similarity over scene-family clips: a user who watched one family
gets that family first; deleted videos vanish; a new user is a quick cold start."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import grpc
import numpy as np
import pytest
import pytest_asyncio
from redis.asyncio import Redis
from reels.common.v1 import events_pb2, playback_pb2
from reels.embed.v1 import embed_service_pb2 as embed_pb2
from reels.stream.v1 import stream_service_pb2 as stream_pb2
from reels.stream.v1 import stream_service_pb2_grpc as stream_grpc

from reels_runtime.eventbus import EventBus
from tests.integration.embed.conftest import rgb_frames
from tests.integration.stream.engagement_support import (
    delete_video,
    eventually,
    publish_video,
    session_events,
    span,
    stamp,
    user_auth,
    wait_published,
)
from tests.support.scenes import FAMILIES, VARIANTS, family_clip

pytestmark = pytest.mark.asyncio(loop_scope="session")

WATCHED_FAMILY = "ocean"
CLIPS_PER_FAMILY = 4


@dataclass(frozen=True)
class Catalogue:
    """Published, embedded clips: family name -> video ids, and each family's creator."""

    videos: dict[str, list[str]]
    creators: dict[str, str]

    def family_of(self, video_id: str) -> str:
        return next(f for f, ids in self.videos.items() if video_id in ids)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def stream(stream_server) -> stream_grpc.StreamServiceStub:
    channel = grpc.aio.insecure_channel(stream_server.target)
    yield stream_grpc.StreamServiceStub(channel)
    await channel.close()


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def catalogue(embed_server, keys, config) -> Catalogue:
    """CLIPS_PER_FAMILY clips of each scene family, published (as media_svc announces it)
    and embedded through the real model server; each family has its own creator."""
    from reels.embed.v1 import embed_service_pb2_grpc as embed_grpc

    auth = [("authorization", f"Bearer {keys.signer.mint_service('media_svc')}")]
    channel = grpc.aio.insecure_channel(embed_server.target)
    stub = embed_grpc.EmbedServiceStub(channel)
    run = uuid.uuid4().hex[:8]
    videos: dict[str, list[str]] = {}
    creators: dict[str, str] = {}
    try:
        for family in FAMILIES:
            creator = f"creator-{family.name}-{run}"
            creators[family.name] = creator
            for variant in VARIANTS[:CLIPS_PER_FAMILY]:
                video_id = await publish_video(config, creator)
                clip = family_clip(family, variant)
                await stub.EmbedVideo(
                    embed_pb2.EmbedVideoRequest(
                        video_id=video_id, creator_id=creator, frames=rgb_frames(clip)
                    ),
                    metadata=auth,
                    timeout=30,
                )
                videos.setdefault(family.name, []).append(video_id)
    finally:
        await channel.close()
    return Catalogue(videos, creators)


async def _watch(stream, keys, video_id: str, user: str) -> None:
    reply = await stream.RecordPlaybackEvents(
        stream_pb2.RecordPlaybackEventsRequest(
            video_id=video_id, events=session_events(f"{user}-{video_id[:8]}", "complete")
        ),
        metadata=user_auth(keys, user),
        timeout=10,
    )
    assert not reply.rejected_events


async def _recall(
    embed, auth, user: str, k: int = 10, exclude=()
) -> embed_pb2.RecallForUserResponse:
    return await embed.RecallForUser(
        embed_pb2.RecallForUserRequest(user_id=user, k=k, exclude_video_ids=list(exclude)),
        metadata=auth,
        timeout=5,
    )


async def test_a_new_user_is_a_quick_empty_cold_start(embed, auth) -> None:
    started = time.monotonic()
    reply = await _recall(embed, auth, f"user-{uuid.uuid4().hex[:10]}")
    assert reply.cold_start and list(reply.videos) == []
    assert time.monotonic() - started < 1.5
    creators = await embed.SimilarCreators(
        embed_pb2.SimilarCreatorsRequest(user_id=f"user-{uuid.uuid4().hex[:10]}"),
        metadata=auth,
        timeout=5,
    )
    assert creators.cold_start and list(creators.creators) == []
    user = await embed.GetUserEmbedding(
        embed_pb2.GetUserEmbeddingRequest(user_id=f"user-{uuid.uuid4().hex[:10]}"),
        metadata=auth,
        timeout=5,
    )
    assert user.cold_start and list(user.embedding) == [] and user.watched_video_count == 0


async def test_watching_one_family_recalls_that_family_first(
    embed, auth, stream, keys, config, catalogue
) -> None:
    user = f"user-{uuid.uuid4().hex[:10]}"
    family = catalogue.videos[WATCHED_FAMILY]
    watched, unwatched = family[:2], family[2:]
    # A cold user first: the watches that follow must refresh the cached cold answer.
    assert (await _recall(embed, auth, user)).cold_start
    for video_id in watched:
        await wait_published(stream, keys, video_id)
        await _watch(stream, keys, video_id, user)

    reply = await eventually(
        lambda: _recall(embed, auth, user, k=CLIPS_PER_FAMILY),
        lambda r: not r.cold_start and len(r.videos) == CLIPS_PER_FAMILY,
        within=30,
    )
    assert {v.video_id for v in reply.videos} == set(family)
    assert reply.model_version == "video_encoder/1"
    assert [v.score for v in reply.videos] == sorted((v.score for v in reply.videos), reverse=True)

    # What the feed asks: unseen videos only; the family's other clips come first.
    unseen = await _recall(embed, auth, user, k=10, exclude=watched)
    ids = [v.video_id for v in unseen.videos]
    assert set(ids[:2]) == set(unwatched), [catalogue.family_of(v) for v in ids if v]
    assert not set(ids) & set(watched)
    assert all(v.creator_id for v in unseen.videos)

    embedding = await embed.GetUserEmbedding(
        embed_pb2.GetUserEmbeddingRequest(user_id=user), metadata=auth, timeout=5
    )
    assert embedding.watched_video_count == 2 and not embedding.cold_start
    assert abs(float(np.linalg.norm(embedding.embedding)) - 1) < 1e-4

    scores = await embed.ScoreCandidates(
        embed_pb2.ScoreCandidatesRequest(
            user_id=user,
            video_ids=[unwatched[0], catalogue.videos["sunset"][0], "never-embedded"],
        ),
        metadata=auth,
        timeout=5,
    )
    by_id = {s.video_id: s.score for s in scores.scores}
    assert list(scores.unscored_video_ids) == ["never-embedded"]
    assert scores.model_version == "ranking_model/1"
    assert 0 <= by_id[catalogue.videos["sunset"][0]] < by_id[unwatched[0]] <= 1

    creators = await embed.SimilarCreators(
        embed_pb2.SimilarCreatorsRequest(user_id=user, k=3), metadata=auth, timeout=5
    )
    assert creators.creators[0].creator_id == catalogue.creators[WATCHED_FAMILY]
    excluded = await embed.SimilarCreators(
        embed_pb2.SimilarCreatorsRequest(
            user_id=user, k=3, exclude_creator_ids=[catalogue.creators[WATCHED_FAMILY]]
        ),
        metadata=auth,
        timeout=5,
    )
    assert catalogue.creators[WATCHED_FAMILY] not in {c.creator_id for c in excluded.creators}


async def test_lone_watch_entries_of_an_older_producer_refresh_the_user_too(
    embed, auth, stream, keys, config, catalogue
) -> None:
    """`video_events` entries carrying one PlaybackEventRecorded each (producers from
    before request batches, and segment redirects) still refresh the watcher."""
    user = f"user-{uuid.uuid4().hex[:10]}"
    family = catalogue.videos[WATCHED_FAMILY]
    creator = catalogue.creators[WATCHED_FAMILY]
    redis = Redis.from_url(config.redis_url)
    try:
        bus = EventBus(redis, config.event_stream_prefix)
        for video_id in family[:2]:
            await wait_published(stream, keys, video_id)
            now = stamp(datetime.now(UTC))
            for action, watched_s in (
                (playback_pb2.PLAYBACK_ACTION_WATCH_START, 0.0),
                (playback_pb2.PLAYBACK_ACTION_WATCH_COMPLETE, 20.0),
            ):
                message = events_pb2.PlaybackEventRecorded(
                    event_id=str(uuid.uuid4()),
                    occur_time=now,
                    event_time=now,
                    video_id=video_id,
                    creator_id=creator,
                    user_id=user,
                    session_id=f"old-{video_id[:8]}",
                    action=action,
                    watch_duration=span(watched_s),
                    position=span(watched_s),
                )
                await bus.publish("video_events", message, event_id=message.event_id)
    finally:
        await redis.aclose()
    reply = await eventually(
        lambda: _recall(embed, auth, user, k=CLIPS_PER_FAMILY),
        lambda r: not r.cold_start and len(r.videos) == CLIPS_PER_FAMILY,
        within=30,
    )
    assert {v.video_id for v in reply.videos} == set(family)


async def test_similar_videos_are_the_same_family(embed, auth, catalogue) -> None:
    for family, ids in catalogue.videos.items():
        reply = await eventually(
            lambda ids=ids: embed.SimilarVideos(
                embed_pb2.SimilarVideosRequest(video_id=ids[0], k=CLIPS_PER_FAMILY - 1),
                metadata=auth,
                timeout=5,
            ),
            lambda r: len(r.videos) == CLIPS_PER_FAMILY - 1,
        )
        assert {v.video_id for v in reply.videos} == set(ids[1:]), family
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await embed.SimilarVideos(
            embed_pb2.SimilarVideosRequest(video_id="never-embedded"), metadata=auth, timeout=5
        )
    assert caught.value.code() is grpc.StatusCode.NOT_FOUND


async def test_a_deleted_video_is_never_recalled(embed, auth, config, catalogue) -> None:
    family = catalogue.videos["city_pan"]
    victim = family[-1]
    await eventually(
        lambda: embed.SimilarVideos(
            embed_pb2.SimilarVideosRequest(video_id=family[0], k=10), metadata=auth, timeout=5
        ),
        lambda r: victim in {v.video_id for v in r.videos},
    )
    await delete_video(config, victim, catalogue.creators["city_pan"])
    await eventually(
        lambda: embed.BatchGetVideoEmbeddings(
            embed_pb2.BatchGetVideoEmbeddingsRequest(video_ids=[victim]), metadata=auth, timeout=5
        ),
        lambda r: list(r.missing_video_ids) == [victim],
    )
    similar = await embed.SimilarVideos(
        embed_pb2.SimilarVideosRequest(video_id=family[0], k=10), metadata=auth, timeout=5
    )
    assert victim not in {v.video_id for v in similar.videos}


async def test_embeddings_are_mirrored_to_clickhouse(config, catalogue) -> None:
    # The mirror queue drains through stream_svc.MirrorEmbeddings (stream_svc owns ClickHouse).
    redis = Redis.from_url(config.redis_url)
    queue = config.redis_key("embed", "mirror")
    ours = [v for ids in catalogue.videos.values() for v in ids]
    try:

        async def queued() -> list[bool]:
            return [bool(await redis.sismember(queue, v)) for v in ours]

        await eventually(queued, lambda flags: not any(flags), within=30)
    finally:
        await redis.aclose()


async def test_bad_arguments(embed, auth) -> None:
    bad = [
        embed.RecallForUser(embed_pb2.RecallForUserRequest(user_id=""), metadata=auth, timeout=5),
        embed.RecallForUser(
            embed_pb2.RecallForUserRequest(user_id="u", k=1001), metadata=auth, timeout=5
        ),
        embed.ScoreCandidates(
            embed_pb2.ScoreCandidatesRequest(user_id="u"), metadata=auth, timeout=5
        ),
        embed.BatchGetVideoEmbeddings(
            embed_pb2.BatchGetVideoEmbeddingsRequest(video_ids=["x"] * 1001),
            metadata=auth,
            timeout=5,
        ),
        embed.SimilarCreators(
            embed_pb2.SimilarCreatorsRequest(user_id="u", k=201), metadata=auth, timeout=5
        ),
    ]
    for call in bad:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await call
        assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT
