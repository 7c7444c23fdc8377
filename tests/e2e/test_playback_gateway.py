"""Done-when of playback: through Envoy, a published clip's HLS and DASH play in FFmpeg at
every rung, every segment going through the 302 segment redirect to the CDN stand-in, with
CORS on each hop; client hints sent as headers choose the first variant."""

from __future__ import annotations

import uuid
from urllib.parse import parse_qs, urlsplit

import httpx
import m3u8
import mpegdash.parser
import pytest
from redis.asyncio import Redis
from reels.common.v1 import events_pb2

from stream_svc.adapters.playback_events import VIDEO_EVENTS_TOPIC
from tests.conftest import TEST_REDIS_URL
from tests.support.playback import (
    ffmpeg_decode,
    ffprobe_json,
)

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]

HEIGHTS = [640, 854, 1280]  # 360p, 480p and 720p of a 9:16 clip


def _token(keys, video_id: str, viewer: str | None = None) -> tuple[str, str]:
    viewer = viewer or f"viewer-{uuid.uuid4().hex[:8]}"
    return viewer, keys.signer.mint_playback(viewer, video_id)


async def _watched(config, video_id: str, viewer: str) -> set[tuple[str, str]]:
    redis = Redis.from_url(TEST_REDIS_URL)
    try:
        entries = await redis.xrange(f"{config.event_stream_prefix}{VIDEO_EVENTS_TOPIC}")
    finally:
        await redis.aclose()
    watched = set()
    for _, fields in entries:
        if fields[b"event_type"] != b"reels.common.v1.PlaybackEventRecorded":
            continue  # a PlaybackEventBatch: the events of a RecordPlaybackEvents request
        event = events_pb2.PlaybackEventRecorded.FromString(fields[b"payload"])
        if event.video_id == video_id and event.user_id == viewer:
            watched.add((event.rendition, event.segment_id))
    return watched


async def _all_segments(gateway, video_id: str, token: str) -> set[tuple[str, str]]:
    """Every (rendition, media segment) the media playlists list."""
    async with httpx.AsyncClient(base_url=gateway.url, timeout=10) as http:
        master = m3u8.loads(
            (await http.get(f"/api/v1/reels/{video_id}/manifest.m3u8?token={token}")).text
        )
        uris = [v.uri for v in master.playlists] + [m.uri for m in master.media if m.uri]
        segments = set()
        for uri in uris:
            rendition = urlsplit(uri).path.split("/")[-2]
            playlist = m3u8.loads((await http.get(uri)).text)
            segments |= {
                (rendition, urlsplit(s.uri).path.rsplit("/", 1)[1]) for s in playlist.segments
            }
    return segments


async def test_hls_plays_in_ffmpeg_at_every_rung_through_the_redirect(
    gateway, keys, clip, cdn, config
) -> None:
    viewer, token = _token(keys, clip.video_id)
    url = f"{gateway.url}/api/v1/reels/{clip.video_id}/manifest.m3u8?token={token}"
    streams = (await ffprobe_json(url))["streams"]
    assert sorted({s["height"] for s in streams if s["codec_type"] == "video"}) == HEIGHTS
    assert any(s["codec_type"] == "audio" and s["codec_name"] == "aac" for s in streams)
    viewer, token = _token(keys, clip.video_id)
    url = f"{gateway.url}/api/v1/reels/{clip.video_id}/manifest.m3u8?token={token}"
    # -map 0 decodes every stream of every variant: all three rungs and the audio.
    await ffmpeg_decode(url)
    expected = await _all_segments(gateway, clip.video_id, token)
    assert {rendition for rendition, _ in expected} == {"720p", "480p", "360p", "audio"}
    # Every media segment FFmpeg played was fetched through the counted redirect.
    assert await _watched(config, clip.video_id, viewer) == expected


async def test_dash_plays_in_ffmpeg_at_every_rung(gateway, keys, clip, cdn) -> None:
    _, token = _token(keys, clip.video_id)
    url = f"{gateway.url}/api/v1/reels/{clip.video_id}/manifest.mpd?token={token}"
    async with httpx.AsyncClient(timeout=10) as http:
        response = await http.get(url)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/dash+xml"
    mpd = mpegdash.parser.MPEGDASHParser.parse(response.text)
    assert [b.service_location for b in mpd.base_urls] == ["gateway", "cdn", "origin"]
    streams = (await ffprobe_json(url))["streams"]
    assert sorted({s["height"] for s in streams if s["codec_type"] == "video"}) == HEIGHTS
    await ffmpeg_decode(url)


