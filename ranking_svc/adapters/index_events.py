"""Keeps ranking's index of published videos in step with media_svc's events."""

from __future__ import annotations

import datetime as dt
import logging

from reels.common.v1 import events_pb2, video_pb2

from ranking_svc.adapters.postgres_index import IndexedVideo, PostgresIndex
from ranking_svc.adapters.redis_store import RedisFeedStore
from reels_runtime.eventbus import Event
from reels_runtime.topics import CATALOGUE_TOPICS

logger = logging.getLogger(__name__)

TOPICS = CATALOGUE_TOPICS
CONSUMER_GROUP = "ranking_index"


def _time(stamp: object) -> dt.datetime | None:
    if stamp is None or (stamp.seconds == 0 and stamp.nanos == 0):  # type: ignore[attr-defined]
        return None
    return stamp.ToDatetime(tzinfo=dt.UTC)  # type: ignore[attr-defined]


def indexed(summary: video_pb2.VideoSummary, occurred: dt.datetime | None) -> IndexedVideo:
    now = dt.datetime.now(dt.UTC)
    published = _time(summary.publish_time) or occurred or now
    return IndexedVideo(
        video_id=summary.video_id,
        creator_id=summary.creator_id,
        title=summary.title,
        description=summary.description,
        hashtags=[h.lower().lstrip("#") for h in summary.hashtags if h.strip("#")],
        sound_id=summary.sound_id,
        duration_s=summary.duration.ToNanoseconds() / 1e9,
        thumbnail_url=summary.thumbnail_url,
        preview_url=summary.preview_url,
        published_at=published,
        updated_at=_time(summary.update_time) or occurred or now,
    )


class IndexFeed:
    def __init__(self, index: PostgresIndex, store: RedisFeedStore) -> None:
        self._index = index
        self._store = store

    async def on_published(self, event: Event) -> None:
        message: events_pb2.VideoPublishedEvent = event.message  # type: ignore[assignment]
        video = indexed(message.video, _time(message.occur_time))
        applied = await self._index.upsert(video)
        if applied:
            # Followers' fresh pages are rebuilt, so the video is in their next feed.
            await self._store.bump_generations(await self._index.followers(video.creator_id))
        logger.info("video indexed", extra={"video_id": video.video_id, "applied": applied})

    async def on_updated(self, event: Event) -> None:
        message: events_pb2.VideoUpdatedEvent = event.message  # type: ignore[assignment]
        summary = message.video
        occurred = _time(message.occur_time)
        if summary.status == video_pb2.VIDEO_STATUS_DELETED:
            await self._deleted(summary.video_id, summary.creator_id, occurred)
            return
        await self._index.update(indexed(summary, occurred))

    async def on_deleted(self, event: Event) -> None:
        message: events_pb2.VideoDeletedEvent = event.message  # type: ignore[assignment]
        await self._deleted(message.video_id, message.creator_id, _time(message.occur_time))

    async def _deleted(self, video_id: str, creator_id: str, at: dt.datetime | None) -> None:
        await self._index.delete(video_id, creator_id, at or dt.datetime.now(dt.UTC))
        # Hot lists are shared by everyone: rebuild them rather than serve a deleted video.
        await self._store.forget_hot()
        logger.info("video removed from the index", extra={"video_id": video_id})
