"""AIP-158 paging for media_svc's lists: page sizes and opaque, checked page tokens."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from datetime import datetime

from media_svc.domain.catalogue import FailedVideo
from media_svc.domain.videos import InvalidArgument


def page_size_of(requested: int, *, default: int, maximum: int) -> int:
    if requested < 0:
        raise InvalidArgument(f"page_size must not be negative, got {requested}")
    return min(requested or default, maximum)


def encode_failed_cursor(last: FailedVideo) -> str:
    payload = {"t": last.last_error_at.isoformat(), "v": str(last.video_id)}
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode()


def decode_failed_cursor(token: str) -> tuple[datetime, uuid.UUID] | None:
    """The position after which the next page starts; a token we did not make is refused."""
    if not token:
        return None
    try:
        payload = json.loads(base64.urlsafe_b64decode(token.encode()))
        return datetime.fromisoformat(payload["t"]), uuid.UUID(payload["v"])
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise InvalidArgument("page_token is not a token this list returned") from None
