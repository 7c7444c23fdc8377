"""Playback over native gRPC against a clip really transcoded and published: manifests,
bitrate choice, segment locations, watch_segment events, bandwidth reports, bad input,
deletion and re-transcoding as stream_svc learns them from the event bus."""

from __future__ import annotations

import asyncio
import uuid
from urllib.parse import parse_qs, urlsplit

import grpc
import httpx
import m3u8
import mpegdash.parser
import psycopg
import pytest
import pytest_asyncio
from psycopg.rows import dict_row
from redis.asyncio import Redis
from reels.common.v1 import events_pb2, playback_pb2
from reels.media.v1 import media_service_pb2 as media_pb2
from reels.media.v1 import media_service_pb2_grpc as media_grpc
from reels.stream.v1 import stream_service_pb2 as stream_pb2
from reels.stream.v1 import stream_service_pb2_grpc as stream_grpc

from reels_runtime.auth import PrincipalKind, TokenVerifier
from reels_runtime.eventbus import EventBus
from stream_svc.adapters.playback_events import VIDEO_EVENTS_TOPIC
from tests.conftest import TEST_REDIS_URL
from tests.support.playback import (
    publish_clip,
    wait_not_found,
    wait_playable,
)

pytestmark = [pytest.mark.asyncio(loop_scope="session")]

RUNGS = {"720p": (720, 1280), "480p": (480, 854), "360p": (360, 640)}


@pytest_asyncio.fixture(loop_scope="session")
async def stub(stream_server):
    async with grpc.aio.insecure_channel(stream_server.target) as channel:
        yield stream_grpc.StreamServiceStub(channel)


def _viewer(keys, name: str = "viewer"):
    return keys.user_metadata(f"{name}-{uuid.uuid4().hex[:8]}")


async def _master(stub, metadata, video_id: str, **hints) -> m3u8.M3U8:
    body = await stub.GetHlsManifest(
        stream_pb2.GetHlsManifestRequest(video_id=video_id, **hints), metadata=metadata, timeout=5
    )
    assert body.content_type == "application/vnd.apple.mpegurl"
    return m3u8.loads(body.data.decode())


def _first_rung(playlist: m3u8.M3U8) -> str:
    return urlsplit(playlist.playlists[0].uri).path.split("/")[-2]


async def test_hls_master_lists_every_rung_with_its_attributes(stub, keys, clip) -> None:
    playlist = await _master(stub, _viewer(keys), clip.video_id)
    assert playlist.is_variant
    seen = {}
    for variant in playlist.playlists:
        info = variant.stream_info
        rung = urlsplit(variant.uri).path.split("/")[-2]
        seen[rung] = info.resolution
        assert info.bandwidth > info.average_bandwidth > 0
        assert info.codecs.startswith("avc1.") and info.codecs.endswith(",mp4a.40.2")
        assert info.frame_rate == pytest.approx(30.0)
        assert info.audio == "audio"
    assert seen == RUNGS
    audio = [media for media in playlist.media if media.type == "AUDIO"]
    assert len(audio) == 1 and audio[0].group_id == "audio" and audio[0].channels == "2"
    # Every URI goes through the gateway's playback paths with a token for this video.
    uris = [variant.uri for variant in playlist.playlists] + [audio[0].uri]
    sessions = set()
    verifier = TokenVerifier.from_jwks_file(keys.jwks_path, "reels-local", "reels")
    for uri in uris:
        parts = urlsplit(uri)
        assert parts.path.startswith(f"/api/v1/reels/{clip.video_id}/stream/")
        assert parts.path.endswith("/playlist.m3u8")
        query = parse_qs(parts.query)
        principal = verifier.verify(query["token"][0])
        assert principal.kind is PrincipalKind.PLAYBACK
        assert principal.video_id == clip.video_id
        sessions.add(query["session_id"][0])
    assert len(sessions) == 1


