"""Checks an upload with PyAV before anything else touches it, and says why it is refused."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from pathlib import Path

import av
import av.container
import av.error
import av.video.stream

# What the sniffer may hand to FFmpeg, by family, and the demuxer forced for each: FFmpeg
# never gets to guess the format, so the hls, concat and image demuxers cannot be chosen.
DEMUXERS = {"mp4": "mov", "mov": "mov", "webm": "matroska", "matroska": "matroska", "avi": "avi"}
_DEMUXER_NAMES = {"mov", "mov,mp4,m4a,3gp,3g2,mj2", "matroska", "matroska,webm", "avi"}
# Passed to FFmpeg too: a second lock on the same doors (formats) and on the network
# (only local files; the default already refuses http from a local file's playlist).
_OPEN_OPTIONS = {
    "format_whitelist": "mov,mp4,m4a,3gp,3g2,mj2,matroska,webm,avi",
    "protocol_whitelist": "file",
}
SUPPORTED_VIDEO_CODECS = frozenset({"h264", "hevc", "vp8", "vp9", "av1", "mpeg4"})
_CODEC_NAMES = "H.264, HEVC, VP9, VP8, AV1 or MPEG-4"
_ACCEPTED = "MP4, MOV, WebM or MKV"
_FAMILY_LABELS = {"mp4": "an MP4", "mov": "a QuickTime (MOV)", "webm": "a WebM"}
_FAMILY_LABELS |= {"matroska": "a Matroska (MKV)", "avi": "an AVI"}
# The declared type or extension -> the families it may honestly name.
_MP4_FAMILY = frozenset({"mp4", "mov"})
_MKV_FAMILY = frozenset({"webm", "matroska"})
_CONTENT_TYPES = {
    "video/mp4": _MP4_FAMILY,
    "video/quicktime": _MP4_FAMILY,
    "video/x-m4v": _MP4_FAMILY,
    "video/3gpp": _MP4_FAMILY,
    "video/3gpp2": _MP4_FAMILY,
    "video/webm": _MKV_FAMILY,
    "video/x-matroska": _MKV_FAMILY,
    "video/matroska": _MKV_FAMILY,
    "video/x-msvideo": frozenset({"avi"}),
    "video/avi": frozenset({"avi"}),
    "video/msvideo": frozenset({"avi"}),
}
_UNSPECIFIC_TYPES = frozenset({"", "application/octet-stream", "binary/octet-stream"})
_EXTENSIONS = {
    ".mp4": _MP4_FAMILY,
    ".m4v": _MP4_FAMILY,
    ".mov": _MP4_FAMILY,
    ".qt": _MP4_FAMILY,
    ".3gp": _MP4_FAMILY,
    ".3g2": _MP4_FAMILY,
    ".webm": _MKV_FAMILY,
    ".mkv": _MKV_FAMILY,
    ".avi": frozenset({"avi"}),
}
# ISO-BMFF brands of still images (HEIF/AVIF): the mov demuxer would read them as 1 frame.
_IMAGE_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"mif1", b"msf1", b"avif", b"avis"}
_MP4_FIRST_BOXES = {b"ftyp", b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"}
HEAD_FRAMES = 5  # decoded from the start
TAIL_SECONDS = 1.0  # decoded at the end
TAIL_MAX_FRAMES = 600  # bound on the tail decode, even with sparse keyframes
MAX_STREAMS = 16
MIN_SIDE = 32
MIN_FRAME_RATE = 1.0


class InvalidMedia(Exception):
    """The upload is refused; the message is a sentence the creator can act on."""


@dataclass(frozen=True)
class MediaInfo:
    container: str  # the family we detected: mp4, mov, webm, matroska, avi
    video_codec: str
    width: int  # as displayed: rotation and pixel aspect applied
    height: int
    frame_rate: float
    duration_seconds: float  # of the video track
    has_audio: bool
    audio_codec: str | None
    size_bytes: int
    rotation: int = 0  # degrees clockwise the decoded frames need for display: 0/90/180/270


def sniff(head: bytes) -> tuple[str | None, str]:
    """(family or None, what the bytes look like) from the first bytes of a file."""
    if len(head) >= 12 and head[4:8] in _MP4_FIRST_BOXES:
        if head[4:8] == b"ftyp":
            brand = head[8:12]
            if brand in _IMAGE_BRANDS:
                return None, "a HEIF/AVIF image"
            if brand == b"qt  ":
                return "mov", _FAMILY_LABELS["mov"]
        return "mp4", _FAMILY_LABELS["mp4"]
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        # The EBML DocType tells WebM from other Matroska files.
        family = "webm" if b"\x42\x82\x84webm" in head[:64] else "matroska"
        return family, _FAMILY_LABELS[family]
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "avi", _FAMILY_LABELS["avi"]
    return None, _describe_other(head)


def _describe_other(head: bytes) -> str:
    signatures = [
        (b"\x89PNG", "a PNG image"),
        (b"\xff\xd8\xff", "a JPEG image"),
        (b"GIF8", "a GIF image"),
        (b"BM", "a BMP image"),
        (b"II*\x00", "a TIFF image"),
        (b"MM\x00*", "a TIFF image"),
        (b"ID3", "an MP3 audio file"),
        (b"fLaC", "a FLAC audio file"),
        (b"OggS", "an Ogg file"),
        (b"%PDF", "a PDF document"),
        (b"PK\x03\x04", "a ZIP archive"),
        (b"\x47", "an MPEG-TS stream"),
    ]
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "a WAV audio file"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "a WebP image"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith(b"#EXTM3U") or b"#EXT-X-" in head:
        return "an HLS playlist"
    if text.startswith(b"ffconcat") or text.startswith(b"file "):
        return "a playlist (FFmpeg concat script)"
    if text.startswith(b"<?xml") or text.startswith(b"<MPD"):
        return "an XML document (e.g. a DASH manifest)"
    for signature, label in signatures:
        if head.startswith(signature):
            return label
    if head and all(32 <= byte < 127 or byte in b"\t\r\n" for byte in head[:256]):
        return "a text file"
    return "not a video format we recognise"


def _reject_unsupported(description: str) -> InvalidMedia:
    if description.startswith(("a PNG", "a JPEG", "a GIF", "a BMP", "a TIFF", "a WebP", "a HEIF")):
        return InvalidMedia(
            f"This file is {description}, not a video. Upload a video clip ({_ACCEPTED})."
        )
    if "playlist" in description or "manifest" in description:
        return InvalidMedia(
            f"This file is {description}, not a video file. Upload the video itself ({_ACCEPTED})."
        )
    if "audio" in description:
        return InvalidMedia(
            f"This file is {description}; a clip needs video. Upload a video ({_ACCEPTED})."
        )
    return InvalidMedia(f"This file is {description}. Upload a video clip in {_ACCEPTED} format.")


def sniff_file(path: Path) -> str:
    """The container family of a file, or InvalidMedia saying what the file is instead."""
    with path.open("rb") as handle:
        head = handle.read(512)
    if not head:
        raise InvalidMedia("The file is empty. Choose the video again and upload it.")
    family, description = sniff(head)
    if family is None:
        raise _reject_unsupported(description)
    return family


def open_input(path: Path, family: str | None = None) -> av.container.InputContainer:
    """Opens a sniffed upload with the demuxer for its family forced and network off."""
    family = family or sniff_file(path)
    container = av.open(
        str(path), "r", format=DEMUXERS[family], container_options=dict(_OPEN_OPTIONS)
    )
    if container.format.name not in _DEMUXER_NAMES:
        container.close()
        raise InvalidMedia(f"This file is not a video format we accept ({_ACCEPTED}).")
    return container


def _check_declared(family: str, content_type: str | None, file_name: str | None) -> None:
    detected = _FAMILY_LABELS[family] + " video"
    if content_type is not None:
        declared = content_type.split(";", 1)[0].strip().lower()
        if declared not in _UNSPECIFIC_TYPES and family not in _CONTENT_TYPES.get(
            declared, frozenset()
        ):
            raise InvalidMedia(
                f"The file was sent as {declared}, but it is {detected}. "
                "Upload it as a video file with its real type."
            )
    if file_name:
        suffix = Path(file_name).suffix.lower()
        if suffix and suffix not in _EXTENSIONS:
            accepted = ", ".join(sorted(_EXTENSIONS))
            raise InvalidMedia(
                f"The file name ends in {suffix}, which is not a video file type "
                f"(we accept {accepted}); the file itself is {detected}."
            )
        if suffix and family not in _EXTENSIONS[suffix]:
            raise InvalidMedia(
                f"The file name ends in {suffix}, but the file is {detected}. "
                "Rename it to match or upload the right file."
            )


def _damaged(detail: str) -> InvalidMedia:
    return InvalidMedia(
        f"This video file appears to be damaged or incomplete ({detail}). "
        "Export or copy it again and upload the complete file."
    )


def _clockwise_rotation(frame: av.VideoFrame) -> int:
    # frame.rotation is counterclockwise in [-180, 180]; players turn frames clockwise.
    return (-round(frame.rotation / 90) * 90) % 360


def _display_size(stream: av.video.stream.VideoStream, rotation: int) -> tuple[int, int]:
    width, height = stream.codec_context.width, stream.codec_context.height
    sar = stream.sample_aspect_ratio
    if sar and sar > 0 and sar != 1:
        width = round(width * sar)
    return (height, width) if rotation in (90, 270) else (width, height)


def _frame_rate(stream: av.video.stream.VideoStream, head_times: list[float]) -> float:
    rate = stream.average_rate or stream.guessed_rate
    if rate and rate > 0:
        return float(rate)
    steps = [b - a for a, b in itertools.pairwise(head_times) if b > a]
    return 1.0 / (sum(steps) / len(steps)) if steps else 0.0


def _stream_seconds(stream: av.video.stream.VideoStream) -> float | None:
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    return None


def probe(
    path: Path,
    *,
    max_duration_s: float = 180,
    declared_content_type: str | None = None,
    file_name: str | None = None,
    max_width: int = 4096,
    max_height: int = 4096,
    max_frame_rate: float = 120,
) -> MediaInfo:
    """Reads what the file really is and refuses what a clip must not be (InvalidMedia).

    Bounded work: the header, the first few frames and the last second are decoded,
    never the whole file.
    """
    family = sniff_file(path)
    _check_declared(family, declared_content_type, file_name)
    try:
        container = open_input(path, family)
    except av.error.FFmpegError as error:
        raise _damaged(_ffmpeg_reason(error)) from error
    with container:
        return _inspect(
            container, path, family, max_duration_s, max_width, max_height, max_frame_rate
        )


def _ffmpeg_reason(error: av.error.FFmpegError) -> str:
    reason = (error.strerror or str(error)).strip().rstrip(".")
    return reason[0].lower() + reason[1:] if reason else "unreadable"


def _inspect(
    container: av.container.InputContainer,
    path: Path,
    family: str,
    max_duration_s: float,
    max_width: int,
    max_height: int,
    max_frame_rate: float,
) -> MediaInfo:
    if len(container.streams) > MAX_STREAMS:
        raise InvalidMedia(
            f"This file holds {len(container.streams)} tracks; a clip may have at most "
            f"{MAX_STREAMS}. Export it with one video and one audio track."
        )
    videos = [s for s in container.streams.video if s.codec_context is not None]
    audios = list(container.streams.audio)
    if not videos:
        if audios:
            codec = audios[0].codec_context.codec.canonical_name
            raise InvalidMedia(
                f"This file has no video track (it holds only {codec} audio). "
                "Upload a clip with video."
            )
        raise InvalidMedia("This file has no video track. Upload a clip with video.")
    video = videos[0]
    codec = video.codec_context.codec.canonical_name
    if codec not in SUPPORTED_VIDEO_CODECS:
        if codec in {"mjpeg", "png", "gif", "bmp", "tiff", "webp"} and (video.frames or 0) <= 1:
            raise InvalidMedia(
                "This file holds a single still picture, not a video. Upload a video clip."
            )
        raise InvalidMedia(
            f"The video codec {codec} is not supported. Export the clip as {_CODEC_NAMES} "
            "and upload it again."
        )
    coded_w, coded_h = video.codec_context.width, video.codec_context.height
    if coded_w < MIN_SIDE or coded_h < MIN_SIDE:
        raise InvalidMedia(
            f"The video is {coded_w}x{coded_h} pixels, too small to show; a clip needs at "
            f"least {MIN_SIDE} pixels on each side."
        )
    if max(coded_w, coded_h) > max(max_width, max_height) or min(coded_w, coded_h) > min(
        max_width, max_height
    ):
        raise InvalidMedia(
            f"The video is {coded_w}x{coded_h} pixels; the largest we accept is "
            f"{max_width}x{max_height}. Export it at a smaller size."
        )

    head_times, first = _decode_head(container, video)
    rotation = _clockwise_rotation(first)
    width, height = _display_size(video, rotation)
    frame_rate = _frame_rate(video, head_times)
    if not MIN_FRAME_RATE <= frame_rate <= max_frame_rate or math.isnan(frame_rate):
        raise InvalidMedia(
            f"The video plays at {frame_rate:.3g} frames per second; we accept "
            f"{MIN_FRAME_RATE:g} to {max_frame_rate:g}. Export it at a standard frame rate."
        )
    declared = _stream_seconds(video)
    if declared is None and container.duration:
        declared = container.duration / av.time_base
    duration = _check_tail(container, video, declared, head_times[0])
    if duration <= 0:
        raise InvalidMedia("This video has no length (0 seconds). Upload a clip that plays.")
    if duration > max_duration_s:
        raise InvalidMedia(
            f"This video is {duration:.1f} seconds long; the limit is {max_duration_s:g} "
            "seconds. Trim it and upload it again."
        )
    audio_codec = audios[0].codec_context.codec.canonical_name if audios else None
    return MediaInfo(
        container=family,
        video_codec=codec,
        width=width,
        height=height,
        frame_rate=round(frame_rate, 3),
        duration_seconds=round(duration, 3),
        has_audio=bool(audios),
        audio_codec=audio_codec,
        size_bytes=path.stat().st_size,
        rotation=rotation,
    )


def _decode_head(
    container: av.container.InputContainer, video: av.video.stream.VideoStream
) -> tuple[list[float], av.VideoFrame]:
    """Times of the first few frames (and the first frame); a still or broken file fails."""
    times: list[float] = []
    first: av.VideoFrame | None = None
    try:
        for packet in container.demux(video):
            for frame in packet.decode():
                if frame.is_corrupt:
                    raise _damaged("its first frames do not decode")
                first = first or frame
                times.append(float(frame.time or 0.0))
            if len(times) >= HEAD_FRAMES:
                break
    except av.error.FFmpegError as error:
        raise _damaged(f"its first frames do not decode: {_ffmpeg_reason(error)}") from error
    if first is None:
        raise _damaged("no frame of its video decodes")
    if len(times) == 1:
        raise InvalidMedia(
            "This file holds a single still picture, not a video. Upload a video clip."
        )
    return times, first


def _check_tail(
    container: av.container.InputContainer,
    video: av.video.stream.VideoStream,
    declared: float | None,
    first_time: float,
) -> float:
    """Decodes the last second; a file that stops early is truncated. Returns the duration."""
    if declared is None or declared <= 0:
        raise _damaged("it does not say how long it is")
    start = video.start_time * video.time_base if video.start_time is not None else 0
    target = float(start) + max(0.0, declared - TAIL_SECONDS)
    ends: list[float] = []
    video_end = None
    decoded = 0
    try:
        container.seek(int(target / video.time_base), stream=video, backward=True)
        for packet in container.demux():
            if packet.pts is not None and packet.time_base is not None:
                end = float((packet.pts + (packet.duration or 0)) * packet.time_base)
                ends.append(end)
            if packet.stream is not video:
                continue
            for frame in packet.decode():
                decoded += 1
                if frame.is_corrupt:
                    raise _damaged("its last second does not decode")
                frame_end = float(frame.time or 0.0) + float(
                    (frame.duration or 0) * (frame.time_base or 0)
                )
                video_end = frame_end if video_end is None else max(video_end, frame_end)
            if decoded >= TAIL_MAX_FRAMES:
                break
    except av.error.FFmpegError as error:
        raise _damaged(f"its end does not decode: {_ffmpeg_reason(error)}") from error
    expected_end = float(start) + declared
    # Half a second of slack: streams of one file rarely end on the same frame.
    if decoded < TAIL_MAX_FRAMES and (not ends or max(ends) < expected_end - 0.5):
        reached = max(ends) - float(start) if ends else 0.0
        raise _damaged(
            f"it claims {declared:.1f} seconds but its data stops at {reached:.1f} seconds"
        )
    if video_end is None:
        raise _damaged("the end of its video does not decode")
    measured = video_end - first_time
    # Trust the header unless the video track really stops well before it says.
    return measured if measured < declared - 0.5 else declared
