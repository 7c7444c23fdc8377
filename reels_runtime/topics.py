"""The event bus's topics and the message each carries: the contract between producers
and consumers beside the protos (every topic's message is in reels/common/v1/events.proto).
Producers and consumers name topics from here, so no service imports another's package."""

from __future__ import annotations

from collections.abc import Sequence

from google.protobuf.message import Message
from reels.common.v1 import events_pb2

# media_svc publishes the catalogue's life cycle.
VIDEO_UPLOADED = "video.uploaded"
VIDEO_PUBLISHED = "video.published"
VIDEO_UPDATED = "video.updated"
VIDEO_DELETED = "video.deleted"
# stream_svc publishes what viewers do.
VIDEO_EVENTS = "video_events"
VIDEO_LIKED = "video.liked"
VIDEO_UNLIKED = "video.unliked"
VIDEO_SHARED = "video.shared"
VIDEO_COMMENTED = "video.commented"

TOPIC_TYPES: dict[str, type[Message]] = {
    VIDEO_UPLOADED: events_pb2.VideoUploadedEvent,
    VIDEO_PUBLISHED: events_pb2.VideoPublishedEvent,
    VIDEO_UPDATED: events_pb2.VideoUpdatedEvent,
    VIDEO_DELETED: events_pb2.VideoDeletedEvent,
    # Entries of video_events carry a PlaybackEventBatch (VIDEO_EVENTS_TYPES).
    VIDEO_EVENTS: events_pb2.PlaybackEventRecorded,
    VIDEO_LIKED: events_pb2.VideoLikedEvent,
    VIDEO_UNLIKED: events_pb2.VideoUnlikedEvent,
    VIDEO_SHARED: events_pb2.VideoSharedEvent,
    VIDEO_COMMENTED: events_pb2.VideoCommentedEvent,
}
# What the catalogue's followers (stream_svc, embed_svc, ranking_svc) consume.
CATALOGUE_TOPICS: dict[str, type[Message]] = {
    topic: TOPIC_TYPES[topic] for topic in (VIDEO_PUBLISHED, VIDEO_UPDATED, VIDEO_DELETED)
}

# What a `video_events` entry may carry, by its envelope's event_type: the events of one
# accepted request batch (a like, share or comment as a batch of one), or a lone event
# (segment redirects, and entries of producers from before batches). Consumers accept both.
VIDEO_EVENTS_TYPES: tuple[type[Message], ...] = (
    events_pb2.PlaybackEventRecorded,
    events_pb2.PlaybackEventBatch,
)


def playback_events(message: Message) -> Sequence[events_pb2.PlaybackEventRecorded]:
    """The playback events of one `video_events` entry's message, batch or lone event."""
    if isinstance(message, events_pb2.PlaybackEventBatch):
        return message.events
    return (message,)  # type: ignore[return-value]


def playback_event_count(message: Message) -> int:
    """How many playback events a `video_events` message carries."""
    if isinstance(message, events_pb2.PlaybackEventBatch):
        return len(message.events)
    return 1
