"""Analytics maths: percentiles over histograms, retention, QoE, and creator time series."""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from stream_svc.domain.errors import InvalidArgument

RETENTION_POINTS = (25, 50, 75, 100)
HD_MIN_HEIGHT = 720
MAX_CREATOR_RANGE = timedelta(days=90)
DEFAULT_CREATOR_RANGE = timedelta(days=7)
DEFAULT_TOP_VIDEOS, MAX_TOP_VIDEOS = 10, 50
_HEIGHT_IN_NAME = re.compile(r"^(\d{3,4})p")


def percentile(histogram: Iterable[tuple[float, int]], q: float) -> float:
    """The q-quantile (0..1) of values given as (value, count) pairs, interpolating linearly
    between the two nearest ranks (numpy's default); 0 when there are no values."""
    pairs = sorted((value, count) for value, count in histogram if count > 0)
    total = sum(count for _, count in pairs)
    if total == 0:
        return 0.0
    rank = (total - 1) * q
    low_rank, high_rank = math.floor(rank), math.ceil(rank)
    low = high = pairs[-1][0]
    seen = 0
    found_low = False
    for value, count in pairs:
        # The values at 0-based ranks seen .. seen+count-1 all equal `value`.
        if not found_low and low_rank < seen + count:
            low, found_low = value, True
        if high_rank < seen + count:
            high = value
            break
        seen += count
    return low + (high - low) * (rank - low_rank)


def rendition_height(name: str, ladder_height: int | None = None) -> int:
    """A video rung's height: from the published ladder, else from a name like "720p"."""
    if ladder_height:
        return ladder_height
    match = _HEIGHT_IN_NAME.match(name)
    return int(match.group(1)) if match else 0


@dataclass(frozen=True)
class Counters:
    views: int = 0
    likes: int = 0
    shares: int = 0
    comments: int = 0


@dataclass(frozen=True)
class RenditionSegments:
    rendition: str
    bitrate_kbps: int
    segments: int


@dataclass(frozen=True)
class VideoFacts:
    """What ClickHouse knows of one video's sessions, aggregated."""

    # (completion ratio of a session, number of sessions) — a session's completion is the
    # furthest milestone it reached (start 0, 25 %, 50 %, 75 %, complete 1).
    completion_histogram: Sequence[tuple[float, int]] = ()
    total_watch_ms: int = 0
    startup_histogram_ms: Sequence[tuple[float, int]] = ()
    rebuffer_ms: int = 0
    segments: Sequence[RenditionSegments] = ()
    segment_sessions: int = 0
    hd_sessions: int = 0


@dataclass(frozen=True)
class RetentionPoint:
    position_percent: int
    session_ratio: float


@dataclass(frozen=True)
class BitrateShare:
    rendition: str
    bitrate_kbps: int
    segment_ratio: float


@dataclass(frozen=True)
class VideoAnalytics:
    video_id: str
    counters: Counters
    completion_rate_p50: float
    completion_rate_p95: float
    average_watch_s: float
    retention: tuple[RetentionPoint, ...]
    trending_score: float
    bitrate_distribution: tuple[BitrateShare, ...]
    hd_session_ratio: float
    rebuffer_ratio: float
    startup_p50_s: float
    startup_p95_s: float
    compute_time: datetime


def video_analytics(
    video_id: str,
    counters: Counters,
    facts: VideoFacts,
    trending_score: float,
    now: datetime,
) -> VideoAnalytics:
    sessions = sum(count for _, count in facts.completion_histogram)
    retention = tuple(
        RetentionPoint(
            point,
            _ratio(
                sum(n for c, n in facts.completion_histogram if c * 100 >= point - 1e-9),
                sessions,
            ),
        )
        for point in RETENTION_POINTS
    )
    total_segments = sum(s.segments for s in facts.segments)
    distribution = tuple(
        BitrateShare(s.rendition, s.bitrate_kbps, _ratio(s.segments, total_segments))
        for s in sorted(facts.segments, key=lambda s: (-s.bitrate_kbps, s.rendition))
    )
    return VideoAnalytics(
        video_id=video_id,
        counters=counters,
        completion_rate_p50=percentile(facts.completion_histogram, 0.5),
        completion_rate_p95=percentile(facts.completion_histogram, 0.95),
        average_watch_s=_ratio(facts.total_watch_ms, sessions) / 1000,
        retention=retention,
        trending_score=trending_score,
        bitrate_distribution=distribution,
        hd_session_ratio=_ratio(facts.hd_sessions, facts.segment_sessions),
        rebuffer_ratio=_ratio(facts.rebuffer_ms, facts.total_watch_ms),
        startup_p50_s=percentile(facts.startup_histogram_ms, 0.5) / 1000,
        startup_p95_s=percentile(facts.startup_histogram_ms, 0.95) / 1000,
        compute_time=now,
    )


