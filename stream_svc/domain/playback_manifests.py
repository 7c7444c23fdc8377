"""HLS playlists and the DASH MPD as stream_svc serves them: every segment URL goes through
the segment redirect and carries the viewer's playback token and session.

Manifests are rendered once per (video, variant) with placeholders for the token and the
session and cached; `personalise` fills them per request.
"""

from __future__ import annotations

import math
import posixpath
from collections.abc import Sequence
from dataclasses import dataclass
from xml.etree import ElementTree as ET

from stream_svc.domain.playback_model import (
    CatalogueError,
    PlaybackVideo,
    Segment,
    Track,
    is_object_name,
)

HLS_CONTENT_TYPE = "application/vnd.apple.mpegurl"
DASH_CONTENT_TYPE = "application/dash+xml"
MEDIA_PLAYLIST = "playlist.m3u8"
AUDIO_GROUP = "audio"
MPD_NAMESPACE = "urn:mpeg:dash:schema:mpd:2011"
_CHANNEL_SCHEME = "urn:mpeg:dash:23003:3:audio_channel_configuration:2011"
# Neither can occur in a JWT (base64url and dots) or a session id, nor needs XML escaping.
TOKEN_PLACEHOLDER = "@@TOKEN@@"  # noqa: S105 - a placeholder, not a secret
SESSION_PLACEHOLDER = "@@SESSION@@"

ET.register_namespace("", MPD_NAMESPACE)


def _tag(name: str) -> str:
    return f"{{{MPD_NAMESPACE}}}{name}"


def personalise(template: str, token: str, session_id: str) -> str:
    """A cached manifest with this viewer's token and session filled in."""
    return template.replace(TOKEN_PLACEHOLDER, token).replace(SESSION_PLACEHOLDER, session_id)


@dataclass(frozen=True)
class PlaybackUrls:
    """Where players fetch playlists and segments: the gateway's segment redirect.

    `public_base` is the gateway's public URL; empty gives root-relative URLs, which players
    resolve against the manifest's own URL, so they work behind any host name.
    """

    public_base: str = ""

    def stream_base(self, video_id: str) -> str:
        return f"{self.public_base.rstrip('/')}/api/v1/reels/{video_id}/stream/"

    @staticmethod
    def query() -> str:
        return f"token={TOKEN_PLACEHOLDER}&session_id={SESSION_PLACEHOLDER}"

    def object(self, video_id: str, rendition: str, name: str) -> str:
        return f"{self.stream_base(video_id)}{rendition}/{name}?{self.query()}"

    def media_playlist(self, video_id: str, rendition: str) -> str:
        return self.object(video_id, rendition, MEDIA_PLAYLIST)


# ---------------------------------------------------------------------------------------
# Reading what media_svc published


@dataclass(frozen=True)
class MediaPlaylist:
    init: str
    target_duration_s: int
    segments: tuple[Segment, ...]


def parse_media_playlist(text: str) -> MediaPlaylist:
    """Init, target duration and segments of one of media's CMAF media playlists.

    Only what media_svc writes is accepted: one EXT-X-MAP, EXTINF segments whose URIs are
    plain names in the playlist's own directory, and an end list.
    """
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines or lines[0] != "#EXTM3U":
        raise CatalogueError("not an HLS playlist")
    init = ""
    target = 0
    segments: list[Segment] = []
    pending: float | None = None
    ended = False
    for line in lines[1:]:
        if line.startswith("#EXT-X-TARGETDURATION:"):
            target = int(line.partition(":")[2])
        elif line.startswith("#EXT-X-MAP:"):
            init = _quoted_attribute(line, "URI")
        elif line.startswith("#EXTINF:"):
            pending = float(line.partition(":")[2].partition(",")[0])
        elif line == "#EXT-X-ENDLIST":
            ended = True
        elif not line.startswith("#"):
            if pending is None:
                raise CatalogueError(f"segment {line!r} without EXTINF")
            segments.append(Segment(line, pending))
            pending = None
    names = [init, *(segment.name for segment in segments)]
    bad = next((name for name in names if not is_object_name(name)), None)
    if bad is not None:
        raise CatalogueError(f"unsupported object name {bad!r} in a media playlist")
    if not segments or not ended:
        raise CatalogueError("a media playlist must list segments and end (VOD)")
    if target <= 0:
        target = max(1, *(math.floor(s.duration_s + 0.5) for s in segments))
    return MediaPlaylist(init, target, tuple(segments))


