"""Manifests as stream_svc renders them from its catalogue: parsed back by m3u8 and mpegdash."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import m3u8
import mpegdash.parser
import pytest

from stream_svc.domain.playback_manifests import (
    Pathway,
    PlaybackUrls,
    audio_channels,
    check_mpd_layout,
    dash_mpd,
    hls_master,
    hls_media,
    object_directory,
    parse_media_playlist,
    personalise,
)
from stream_svc.domain.playback_model import (
    CatalogueError,
    InvalidArgument,
    NotFound,
    PlaybackVideo,
    Segment,
    Track,
    parse_video_id,
)

VIDEO_ID = "0b8f6d52-8c3e-4c43-9a55-3f0f8f1d2a11"

MEDIA_PLAYLIST = """#EXTM3U
#EXT-X-VERSION:7
#EXT-X-TARGETDURATION:2
#EXT-X-MEDIA-SEQUENCE:1
#EXT-X-PLAYLIST-TYPE:VOD
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-MAP:URI="init.mp4"
#EXTINF:2.000000,
seg_00001.m4s
#EXTINF:1.500000,
seg_00002.m4s
#EXT-X-ENDLIST
"""


def _representation(name: str, attributes: str, timescale: int) -> str:
    return f"""
      <Representation id="{name}" {attributes}>
        <SegmentList timescale="{timescale}" presentationTimeOffset="0">
          <Initialization sourceURL="{name}/init.mp4" />
          <SegmentTimeline><S d="{2 * timescale}" /><S d="{3 * timescale // 2}" /></SegmentTimeline>
          <SegmentURL media="{name}/seg_00001.m4s" />
          <SegmentURL media="{name}/seg_00002.m4s" />
        </SegmentList>
      </Representation>"""


_VIDEO_ATTRIBUTES = {
    "720p": 'bandwidth="3750000" codecs="avc1.64001f" width="720" height="1280"',
    "480p": 'bandwidth="1800000" codecs="avc1.64001e" width="480" height="854"',
    "360p": 'bandwidth="1050000" codecs="avc1.64001e" width="360" height="640"',
}
_VIDEO_REPRESENTATIONS = "".join(
    _representation(name, attributes, 15360) for name, attributes in _VIDEO_ATTRIBUTES.items()
)
_AUDIO_REPRESENTATION = _representation("audio", 'bandwidth="130000" codecs="mp4a.40.2"', 48000)
MPD = f"""<?xml version="1.0" encoding="utf-8"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" profiles="urn:mpeg:dash:profile:isoff-live:2011"
     type="static" mediaPresentationDuration="PT3.500S" minBufferTime="PT2.000S">
  <Period id="0" start="PT0S">
    <AdaptationSet id="0" contentType="video" mimeType="video/mp4" segmentAlignment="true">
      {_VIDEO_REPRESENTATIONS}
    </AdaptationSet>
    <AdaptationSet id="1" contentType="audio" mimeType="audio/mp4" lang="und">
      <AudioChannelConfiguration
        schemeIdUri="urn:mpeg:dash:23003:3:audio_channel_configuration:2011" value="2" />
      {_AUDIO_REPRESENTATION}
    </AdaptationSet>
  </Period>