@pytest.mark.parametrize(
    ("hints", "metadata", "first"),
    [
        ({}, [], "480p"),
        ({"downlink_mbps": 8.0}, [], "720p"),
        ({"downlink_mbps": 5.0}, [], "480p"),
        ({"downlink_mbps": 3.0}, [], "480p"),
        ({"downlink_mbps": 1.5}, [], "360p"),
        ({"downlink_mbps": 8.0, "save_data": True}, [], "360p"),
        ({"ect": "3g"}, [], "360p"),
        ({"downlink_mbps": 9.0, "rtt_ms": 700}, [], "480p"),
        ({}, [("downlink", "10"), ("ect", "4g")], "720p"),
        ({}, [("save-data", "on")], "360p"),
        ({}, [("downlink", "not-a-number")], "480p"),
        # A request field wins over its header.
        ({"downlink_mbps": 1.0}, [("downlink", "10")], "360p"),
    ],
)
async def test_first_variant_follows_the_hints(stub, keys, clip, hints, metadata, first) -> None:
    playlist = await _master(stub, [*_viewer(keys), *metadata], clip.video_id, **hints)
    assert _first_rung(playlist) == first
    # The rest follow from the highest bandwidth down.
    rest = [v.stream_info.bandwidth for v in playlist.playlists[1:]]
    assert rest == sorted(rest, reverse=True)


async def test_media_playlists_put_every_segment_on_the_redirect(stub, keys, clip) -> None:
    metadata = _viewer(keys)
    master = await _master(stub, metadata, clip.video_id)
    session = parse_qs(urlsplit(master.playlists[0].uri).query)["session_id"][0]
    for rung in (*RUNGS, "audio"):
        body = await stub.GetHlsManifest(
            stream_pb2.GetHlsManifestRequest(video_id=clip.video_id),
            metadata=[
                *metadata,
                ("x-reels-media-playlist", rung),
                ("x-reels-session-id", session),
            ],
            timeout=5,
        )
        playlist = m3u8.loads(body.data.decode())
        assert not playlist.is_variant and playlist.is_endlist
        assert playlist.playlist_type == "vod"
        assert playlist.target_duration >= 1
        assert len(playlist.segments) >= 2
        assert sum(s.duration for s in playlist.segments) == pytest.approx(4.0, abs=0.2)
        uris = [playlist.segment_map[0].uri, *(s.uri for s in playlist.segments)]
        for uri in uris:
            parts = urlsplit(uri)
            assert parts.path.startswith(f"/api/v1/reels/{clip.video_id}/stream/{rung}/")
            assert parse_qs(parts.query)["session_id"] == [session]
            assert "token" in parse_qs(parts.query)
        assert urlsplit(uris[0]).path.endswith("/init.mp4")


async def test_dash_mpd_offers_gateway_cdn_and_origin(stub, keys, clip, cdn, config) -> None:
    body = await stub.GetDashManifest(
        stream_pb2.GetDashManifestRequest(video_id=clip.video_id, downlink_mbps=20),
        metadata=_viewer(keys),
        timeout=5,
    )
    assert body.content_type == "application/dash+xml"
    mpd = mpegdash.parser.MPEGDASHParser.parse(body.data.decode())
    bases = [(b.service_location, b.base_url_value) for b in mpd.base_urls]
    assert bases[0] == ("gateway", f"/api/v1/reels/{clip.video_id}/stream/")
    assert bases[1] == ("cdn", f"{config.cdn_url}/v1/videos/videos/{clip.video_id}/")
    assert bases[2][0] == "origin"
    assert bases[2][1] == f"{config.s3_endpoint_url}/videos/videos/{clip.video_id}/"
    adaptations = mpd.periods[0].adaptation_sets
    video = next(a for a in adaptations if a.content_type == "video")
    assert video.representations[0].id == "720p"  # the recommended one
    assert {r.id for r in video.representations} == set(RUNGS)
    for adaptation in adaptations:
        for representation in adaptation.representations:
            assert representation.codecs and representation.bandwidth > 0
            segment_list = representation.segment_lists[0]
            urls = [segment_list.initializations[0].source_url] + [
                u.media for u in segment_list.segment_urls
            ]
            for url in urls:
                path, _, query = url.partition("?")
                assert path.startswith(f"{representation.id}/")
                assert set(parse_qs(query)) == {"token", "session_id"}