def _quoted_attribute(line: str, name: str) -> str:
    marker = f'{name}="'
    start = line.find(marker)
    if start < 0:
        raise CatalogueError(f"{line!r} has no {name}")
    start += len(marker)
    end = line.find('"', start)
    return line[start:end]


def audio_channels(mpd: str) -> dict[str, int]:
    """Channel count per audio representation id, from media's MPD."""
    root = _parse_mpd(mpd)
    channels: dict[str, int] = {}
    for adaptation in root.iter(_tag("AdaptationSet")):
        config = adaptation.find(_tag("AudioChannelConfiguration"))
        if config is None or config.get("schemeIdUri") != _CHANNEL_SCHEME:
            continue
        for representation in adaptation.iter(_tag("Representation")):
            channels[representation.get("id", "")] = int(config.get("value", "2"))
    return channels


def check_mpd_layout(mpd: str, tracks: Sequence[Track]) -> None:
    """Every segment URL of the MPD must be `<track>/<object>` of a known object, so the
    same relative URL works under the gateway, the CDN and the origin."""
    root = _parse_mpd(mpd)
    by_name = {track.name: track for track in tracks}
    for representation in root.iter(_tag("Representation")):
        track = by_name.get(representation.get("id", ""))
        if track is None:
            raise CatalogueError(f"MPD representation {representation.get('id')!r} is unknown")
        for url in _segment_urls(representation):
            directory, _, name = url.partition("/")
            if directory != track.name or not track.has_object(name):
                raise CatalogueError(f"MPD URL {url!r} is not an object of {track.name}")


def _parse_mpd(mpd: str) -> ET.Element:
    try:
        # Our own media_svc wrote it into our own bucket; it is not untrusted input.
        return ET.fromstring(mpd)  # noqa: S314 - our own MPD from our own bucket
    except ET.ParseError as error:
        raise CatalogueError(f"malformed MPD: {error}") from None


def _segment_urls(representation: ET.Element) -> list[str]:
    urls = [
        init.get("sourceURL", "")
        for init in representation.iter(_tag("Initialization"))
        if init.get("sourceURL")
    ]
    urls += [url.get("media", "") for url in representation.iter(_tag("SegmentURL"))]
    return urls


# ---------------------------------------------------------------------------------------
# HLS


def ordered_video_tracks(video: PlaybackVideo, first: str) -> list[Track]:
    """The video rungs with `first` first, then the rest from the highest bandwidth down."""
    tracks = video.video_tracks
    return sorted(tracks, key=lambda track: track.name != first)


def hls_master(video: PlaybackVideo, first: str, urls: PlaybackUrls) -> str:
    """The multivariant playlist; the recommended rung first (players start with it)."""
    audio = video.audio_track
    lines = ["#EXTM3U", "#EXT-X-VERSION:7", "#EXT-X-INDEPENDENT-SEGMENTS"]
    if audio is not None:
        lines.append(
            f'#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="{AUDIO_GROUP}",NAME="default",LANGUAGE="und",'
            f'DEFAULT=YES,AUTOSELECT=YES,CHANNELS="{audio.channels or 2}",'
            f'URI="{urls.media_playlist(video.video_id, audio.name)}"'
        )
    for track in ordered_video_tracks(video, first):
        # BANDWIDTH covers everything played together: the video and its audio.
        peak = track.bandwidth_bps + (audio.bandwidth_bps if audio else 0)
        average = track.average_bandwidth_bps + (audio.average_bandwidth_bps if audio else 0)
        codecs = track.codecs + (f",{audio.codecs}" if audio else "")
        attributes = [
            f"BANDWIDTH={peak}",
            f"AVERAGE-BANDWIDTH={average}",
            f"RESOLUTION={track.width}x{track.height}",
            f'CODECS="{codecs}"',
            f"FRAME-RATE={track.frame_rate:.3f}",
        ]
        if audio is not None:
            attributes.append(f'AUDIO="{AUDIO_GROUP}"')
        lines.append("#EXT-X-STREAM-INF:" + ",".join(attributes))
        lines.append(urls.media_playlist(video.video_id, track.name))
    return "\n".join(lines) + "\n"


