"""Upload metrics: every upload is timed and counted by outcome."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from prometheus_client import REGISTRY

from media_svc import metrics
from media_svc.domain.uploads import MediaRejected, StoreUnavailable, UploadLimitExceeded


def _value(name: str, labels: dict[str, str]) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_every_status_series_exists_from_the_start() -> None:
    for status in metrics.STATUSES:
        assert REGISTRY.get_sample_value("videos_uploaded_total", {"status": status}) is not None


def test_an_accepted_upload_is_timed_and_counted() -> None:
    accepted = _value("videos_uploaded_total", {"status": "accepted"})
    timed = _value("video_upload_duration_seconds_count", {"route": "stream"})
    with metrics.track_upload("stream"):
        pass
    assert _value("videos_uploaded_total", {"status": "accepted"}) == accepted + 1
    assert _value("video_upload_duration_seconds_count", {"route": "stream"}) == timed + 1


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (MediaRejected("not a video"), "rejected"),
        (
            UploadLimitExceeded(
                1, dt.datetime(2026, 1, 2, tzinfo=dt.UTC), dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
            ),
            "rate_limited",
        ),
        (StoreUnavailable("store down"), "unavailable"),
        (asyncio.CancelledError(), "cancelled"),
        (RuntimeError("bug"), "failed"),
    ],
)
def test_a_failed_upload_is_counted_by_its_cause(error: Exception, status: str) -> None:
    before = _value("videos_uploaded_total", {"status": status})
    with pytest.raises(type(error)), metrics.track_upload("multipart"):
        raise error
    assert _value("videos_uploaded_total", {"status": status}) == before + 1