def _ratio(part: float, whole: float) -> float:
    return part / whole if whole else 0.0


# ---------------------------------------------------------------------------------------
# Creator analytics


class Granularity(enum.Enum):
    HOUR = timedelta(hours=1)
    DAY = timedelta(days=1)


@dataclass(frozen=True)
class CreatorRange:
    start: datetime
    end: datetime
    granularity: Granularity
    top_videos: int


def creator_range(
    start: datetime | None,
    end: datetime | None,
    granularity: Granularity,
    top_videos: int,
    now: datetime,
) -> CreatorRange:
    """The validated range: [start, end), 7 days up to now by default, at most 90 days."""
    end = end or now
    start = start or end - DEFAULT_CREATOR_RANGE
    if start >= end:
        raise InvalidArgument("start_time must be before end_time")
    if end - start > MAX_CREATOR_RANGE:
        raise InvalidArgument("the time range must not exceed 90 days")
    if top_videos < 0 or top_videos > MAX_TOP_VIDEOS:
        raise InvalidArgument(f"top_video_count must be between 0 and {MAX_TOP_VIDEOS}")
    return CreatorRange(start, end, granularity, top_videos or DEFAULT_TOP_VIDEOS)


def bucket_start(moment: datetime, granularity: Granularity) -> datetime:
    moment = moment.astimezone(UTC)
    if granularity is Granularity.HOUR:
        return moment.replace(minute=0, second=0, microsecond=0)
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


def bucket_starts(span: CreatorRange) -> list[datetime]:
    """Every bucket overlapping [start, end), oldest first (UTC hours or days)."""
    starts = []
    current = bucket_start(span.start, span.granularity)
    while current < span.end:
        starts.append(current)
        current += span.granularity.value
    return starts


@dataclass
class BucketFacts:
    counters: Counters = field(default_factory=Counters)
    watch_ms: int = 0


@dataclass(frozen=True)
class Bucket:
    start: datetime
    counters: Counters
    watch_s: float


def fill_series(span: CreatorRange, facts: dict[datetime, BucketFacts]) -> list[Bucket]:
    """The time series with a bucket for every step, empty steps included."""
    series = []
    for start in bucket_starts(span):
        found = facts.get(start, BucketFacts())
        series.append(Bucket(start, found.counters, found.watch_ms / 1000))
    return series


def peak_hours(views_by_hour: dict[int, int]) -> list[tuple[int, int]]:
    """(hour of day, views), most viewed first, earlier hour first on ties; empty hours
    left out."""
    return sorted(
        ((hour, views) for hour, views in views_by_hour.items() if views > 0),
        key=lambda item: (-item[1], item[0]),
    )


@dataclass(frozen=True)
class VideoRangeFacts:
    video_id: str
    title: str
    counters: Counters
    completes: int


def top_videos(videos: Iterable[VideoRangeFacts], count: int) -> list[VideoRangeFacts]:
    """The most viewed videos of the range, then the most liked; only videos with views."""
    ranked = sorted(
        (v for v in videos if v.counters.views > 0),
        key=lambda v: (-v.counters.views, -v.counters.likes, v.video_id),
    )
    return ranked[:count]


def completion_rate(completes: int, views: int) -> float:
    """Completes per view, at most 1 (the public counters' definition)."""
    return min(1.0, completes / views) if views else 0.0
