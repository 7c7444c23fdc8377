"""media_svc's upload metrics: how long uploads take and how they end."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator

from prometheus_client import Counter, Histogram

from media_svc.domain.uploads import StoreUnavailable, UploadLimitExceeded
from media_svc.domain.videos import InvalidArgument

UPLOAD_SECONDS = Histogram(
    "video_upload_duration_seconds",
    "Time from the start of an upload RPC to its answer, by upload route.",
    ["route"],
    buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600),
)
UPLOADS = Counter(
    "videos_uploaded",
    "Upload attempts by outcome: accepted, rejected (invalid or hostile media), "
    "rate_limited (daily quota), unavailable (object store down), cancelled (the client "
    "went away) or failed.",
    ["status"],
)
STATUSES = ("accepted", "rejected", "rate_limited", "unavailable", "cancelled", "failed")


def upload_status(error: BaseException | None) -> str:
    """The videos_uploaded_total status label for an upload that ended with `error`."""
    if error is None:
        return "accepted"
    if isinstance(error, UploadLimitExceeded):
        return "rate_limited"
    if isinstance(error, InvalidArgument):
        return "rejected"
    if isinstance(error, StoreUnavailable):
        return "unavailable"
    if isinstance(error, asyncio.CancelledError):
        return "cancelled"
    return "failed"


@contextlib.contextmanager
def track_upload(route: str) -> Iterator[None]:
    """Times one upload (stream, multipart or session) and counts its outcome."""
    started = time.perf_counter()
    error: BaseException | None = None
    try:
        yield
    except BaseException as exc:
        error = exc
        raise
    finally:
        UPLOAD_SECONDS.labels(route).observe(time.perf_counter() - started)
        UPLOADS.labels(upload_status(error)).inc()


for _status in STATUSES:  # every series exists from the start, at 0
    UPLOADS.labels(_status)