@pytest.mark.parametrize(
    ("headers", "first"),
    [
        ({}, "480p"),
        ({"Downlink": "10", "ECT": "4g", "RTT": "50"}, "720p"),
        ({"Downlink": "1.2"}, "360p"),
        ({"Downlink": "10", "Save-Data": "on"}, "360p"),
        ({"ECT": "2g"}, "360p"),
    ],
)
async def test_client_hint_headers_choose_the_first_variant(
    gateway, keys, clip, headers, first
) -> None:
    _, token = _token(keys, clip.video_id)
    async with httpx.AsyncClient(base_url=gateway.url, timeout=10) as http:
        response = await http.get(
            f"/api/v1/reels/{clip.video_id}/manifest.m3u8",
            params={"token": token},
            headers=headers,
        )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/vnd.apple.mpegurl"
    playlist = m3u8.loads(response.text)
    assert urlsplit(playlist.playlists[0].uri).path.split("/")[-2] == first


async def test_segment_redirect_is_a_302_with_cors_on_every_hop(
    gateway, keys, clip, cdn, config
) -> None:
    _, token = _token(keys, clip.video_id)
    page = "http://player.example"
    path = f"/api/v1/reels/{clip.video_id}/stream/720p/seg_00001.m4s"
    async with httpx.AsyncClient(base_url=gateway.url, timeout=10) as http:
        preflight = await http.options(
            path,
            headers={
                "Origin": page,
                "Access-Control-Request-Method": "GET",
                "Access-Control-Request-Headers": "downlink, save-data",
            },
        )
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == page
        redirect = await http.get(
            path, params={"token": token, "session_id": "e2e"}, headers={"Origin": page}
        )
        assert redirect.status_code == 302, redirect.text
        location = redirect.headers["location"]
        assert location == (f"{config.cdn_url}/v1/videos/videos/{clip.video_id}/720p/seg_00001.m4s")
        assert redirect.headers["access-control-allow-origin"] == page
        assert redirect.json()["served_by"] == "SEGMENT_SERVER_CDN"
        # After a cross-origin redirect a browser sends `Origin: null`.
        segment = await http.get(location, headers={"Origin": "null"})
        assert segment.status_code == 200 and len(segment.content) > 1000
        assert segment.headers["access-control-allow-origin"] == "null"
        cached = await http.get(location, headers={"Origin": page})
        assert cached.headers["access-control-allow-origin"] == page
        assert "age" in cached.headers  # the second fetch is a CDN cache hit
        cdn_preflight = await http.options(
            location,
            headers={"Origin": page, "Access-Control-Request-Method": "GET"},
        )
        assert cdn_preflight.headers["access-control-allow-origin"] == page
        # The media playlist path lands on GetHlsManifest through the Lua filter.
        playlist = await http.get(
            f"/api/v1/reels/{clip.video_id}/stream/480p/playlist.m3u8",
            params={"token": token, "session_id": "e2e-session"},
            headers={"Origin": page},
        )
        assert playlist.status_code == 200, playlist.text
        assert playlist.headers["access-control-allow-origin"] == page
        parsed = m3u8.loads(playlist.text)
        query = parse_qs(urlsplit(parsed.segments[0].uri).query)
        assert query["session_id"] == ["e2e-session"]


async def test_playback_errors_are_json_through_envoy(gateway, keys, clip) -> None:
    unknown = str(uuid.uuid4())
    _, token = _token(keys, clip.video_id)
    _, unknown_token = _token(keys, unknown)
    async with httpx.AsyncClient(base_url=gateway.url, timeout=10) as http:
        missing = await http.get(f"/api/v1/reels/{unknown}/manifest.mpd?token={unknown_token}")
        assert missing.status_code == 404
        assert "not published" in missing.json()["message"]
        segment = await http.get(
            f"/api/v1/reels/{clip.video_id}/stream/1080p/seg_00001.m4s?token={token}"
        )
        assert segment.status_code == 404
        other = await http.get(f"/api/v1/reels/{clip.video_id}/manifest.m3u8?token={unknown_token}")
        assert other.status_code == 403
        anonymous = await http.get(f"/api/v1/reels/{clip.video_id}/manifest.m3u8")
        assert anonymous.status_code == 401
        user = await http.get(
            "/api/v1/reels/not-a-uuid/manifest.m3u8", headers=keys.user_headers("viewer-j")
        )
        assert user.status_code == 400
        # ReportBandwidthRequest has no token field: players send the playback token as a
        # bearer token (a POST from player code can always set that header).
        report = await http.post(
            f"/api/v1/reels/{clip.video_id}/bandwidth",
            headers={"authorization": f"Bearer {token}"},
            json={"throughput_kbps": 7000, "packet_loss_ratio": 0.01, "rtt_ms": 30},
        )
        assert report.status_code == 200, report.text
        assert report.json()["rendition"] == "720p"