</MPD>
"""


def _track(name: str, kind: str, width: int, height: int, bandwidth: int, codecs: str) -> Track:
    return Track(
        name=name,
        kind=kind,
        width=width,
        height=height,
        bandwidth_bps=bandwidth,
        average_bandwidth_bps=bandwidth * 2 // 3,
        codecs=codecs,
        frame_rate=30.0 if kind == "video" else 0.0,
        channels=2 if kind == "audio" else 0,
        init="init.mp4",
        target_duration_s=2,
        segments=(Segment("seg_00001.m4s", 2.0), Segment("seg_00002.m4s", 1.5)),
    )


VIDEO = PlaybackVideo(
    video_id=VIDEO_ID,
    creator_id="creator-1",
    object_prefix=f"videos/{VIDEO_ID}/",
    version=3,
    duration_s=3.5,
    tracks=(
        _track("720p", "video", 720, 1280, 3_750_000, "avc1.64001f"),
        _track("480p", "video", 480, 854, 1_800_000, "avc1.64001e"),
        _track("360p", "video", 360, 640, 1_050_000, "avc1.64001e"),
        _track("audio", "audio", 0, 0, 130_000, "mp4a.40.2"),
    ),
    mpd=MPD,
)
URLS = PlaybackUrls()


def test_media_playlist_of_media_svc_is_read() -> None:
    playlist = parse_media_playlist(MEDIA_PLAYLIST)
    assert playlist.init == "init.mp4"
    assert playlist.target_duration_s == 2
    assert playlist.segments == (Segment("seg_00001.m4s", 2.0), Segment("seg_00002.m4s", 1.5))


@pytest.mark.parametrize(
    "text",
    [
        "not a playlist",
        MEDIA_PLAYLIST.replace("seg_00002.m4s", "../other/seg_00002.m4s"),
        MEDIA_PLAYLIST.replace("seg_00002.m4s", "http://elsewhere/seg.m4s"),
        MEDIA_PLAYLIST.replace("#EXT-X-ENDLIST\n", ""),
        MEDIA_PLAYLIST.replace('URI="init.mp4"', 'URI=".hidden"'),
    ],
)
def test_unexpected_media_playlists_are_refused(text: str) -> None:
    with pytest.raises(CatalogueError):
        parse_media_playlist(text)


def test_mpd_layout_and_channels() -> None:
    assert audio_channels(MPD) == {"audio": 2}
    check_mpd_layout(MPD, VIDEO.tracks)
    with pytest.raises(CatalogueError):
        check_mpd_layout(MPD.replace("480p/seg_00001.m4s", "720p/seg_00001.m4s"), VIDEO.tracks)
    with pytest.raises(CatalogueError):
        check_mpd_layout(MPD, VIDEO.tracks[:2])
    assert object_directory(f"videos/{VIDEO_ID}/", f"videos/{VIDEO_ID}/720p/playlist.m3u8") == (
        "720p/"
    )
    with pytest.raises(CatalogueError):
        object_directory(f"videos/{VIDEO_ID}/", "videos/other/720p/playlist.m3u8")


@pytest.mark.parametrize("first", ["720p", "480p", "360p"])
def test_hls_master_puts_the_recommended_rung_first(first: str) -> None:
    text = personalise(hls_master(VIDEO, first, URLS), "TOKEN", "SESSION")
    playlist = m3u8.loads(text)
    names = [urlsplit(v.uri).path.split("/")[-2] for v in playlist.playlists]
    assert names[0] == first
    assert names[1:] == [n for n in ("720p", "480p", "360p") if n != first]
    top = next(v for v in playlist.playlists if "/720p/" in v.uri).stream_info
    assert top.bandwidth == 3_750_000 + 130_000  # the video and the audio played with it
    assert top.average_bandwidth == 2_500_000 + 86_666
    assert top.resolution == (720, 1280)
    assert top.codecs == "avc1.64001f,mp4a.40.2"
    assert top.frame_rate == 30.0
    audio = playlist.media[0]
    assert (audio.type, audio.group_id, audio.channels, audio.default) == (
        "AUDIO",
        "audio",
        "2",
        "YES",
    )
    for uri in [v.uri for v in playlist.playlists] + [audio.uri]:
        parts = urlsplit(uri)
        assert parts.path.startswith(f"/api/v1/reels/{VIDEO_ID}/stream/")
        assert parts.path.endswith("/playlist.m3u8")
        assert parse_qs(parts.query) == {"token": ["TOKEN"], "session_id": ["SESSION"]}


def test_hls_media_playlist_puts_every_uri_on_the_redirect() -> None:
    urls = PlaybackUrls("https://api.reels.example/")
    text = personalise(hls_media(VIDEO, VIDEO.track("480p"), urls), "T", "S")
    playlist = m3u8.loads(text)
    assert playlist.is_endlist and playlist.playlist_type == "vod"
    assert playlist.target_duration == 2
    assert [s.duration for s in playlist.segments] == [2.0, 1.5]
    base = f"https://api.reels.example/api/v1/reels/{VIDEO_ID}/stream/480p/"
    assert playlist.segment_map[0].uri == f"{base}init.mp4?token=T&session_id=S"
    assert [s.uri for s in playlist.segments] == [
        f"{base}seg_00001.m4s?token=T&session_id=S",
        f"{base}seg_00002.m4s?token=T&session_id=S",
    ]


def test_dash_mpd_has_three_pathways_and_the_recommended_representation_first() -> None:
    pathways = (
        Pathway("cdn", f"http://cdn.example/v3/videos/videos/{VIDEO_ID}/"),
        Pathway("origin", f"http://s3.example/videos/videos/{VIDEO_ID}/"),
    )
    text = personalise(dash_mpd(VIDEO, "360p", pathways, URLS), "T", "S")
    mpd = mpegdash.parser.MPEGDASHParser.parse(text)
    assert [(b.service_location, b.base_url_value) for b in mpd.base_urls] == [
        ("gateway", f"/api/v1/reels/{VIDEO_ID}/stream/"),
        ("cdn", f"http://cdn.example/v3/videos/videos/{VIDEO_ID}/"),
        ("origin", f"http://s3.example/videos/videos/{VIDEO_ID}/"),
    ]
    video, audio = mpd.periods[0].adaptation_sets
    assert [r.id for r in video.representations] == ["360p", "720p", "480p"]
    assert [r.id for r in audio.representations] == ["audio"]
    segments = video.representations[0].segment_lists[0]
    assert segments.initializations[0].source_url == "360p/init.mp4?token=T&session_id=S"
    assert [u.media for u in segments.segment_urls] == [
        "360p/seg_00001.m4s?token=T&session_id=S",
        "360p/seg_00002.m4s?token=T&session_id=S",
    ]
    # The timeline is media's, untouched.
    assert [s.d for s in segments.segment_timelines[0].Ss] == [30720, 23040]


def test_catalogue_entries_round_trip_through_json() -> None:
    assert PlaybackVideo.from_json(VIDEO.to_json()) == VIDEO
    assert VIDEO.rungs()[0].name == "720p"
    assert VIDEO.object_key(VIDEO.track("audio"), "init.mp4") == (
        f"videos/{VIDEO_ID}/audio/init.mp4"
    )
    assert VIDEO.track("480p").position_s("seg_00002.m4s") == 2.0
    with pytest.raises(NotFound):
        VIDEO.track("1080p")


def test_video_ids_must_be_uuids() -> None:
    assert parse_video_id(VIDEO_ID.upper()) == VIDEO_ID
    for bad in ("", "x", "../videos", f"{VIDEO_ID}/720p"):
        with pytest.raises(InvalidArgument):
            parse_video_id(bad)
