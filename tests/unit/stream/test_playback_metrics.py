"""Playback metrics: active sessions, the >= 720p share, rendition switches, lag, latency."""

from __future__ import annotations

from prometheus_client import REGISTRY

from stream_svc import metrics


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _value(name: str, labels: dict[str, str] | None = None) -> float:
    return REGISTRY.get_sample_value(name, labels or {}) or 0.0


def test_rendition_height_reads_the_rung_name() -> None:
    assert metrics.rendition_height("720p") == 720
    assert metrics.rendition_height("1080p_hevc") == 1080
    assert metrics.rendition_height("audio") is None


def test_sessions_expire_after_the_window_and_hd_share_follows_the_last_rendition() -> None:
    clock = _Clock()
    tracker = metrics.ActiveStreams(window_s=60, clock=clock)
    assert tracker.active() == 0 and tracker.hd_share() == 0.0
    assert tracker.segment("a", "360p") is False
    assert tracker.segment("b", "720p") is False
    assert tracker.active() == 2 and tracker.hd_share() == 0.5
    clock.now += 30
    assert tracker.segment("a", "720p") is True  # a switched up
    assert tracker.hd_share() == 1.0
    clock.now += 31  # b is idle for 61 s
    assert tracker.active() == 1


def test_segment_served_counts_the_rendition_and_switches() -> None:
    tracker = metrics.ActiveStreams(window_s=60, clock=_Clock())
    served = _value("video_segments_served_total", {"bitrate": "480p"})
    switches = _value("bitrate_switch_count_total")
    metrics.segment_served("s1", "480p", tracker)
    metrics.segment_served("s1", "480p", tracker)
    metrics.segment_served("s1", "720p", tracker)
    assert _value("video_segments_served_total", {"bitrate": "480p"}) == served + 2
    assert _value("bitrate_switch_count_total") == switches + 1


def test_ingestion_lag_is_read_from_the_stream_ids() -> None:
    labels = {"topic": "test.lag"}
    metrics.ingestion_lag("test.lag", ["1000000-0", "1001500-3", "not-an-id"], now_s=1002.0)
    assert _value("event_ingestion_lag_seconds_count", labels) == 2
    assert _value("event_ingestion_lag_seconds_sum", labels) == 2.0 + 0.5


def test_timed_observes_milliseconds_even_when_the_block_fails() -> None:
    labels = {"operation": "test_op"}
    try:
        with metrics.timed("test_op"):
            raise ValueError("boom")
    except ValueError:
        pass
    assert _value("video_streaming_latency_ms_count", labels) == 1


def test_the_process_gauges_are_exported() -> None:
    assert REGISTRY.get_sample_value("active_video_streams") is not None
    assert REGISTRY.get_sample_value("video_sessions_hd_share") is not None