async def _events_for(config, video_id: str) -> list[events_pb2.PlaybackEventRecorded]:
    redis = Redis.from_url(TEST_REDIS_URL)
    try:
        entries = await redis.xrange(f"{config.event_stream_prefix}{VIDEO_EVENTS_TOPIC}")
    finally:
        await redis.aclose()
    events = []
    for _, fields in entries:
        if fields[b"event_type"] != b"reels.common.v1.PlaybackEventRecorded":
            continue  # a PlaybackEventBatch: the events of a RecordPlaybackEvents request
        message = events_pb2.PlaybackEventRecorded.FromString(fields[b"payload"])
        if message.video_id == video_id:
            events.append(message)
    return events


async def test_segment_is_located_on_the_cdn_and_counted_once(
    stub, keys, clip, cdn, config, seaweedfs
) -> None:
    viewer = f"viewer-{uuid.uuid4().hex[:8]}"
    metadata = keys.user_metadata(viewer)
    request = stream_pb2.GetSegmentRequest(
        video_id=clip.video_id, bitrate="480p", segment_id="seg_00002.m4s", session_id="s-1"
    )
    reply = await stub.GetSegment(request, metadata=metadata, timeout=5)
    assert reply.served_by == stream_pb2.SEGMENT_SERVER_CDN
    assert reply.location == (
        f"{config.cdn_url}/v1/videos/videos/{clip.video_id}/480p/seg_00002.m4s"
    )
    assert reply.expire_time.seconds > 0
    async with httpx.AsyncClient(timeout=10) as http:
        via_cdn = await http.get(reply.location)
        direct = await http.get(
            f"{seaweedfs.endpoint_url}/videos/videos/{clip.video_id}/480p/seg_00002.m4s"
        )
    assert via_cdn.status_code == 200 and via_cdn.content == direct.content
    # A player's retry of the same segment maps to the same event id.
    await stub.GetSegment(request, metadata=metadata, timeout=5)
    events = [e for e in await _events_for(config, clip.video_id) if e.user_id == viewer]
    assert len(events) == 2 and events[0].event_id == events[1].event_id
    event = events[0]
    assert event.action == playback_pb2.PLAYBACK_ACTION_WATCH_SEGMENT
    assert (event.rendition, event.segment_id, event.session_id) == ("480p", "seg_00002.m4s", "s-1")
    assert 500 < event.bitrate_kbps < 5000
    assert event.creator_id == clip.creator_id
    assert event.position.ToNanoseconds() > 0
    # Init segments are located too, but not counted as watched.
    init = await stub.GetSegment(
        stream_pb2.GetSegmentRequest(
            video_id=clip.video_id, bitrate="audio", segment_id="init.mp4", session_id="s-1"
        ),
        metadata=metadata,
        timeout=5,
    )
    assert init.location.endswith("/audio/init.mp4")
    events = [e for e in await _events_for(config, clip.video_id) if e.user_id == viewer]
    assert len(events) == 2


async def test_bandwidth_report_recommends_and_seeds_the_next_manifest(
    stub, keys, clip, database_url
) -> None:
    viewer = f"viewer-{uuid.uuid4().hex[:8]}"
    metadata = keys.user_metadata(viewer)

    async def report(**fields) -> stream_pb2.ReportBandwidthResponse:
        return await stub.ReportBandwidth(
            stream_pb2.ReportBandwidthRequest(video_id=clip.video_id, **fields),
            metadata=metadata,
            timeout=5,
        )

    fast = await report(throughput_kbps=9000, rtt_ms=40, session_id="s-2")
    assert fast.rendition == "720p" and fast.bitrate_kbps > 1000
    assert _first_rung(await _master(stub, metadata, clip.video_id)) == "720p"
    lossy = await report(throughput_kbps=9000, packet_loss_ratio=0.2, current_bitrate_kbps=3000)
    assert lossy.rendition == "360p"
    assert _first_rung(await _master(stub, metadata, clip.video_id)) == "360p"
    # Hints in the request still win over the remembered report.
    assert _first_rung(await _master(stub, metadata, clip.video_id, downlink_mbps=3)) == "480p"
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        cur = conn.cursor(row_factory=dict_row)
        await cur.execute(
            "SELECT measured_kbps, packet_loss, rtt_ms, recommended_rendition, session_id "
            "FROM stream.bandwidth_reports WHERE user_id = %s ORDER BY id",
            (viewer,),
        )
        rows = await cur.fetchall()
    assert [r["recommended_rendition"] for r in rows] == ["720p", "360p"]
    assert rows[0]["measured_kbps"] == 9000 and rows[0]["session_id"] == "s-2"
    assert rows[1]["packet_loss"] == pytest.approx(0.2)
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await report(throughput_kbps=-1)
    assert error.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await report(throughput_kbps=100, packet_loss_ratio=1.5)
    assert error.value.code() is grpc.StatusCode.INVALID_ARGUMENT


