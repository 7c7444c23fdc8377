"""The topics media_svc publishes and the message each one carries."""

from __future__ import annotations

from google.protobuf.message import Message
from reels.common.v1 import events_pb2

VIDEO_UPLOADED = "video.uploaded"
VIDEO_PUBLISHED = "video.published"
VIDEO_UPDATED = "video.updated"
VIDEO_DELETED = "video.deleted"

TOPIC_TYPES: dict[str, type[Message]] = {
    VIDEO_UPLOADED: events_pb2.VideoUploadedEvent,
    VIDEO_PUBLISHED: events_pb2.VideoPublishedEvent,
    VIDEO_UPDATED: events_pb2.VideoUpdatedEvent,
    VIDEO_DELETED: events_pb2.VideoDeletedEvent,
}
