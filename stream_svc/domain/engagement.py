"""Rules of likes, shares and comments, and the request limits of the engagement RPCs."""

from __future__ import annotations

import base64
import binascii
import json
import re
import uuid
from dataclasses import dataclass
from datetime import datetime

from stream_svc.domain.errors import InvalidArgument

MAX_COMMENT_CHARS = 500  # the contract's limit (the table allows up to 2000)
DEFAULT_COMMENT_PAGE, MAX_COMMENT_PAGE = 20, 100
MAX_BATCH_ENGAGEMENT = 1000
MAX_MIRROR_BATCH = 500
_PLATFORM = re.compile(r"^[a-z0-9_]{1,32}$")
_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def parse_uuid(value: str, what: str = "video_id") -> str:
    """The canonical text form of a UUID, or INVALID_ARGUMENT naming the field."""
    canonical = canonical_uuid(value)
    if canonical is None:
        raise InvalidArgument(f"{what} must be a UUID, got {value!r}")
    return canonical


def canonical_uuid(value: str) -> str | None:
    """The UUID's canonical text (lower case, hyphenated), or None when it is none."""
    if isinstance(value, str) and _CANONICAL_UUID.fullmatch(value):
        # Already canonical, as ids other services send are: a match costs a tenth of a
        # parse, and a batch holds hundreds.
        return value
    try:
        return str(uuid.UUID(value))
    except (ValueError, AttributeError, TypeError):
        return None


def is_uuid(value: str) -> bool:
    return canonical_uuid(value) is not None


def share_platform(value: str) -> str:
    """A share target: a lower-case identifier of at most 32 letters, digits, underscores."""
    platform = value.strip().lower()
    if not _PLATFORM.match(platform):
        raise InvalidArgument(
            "platform must be 1 to 32 lower-case letters, digits or underscores, "
            'such as "whatsapp" or "copy_link"'
        )
    return platform


def comment_text(value: str) -> str:
    """The stored text of a comment: trimmed, 1 to 500 characters."""
    text = value.strip()
    if not text:
        raise InvalidArgument("text must not be empty")
    if len(text) > MAX_COMMENT_CHARS:
        raise InvalidArgument(f"text must be at most {MAX_COMMENT_CHARS} characters")
    if any(ord(ch) < 32 and ch not in "\n\t" for ch in text):
        raise InvalidArgument("text must not contain control characters")
    return text


def page_size(requested: int, *, default: int, maximum: int) -> int:
    if requested < 0:
        raise InvalidArgument(f"page_size must not be negative, got {requested}")
    return min(requested or default, maximum)


def bounded_limit(requested: int, *, default: int, maximum: int, what: str = "limit") -> int:
    if requested < 0 or requested > maximum:
        raise InvalidArgument(f"{what} must be between 0 and {maximum}, got {requested}")
    return requested or default


@dataclass(frozen=True)
class CommentCursor:
    """Where the next page of a video's comments starts (newest first)."""

    video_id: str
    created_at: datetime
    comment_id: str


def encode_cursor(cursor: CommentCursor) -> str:
    payload = {"v": cursor.video_id, "t": cursor.created_at.isoformat(), "c": cursor.comment_id}
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(token: str, video_id: str) -> CommentCursor | None:
    """The cursor in a page token; one we did not make, or made for another video, is
    refused."""
    if not token:
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        payload = json.loads(raw)
        cursor = CommentCursor(
            str(payload["v"]), datetime.fromisoformat(payload["t"]), str(uuid.UUID(payload["c"]))
        )
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise InvalidArgument("page_token is not a token this list returned") from None
    if cursor.video_id != video_id:
        raise InvalidArgument("page_token was issued for another video")
    if cursor.created_at.tzinfo is None:
        raise InvalidArgument("page_token is not a token this list returned")
    return cursor
