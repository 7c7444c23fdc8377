"""The topics media_svc publishes and the message each one carries."""

from __future__ import annotations

from google.protobuf.message import Message

from reels_runtime.topics import TOPIC_TYPES as ALL_TOPIC_TYPES
from reels_runtime.topics import (
    VIDEO_DELETED,
    VIDEO_PUBLISHED,
    VIDEO_UPDATED,
    VIDEO_UPLOADED,
)

__all__ = ["TOPIC_TYPES", "VIDEO_DELETED", "VIDEO_PUBLISHED", "VIDEO_UPDATED", "VIDEO_UPLOADED"]

TOPIC_TYPES: dict[str, type[Message]] = {
    topic: ALL_TOPIC_TYPES[topic]
    for topic in (VIDEO_UPLOADED, VIDEO_PUBLISHED, VIDEO_UPDATED, VIDEO_DELETED)
}
