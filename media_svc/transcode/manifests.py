"""HLS playlists and the DASH MPD, both naming the same CMAF init and media segments."""

from __future__ import annotations

import math
import posixpath
from collections.abc import Sequence
from fractions import Fraction
from xml.etree import ElementTree as ET

from media_svc.transcode.result import AudioRendition, Rendition, Segment

AUDIO_GROUP = "audio"
MPD_NAMESPACE = "urn:mpeg:dash:schema:mpd:2011"
_CHANNEL_SCHEME = "urn:mpeg:dash:23003:3:audio_channel_configuration:2011"


def peak_bandwidth(segments: Sequence[Segment], target_seconds: float) -> int:
    """The HLS peak segment bit rate, bits/s.

    RFC 8216 §4.3.4.2: the largest bit rate of any run of contiguous segments lasting 0.5
    to 1.5 times the target duration (so a short final segment does not set the peak).
    """
    best = 0.0
    for first in range(len(segments)):
        seconds = 0.0
        size = 0
        for segment in segments[first:]:
            seconds += segment.duration_seconds
            size += segment.size_bytes
            if seconds > 1.5 * target_seconds:
                break
            if seconds >= 0.5 * target_seconds:
                best = max(best, size * 8 / seconds)
    if best == 0.0:  # a clip shorter than half a target duration
        return average_bandwidth(segments)
    return math.ceil(best)


def average_bandwidth(segments: Sequence[Segment]) -> int:
    seconds = sum(segment.duration_seconds for segment in segments)
    size = sum(segment.size_bytes for segment in segments)
    return math.ceil(size * 8 / seconds) if seconds > 0 else 0


def target_duration(segments: Sequence[Segment]) -> int:
    """EXT-X-TARGETDURATION: every EXTINF rounded to the nearest integer must fit under it."""
    return max(1, *(math.floor(segment.duration_seconds + 0.5) for segment in segments))


def media_playlist(track: Rendition | AudioRendition) -> str:
    """The media playlist of one track, with URIs relative to the playlist's own directory."""
    base = posixpath.dirname(track.playlist)
    lines = [
        "#EXTM3U",
        "#EXT-X-VERSION:7",
        f"#EXT-X-TARGETDURATION:{target_duration(track.segments)}",
        "#EXT-X-MEDIA-SEQUENCE:1",
        "#EXT-X-PLAYLIST-TYPE:VOD",
        "#EXT-X-INDEPENDENT-SEGMENTS",
        f'#EXT-X-MAP:URI="{posixpath.relpath(track.init, base)}"',
    ]
    for segment in track.segments:
        lines.append(f"#EXTINF:{segment.duration_seconds:.6f},")
        lines.append(posixpath.relpath(segment.path, base))
    lines.append("#EXT-X-ENDLIST")
    return "\n".join(lines) + "\n"


def master_playlist(renditions: Sequence[Rendition], audio: AudioRendition | None) -> str:
    """The multivariant playlist: one variant per rung, audio as an EXT-X-MEDIA group."""
    lines = ["#EXTM3U", "#EXT-X-VERSION:7", "#EXT-X-INDEPENDENT-SEGMENTS"]
    if audio is not None:
        lines.append(
            f'#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="{AUDIO_GROUP}",NAME="default",LANGUAGE="und",'
            f'DEFAULT=YES,AUTOSELECT=YES,CHANNELS="{audio.channels}",URI="{audio.playlist}"'
        )
    for rendition in renditions:
        # BANDWIDTH covers everything played together: the video and its audio.
        peak = rendition.bandwidth + (audio.bandwidth if audio else 0)
        average = rendition.average_bandwidth + (audio.average_bandwidth if audio else 0)
        codecs = rendition.codecs + (f",{audio.codecs}" if audio else "")
        attributes = [
            f"BANDWIDTH={peak}",
            f"AVERAGE-BANDWIDTH={average}",
            f"RESOLUTION={rendition.width}x{rendition.height}",
            f'CODECS="{codecs}"',
            f"FRAME-RATE={rendition.frame_rate:.3f}",
        ]
        if audio is not None:
            attributes.append(f'AUDIO="{AUDIO_GROUP}"')
        lines.append("#EXT-X-STREAM-INF:" + ",".join(attributes))
        lines.append(rendition.playlist)
    return "\n".join(lines) + "\n"


