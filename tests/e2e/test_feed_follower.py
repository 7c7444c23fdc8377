"""Done-when of the feed: a clip uploaded through Envoy is transcoded, published, and in a
follower's fresh feed within 10 s of video.published, with a playable signed HLS URL."""

from __future__ import annotations

import asyncio
import time
import uuid

import httpx
import pytest

from tests.integration.media.worker_support import worker_process
from tests.support.clips import make_clip

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]


async def _until(probe, what: str, within: float, interval: float = 0.1):
    deadline = time.monotonic() + within
    while True:
        value = await probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not within {within} s")
        await asyncio.sleep(interval)


async def test_follower_sees_an_uploaded_clip_within_ten_seconds_of_publication(
    gateway, keys, service_environ, tmp_path
) -> None:
    creator = f"creator-{uuid.uuid4().hex[:8]}"
    fan = f"fan-{uuid.uuid4().hex[:8]}"
    as_creator, as_fan = keys.user_headers(creator), keys.user_headers(fan)
    clip = make_clip(tmp_path / "clip.mp4", 360, 640, 2.0)
    async with httpx.AsyncClient(base_url=gateway.url, timeout=60) as http:
        # The creator's first call records their profile; then the fan can follow them.
        assert (await http.get("/api/v1/reels", headers=as_creator)).status_code == 200

        async def follow() -> bool:
            response = await http.post(f"/api/v1/users/{creator}/follow", json={}, headers=as_fan)
            return response.status_code == 200

        await _until(follow, "follow", 10)
        # A first page for the fan, cached: the new clip must still appear in the next one.
        assert (await http.get("/api/v1/reels", headers=as_fan)).status_code == 200
        with worker_process(service_environ, tmp_path / "worker.log"):
            with clip.open("rb") as body:
                response = await http.post(
                    "/api/v1/reels/upload",
                    headers=as_creator,
                    data={"title": "fresh from the oven", "hashtags": "#feed"},
                    files={"file": ("clip.mp4", body, "video/mp4")},
                )
            assert response.status_code == 200, response.text
            video_id = response.json()["video_id"]

            async def published() -> bool:
                status = await http.get(f"/api/v1/reels/{video_id}/status", headers=as_creator)
                state = status.json()["status"]
                assert state != "VIDEO_STATUS_FAILED", status.text
                return state == "VIDEO_STATUS_PUBLISHED"

            await _until(published, "publication", 180, interval=0.05)
        published_at = time.monotonic()

        pages: list[dict] = []

        async def in_feed() -> dict | None:
            page = (await http.get("/api/v1/reels", params={"limit": 50}, headers=as_fan)).json()
            pages.append(page)
            return next((i for i in page.get("items", []) if i["video_id"] == video_id), None)

        item = await _until(in_feed, "the clip in the follower's feed", 10, interval=0.2)
        assert time.monotonic() - published_at < 10
        assert "CANDIDATE_SOURCE_FOLLOWING" in item["sources"], (
            pages[-1].get("tier"),
            pages[-1].get("fallback_reasons"),
            item,
        )
        assert item["title"] == "fresh from the oven"
        assert item["thumbnail_url"]
        # The signed HLS URL plays through the same gateway without any header.
        hls_path = item["hls_url"]

        async def playable() -> bool:
            manifest = await http.get(hls_path)
            return manifest.status_code == 200 and manifest.text.startswith("#EXTM3U")

        await _until(playable, "the HLS master playlist", 20, interval=0.2)
