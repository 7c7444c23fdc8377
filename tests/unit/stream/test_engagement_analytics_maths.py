"""Percentiles, video analytics and the creator time series."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from stream_svc.domain.analytics import (
    BucketFacts,
    Counters,
    Granularity,
    RenditionSegments,
    VideoFacts,
    VideoRangeFacts,
    bucket_starts,
    completion_rate,
    creator_range,
    fill_series,
    peak_hours,
    percentile,
    rendition_height,
    top_videos,
    video_analytics,
)
from stream_svc.domain.errors import InvalidArgument

NOW = datetime(2026, 5, 1, 12, 30, tzinfo=UTC)


@pytest.mark.parametrize("seed", range(20))
def test_percentile_of_a_histogram_matches_numpy(seed: int) -> None:
    rng = random.Random(seed)
    values = [
        rng.choice([0.0, 0.25, 0.5, 0.75, 1.0, rng.random()]) for _ in range(rng.randint(1, 40))
    ]
    histogram: dict[float, int] = {}
    for value in values:
        histogram[value] = histogram.get(value, 0) + 1
    for q in (0, 0.05, 0.5, 0.95, 1):
        assert percentile(histogram.items(), q) == pytest.approx(np.percentile(values, q * 100))


def test_percentile_of_nothing_is_zero() -> None:
    assert percentile([], 0.5) == 0.0
    assert percentile([(3.0, 0)], 0.5) == 0.0


def test_video_analytics_from_facts() -> None:
    facts = VideoFacts(
        completion_histogram=[(0.0, 1), (0.25, 1), (0.5, 2), (1.0, 4)],
        total_watch_ms=80_000,
        startup_histogram_ms=[(300.0, 3), (900.0, 1)],
        rebuffer_ms=2_000,
        segments=[
            RenditionSegments("360p", 700, 1),
            RenditionSegments("720p", 2500, 6),
            RenditionSegments("480p", 1200, 3),
        ],
        segment_sessions=4,
        hd_sessions=3,
    )
    result = video_analytics("v", Counters(8, 1, 0, 0), facts, 2.5, NOW)
    assert result.completion_rate_p50 == pytest.approx(0.75)
    assert result.average_watch_s == 10.0
    assert [(p.position_percent, p.session_ratio) for p in result.retention] == [
        (25, 7 / 8),
        (50, 6 / 8),
        (75, 4 / 8),
        (100, 4 / 8),
    ]
    assert [b.rendition for b in result.bitrate_distribution] == ["720p", "480p", "360p"]
    assert result.bitrate_distribution[0].segment_ratio == 0.6
    assert result.hd_session_ratio == 0.75
    assert result.rebuffer_ratio == 0.025
    assert result.startup_p50_s == 0.3
    assert result.trending_score == 2.5


def test_analytics_of_an_unwatched_video_are_zeros() -> None:
    result = video_analytics("v", Counters(), VideoFacts(), 0.0, NOW)
    assert result.average_watch_s == result.rebuffer_ratio == result.hd_session_ratio == 0
    assert all(p.session_ratio == 0 for p in result.retention)
    assert result.bitrate_distribution == ()


def test_rendition_heights_come_from_the_ladder_or_the_name() -> None:
    assert rendition_height("720p") == 720
    assert rendition_height("1080p60") == 1080
    assert rendition_height("hd", 720) == 720
    assert rendition_height("audio") == 0


def test_creator_range_defaults_and_limits() -> None:
    span = creator_range(None, None, Granularity.DAY, 0, NOW)
    assert (span.start, span.end, span.top_videos) == (NOW - timedelta(days=7), NOW, 10)
    with pytest.raises(InvalidArgument):
        creator_range(NOW, NOW, Granularity.DAY, 0, NOW)
    with pytest.raises(InvalidArgument):
        creator_range(NOW - timedelta(days=91), NOW, Granularity.DAY, 0, NOW)
    with pytest.raises(InvalidArgument):
        creator_range(None, None, Granularity.DAY, 51, NOW)
    assert creator_range(NOW - timedelta(days=90), NOW, Granularity.DAY, 50, NOW).top_videos == 50


def test_buckets_cover_the_range_and_empty_ones_are_filled() -> None:
    span = creator_range(NOW - timedelta(hours=3), NOW, Granularity.HOUR, 0, NOW)
    starts = bucket_starts(span)
    assert starts == [datetime(2026, 5, 1, h, tzinfo=UTC) for h in (9, 10, 11, 12)]
    series = fill_series(span, {starts[1]: BucketFacts(Counters(views=4), 6000)})
    assert [b.counters.views for b in series] == [0, 4, 0, 0]
    assert series[1].watch_s == 6.0
    days = bucket_starts(creator_range(None, None, Granularity.DAY, 0, NOW))
    assert len(days) == 8 and days[0] == datetime(2026, 4, 24, tzinfo=UTC)


def test_peak_hours_and_top_videos_order() -> None:
    assert peak_hours({3: 5, 20: 9, 7: 5, 11: 0}) == [(20, 9), (3, 5), (7, 5)]
    videos = [
        VideoRangeFacts("a", "A", Counters(views=3, likes=1), 1),
        VideoRangeFacts("b", "B", Counters(views=9), 2),
        VideoRangeFacts("c", "C", Counters(views=3, likes=4), 0),
        VideoRangeFacts("d", "D", Counters(likes=9), 0),
    ]
    assert [v.video_id for v in top_videos(videos, 2)] == ["b", "c"]
    assert completion_rate(3, 2) == 1.0
    assert completion_rate(1, 0) == 0.0