def hls_media(video: PlaybackVideo, track: Track, urls: PlaybackUrls) -> str:
    """One rendition's media playlist with every URI on the segment redirect."""
    lines = [
        "#EXTM3U",
        "#EXT-X-VERSION:7",
        f"#EXT-X-TARGETDURATION:{track.target_duration_s}",
        "#EXT-X-MEDIA-SEQUENCE:1",
        "#EXT-X-PLAYLIST-TYPE:VOD",
        "#EXT-X-INDEPENDENT-SEGMENTS",
        f'#EXT-X-MAP:URI="{urls.object(video.video_id, track.name, track.init)}"',
    ]
    for segment in track.segments:
        lines.append(f"#EXTINF:{segment.duration_s:.6f},")
        lines.append(urls.object(video.video_id, track.name, segment.name))
    lines.append("#EXT-X-ENDLIST")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------
# DASH


@dataclass(frozen=True)
class Pathway:
    """A DASH BaseURL: where a player may fetch segments, named by `serviceLocation`."""

    service_location: str
    base_url: str


def dash_mpd(
    video: PlaybackVideo, first: str, pathways: Sequence[Pathway], urls: PlaybackUrls
) -> str:
    """Media's MPD over the same CMAF segments, rewritten for playback.

    The first BaseURL is the gateway's segment redirect (counted, fails over by itself);
    the CDN and the origin follow as alternative pathways a DASH player may switch to
    (DVB-DASH BaseURL failover). Segment URLs stay relative (`720p/seg_00001.m4s`) and
    carry the token and session, so each resolves under every BaseURL. The recommended
    representation comes first in its adaptation set.
    """
    root = _parse_mpd(video.mpd)
    for parent in list(root.iter()):
        for child in list(parent):
            if child.tag == _tag("BaseURL"):
                parent.remove(child)
    position = sum(1 for child in root if child.tag == _tag("ProgramInformation"))
    for offset, pathway in enumerate(
        [Pathway("gateway", urls.stream_base(video.video_id)), *pathways]
    ):
        element = ET.Element(_tag("BaseURL"), serviceLocation=pathway.service_location)
        element.text = pathway.base_url
        element.tail = "\n  "
        root.insert(position + offset, element)
    query = urls.query()
    for element in root.iter(_tag("Initialization")):
        if element.get("sourceURL"):
            element.set("sourceURL", f"{element.get('sourceURL')}?{query}")
    for element in root.iter(_tag("SegmentURL")):
        element.set("media", f"{element.get('media')}?{query}")
    for element in root.iter(_tag("SegmentTemplate")):
        for attribute in ("media", "initialization"):
            if element.get(attribute):
                element.set(attribute, f"{element.get(attribute)}?{query}")
    for adaptation in root.iter(_tag("AdaptationSet")):
        representations = adaptation.findall(_tag("Representation"))
        chosen = next((r for r in representations if r.get("id") == first), None)
        if chosen is not None and representations[0] is not chosen:
            adaptation.remove(chosen)
            index = list(adaptation).index(representations[0])
            adaptation.insert(index, chosen)
    body = ET.tostring(root, encoding="unicode")
    return '<?xml version="1.0" encoding="utf-8"?>\n' + body + "\n"


def object_directory(prefix: str, playlist_key: str) -> str:
    """The directory of a media playlist below the video prefix, e.g. "720p/"."""
    if not playlist_key.startswith(prefix):
        raise CatalogueError(f"playlist {playlist_key!r} is outside {prefix!r}")
    directory = posixpath.dirname(playlist_key[len(prefix) :])
    return f"{directory}/" if directory else ""
