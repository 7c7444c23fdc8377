"""PlaybackService over in-memory fakes, and the CDN manager's failover and health cache."""

from __future__ import annotations

import asyncio
from urllib.parse import parse_qs, urlsplit

import m3u8
import pytest

from stream_svc.adapters.cdn import UNAVAILABLE_MESSAGE, CdnManager
from stream_svc.domain.bitrate import BandwidthReport, Hints
from stream_svc.domain.playback import (
    Delivery,
    PlaybackService,
    SegmentLocation,
    WatchSegment,
)
from stream_svc.domain.playback_manifests import Pathway, PlaybackUrls
from stream_svc.domain.playback_model import (
    InvalidArgument,
    NotFound,
    PlaybackVideo,
    Unavailable,
)
from tests.unit.stream.test_playback_manifests import VIDEO, VIDEO_ID

pytestmark = pytest.mark.asyncio(loop_scope="session")


class Catalogue:
    def __init__(self, *videos: PlaybackVideo) -> None:
        self.videos = {video.video_id: video for video in videos}
        self.reads = 0

    async def get(self, video_id: str) -> PlaybackVideo | None:
        self.reads += 1
        return self.videos.get(video_id)


class Cache:
    def __init__(self) -> None:
        self.videos: dict[str, PlaybackVideo] = {}
        self.manifests: dict[tuple[str, str], str] = {}

    async def get(self, video_id: str, variant: str | None):
        return self.videos.get(video_id), self.manifests.get((video_id, variant or ""))

    async def put_video(self, video: PlaybackVideo) -> None:
        self.videos[video.video_id] = video

    async def put_manifest(self, video_id: str, variant: str, template: str) -> None:
        self.manifests[(video_id, variant)] = template


class Delivering:
    def __init__(self, up: bool = True) -> None:
        self.up = up

    async def locate(self, object_key: str, version: int) -> SegmentLocation:
        if not self.up:
            raise Unavailable("down")
        return SegmentLocation(f"http://cdn/v{version}/videos/{object_key}", "cdn", 0.0)

    async def delivery(self, object_prefix: str, version: int) -> Delivery:
        return Delivery("cdn", (Pathway("cdn", f"http://cdn/v{version}/videos/{object_prefix}"),))


class Events:
    def __init__(self) -> None:
        self.watched: list[WatchSegment] = []

    async def watch_segment(self, event: WatchSegment) -> None:
        self.watched.append(event)


class Bandwidth:
    def __init__(self) -> None:
        self.latest: dict[str, float] = {}
        self.recorded: list[tuple] = []

    async def latest_mbps(self, user_id: str) -> float | None:
        return self.latest.get(user_id)

    async def record(self, user_id, video_id, session_id, report, recommended) -> None:
        self.recorded.append((user_id, video_id, session_id, recommended.name))
        self.latest[user_id] = report.effective_mbps


def _service(delivering: Delivering | None = None):
    parts = {
        "catalogue": Catalogue(VIDEO),
        "cache": Cache(),
        "delivery": delivering or Delivering(),
        "events": Events(),
        "bandwidth": Bandwidth(),
    }
    service = PlaybackService(
        **parts,
        mint_token=lambda user, video: f"tok-{user}-{video[:4]}",
        urls=PlaybackUrls(),
        new_session_id=lambda: "sess",
    )
    return service, parts


async def test_manifests_are_rendered_once_and_personalised_per_viewer() -> None:
    service, parts = _service()
    first = await service.hls_master(VIDEO_ID, "alice", Hints())
    second = await service.hls_master(VIDEO_ID, "bob", Hints())
    assert parts["catalogue"].reads == 1  # the second came from the cache
    assert set(parts["cache"].manifests) == {(VIDEO_ID, "hls:480")}
    uri = m3u8.loads(second.body).playlists[0].uri
    assert parse_qs(urlsplit(uri).query) == {"token": ["tok-bob-0b8f"], "session_id": ["sess"]}
    assert "tok-alice" in first.body and "tok-alice" not in second.body
    media = await service.hls_media(VIDEO_ID, "audio", "bob", "player-session-1")
    assert media.session_id == "player-session-1"
    assert "session_id=player-session-1" in media.body


