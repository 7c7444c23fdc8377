"""Done-when of playback in browsers: through Envoy, a published clip's HLS master playlist
plays in hls.js and its DASH MPD in dash.js, in headless Chromium, on a page of another
origin, at every rung the manifest offers: each rung forced in turn (ABR off) decodes frames
of exactly that rung's size while the clock advances. Every hop (the gateway's manifests
and 302 segment redirects, the CDN stand-in, and the origin once the CDN is stopped) has
to answer CORS as the browser demands, or the players fail."""

from __future__ import annotations

import asyncio
import time
import uuid
from urllib.parse import urlsplit

import httpx
import m3u8
import mpegdash.parser
import pytest
import pytest_asyncio

from tests.support.browser import (
    BrowserDriver,
    Playback,
    ensure_node_modules,
    player_url,
    serve_player_page,
)
from tests.support.processes import stop_group

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]

# Seconds the <video> clock must advance on frames of the forced rung's exact size (the clip
# is 4 s of 2 s segments; each rung is played from the start).
THRESHOLD_S = 1.0


@pytest.fixture(scope="module")
def node_modules():
    return ensure_node_modules()


@pytest.fixture(scope="module")
def page_origin(node_modules):
    """The player page's origin: a port of its own, so every request the players make to
    the gateway, the CDN or the object store is cross-origin."""
    with serve_player_page(node_modules) as origin:
        yield origin


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def browser(node_modules, tmp_path_factory):
    log = tmp_path_factory.mktemp("browser") / "driver.log"
    async with BrowserDriver.running(node_modules, log) as driver:
        yield driver


def _manifest_url(gateway, keys, video_id: str, name: str) -> str:
    token = keys.signer.mint_playback(f"viewer-{uuid.uuid4().hex[:8]}", video_id)
    return f"{gateway.url}/api/v1/reels/{video_id}/{name}?token={token}"


async def _hls_rungs(url: str) -> list[tuple[int, int]]:
    """(width, height) of every variant of the master playlist."""
    async with httpx.AsyncClient(timeout=10) as http:
        response = await http.get(url)
    assert response.status_code == 200, response.text
    variants = m3u8.loads(response.text).playlists
    assert variants, response.text
    return sorted(tuple(v.stream_info.resolution) for v in variants)


async def _dash_rungs(url: str) -> list[tuple[str, int, int]]:
    """(id, width, height) of every video Representation of the MPD."""
    async with httpx.AsyncClient(timeout=10) as http:
        response = await http.get(url)
    assert response.status_code == 200, response.text
    mpd = mpegdash.parser.MPEGDASHParser.parse(response.text)
    rungs = []
    for period in mpd.periods:
        for adaptation in period.adaptation_sets:
            for r in adaptation.representations:
                mime = r.mime_type or adaptation.mime_type or ""
                if mime.startswith("video/") or adaptation.content_type == "video":
                    width = r.width or adaptation.width
                    height = r.height or adaptation.height
                    rungs.append((r.id, int(width), int(height)))
    assert rungs, response.text
    return sorted(rungs)


def _assert_played_every_rung(playback: Playback, expected: list[tuple[int, int]]) -> None:
    why = playback.diagnostics()
    assert playback.error is None, why
    assert not playback.fatal, why
    assert playback.start and playback.start["ok"], why  # it plays before any rung is forced
    # The player saw exactly the rungs the manifest offers (none dropped as unplayable).
    assert sorted((r["width"], r["height"]) for r in playback.rungs) == expected, why
    assert len(playback.results) == len(playback.rungs), why
    for rung, result in zip(playback.rungs, playback.results, strict=True):
        assert result["ok"], f"rung {rung} did not play: {why}"
        # Decoded frames of exactly this rung's size, with the clock advancing on them.
        assert (result["width"], result["height"]) == (rung["width"], rung["height"]), why
        assert result["to"] - result["from"] >= THRESHOLD_S, why
        assert result["playerRung"] == rung["id"], why  # the player says so too


