"""Changes to a video after upload: deletion, metadata edits, dead-letter replay."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from media_svc.domain.metadata import (
    MetadataPolicy,
    VideoMetadata,
    normalise_description,
    normalise_hashtags,
    normalise_sound_id,
    normalise_title,
)
from media_svc.domain.videos import (
    InvalidArgument,
    MediaError,
    VideoNotFound,
    VideoStatus,
    parse_video_id,
)


class PermissionDenied(MediaError):
    """The caller is authenticated but this video is not theirs to change."""


class NotReplayable(MediaError):
    """Only a dead-lettered (failed) video can be replayed."""


@dataclass(frozen=True)
class Deletion:
    video_id: uuid.UUID
    purge_at: datetime


@dataclass(frozen=True)
class FailedVideo:
    video_id: uuid.UUID
    creator_id: str
    title: str
    reason: str
    attempts: int
    first_failed_at: datetime
    last_error_at: datetime
    replay_count: int


class CatalogueStore(Protocol):
    async def owner_and_status(self, video_id: uuid.UUID) -> tuple[str, VideoStatus] | None: ...
    async def mark_deleted(self, video_id: uuid.UUID, grace_s: float) -> datetime: ...
    async def update_metadata(self, video_id: uuid.UUID, changes: dict[str, Any]) -> None: ...
    async def replay(self, video_id: uuid.UUID) -> int | None: ...
    async def failed(self, limit: int, after: datetime | None) -> list[FailedVideo]: ...


async def _owned_video(
    store: CatalogueStore, raw_id: str, caller: str
) -> tuple[uuid.UUID, VideoStatus]:
    video_id = parse_video_id(raw_id)
    found = await store.owner_and_status(video_id)
    if found is None:
        raise VideoNotFound(f"video {video_id} not found")
    owner, status = found
    if owner != caller:
        # Published videos are public, so refusing (rather than "not found") leaks nothing.
        if status is VideoStatus.PUBLISHED:
            raise PermissionDenied(f"only the creator of video {video_id} may change it")
        raise VideoNotFound(f"video {video_id} not found")
    return video_id, status


async def delete_video(store: CatalogueStore, raw_id: str, caller: str, grace_s: float) -> Deletion:
    """Creator only; idempotent: deleting a deleted video answers the same purge time."""
    video_id, _ = await _owned_video(store, raw_id, caller)
    return Deletion(video_id, await store.mark_deleted(video_id, grace_s))


async def update_video(
    store: CatalogueStore, raw_id: str, caller: str, changes: dict[str, Any]
) -> uuid.UUID:
    """Creator only; `changes` are already validated and normalised metadata fields."""
    if not changes:
        raise InvalidArgument("nothing to update: name at least one field in update_mask")
    video_id, status = await _owned_video(store, raw_id, caller)
    if status is VideoStatus.DELETED:
        raise VideoNotFound(f"video {video_id} not found")
    await store.update_metadata(video_id, changes)
    return video_id


async def replay_failed(store: CatalogueStore, raw_id: str) -> tuple[uuid.UUID, int]:
    """Sends a dead-lettered video through the pipeline again; returns its replay count."""
    video_id = parse_video_id(raw_id)
    replay_count = await store.replay(video_id)
    if replay_count is None:
        raise NotReplayable(f"video {video_id} is not in the dead-letter list")
    return video_id, replay_count


EDITABLE_FIELDS = ("title", "description", "hashtags", "sound_id")


def validate_changes(raw: Mapping[str, Any], policy: MetadataPolicy) -> dict[str, Any]:
    """Normalises the edited fields with the upload rules and moderates the new values."""
    unknown = sorted(set(raw) - set(EDITABLE_FIELDS))
    if unknown:
        raise InvalidArgument(
            f"update_mask names fields that cannot be edited: {', '.join(unknown)}"
            f" (editable: {', '.join(EDITABLE_FIELDS)})"
        )
    changes: dict[str, Any] = {}
    if "title" in raw:
        changes["title"] = normalise_title(raw["title"])
    if "description" in raw:
        changes["description"] = normalise_description(raw["description"])
    if "hashtags" in raw:
        changes["hashtags"] = list(normalise_hashtags(raw["hashtags"]))
    if "sound_id" in raw:
        changes["sound_id"] = normalise_sound_id(raw["sound_id"])
    # Only refuse-mode moderation applies to edits; flags are raised at upload.
    policy.moderate(
        VideoMetadata(
            title=changes.get("title", ""),
            description=changes.get("description", ""),
            hashtags=tuple(changes.get("hashtags", ())),
            sound_id=changes.get("sound_id"),
        )
    )
    return changes
