"""Video and creator analytics computed from what was really sent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import grpc
import numpy as np
import pytest
from reels.stream.v1 import stream_service_pb2 as pb
from reels.stream.v1 import stream_service_pb2_grpc as stream_grpc

from tests.integration.stream.engagement_support import (
    MILESTONE,
    event,
    eventually,
    new_id,
    publish_segment,
    publish_video,
    session_events,
    user_auth,
    wait_published,
    wait_views,
)

pytestmark = pytest.mark.asyncio(loop_scope="session")

DURATION = 20.0
# (milestone reached, startup seconds) of each viewing session.
SESSIONS = [
    ("start", 0.30),
    ("25", 0.45),
    ("50", 0.50),
    ("75", 0.62),
    ("complete", 0.80),
    ("complete", 1.10),
    ("50", 0.40),
    ("25", 2.50),
    ("complete", 0.35),
    ("75", 0.90),
]
REBUFFERS = [1.5, 0.5]
# Segment fetches per session, as the segment redirect records them.
SEGMENTS = {
    "g1": ["720p", "720p", "720p", "480p"],  # mostly HD
    "g2": ["480p", "480p", "720p"],
    "g3": ["360p", "360p"],
    "g4": ["720p", "720p"],  # plus an init segment and audio, both left out
}
KBPS = {"720p": 2500, "480p": 1200, "360p": 700}


@pytest.fixture
async def stub(stream_server):
    async with grpc.aio.insecure_channel(stream_server.target) as channel:
        yield stream_grpc.StreamServiceStub(channel)


async def _analytics(stub, keys, video_id: str, user: str) -> pb.GetVideoAnalyticsResponse:
    return await stub.GetVideoAnalytics(
        pb.GetVideoAnalyticsRequest(video_id=video_id), metadata=user_auth(keys, user), timeout=10
    )


async def _post_sessions(stub, keys, video_id: str) -> None:
    viewer = new_id("viewer")
    batch = []
    for i, (reached, startup) in enumerate(SESSIONS):
        batch += session_events(f"s{i}", reached, DURATION, startup_s=startup)
    for i, stall in enumerate(REBUFFERS):
        # Rebuffers report a watch time below their session's maximum.
        batch.append(event("rebuffer", session=f"s{4 + i}", rebuffer_s=stall, watch_s=1.0))
    reply = await stub.RecordPlaybackEvents(
        pb.RecordPlaybackEventsRequest(video_id=video_id, events=batch),
        metadata=user_auth(keys, viewer),
    )
    assert not reply.rejected_events


async def test_video_analytics_equal_what_was_sent(stub, keys, config) -> None:
    creator = new_id("creator")
    video_id = await publish_video(config, creator, duration_s=DURATION)
    await wait_published(stub, keys, video_id)
    await _post_sessions(stub, keys, video_id)
    for session, renditions in SEGMENTS.items():
        for n, rendition in enumerate(renditions):
            await publish_segment(
                config,
                video_id,
                creator,
                "seg-viewer",
                session,
                rendition,
                f"seg_{n:05d}.m4s",
                KBPS[rendition],
            )
    await publish_segment(config, video_id, creator, "seg-viewer", "g4", "720p", "init.mp4", 2500)
    await publish_segment(config, video_id, creator, "seg-viewer", "g4", "audio", "seg_1.m4s", 128)
    for liker in ("l1", "l2"):
        await stub.LikeVideo(
            pb.LikeVideoRequest(video_id=video_id), metadata=user_auth(keys, liker)
        )
    await stub.ShareVideo(
        pb.ShareVideoRequest(video_id=video_id, platform="message"), metadata=user_auth(keys, "l1")
    )
    await stub.CreateComment(
        pb.CreateCommentRequest(video_id=video_id, text="nice"), metadata=user_auth(keys, "l2")
    )
    await wait_views(stub, keys, video_id, views=len(SESSIONS), completes=3)
    total_segments = sum(len(v) for v in SEGMENTS.values())
    # Segment events travel on their own: wait until all are in ClickHouse.
    result = await eventually(
        lambda: _analytics(stub, keys, video_id, creator),
        lambda r: (
            round(sum(b.segment_ratio for b in r.bitrate_distribution) * total_segments)
            == total_segments
            and r.bitrate_distribution
            and round(r.bitrate_distribution[0].segment_ratio * total_segments) == 6
        ),
    )

    completion = np.array([MILESTONE[reached] for reached, _ in SESSIONS])
    startups = np.array([startup for _, startup in SESSIONS])
    watched = completion * DURATION
    assert result.video_id == video_id
    assert result.counters == pb.EngagementCounters(
        view_count=10, like_count=2, share_count=1, comment_count=1
    )
    assert result.completion_rate_p50 == pytest.approx(np.percentile(completion, 50))
    assert result.completion_rate_p95 == pytest.approx(np.percentile(completion, 95))
    assert result.average_watch_duration.ToTimedelta().total_seconds() == pytest.approx(
        watched.mean(), abs=1e-3
    )
    assert [(p.position_percent, p.session_ratio) for p in result.retention] == [
        (q, pytest.approx((completion >= q / 100).mean())) for q in (25, 50, 75, 100)
    ]
    assert [(b.rendition, b.bitrate_kbps) for b in result.bitrate_distribution] == [
        ("720p", 2500),
        ("480p", 1200),
        ("360p", 700),
    ]
    counts = {"720p": 6, "480p": 3, "360p": 2}
    for share in result.bitrate_distribution:
        assert share.segment_ratio == pytest.approx(counts[share.rendition] / total_segments)
    assert result.hd_session_ratio == pytest.approx(2 / 4)  # g1 and g4 of four sessions
    assert result.rebuffer_ratio == pytest.approx(sum(REBUFFERS) / watched.sum())
    assert result.startup_duration_p50.ToTimedelta().total_seconds() == pytest.approx(
        np.percentile(startups, 50), abs=1e-3
    )
    assert result.startup_duration_p95.ToTimedelta().total_seconds() == pytest.approx(
        np.percentile(startups, 95), abs=1e-3
    )
    assert result.trending_score > 0

    # Cached: the same figures until something new happens to the video. An event of
    # the run may still land after `result` (each one drops the cache: the like, share
    # and comment reach ClickHouse's trending score on their own), so wait for two
    # answers in a row computed at the same moment: the second came from the cache...
    async def twice() -> tuple[pb.GetVideoAnalyticsResponse, pb.GetVideoAnalyticsResponse]:
        return (
            await _analytics(stub, keys, video_id, creator),
            await _analytics(stub, keys, video_id, creator),
        )

    _computed, cached = await eventually(twice, lambda pair: pair[0] == pair[1])
    # ...and they are the figures checked above, the trending score at least as high.
    assert cached.trending_score >= result.trending_score
    figures = pb.GetVideoAnalyticsResponse()
    figures.CopyFrom(cached)
    figures.compute_time.CopyFrom(result.compute_time)
    figures.trending_score = result.trending_score
    assert figures == result
    # ...and recomputed once it does.
    await stub.LikeVideo(pb.LikeVideoRequest(video_id=video_id), metadata=user_auth(keys, "l3"))
    fresh = await _analytics(stub, keys, video_id, creator)
    assert fresh.counters.like_count == 3
    assert fresh.compute_time.ToDatetime() >= result.compute_time.ToDatetime()


@pytest.mark.security
async def test_only_the_creator_reads_video_analytics(stub, keys, config) -> None:
    creator = new_id("creator")
    video_id = await publish_video(config, creator)
    await wait_published(stub, keys, video_id)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await _analytics(stub, keys, video_id, new_id("mallory"))
    assert caught.value.code() is grpc.StatusCode.PERMISSION_DENIED
    empty = await _analytics(stub, keys, video_id, creator)
    assert empty.counters.view_count == 0
    assert empty.completion_rate_p50 == 0
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await _analytics(stub, keys, "0b9d7d11-0000-4000-8000-000000000000", creator)
    assert caught.value.code() is grpc.StatusCode.NOT_FOUND


async def _creator(stub, keys, creator: str, user: str, **fields) -> pb.GetCreatorAnalyticsResponse:
    return await stub.GetCreatorAnalytics(
        pb.GetCreatorAnalyticsRequest(creator_id=creator, **fields),
        metadata=user_auth(keys, user),
        timeout=10,
    )


async def test_creator_analytics_sum_the_creator_videos(stub, keys, config) -> None:
    creator = new_id("creator")
    first = await publish_video(config, creator, title="first", duration_s=DURATION)
    second = await publish_video(config, creator, title="second", duration_s=DURATION)
    other = await publish_video(config, new_id("someone-else"), duration_s=DURATION)
    for video_id in (first, second, other):
        await wait_published(stub, keys, video_id)
    sent = {first: ["complete", "50", "complete", "25"], second: ["75", "start"], other: ["50"]}
    for video_id, reached in sent.items():
        batch = []
        for i, step in enumerate(reached):
            batch += session_events(f"c{i}", step, DURATION)
        await stub.RecordPlaybackEvents(
            pb.RecordPlaybackEventsRequest(video_id=video_id, events=batch),
            metadata=user_auth(keys, new_id("viewer")),
        )
        await wait_views(stub, keys, video_id, views=len(reached))
    await stub.LikeVideo(pb.LikeVideoRequest(video_id=second), metadata=user_auth(keys, "fan"))
    now = datetime.now(UTC)
    start = pb.GetCreatorAnalyticsRequest().start_time
    start.FromDatetime(now - timedelta(hours=3))

    async def fetch() -> pb.GetCreatorAnalyticsResponse:
        return await _creator(
            stub,
            keys,
            creator,
            creator,
            start_time=start,
            granularity=pb.ANALYTICS_GRANULARITY_HOUR,
        )

    result = await eventually(fetch, lambda r: r.totals.view_count == 6 and r.totals.like_count)
    mine = [MILESTONE[s] for s in sent[first] + sent[second]]
    assert result.video_count == 2
    assert result.totals == pb.EngagementCounters(view_count=6, like_count=1)
    assert result.total_watch_duration.ToTimedelta().total_seconds() == pytest.approx(
        sum(mine) * DURATION, abs=1e-3
    )
    assert result.average_completion_rate == pytest.approx(sum(mine) / len(mine))
    assert len(result.time_series) in (3, 4)  # hour buckets overlapping the last 3 hours
    assert sum(b.counters.view_count for b in result.time_series) == 6
    starts = [b.start_time.ToDatetime() for b in result.time_series]
    assert starts == sorted(starts)
    assert result.peak_hours[0].view_count == 6
    assert result.peak_hours[0].hour_of_day in {now.hour, (now.hour + 23) % 24}
    assert [(v.video_id, v.title, v.counters.view_count) for v in result.top_videos] == [
        (first, "first", 4),
        (second, "second", 2),
    ]
    assert result.top_videos[0].completion_rate == pytest.approx(0.5)


@pytest.mark.security
async def test_creator_analytics_are_the_creator_own(stub, keys) -> None:
    creator = new_id("creator")
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await _creator(stub, keys, creator, new_id("mallory"))
    assert caught.value.code() is grpc.StatusCode.PERMISSION_DENIED
    now = datetime.now(UTC)
    late, early, ancient = (
        pb.GetCreatorAnalyticsRequest().start_time,
        pb.GetCreatorAnalyticsRequest().end_time,
        pb.GetCreatorAnalyticsRequest().start_time,
    )
    late.FromDatetime(now)
    early.FromDatetime(now - timedelta(days=1))
    ancient.FromDatetime(now - timedelta(days=91))
    for fields in (
        {"start_time": late, "end_time": early},
        {"start_time": ancient},
        {"top_video_count": 51},
        {"top_video_count": -1},
    ):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await _creator(stub, keys, creator, creator, **fields)
        assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT, fields
    empty = await _creator(stub, keys, creator, creator)
    assert empty.video_count == 0
    assert len(empty.time_series) in (7, 8)  # days overlapping the default 7-day range
