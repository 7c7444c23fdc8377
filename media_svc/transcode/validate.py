"""Checks a finished transcode before it is published: every file, every timing, every frame."""

from __future__ import annotations

import posixpath
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree as ET

import av
import av.error

from media_svc.transcode import fmp4
from media_svc.transcode.ladder import Rung
from media_svc.transcode.manifests import MPD_NAMESPACE
from media_svc.transcode.probe import MediaInfo
from media_svc.transcode.result import AudioRendition, Rendition, TranscodeResult

DURATION_TOLERANCE_S = 0.1  # a rendition against its source
EXTINF_TOLERANCE_S = 0.01  # a segment against what its playlist says
_PROFILES = {"h264": "High", "hevc": "Main"}
_OPEN_OPTIONS = {"protocol_whitelist": "file"}


class OutputInvalid(Exception):
    """An output is missing, malformed or not what was asked; the reason says which."""


@dataclass(frozen=True)
class _PlaylistEntry:
    duration: float
    path: str  # relative to out_dir


def _inside(out_dir: Path, relative: str) -> Path:
    path = (out_dir / relative).resolve()
    if not path.is_relative_to(out_dir.resolve()):
        raise OutputInvalid(f"{relative} points outside the output directory")
    return path


def _existing(out_dir: Path, relative: str) -> Path:
    path = _inside(out_dir, relative)
    if not path.is_file():
        raise OutputInvalid(f"{relative} is missing")
    if path.stat().st_size == 0:
        raise OutputInvalid(f"{relative} is empty")
    return path


def _read_media_playlist(out_dir: Path, relative: str) -> tuple[str, list[_PlaylistEntry]]:
    """(init path, segments) of a media playlist, paths made relative to out_dir."""
    text = _existing(out_dir, relative).read_text()
    base = posixpath.dirname(relative)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines or lines[0] != "#EXTM3U" or "#EXT-X-ENDLIST" not in lines:
        raise OutputInvalid(f"{relative} is not a complete HLS media playlist")
    init = None
    entries: list[_PlaylistEntry] = []
    duration: float | None = None
    for line in lines:
        if line.startswith("#EXT-X-MAP:"):
            init = line.split('URI="', 1)[1].split('"', 1)[0]
        elif line.startswith("#EXTINF:"):
            duration = float(line[len("#EXTINF:") :].split(",", 1)[0])
        elif not line.startswith("#"):
            if duration is None:
                raise OutputInvalid(f"{relative}: {line} has no EXTINF")
            entries.append(_PlaylistEntry(duration, posixpath.normpath(posixpath.join(base, line))))
            duration = None
    if init is None:
        raise OutputInvalid(f"{relative} has no EXT-X-MAP init segment")
    if not entries:
        raise OutputInvalid(f"{relative} lists no segments")
    return posixpath.normpath(posixpath.join(base, init)), entries


def _check_track_files(
    out_dir: Path, track: Rendition | AudioRendition
) -> tuple[fmp4.TrackInfo, list[Path]]:
    """The playlist, init and segments of one track agree with each other and the result."""
    init, entries = _read_media_playlist(out_dir, track.playlist)
    if init != track.init:
        raise OutputInvalid(f"{track.playlist} maps {init}, not {track.init}")
    listed = [entry.path for entry in entries]
    expected = [segment.path for segment in track.segments]
    if listed != expected:
        raise OutputInvalid(f"{track.playlist} lists other segments than were produced")
    try:
        info = fmp4.parse_init(_existing(out_dir, init).read_bytes())
    except (fmp4.BoxError, IndexError, ValueError) as error:
        raise OutputInvalid(f"{init} is not a valid init segment: {error}") from error
    if info.codecs != track.codecs:
        raise OutputInvalid(f"{init} holds {info.codecs}, the manifests say {track.codecs}")
    paths = []
    expected_start: int | None = None
    for entry in entries:
        path = _existing(out_dir, entry.path)
        try:
            fragment = fmp4.read_segment_info(path, info)
        except (fmp4.BoxError, IndexError, ValueError) as error:
            raise OutputInvalid(f"{entry.path} is truncated or malformed: {error}") from error
        real = fragment.duration / info.timescale
        if abs(real - entry.duration) > EXTINF_TOLERANCE_S:
            raise OutputInvalid(
                f"{entry.path} lasts {real:.3f} s but its playlist says {entry.duration:.3f} s"
            )
        if expected_start is not None and fragment.base_decode_time != expected_start:
            raise OutputInvalid(f"{entry.path} does not follow the segment before it")
        if isinstance(track, Rendition) and not fragment.starts_with_sync_sample:
            raise OutputInvalid(f"{entry.path} does not start with a keyframe")
        expected_start = fragment.base_decode_time + fragment.duration
        paths.append(path)
    return info, paths