async def test_last_bandwidth_report_seeds_the_start_rung() -> None:
    service, parts = _service()
    rung = await service.report_bandwidth(VIDEO_ID, "carol", "s", BandwidthReport(9000))
    assert rung.name == "720p"
    assert parts["bandwidth"].recorded == [("carol", VIDEO_ID, "s", "720p")]
    manifest = await service.hls_master(VIDEO_ID, "carol", Hints())
    assert "/720p/" in m3u8.loads(manifest.body).playlists[0].uri
    manifest = await service.hls_master(VIDEO_ID, "carol", Hints(save_data=True))
    assert "/360p/" in m3u8.loads(manifest.body).playlists[0].uri
    with pytest.raises(InvalidArgument):
        await service.report_bandwidth(VIDEO_ID, "carol", None, BandwidthReport(-5))
    with pytest.raises(InvalidArgument):
        await service.report_bandwidth(VIDEO_ID, "carol", "bad session!", BandwidthReport(5))


async def test_segments_are_located_and_media_segments_counted() -> None:
    service, parts = _service()
    location = await service.segment(VIDEO_ID, "480p", "seg_00002.m4s", "dave", "s1")
    assert location.url == f"http://cdn/v3/videos/videos/{VIDEO_ID}/480p/seg_00002.m4s"
    await service.segment(VIDEO_ID, "480p", "init.mp4", "dave", "s1")
    assert parts["events"].watched == [
        WatchSegment(VIDEO_ID, "creator-1", "dave", "s1", "480p", "seg_00002.m4s", 1800, 2.0)
    ]
    for rendition, segment in (("1080p", "init.mp4"), ("480p", "seg_00009.m4s"), ("480p", "..")):
        with pytest.raises(NotFound):
            await service.segment(VIDEO_ID, rendition, segment, "dave", None)
    with pytest.raises(NotFound):
        await service.segment("5a2d8f0e-0000-4000-8000-000000000000", "480p", "init.mp4", "d", None)
    with pytest.raises(InvalidArgument):
        await service.segment("not-a-uuid", "480p", "init.mp4", "dave", None)


async def test_segment_is_unavailable_when_nothing_can_serve_it() -> None:
    service, parts = _service(Delivering(up=False))
    with pytest.raises(Unavailable):
        await service.segment(VIDEO_ID, "480p", "seg_00001.m4s", "erin", None)
    assert parts["events"].watched == []


class Presigner:
    def generate_presigned_url(self, operation: str, Params: dict, ExpiresIn: int) -> str:
        return f"http://s3/{Params['Bucket']}/{Params['Key']}?X-Amz-Signature=sig&exp={ExpiresIn}"


class Probe:
    def __init__(self) -> None:
        self.up = {"cdn": True, "origin": True}
        self.calls = 0

    async def __call__(self, url: str, timeout_s: float) -> bool:
        self.calls += 1
        await asyncio.sleep(0.01)
        return self.up["cdn" if url.startswith("http://cdn") else "origin"]


def _cdn(probe: Probe, clock: list[float]) -> CdnManager:
    return CdnManager(
        cdn_url="http://cdn:8334/",
        origin_url="http://s3:8333",
        bucket="videos",
        presigner=Presigner(),
        probe=probe,
        health_ttl_s=2.0,
        url_ttl_s=600,
        clock=lambda: 1000.0,
        monotonic=lambda: clock[0],
    )


async def test_cdn_manager_fails_over_to_the_origin_and_then_gives_up() -> None:
    probe, clock = Probe(), [0.0]
    cdn = _cdn(probe, clock)
    located = await cdn.locate("videos/v/720p/seg_00001.m4s", 4)
    assert (located.url, located.served_by, located.expires_at) == (
        "http://cdn:8334/v4/videos/videos/v/720p/seg_00001.m4s",
        "cdn",
        1600.0,
    )
    probe.up["cdn"] = False
    # Health is cached: within the TTL the answer does not change...
    assert (await cdn.locate("videos/v/720p/seg_00001.m4s", 4)).served_by == "cdn"
    clock[0] = 2.5
    located = await cdn.locate("videos/v/720p/seg_00001.m4s", 4)
    assert located.served_by == "origin"
    assert located.url.startswith("http://s3/videos/videos/v/720p/seg_00001.m4s?X-Amz")
    delivery = await cdn.delivery("videos/v/", 4)
    assert delivery.state == "origin"
    assert [p.service_location for p in delivery.pathways] == ["origin", "cdn"]
    probe.up["origin"] = False
    clock[0] = 5.0
    with pytest.raises(Unavailable, match="try again"):
        await cdn.locate("videos/v/720p/seg_00001.m4s", 4)
    assert "temporarily unavailable" in UNAVAILABLE_MESSAGE


async def test_cdn_health_is_probed_once_for_concurrent_requests() -> None:
    probe, clock = Probe(), [0.0]
    cdn = _cdn(probe, clock)
    await asyncio.gather(*(cdn.health() for _ in range(20)))
    assert probe.calls == 2  # one CDN probe and one origin probe