async def _code(call) -> grpc.StatusCode:
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await call
    return error.value.code()


async def test_bad_input_is_refused_with_the_documented_codes(stub, keys, clip) -> None:
    metadata = _viewer(keys)
    unknown = str(uuid.uuid4())

    def segment(video_id: str, bitrate: str = "480p", segment_id: str = "seg_00001.m4s"):
        return stub.GetSegment(
            stream_pb2.GetSegmentRequest(video_id=video_id, bitrate=bitrate, segment_id=segment_id),
            metadata=metadata,
            timeout=5,
        )

    hls = stub.GetHlsManifest
    dash = stub.GetDashManifest
    assert (
        await _code(hls(stream_pb2.GetHlsManifestRequest(video_id="nope"), metadata=metadata))
        is grpc.StatusCode.INVALID_ARGUMENT
    )
    assert (
        await _code(dash(stream_pb2.GetDashManifestRequest(video_id=unknown), metadata=metadata))
        is grpc.StatusCode.NOT_FOUND
    )
    assert (
        await _code(hls(stream_pb2.GetHlsManifestRequest(video_id=unknown), metadata=metadata))
        is grpc.StatusCode.NOT_FOUND
    )
    for request in (
        stream_pb2.GetHlsManifestRequest(video_id=clip.video_id, downlink_mbps=-1),
        stream_pb2.GetHlsManifestRequest(video_id=clip.video_id, ect="5g"),
        stream_pb2.GetHlsManifestRequest(video_id=clip.video_id, rtt_ms=-5),
    ):
        assert await _code(hls(request, metadata=metadata)) is grpc.StatusCode.INVALID_ARGUMENT
    assert await _code(segment("x")) is grpc.StatusCode.INVALID_ARGUMENT
    assert await _code(segment(unknown)) is grpc.StatusCode.NOT_FOUND
    assert await _code(segment(clip.video_id, bitrate="1080p")) is grpc.StatusCode.NOT_FOUND
    assert await _code(segment(clip.video_id, segment_id="seg_99999.m4s")) is (
        grpc.StatusCode.NOT_FOUND
    )
    assert await _code(segment(clip.video_id, segment_id="../original")) is (
        grpc.StatusCode.NOT_FOUND
    )
    assert (
        await _code(
            hls(
                stream_pb2.GetHlsManifestRequest(video_id=clip.video_id),
                metadata=[*metadata, ("x-reels-media-playlist", "1080p")],
            )
        )
        is grpc.StatusCode.NOT_FOUND
    )
    # A playback token is scoped to one video.
    other = keys.signer.mint_playback("viewer-x", unknown)
    assert (
        await _code(hls(stream_pb2.GetHlsManifestRequest(video_id=clip.video_id, token=other)))
        is grpc.StatusCode.PERMISSION_DENIED
    )
    assert (
        await _code(
            stub.GetSegment(
                stream_pb2.GetSegmentRequest(
                    video_id=clip.video_id, bitrate="480p", segment_id="init.mp4", token=other
                )
            )
        )
        is grpc.StatusCode.PERMISSION_DENIED
    )
    own = keys.signer.mint_playback("viewer-x", clip.video_id)
    await hls(stream_pb2.GetHlsManifestRequest(video_id=clip.video_id, token=own))
    assert (
        await _code(hls(stream_pb2.GetHlsManifestRequest(video_id=clip.video_id)))
        is grpc.StatusCode.UNAUTHENTICATED
    )