def _joined(init: Path, segments: list[Path], directory: Path) -> Path:
    """init + segments concatenated: the byte stream a player feeds its decoder."""
    joined = directory / f"{init.parent.name}.mp4"
    with joined.open("wb") as out:
        for part in [init, *segments]:
            with part.open("rb") as source:
                shutil.copyfileobj(source, out)
    return joined


def _decode_video(path: Path, rendition: Rendition) -> float:
    """Decodes every frame; returns the presented duration in seconds."""
    try:
        with av.open(str(path), format="mov", container_options=_OPEN_OPTIONS) as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            codec = stream.codec_context
            if codec.codec.canonical_name != rendition.codec:
                raise OutputInvalid(
                    f"{rendition.name} holds {codec.codec.canonical_name}, not {rendition.codec}"
                )
            if codec.profile != _PROFILES[rendition.codec]:
                raise OutputInvalid(
                    f"{rendition.name} uses the {codec.profile} profile, "
                    f"not {_PROFILES[rendition.codec]}"
                )
            if (codec.width, codec.height) != (rendition.width, rendition.height):
                raise OutputInvalid(
                    f"{rendition.name} is {codec.width}x{codec.height}, "
                    f"not {rendition.width}x{rendition.height}"
                )
            first = last_end = None
            count = 0
            for frame in container.decode(stream):
                if frame.is_corrupt:
                    raise OutputInvalid(f"{rendition.name}: frame {count} decodes corrupt")
                start = float(frame.pts * frame.time_base)
                end = start + float((frame.duration or 0) * frame.time_base)
                first = start if first is None else min(first, start)
                last_end = end if last_end is None else max(last_end, end)
                count += 1
    except av.error.FFmpegError as error:
        raise OutputInvalid(f"{rendition.name} does not decode: {error}") from error
    if first is None or last_end is None:
        raise OutputInvalid(f"{rendition.name} holds no frames")
    return last_end - first


def _decode_audio(path: Path, audio: AudioRendition) -> float:
    try:
        with av.open(str(path), format="mov", container_options=_OPEN_OPTIONS) as container:
            stream = container.streams.audio[0]
            if stream.codec_context.codec.canonical_name != "aac":
                raise OutputInvalid(f"the audio is {stream.codec_context.codec.canonical_name}")
            samples = sum(frame.samples for frame in container.decode(stream))
    except av.error.FFmpegError as error:
        raise OutputInvalid(f"the audio does not decode: {error}") from error
    return samples / audio.sample_rate


def _check_alignment(renditions: tuple[Rendition, ...]) -> None:
    """Rungs of one codec cut their segments at the same instants (players switch there)."""
    by_codec: dict[str, list[Rendition]] = {}
    for rendition in renditions:
        by_codec.setdefault(rendition.codec, []).append(rendition)
    for group in by_codec.values():
        reference = group[0]
        starts = [s.start_ticks / reference.timescale for s in reference.segments]
        for other in group[1:]:
            other_starts = [s.start_ticks / other.timescale for s in other.segments]
            if len(other_starts) != len(starts) or any(
                abs(a - b) > 0.001 for a, b in zip(starts, other_starts, strict=True)
            ):
                raise OutputInvalid(
                    f"{other.name} and {reference.name} do not cut segments at the same times"
                )


def _check_master(out_dir: Path, result: TranscodeResult) -> None:
    text = _existing(out_dir, result.master_playlist).read_text()
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    variants = [
        lines[index + 1]
        for index, line in enumerate(lines)
        if line.startswith("#EXT-X-STREAM-INF:") and index + 1 < len(lines)
    ]
    if variants != [rendition.playlist for rendition in result.renditions]:
        raise OutputInvalid("the master playlist does not list exactly the renditions")
    for line in lines:
        if line.startswith("#EXT-X-STREAM-INF:"):
            for attribute in ("BANDWIDTH=", "RESOLUTION=", "CODECS="):
                if attribute not in line:
                    raise OutputInvalid(f"a variant in the master playlist lacks {attribute[:-1]}")
    for uri in variants:
        _existing(out_dir, uri)
    if result.audio is not None and f'URI="{result.audio.playlist}"' not in text:
        raise OutputInvalid("the master playlist does not name the audio playlist")


