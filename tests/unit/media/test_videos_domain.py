"""The media domain without any network: ids, visibility and pipeline health."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from media_svc.domain.processing_health import HealthState, PipelineProbes, assess
from media_svc.domain.videos import (
    InvalidArgument,
    Video,
    VideoNotFound,
    VideoStatus,
    get_video_status,
    parse_video_id,
)

NOW = dt.datetime(2026, 11, 25, tzinfo=dt.UTC)


def _video(creator: str, status: VideoStatus) -> Video:
    return Video(uuid.uuid4(), creator, "t", status, 0, NOW, NOW)


class InMemoryVideos:
    def __init__(self, *videos: Video) -> None:
        self._videos = {video.video_id: video for video in videos}

    async def get(self, video_id: uuid.UUID) -> Video | None:
        return self._videos.get(video_id)


@pytest.mark.parametrize("raw", ["", "abc", "../../etc/passwd", "1234", "{}"])
def test_malformed_ids_are_invalid_arguments(raw: str) -> None:
    with pytest.raises(InvalidArgument, match="UUID"):
        parse_video_id(raw)


@pytest.mark.security
@pytest.mark.asyncio
async def test_status_visibility_follows_ownership_and_publication() -> None:
    draft, public = _video("alice", VideoStatus.PROCESSING), _video("alice", VideoStatus.PUBLISHED)
    repo = InMemoryVideos(draft, public)
    assert await get_video_status(repo, str(draft.video_id), "alice") is draft
    assert await get_video_status(repo, str(public.video_id), "bob") is public
    with pytest.raises(VideoNotFound):
        await get_video_status(repo, str(draft.video_id), "bob")
    with pytest.raises(VideoNotFound):
        await get_video_status(repo, str(uuid.uuid4()), "alice")


def _probes(**changes: object) -> PipelineProbes:
    healthy = {
        "queue_depth": 3,
        "live_workers": 2,
        "object_store_reachable": True,
        "object_store_detail": "",
        "cdn_reachable": True,
        "cdn_detail": "",
    }
    return PipelineProbes(**{**healthy, **changes})  # type: ignore[arg-type]


def test_pipeline_health_states_and_reasons() -> None:
    assert assess(_probes()).state is HealthState.HEALTHY
    assert assess(_probes()).reasons == ()
    slow = assess(_probes(queue_depth=1001))
    assert slow.state is HealthState.DEGRADED
    assert slow.reasons == ("queue depth 1001 exceeds 1000",)
    no_cdn = assess(_probes(cdn_reachable=False, cdn_detail="CDN down"))
    assert (no_cdn.state, no_cdn.reasons) == (HealthState.DEGRADED, ("CDN down",))
    dead = assess(_probes(live_workers=0, object_store_reachable=False, queue_depth=5000))
    assert dead.state is HealthState.UNHEALTHY
    assert dead.reasons[:2] == ("object store unreachable", "no transcode worker is running")
    assert "queue depth 5000 exceeds 1000" in dead.reasons
