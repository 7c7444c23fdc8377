"""stream_svc's playback metrics: latency, segments by rendition, active sessions, errors."""

from __future__ import annotations

import contextlib
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from prometheus_client import Counter, Gauge, Histogram

STREAMING_LATENCY_MS = Histogram(
    "video_streaming_latency_ms",
    "Time stream_svc took to answer a manifest or segment request, in milliseconds.",
    ["operation"],
    buckets=(1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000),
)
SEGMENTS_SERVED = Counter(
    "video_segments_served", "Segment redirects handed out, by rendition.", ["bitrate"]
)
SEGMENT_ERRORS = Counter(
    "video_segment_errors",
    "Segment requests that failed, by cause (invalid_argument, not_found, unavailable).",
    ["cause"],
)
BITRATE_SWITCHES = Counter(
    "bitrate_switch_count",
    "Playback sessions whose next segment came from another rendition than the last one.",
)
ACTIVE_STREAMS = Gauge(
    "active_video_streams",
    "Playback sessions of this replica that fetched a segment in the last minute.",
)
HD_SHARE = Gauge(
    "video_sessions_hd_share",
    "Share (0-1) of this replica's active playback sessions whose last segment was >= 720p.",
)
CDN_PROBE_LATENCY_MS = Histogram(
    "cdn_probe_latency_ms",
    "Time the CDN or origin health probe took, in milliseconds, by target.",
    ["target"],
    buckets=(1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000),
)
CDN_PROBE_ERRORS = Counter(
    "cdn_probe_errors",
    "Health probes of the CDN or the origin that got no answer (or a 5xx), by target.",
    ["target"],
)
EVENT_INGESTION_LAG = Histogram(
    "event_ingestion_lag_seconds",
    "Time from an event's append to the bus until its batch was written and acknowledged.",
    ["topic"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900),
)

EVENTS_BACKLOG = Gauge(
    "video_events_backlog",
    "Playback events on video_events the engagement consumers have not acknowledged yet, "
    "as RecordPlaybackEvents last read it (pending + unread entries x events per entry).",
)
EVENTS_REFUSED = Counter(
    "video_events_refused",
    "Playback events of RecordPlaybackEvents requests refused with RESOURCE_EXHAUSTED "
    "(nothing of such a request is kept), by reason (backlog).",
    ["reason"],
)

HD_HEIGHT = 720
_HEIGHT = re.compile(r"^(\d+)p")


def rendition_height(rendition: str) -> int | None:
    """720 for "720p" or "720p_hevc"; None when the name carries no height."""
    match = _HEIGHT.match(rendition)
    return int(match.group(1)) if match else None


@dataclass
class _Session:
    rendition: str
    seen_at: float


class ActiveStreams:
    """Sessions seen within `window_s`, their last rendition, and the switches between them.

    A session is the player's session id, or viewer and video when the player sent none.
    Bounded by the sessions active in the window: stale ones are dropped on every call.
    """

    def __init__(self, window_s: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self._window = window_s
        self._clock = clock
        self._sessions: dict[str, _Session] = {}
        self._lock = threading.Lock()

    def segment(self, session: str, rendition: str) -> bool:
        """Records one served segment; True when the session switched rendition."""
        now = self._clock()
        with self._lock:
            self._expire(now)
            previous = self._sessions.get(session)
            self._sessions[session] = _Session(rendition, now)
        return previous is not None and previous.rendition != rendition

    def active(self) -> int:
        with self._lock:
            self._expire(self._clock())
            return len(self._sessions)

    def hd_share(self) -> float:
        with self._lock:
            self._expire(self._clock())
            if not self._sessions:
                return 0.0
            hd = sum(
                1
                for s in self._sessions.values()
                if (rendition_height(s.rendition) or 0) >= HD_HEIGHT
            )
            return hd / len(self._sessions)

    def _expire(self, now: float) -> None:
        stale = [key for key, s in self._sessions.items() if now - s.seen_at > self._window]
        for key in stale:
            del self._sessions[key]


ACTIVE = ActiveStreams()
ACTIVE_STREAMS.set_function(ACTIVE.active)
HD_SHARE.set_function(ACTIVE.hd_share)


def segment_served(session: str, rendition: str, tracker: ActiveStreams = ACTIVE) -> None:
    """Counts one segment redirect, its rendition, and a switch when the session changed."""
    SEGMENTS_SERVED.labels(rendition).inc()
    if tracker.segment(session, rendition):
        BITRATE_SWITCHES.inc()


def ingestion_lag(
    topic: str,
    stream_ids: Sequence[str],
    sizes: Sequence[int] | None = None,
    now_s: float | None = None,
) -> None:
    """Observes each event's lag from its entry's Redis stream id (`<append ms>-<seq>`);
    `sizes` says how many events each entry carries (one each when None).

    Entries appended together share their millisecond, so each distinct one is observed
    once with its count (a batch of thousands makes a handful of observations)."""
    now = time.time() if now_s is None else now_s
    appended: dict[str, int] = {}
    for index, stream_id in enumerate(stream_ids):
        millis = stream_id.partition("-")[0]
        appended[millis] = appended.get(millis, 0) + (1 if sizes is None else sizes[index])
    child = EVENT_INGESTION_LAG.labels(topic)
    for millis, count in appended.items():
        if millis.isdigit():
            _observe(child, max(0.0, now - int(millis) / 1000), count)


def _observe(child: Any, value: float, count: int) -> None:
    """`count` observations of `value` in a histogram child."""
    try:
        bounds, buckets, total = child._upper_bounds, child._buckets, child._sum
    except AttributeError:  # another prometheus_client layout: the slow, public way
        for _ in range(count):
            child.observe(value)
        return
    total.inc(value * count)
    for bound, bucket in zip(bounds, buckets, strict=True):
        if value <= bound:
            bucket.inc(count)
            break


@contextlib.contextmanager
def timed(operation: str) -> Iterator[None]:
    """Observes the block's wall time in video_streaming_latency_ms{operation}."""
    started = time.perf_counter()
    try:
        yield
    finally:
        elapsed_ms = (time.perf_counter() - started) * 1000
        STREAMING_LATENCY_MS.labels(operation).observe(elapsed_ms)
