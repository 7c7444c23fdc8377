"""Segment delivery when components really stop: the CDN stand-in killed → redirects go to
the origin and FFmpeg still plays through Envoy; CDN and origin both killed → a friendly
503 JSON from Envoy."""

from __future__ import annotations

import asyncio
import time
import uuid
from urllib.parse import parse_qs, urlsplit

import httpx
import mpegdash.parser
import pytest
import pytest_asyncio

from reels_runtime import localstack
from tests.conftest import SeaweedFS, _bucket_exists, gateway_config
from tests.support.playback import (
    cdn_standin,
    ffmpeg_decode,
)
from tests.support.processes import free_port, http_status, running, stop_group, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.chaos, pytest.mark.asyncio(loop_scope="session")]


async def _redirect(http: httpx.AsyncClient, video_id: str, token: str) -> httpx.Response:
    return await http.get(
        f"/api/v1/reels/{video_id}/stream/720p/seg_00001.m4s", params={"token": token}
    )


async def _wait_for_location(http, video_id: str, token: str, prefix: str) -> httpx.Response:
    deadline = time.monotonic() + 10
    while True:
        response = await _redirect(http, video_id, token)
        if response.status_code == 302 and response.headers["location"].startswith(prefix):
            return response
        assert time.monotonic() < deadline, response.text
        await asyncio.sleep(0.2)


async def test_cdn_stopped_sends_players_to_the_origin(
    gateway, keys, clip, cdn, config, seaweedfs
) -> None:
    token = keys.signer.mint_playback(f"viewer-{uuid.uuid4().hex[:8]}", clip.video_id)
    async with httpx.AsyncClient(base_url=gateway.url, timeout=10) as http:
        before = await _wait_for_location(http, clip.video_id, token, config.cdn_url)
        assert before.json()["served_by"] == "SEGMENT_SERVER_CDN"
        stop_group(cdn.process)  # the CDN stand-in is really gone
        after = await _wait_for_location(http, clip.video_id, token, seaweedfs.endpoint_url)
        assert after.json()["served_by"] == "SEGMENT_SERVER_ORIGIN"
        location = after.headers["location"]
        # The origin URL is presigned and works without any other credential.
        assert "X-Amz-Signature" in parse_qs(urlsplit(location).query)
        segment = await http.get(location, headers={"Origin": "http://player.example"})
        assert segment.status_code == 200 and len(segment.content) > 1000
        assert segment.headers["access-control-allow-origin"] in ("*", "http://player.example")
        mpd = mpegdash.parser.MPEGDASHParser.parse(
            (await http.get(f"/api/v1/reels/{clip.video_id}/manifest.mpd?token={token}")).text
        )
        assert [b.service_location for b in mpd.base_urls] == ["gateway", "origin", "cdn"]
    # Playback goes on, every segment through the redirect to the origin.
    await ffmpeg_decode(f"{gateway.url}/api/v1/reels/{clip.video_id}/manifest.m3u8?token={token}")
    await ffmpeg_decode(f"{gateway.url}/api/v1/reels/{clip.video_id}/manifest.mpd?token={token}")


def _port() -> int:
    # SeaweedFS also opens port + 10000 for gRPC: keep that below 65536.
    while (port := free_port()) > 55000:
        pass
    return port


@pytest_asyncio.fixture(loop_scope="session")
async def own_delivery(config, keys, tmp_path, media_server, ranking_server):
    """A SeaweedFS, a CDN stand-in in front of it, a stream_svc using both and an Envoy in
    front of that stream_svc, all this test's own, so stopping them disturbs nothing else."""
    from stream_svc.server import create_server

    ports = localstack.SeaweedPorts(
        s3=_port(), master=_port(), volume=_port(), filer=_port(), admin=_port()
    )
    store = SeaweedFS(
        f"http://127.0.0.1:{ports.s3}",
        config.s3_access_key_id,
        config.s3_secret_access_key,
        config.s3_bucket_video,
    )
    identities = localstack.write_s3_identities(
        tmp_path / "identities.json", store.access_key, store.secret_key
    )
    command = localstack.seaweed_command(tmp_path / "seaweedfs", identities, store.bucket, ports)
    with running(command, tmp_path / "seaweedfs.log") as weed:
        wait_until(lambda: _bucket_exists(store), 30, "SeaweedFS S3 bucket")
        cdn_url = f"http://127.0.0.1:{free_port()}"
        with cdn_standin(cdn_url, store.endpoint_url, tmp_path / "cdn") as own_cdn:
            stream = await create_server(
                config.replace(
                    service_name="stream_svc",
                    s3_endpoint_url=store.endpoint_url,
                    cdn_url=cdn_url,
                    # Its own Redis namespace: its consumers and caches touch nothing shared;
                    # the catalogue it reads is the session's (PostgreSQL).
                    redis_namespace=f"reels-own-{uuid.uuid4().hex[:8]}",
                )
            )
            await stream.start()
            try:
                path, port, admin = gateway_config(
                    keys,
                    tmp_path / "envoy.yaml",
                    media_server.target,
                    stream.target,
                    ranking_server.target,
                )
                with running(localstack.envoy_command(path), tmp_path / "envoy.log"):
                    wait_until(
                        lambda: http_status(f"http://127.0.0.1:{admin}/ready") == 200, 30, "Envoy"
                    )
                    yield f"http://127.0.0.1:{port}", weed, own_cdn
            finally:
                await stream.stop(grace=1)


async def test_cdn_and_origin_stopped_answer_a_friendly_503(own_delivery, keys, clip) -> None:
    gateway_url, weed, own_cdn = own_delivery
    token = keys.signer.mint_playback(f"viewer-{uuid.uuid4().hex[:8]}", clip.video_id)
    async with httpx.AsyncClient(base_url=gateway_url, timeout=10) as http:
        working = await _redirect(http, clip.video_id, token)
        assert working.status_code == 302
        assert working.json()["served_by"] == "SEGMENT_SERVER_CDN"
        stop_group(own_cdn.process)
        stop_group(weed)
        deadline = time.monotonic() + 10
        while (response := await _redirect(http, clip.video_id, token)).status_code == 302:
            assert time.monotonic() < deadline, "still redirecting with both down"
            await asyncio.sleep(0.2)
        assert response.status_code == 503
        assert response.headers["content-type"].startswith("application/json")
        body = response.json()
        assert "temporarily unavailable" in body["message"]
        assert "try again" in body["message"]
        # Manifests still come: they live in stream_svc, not in the object store.
        manifest = await http.get(f"/api/v1/reels/{clip.video_id}/manifest.m3u8?token={token}")
        assert manifest.status_code == 200
