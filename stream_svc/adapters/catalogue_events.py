"""Keeps the playback catalogue in step with media_svc: consumes video.published, .updated
and .deleted in stream_svc's own consumer group."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Sequence

from reels.common.v1 import events_pb2, video_pb2

from reels_runtime.eventbus import Event
from reels_runtime.topics import CATALOGUE_TOPICS
from stream_svc.adapters.catalogue import (
    Change,
    ObjectMissing,
    PostgresPlaybackCatalogue,
    Publication,
    PublishedObjects,
)
from stream_svc.adapters.cdn import CdnManager
from stream_svc.adapters.playback_cache import RedisManifestCache
from stream_svc.domain.playback_manifests import (
    audio_channels,
    check_mpd_layout,
    object_directory,
    parse_media_playlist,
)
from stream_svc.domain.playback_model import (
    AUDIO,
    VIDEO,
    CatalogueError,
    PlaybackVideo,
    Track,
    is_rendition_name,
)

logger = logging.getLogger(__name__)

TOPICS = CATALOGUE_TOPICS
CONSUMER_GROUP = "stream_playback"

_KINDS = {video_pb2.RENDITION_KIND_VIDEO: VIDEO, video_pb2.RENDITION_KIND_AUDIO: AUDIO}


def _time(stamp) -> dt.datetime | None:  # type: ignore[no-untyped-def]
    if stamp is None or (stamp.seconds == 0 and stamp.nanos == 0):
        return None
    return stamp.ToDatetime(tzinfo=dt.UTC)


class CatalogueFeed:
    """Builds catalogue entries from events plus the playlists and MPD they point at."""

    def __init__(
        self,
        catalogue: PostgresPlaybackCatalogue,
        objects: PublishedObjects,
        cache: RedisManifestCache,
        cdn: CdnManager,
    ) -> None:
        self._catalogue = catalogue
        self._objects = objects
        self._cache = cache
        self._cdn = cdn

    async def _tracks(
        self, prefix: str, dash_key: str, renditions: Sequence[video_pb2.Rendition]
    ) -> tuple[tuple[Track, ...], str]:
        mpd = await self._objects.text(dash_key)
        channels = audio_channels(mpd)
        playlists = await asyncio.gather(
            *(self._objects.text(r.playlist_object_key) for r in renditions)
        )
        tracks = []
        for rendition, text in zip(renditions, playlists, strict=True):
            if not is_rendition_name(rendition.name):
                raise CatalogueError(f"unsupported rendition name {rendition.name!r}")
            directory = object_directory(prefix, rendition.playlist_object_key)
            if directory != f"{rendition.name}/":
                raise CatalogueError(
                    f"rendition {rendition.name} lives in {directory!r}, not {rendition.name}/"
                )
            playlist = parse_media_playlist(text)
            kind = _KINDS.get(rendition.kind)
            if kind is None:
                raise CatalogueError(f"rendition {rendition.name} has no kind")
            tracks.append(
                Track(
                    name=rendition.name,
                    kind=kind,
                    width=rendition.width,
                    height=rendition.height,
                    bandwidth_bps=rendition.bandwidth_bps,
                    average_bandwidth_bps=rendition.average_bandwidth_bps,
                    codecs=rendition.codecs,
                    frame_rate=rendition.frame_rate,
                    channels=channels.get(rendition.name, 2) if kind == AUDIO else 0,
                    init=playlist.init,
                    target_duration_s=playlist.target_duration_s,
                    segments=playlist.segments,
                )
            )
        if not any(track.kind == VIDEO for track in tracks):
            raise CatalogueError("a published video needs at least one video rendition")
        check_mpd_layout(mpd, tracks)
        return tuple(tracks), mpd

    async def _applied(self, change: Change) -> None:
        if not change.applied:
            return
        await self._cache.invalidate(change.video_id)
        await self._cdn.invalidate(change)

    async def on_published(self, event: Event) -> None:
        message: events_pb2.VideoPublishedEvent = event.message  # type: ignore[assignment]
        summary = message.video
        prefix = message.object_key_prefix
        event_id = message.event_id or event.event_id
        _, row = await self._catalogue.stored(summary.video_id)
        if row is not None and (
            row["deleted_at"] is not None or row["publish_event_id"] == event_id
        ):
            return  # deleted meanwhile, or a redelivery: nothing to read
        try:
            tracks, mpd = await self._tracks(
                prefix, message.dash_manifest_object_key, summary.renditions
            )
        except ObjectMissing as missing:
            # media_svc publishes only after every object is stored, so a missing one was
            # purged with its video: a stale event that no retry can make playable.
            logger.warning(
                "published video's objects are gone; skipped",
                extra={"video_id": summary.video_id, "object_key": str(missing)},
            )
            return
        video = PlaybackVideo(
            video_id=summary.video_id,
            creator_id=summary.creator_id,
            object_prefix=prefix,
            version=1,
            duration_s=summary.duration.ToNanoseconds() / 1e9,
            tracks=tracks,
            mpd=mpd,
        )
        change = await self._catalogue.publish(
            Publication(
                video=video,
                dash_manifest_key=message.dash_manifest_object_key,
                event_id=event_id,
                update_time=_time(summary.update_time),
                published_at=_time(summary.publish_time),
            )
        )
        await self._applied(change)
        logger.info(
            "video playable",
            extra={"video_id": video.video_id, "applied": change.applied, "tracks": len(tracks)},
        )

    async def on_updated(self, event: Event) -> None:
        message: events_pb2.VideoUpdatedEvent = event.message  # type: ignore[assignment]
        summary = message.video
        if summary.status == video_pb2.VIDEO_STATUS_DELETED:
            _, row = await self._catalogue.stored(summary.video_id)
            prefix = (row or {}).get("object_prefix") or f"videos/{summary.video_id}/"
            await self._deleted(summary.video_id, prefix, message.occur_time)
            return
        current, row = await self._catalogue.stored(summary.video_id)
        if current is None or row is None:
            # Not playable here (yet): its video.published carries everything needed.
            return
        update_time = _time(summary.update_time)
        if _renditions_changed(current, summary.renditions):
            try:
                tracks, mpd = await self._tracks(
                    current.object_prefix, row["dash_manifest_key"], summary.renditions
                )
            except ObjectMissing as missing:
                logger.warning(
                    "updated video's objects are gone; skipped",
                    extra={"video_id": summary.video_id, "object_key": str(missing)},
                )
                return
            changed = PlaybackVideo(
                video_id=current.video_id,
                creator_id=summary.creator_id or current.creator_id,
                object_prefix=current.object_prefix,
                version=current.version,
                duration_s=summary.duration.ToNanoseconds() / 1e9 or current.duration_s,
                tracks=tracks,
                mpd=mpd,
            )
            change = await self._catalogue.publish(
                Publication(
                    video=changed,
                    dash_manifest_key=row["dash_manifest_key"],
                    event_id=message.event_id or event.event_id,
                    update_time=update_time,
                    published_at=_time(summary.publish_time),
                )
            )
            await self._applied(change)
            return
        await self._catalogue.touch(summary.video_id, update_time)
        # Nothing playback serves changed, but a fresh render costs little.
        await self._cache.invalidate(summary.video_id)

    async def on_deleted(self, event: Event) -> None:
        message: events_pb2.VideoDeletedEvent = event.message  # type: ignore[assignment]
        await self._deleted(message.video_id, message.object_key_prefix, message.occur_time)

    async def _deleted(self, video_id: str, prefix: str, occurred) -> None:  # type: ignore[no-untyped-def]
        deleted_at = _time(occurred) or dt.datetime.now(dt.UTC)
        change = await self._catalogue.delete(video_id, prefix, deleted_at)
        await self._applied(change)
        # Even a repeated deletion drops whatever a racing reader may have cached.
        if not change.applied:
            await self._cache.invalidate(video_id)
        logger.info("video no longer playable", extra={"video_id": video_id})


def _renditions_changed(current: PlaybackVideo, renditions: Sequence[video_pb2.Rendition]) -> bool:
    if not renditions:
        return False  # an edit that does not carry renditions keeps them
    known = {
        (t.name, t.bandwidth_bps, t.average_bandwidth_bps, t.codecs, t.width, t.height)
        for t in current.tracks
    }
    seen = {
        (r.name, r.bandwidth_bps, r.average_bandwidth_bps, r.codecs, r.width, r.height)
        for r in renditions
    }
    return known != seen