def _assert_cors_hops(playback: Playback, origin: str, gateway_url: str, segments_from: str):
    """Every response the players read cross-origin allowed the page's origin, the segments
    came through the gateway's redirect from `segments_from`, and nothing failed."""
    why = playback.diagnostics()
    crossed = [
        r
        for r in playback.requests
        if r["url"].startswith("http") and not r["url"].startswith(origin)
    ]
    assert crossed, why
    # A player aborts the downloads of the rung it leaves (net::ERR_ABORTED): not a failure.
    failed = [
        r
        for r in crossed
        if r.get("failure", "net::ERR_ABORTED") != "net::ERR_ABORTED" or r.get("status", 0) >= 400
    ]
    assert not failed, why
    crossed = [r for r in crossed if "status" in r]
    for response in crossed:
        # After a cross-origin redirect the browser sends `Origin: null`.
        assert response["acao"] in (origin, "null", "*"), response
    manifests = [r for r in crossed if "/manifest." in urlsplit(r["url"]).path]
    assert manifests and all(r["url"].startswith(gateway_url) for r in manifests), why
    assert all(r["acao"] == origin for r in manifests), why
    segments = [r for r in crossed if urlsplit(r["url"]).path.endswith(".m4s")]
    redirects = [r for r in segments if r["status"] == 302]
    fetched = [r for r in segments if r["status"] in (200, 206)]
    assert redirects and all(r["url"].startswith(gateway_url) for r in redirects), why
    assert fetched and all(r["url"].startswith(segments_from) for r in fetched), why
    # Everything not served by the gateway (media and init segments) came from there too.
    elsewhere = [r for r in crossed if not r["url"].startswith(gateway_url)]
    assert all(r["url"].startswith(segments_from) for r in elsewhere), why


async def test_hls_js_plays_every_rung_from_another_origin(
    gateway, keys, clip, cdn, browser, page_origin
) -> None:
    manifest = _manifest_url(gateway, keys, clip.video_id, "manifest.m3u8")
    expected = await _hls_rungs(manifest)
    playback = await browser.play(player_url(page_origin, "hls", manifest), threshold_s=THRESHOLD_S)
    assert playback.player and playback.player.startswith("hls.js"), playback.diagnostics()
    _assert_played_every_rung(playback, expected)
    _assert_cors_hops(playback, page_origin, gateway.url, cdn.url)


async def test_dash_js_plays_every_rung_from_another_origin(
    gateway, keys, clip, cdn, browser, page_origin
) -> None:
    manifest = _manifest_url(gateway, keys, clip.video_id, "manifest.mpd")
    expected = await _dash_rungs(manifest)
    playback = await browser.play(
        player_url(page_origin, "dash", manifest), threshold_s=THRESHOLD_S
    )
    assert playback.player and playback.player.startswith("dash.js"), playback.diagnostics()
    _assert_played_every_rung(playback, [(w, h) for _, w, h in expected])
    # dash.js's ids are the MPD's Representation ids.
    assert sorted(r["id"] for r in playback.rungs) == sorted(i for i, _, _ in expected)
    _assert_cors_hops(playback, page_origin, gateway.url, cdn.url)


async def _wait_for_origin(gateway, keys, video_id: str, origin_url: str) -> None:
    """Until stream_svc's health probe has seen the CDN go: redirects point at the origin."""
    token = keys.signer.mint_playback(f"viewer-{uuid.uuid4().hex[:8]}", video_id)
    path = f"/api/v1/reels/{video_id}/stream/360p/seg_00001.m4s"
    deadline = time.monotonic() + 30
    async with httpx.AsyncClient(base_url=gateway.url, timeout=10) as http:
        while True:
            response = await http.get(path, params={"token": token})
            if response.status_code == 302 and response.headers["location"].startswith(origin_url):
                return
            assert time.monotonic() < deadline, (response.status_code, response.text)
            await asyncio.sleep(0.2)


@pytest.mark.chaos
async def test_players_go_on_from_the_origin_when_the_cdn_stops(
    gateway, keys, clip, cdn, browser, page_origin, seaweedfs
) -> None:
    """Last in this module: it stops the module's CDN stand-in for good."""
    stop_group(cdn.process)  # the CDN stand-in is really gone
    await _wait_for_origin(gateway, keys, clip.video_id, seaweedfs.endpoint_url)
    hls = _manifest_url(gateway, keys, clip.video_id, "manifest.m3u8")
    playback = await browser.play(player_url(page_origin, "hls", hls), threshold_s=THRESHOLD_S)
    _assert_played_every_rung(playback, await _hls_rungs(hls))
    _assert_cors_hops(playback, page_origin, gateway.url, seaweedfs.endpoint_url)
    dash = _manifest_url(gateway, keys, clip.video_id, "manifest.mpd")
    playback = await browser.play(player_url(page_origin, "dash", dash), threshold_s=THRESHOLD_S)
    _assert_played_every_rung(playback, [(w, h) for _, w, h in await _dash_rungs(dash)])
    _assert_cors_hops(playback, page_origin, gateway.url, seaweedfs.endpoint_url)