def _check_mpd(out_dir: Path, result: TranscodeResult) -> None:
    try:
        # Our own file, just written: not untrusted XML.
        root = ET.parse(_existing(out_dir, result.dash_manifest)).getroot()  # noqa: S314
    except ET.ParseError as error:
        raise OutputInvalid(f"the MPD is not XML: {error}") from error
    ns = {"d": MPD_NAMESPACE}
    representations = root.findall(".//d:Representation", ns)
    expected = {r.name for r in result.renditions} | ({"audio"} if result.audio else set())
    if {r.get("id") for r in representations} != expected:
        raise OutputInvalid("the MPD does not describe exactly the renditions")
    for representation in representations:
        segment_list = representation.find("d:SegmentList", ns)
        if segment_list is None:
            raise OutputInvalid(f"MPD representation {representation.get('id')} has no segments")
        init = segment_list.find("d:Initialization", ns)
        urls = [url.get("media", "") for url in segment_list.findall("d:SegmentURL", ns)]
        timeline = segment_list.findall("d:SegmentTimeline/d:S", ns)
        if init is None or not urls:
            raise OutputInvalid(f"MPD representation {representation.get('id')} is incomplete")
        if sum(int(s.get("r", "0")) + 1 for s in timeline) != len(urls):
            raise OutputInvalid(
                f"MPD representation {representation.get('id')}: the timeline and the "
                "segment list differ in length"
            )
        for relative in [init.get("sourceURL", ""), *urls]:
            _existing(out_dir, relative)


def _check_images(out_dir: Path, result: TranscodeResult) -> None:
    if not _existing(out_dir, result.thumbnail).read_bytes().startswith(b"\xff\xd8\xff"):
        raise OutputInvalid(f"{result.thumbnail} is not a JPEG")
    if not _existing(out_dir, result.preview).read_bytes().startswith(b"GIF8"):
        raise OutputInvalid(f"{result.preview} is not a GIF")


def validate_outputs(
    out_dir: Path, result: TranscodeResult, source: MediaInfo, ladder: list[Rung]
) -> None:
    """Raises OutputInvalid unless every output is there, well-formed and what was asked.

    Every rendition is decoded end to end from its init + segments; its duration must be
    within DURATION_TOLERANCE_S of the source's, and its codec, profile and size those of
    its rung. Every segment a playlist names must exist and last what its EXTINF says, and
    the MPD must name only files that exist.
    """
    produced = {(r.name, r.width, r.height, r.codec) for r in result.renditions}
    asked = {(r.name, r.width, r.height, r.codec) for r in ladder}
    if produced != asked:
        raise OutputInvalid(f"the renditions {sorted(produced)} are not the ladder {sorted(asked)}")
    if source.has_audio and result.audio is None:
        raise OutputInvalid("the source has sound but no audio track was produced")
    _check_alignment(result.renditions)
    _check_master(out_dir, result)
    _check_mpd(out_dir, result)
    _check_images(out_dir, result)
    with tempfile.TemporaryDirectory(prefix="reels-validate-") as scratch:
        for rendition in result.renditions:
            info, segments = _check_track_files(out_dir, rendition)
            if (info.width, info.height) != (rendition.width, rendition.height):
                raise OutputInvalid(f"{rendition.init} declares {info.width}x{info.height}")
            joined = _joined(_existing(out_dir, rendition.init), segments, Path(scratch))
            duration = _decode_video(joined, rendition)
            joined.unlink()
            if abs(duration - source.duration_seconds) > DURATION_TOLERANCE_S:
                raise OutputInvalid(
                    f"{rendition.name} lasts {duration:.3f} s, the source "
                    f"{source.duration_seconds:.3f} s"
                )
        if result.audio is not None:
            _, segments = _check_track_files(out_dir, result.audio)
            joined = _joined(_existing(out_dir, result.audio.init), segments, Path(scratch))
            decoded = _decode_audio(joined, result.audio)
            listed = sum(segment.duration_seconds for segment in result.audio.segments)
            if abs(decoded - listed) > DURATION_TOLERANCE_S:
                raise OutputInvalid(
                    f"the audio decodes to {decoded:.3f} s but its playlist lasts {listed:.3f} s"
                )
