"""Protobuf views of a `media.videos` row: the summary, and the events that carry it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from google.protobuf import duration_pb2, timestamp_pb2
from reels.common.v1 import events_pb2, video_pb2

from media_svc.domain.jobs import Publication

PublicUrl = Callable[[str], str]

_STATUS = {
    "uploading": video_pb2.VIDEO_STATUS_UPLOADING,
    "processing": video_pb2.VIDEO_STATUS_PROCESSING,
    "published": video_pb2.VIDEO_STATUS_PUBLISHED,
    "failed": video_pb2.VIDEO_STATUS_FAILED,
    "deleted": video_pb2.VIDEO_STATUS_DELETED,
}
_KIND = {"video": video_pb2.RENDITION_KIND_VIDEO, "audio": video_pb2.RENDITION_KIND_AUDIO}


def timestamp(value: datetime | None) -> timestamp_pb2.Timestamp | None:
    if value is None:
        return None
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(value)
    return stamp


def duration(seconds: float | None) -> duration_pb2.Duration | None:
    if seconds is None:
        return None
    span = duration_pb2.Duration()
    span.FromNanoseconds(round(seconds * 1e9))
    return span


def rendition(record: Mapping[str, Any]) -> video_pb2.Rendition:
    return video_pb2.Rendition(
        name=record["name"],
        kind=_KIND.get(record.get("kind", "video"), video_pb2.RENDITION_KIND_UNSPECIFIED),
        width=record.get("width", 0),
        height=record.get("height", 0),
        bandwidth_bps=record.get("bandwidth_bps", 0),
        average_bandwidth_bps=record.get("average_bandwidth_bps", 0),
        codecs=record.get("codecs", ""),
        frame_rate=record.get("frame_rate", 0.0),
        playlist_object_key=record.get("playlist_key", ""),
    )


def video_summary(row: Mapping[str, Any], public_url: PublicUrl) -> video_pb2.VideoSummary:
    """The summary every consumer builds its own copy from."""
    thumbnail, preview = row.get("thumbnail_key"), row.get("preview_key")
    return video_pb2.VideoSummary(
        video_id=str(row["id"]),
        creator_id=row["creator_id"],
        title=row["title"] or "",
        description=row["description"] or "",
        hashtags=list(row["hashtags"] or ()),
        sound_id=row["sound_id"] or "",
        duration=duration(row["duration_seconds"]),
        status=_STATUS[row["status"]],
        publish_time=timestamp(row["published_at"]),
        thumbnail_url=public_url(thumbnail) if thumbnail else "",
        preview_url=public_url(preview) if preview else "",
        renditions=[rendition(r) for r in row["renditions"] or ()],
        create_time=timestamp(row["created_at"]),
        update_time=timestamp(row["updated_at"]),
    )


def video_published(
    row: Mapping[str, Any], publication: Publication, public_url: PublicUrl
) -> events_pb2.VideoPublishedEvent:
    return events_pb2.VideoPublishedEvent(
        video=video_summary(row, public_url),
        object_key_prefix=row["object_prefix"] or "",
        hls_master_object_key=publication.master_key,
        dash_manifest_object_key=publication.dash_key,
        thumbnail_object_key=publication.thumbnail_key,
        preview_object_key=publication.preview_key,
        embedding_model_version=publication.embedding_model_version or "",
    )


def video_uploaded(row: Mapping[str, Any]) -> events_pb2.VideoUploadedEvent:
    return events_pb2.VideoUploadedEvent(
        video_id=str(row["id"]),
        creator_id=row["creator_id"],
        original_object_key=row["original_key"] or "",
        content_type=row["content_type"] or "",
        size_bytes=row["size_bytes"] or 0,
        duration=duration(row["duration_seconds"]),
        width=row["width"] or 0,
        height=row["height"] or 0,
        object_key_prefix=row["object_prefix"] or "",
    )