def _duration(seconds: float) -> str:
    return f"PT{seconds:.3f}S"


def _segment_list(parent: ET.Element, track: Rendition | AudioRendition) -> None:
    segment_list = ET.SubElement(
        parent,
        "SegmentList",
        timescale=str(track.timescale),
        presentationTimeOffset=str(track.presentation_offset_ticks),
    )
    ET.SubElement(segment_list, "Initialization", sourceURL=track.init)
    timeline = ET.SubElement(segment_list, "SegmentTimeline")
    # Runs of equal durations collapse into one S element with a repeat count.
    previous: ET.Element | None = None
    expected_start = None
    for segment in track.segments:
        contiguous = segment.start_ticks == expected_start
        if previous is not None and contiguous and previous.get("d") == str(segment.duration_ticks):
            previous.set("r", str(int(previous.get("r", "0")) + 1))
        else:
            attributes = {"d": str(segment.duration_ticks)}
            if not contiguous:
                attributes = {"t": str(segment.start_ticks), **attributes}
            previous = ET.SubElement(timeline, "S", attributes)
        expected_start = segment.start_ticks + segment.duration_ticks
    for segment in track.segments:
        ET.SubElement(segment_list, "SegmentURL", media=segment.path)


def _frame_rate(rate: Fraction) -> str:
    return str(rate.numerator) if rate.denominator == 1 else f"{rate.numerator}/{rate.denominator}"


def _aspect(width: int, height: int) -> str:
    divisor = math.gcd(width, height)
    return f"{width // divisor}:{height // divisor}"


def dash_manifest(
    renditions: Sequence[Rendition],
    audio: AudioRendition | None,
    duration_seconds: float,
    frame_rate: Fraction,
    min_buffer_seconds: float,
) -> str:
    """A static MPD: one video AdaptationSet per codec, one audio AdaptationSet."""
    mpd = ET.Element(
        "MPD",
        xmlns=MPD_NAMESPACE,
        profiles="urn:mpeg:dash:profile:isoff-live:2011",
        type="static",
        mediaPresentationDuration=_duration(duration_seconds),
        minBufferTime=_duration(min_buffer_seconds),
    )
    period = ET.SubElement(mpd, "Period", id="0", start="PT0S")
    by_codec: dict[str, list[Rendition]] = {}
    for rendition in renditions:
        by_codec.setdefault(rendition.codec, []).append(rendition)
    set_id = 0
    for group in by_codec.values():
        widest = max(group, key=lambda r: r.width * r.height)
        adaptation = ET.SubElement(
            period,
            "AdaptationSet",
            id=str(set_id),
            contentType="video",
            mimeType="video/mp4",
            segmentAlignment="true",
            startWithSAP="1",
            maxWidth=str(widest.width),
            maxHeight=str(widest.height),
            maxFrameRate=_frame_rate(frame_rate),
            par=_aspect(widest.width, widest.height),
        )
        set_id += 1
        for rendition in group:
            representation = ET.SubElement(
                adaptation,
                "Representation",
                id=rendition.name,
                bandwidth=str(rendition.bandwidth),
                codecs=rendition.codecs,
                width=str(rendition.width),
                height=str(rendition.height),
                frameRate=_frame_rate(frame_rate),
                sar="1:1",
            )
            _segment_list(representation, rendition)
    if audio is not None:
        adaptation = ET.SubElement(
            period,
            "AdaptationSet",
            id=str(set_id),
            contentType="audio",
            mimeType="audio/mp4",
            lang="und",
            segmentAlignment="true",
            startWithSAP="1",
        )
        ET.SubElement(
            adaptation,
            "AudioChannelConfiguration",
            schemeIdUri=_CHANNEL_SCHEME,
            value=str(audio.channels),
        )
        representation = ET.SubElement(
            adaptation,
            "Representation",
            id=audio.name,
            bandwidth=str(audio.bandwidth),
            codecs=audio.codecs,
            audioSamplingRate=str(audio.sample_rate),
        )
        _segment_list(representation, audio)
    ET.indent(mpd)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(mpd, encoding="unicode") + "\n"