async def _invalidations(database_url: str, video_id: str) -> list[dict]:
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        cur = conn.cursor(row_factory=dict_row)
        await cur.execute(
            "SELECT reason, version FROM stream.cdn_invalidations WHERE video_id = %s ORDER BY id",
            (video_id,),
        )
        return list(await cur.fetchall())


async def test_retranscode_moves_cdn_urls_to_a_new_version(
    stub, keys, media_server, stream_server, service_environ, config, database_url, tmp_path, cdn
) -> None:
    """A second video.published with other renditions (a re-transcode) bumps the version."""
    clip = await publish_clip(
        media_server.target, keys, service_environ, tmp_path, seconds=2.0, title="again"
    )
    await wait_playable(stream_server.target, keys, clip.video_id)
    redis = Redis.from_url(TEST_REDIS_URL)
    bus = EventBus(redis, config.event_stream_prefix)
    try:
        published = None
        for _, fields in await redis.xrange(f"{config.event_stream_prefix}video.published"):
            message = events_pb2.VideoPublishedEvent.FromString(fields[b"payload"])
            if message.video.video_id == clip.video_id:
                published = message
        assert published is not None
        again = events_pb2.VideoPublishedEvent()
        again.CopyFrom(published)
        again.event_id = str(uuid.uuid4())
        again.video.update_time.seconds += 60
        for rendition in again.video.renditions:
            rendition.bandwidth_bps += 1000
        await bus.publish("video.published", again, event_id=again.event_id)
    finally:
        await redis.aclose()
    metadata = _viewer(keys)
    request = stream_pb2.GetSegmentRequest(
        video_id=clip.video_id, bitrate="360p", segment_id="seg_00001.m4s"
    )
    for _ in range(100):
        reply = await stub.GetSegment(request, metadata=metadata, timeout=5)
        if "/v2/" in reply.location:
            break
        await asyncio.sleep(0.1)
    assert reply.location.startswith(f"{config.cdn_url}/v2/videos/")
    assert await _invalidations(database_url, clip.video_id) == [
        {"reason": "retranscoded", "version": 1}
    ]
    # The cached manifests were dropped: they show the new renditions at once.
    by_name = {r.name: r.bandwidth_bps for r in again.video.renditions}
    master = await _master(stub, metadata, clip.video_id)
    bandwidths = {
        urlsplit(v.uri).path.split("/")[-2]: v.stream_info.bandwidth for v in master.playlists
    }
    assert bandwidths["360p"] == by_name["360p"] + by_name["audio"]


async def test_deleted_video_is_not_found_everywhere(
    stub, keys, media_server, stream_server, service_environ, database_url, tmp_path, cdn
) -> None:
    published = await publish_clip(
        media_server.target, keys, service_environ, tmp_path, seconds=2.0, title="to delete"
    )
    await wait_playable(stream_server.target, keys, published.video_id)
    metadata = _viewer(keys)
    await stub.GetSegment(
        stream_pb2.GetSegmentRequest(
            video_id=published.video_id, bitrate="360p", segment_id="seg_00001.m4s"
        ),
        metadata=metadata,
        timeout=5,
    )
    async with grpc.aio.insecure_channel(media_server.target) as channel:
        await media_grpc.MediaServiceStub(channel).DeleteVideo(
            media_pb2.DeleteVideoRequest(video_id=published.video_id),
            metadata=keys.user_metadata(published.creator_id),
            timeout=5,
        )
    await wait_not_found(stream_server.target, keys, published.video_id)
    assert (
        await _code(
            stub.GetDashManifest(
                stream_pb2.GetDashManifestRequest(video_id=published.video_id), metadata=metadata
            )
        )
        is grpc.StatusCode.NOT_FOUND
    )
    assert (
        await _code(
            stub.GetSegment(
                stream_pb2.GetSegmentRequest(
                    video_id=published.video_id, bitrate="360p", segment_id="seg_00001.m4s"
                ),
                metadata=metadata,
            )
        )
        is grpc.StatusCode.NOT_FOUND
    )
    assert await _invalidations(database_url, published.video_id) == [
        {"reason": "deleted", "version": 1}
    ]
