"""Done-when of the media pipeline: a clip uploaded through Envoy is published with rising
progress, and the HLS and DASH it produced play in FFmpeg from the object store at every rung."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import time
import uuid

import httpx
import pytest

from tests.integration.media.worker_support import worker_process
from tests.support.clips import make_clip

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]

# Debian's ffmpeg CLI, installed by `make venv` (scripts/ensure_system_packages.sh): a
# player independent of the PyAV build that produced the files.
FFPROBE = shutil.which("ffprobe") or "ffprobe"
FFMPEG = shutil.which("ffmpeg") or "ffmpeg"


def ffprobe_streams(url: str) -> list[dict]:
    result = subprocess.run(
        [FFPROBE, "-v", "error", "-show_streams", "-of", "json", url],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(result.stdout)["streams"]


def ffmpeg_decodes(url: str) -> None:
    """Decodes every frame of `url` (a media playlist) to nowhere; errors fail the test."""
    subprocess.run(
        [FFMPEG, "-v", "error", "-xerror", "-i", url, "-f", "null", "-"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


async def test_uploaded_clip_is_published_and_plays_at_every_rung(
    gateway, keys, service_environ, seaweedfs, tmp_path
) -> None:
    clip = make_clip(tmp_path / "tall.mp4", 720, 1280, 3.0)
    headers = keys.user_headers(f"creator-{uuid.uuid4().hex[:8]}")
    with worker_process(service_environ, tmp_path / "worker.log"):
        async with httpx.AsyncClient(base_url=gateway.url, timeout=60) as http:
            with clip.open("rb") as body:
                response = await http.post(
                    "/api/v1/reels/upload",
                    headers=headers,
                    data={"title": "three rungs", "hashtags": "#reels #test"},
                    files={"file": ("tall.mp4", body, "video/mp4")},
                )
            assert response.status_code == 200, response.text
            video_id = response.json()["video_id"]
            progress: list[int] = []
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                status = (
                    await http.get(f"/api/v1/reels/{video_id}/status", headers=headers)
                ).json()
                progress.append(status["progress_percent"])
                if status["status"] == "VIDEO_STATUS_PUBLISHED":
                    break
                assert status["status"] != "VIDEO_STATUS_FAILED", status
                await asyncio.sleep(0.05)
            else:
                raise AssertionError(f"not published in time: {status}")
    assert progress == sorted(progress), "progress never goes back"
    assert len({p for p in progress if 0 < p < 100}) >= 3, progress
    assert progress[-1] == 100
    # Anonymous reads, as a player (or the CDN) does them: renditions are public.
    base = f"{seaweedfs.endpoint_url}/{seaweedfs.bucket}/videos/{video_id}"
    hls = ffprobe_streams(f"{base}/master.m3u8")
    heights = sorted({s["height"] for s in hls if s["codec_type"] == "video"})
    assert heights == [640, 854, 1280]  # 360p, 480p, 720p of a 9:16 source (short side)
    assert any(s["codec_type"] == "audio" and s["codec_name"] == "aac" for s in hls)
    dash = ffprobe_streams(f"{base}/manifest.mpd")
    assert sorted({s["height"] for s in dash if s["codec_type"] == "video"}) == heights
    for rung in ("720p", "480p", "360p", "audio"):
        ffmpeg_decodes(f"{base}/{rung}/playlist.m3u8")
    async with httpx.AsyncClient(timeout=10) as anonymous:
        original = await anonymous.get(f"{base}/original")
    assert original.status_code == 403  # the original is never public
