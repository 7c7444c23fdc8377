"""Real media files written with PyAV for tests and benchmarks: good clips and hostile ones."""

from __future__ import annotations

import os
import random
import struct
from fractions import Fraction
from pathlib import Path
from typing import Literal

import av
import numpy as np

Pattern = Literal["moving", "static", "noise", "blur", "black_then_content", "frozen_middle"]

# Each codec with the encoder and options that make small test clips quickly.
_VIDEO_ENCODERS: dict[str, tuple[str, dict[str, str]]] = {
    "h264": ("libx264", {"preset": "ultrafast", "crf": "20"}),
    "hevc": ("libx265", {"preset": "ultrafast", "x265-params": "log-level=none"}),
    "vp9": ("libvpx-vp9", {"deadline": "realtime", "cpu-used": "8", "crf": "32", "b": "0"}),
    "vp8": ("libvpx", {"deadline": "realtime", "cpu-used": "8", "b": "1M"}),
    "av1": ("libsvtav1", {"preset": "12"}),
    "mpeg4": ("mpeg4", {"q": "4"}),
    "mjpeg": ("mjpeg", {}),
}
_PIXEL_FORMATS = {"mjpeg": "yuvj420p"}
_AUDIO_ENCODERS = {"mp4": "aac", "mov": "aac", "webm": "libopus", "mkv": "aac", "avi": "aac"}
_MUXERS = {"mp4": "mp4", "mov": "mov", "webm": "webm", "mkv": "matroska", "avi": "avi"}
# The "black" stretch of black_then_content and the frozen stretch of frozen_middle.
BLACK_SECONDS = 1.5
FROZEN_START_S = 1.0
FROZEN_SECONDS = 2.5


def _tile(width: int, height: int, rng: np.random.Generator, smooth: bool) -> np.ndarray:
    """A periodic RGB texture: sharp blocks and checks, or the same thing heavily blurred."""
    if smooth:
        small = rng.integers(30, 226, size=(6, 4, 3), dtype=np.uint8)
        frame = av.VideoFrame.from_ndarray(small, format="rgb24")
        # Upscaling a 4x6 image bilinearly leaves only soft gradients: a blurred picture.
        return frame.reformat(width, height, interpolation="BILINEAR").to_ndarray()
    block = 8
    cells = rng.integers(0, 256, size=(height // block + 1, width // block + 1, 3), dtype=np.uint8)
    tile = np.repeat(np.repeat(cells, block, axis=0), block, axis=1)[:height, :width]
    yy, xx = np.mgrid[0:height, 0:width]
    checks = ((yy // 4 + xx // 4) % 2).astype(bool)
    tile = tile.copy()
    tile[checks] //= 3  # fine high-contrast checks keep every frame sharp
    return tile


class _Frames:
    """Generates the RGB frames of a pattern: a texture panning across the picture."""

    def __init__(self, width: int, height: int, fps: int, pattern: Pattern, seed: int) -> None:
        self.width, self.height, self.fps, self.pattern = width, height, fps, pattern
        self._rng = np.random.default_rng(seed)
        tile = _tile(width, height, self._rng, smooth=pattern == "blur")
        self._canvas = np.tile(tile, (2, 2, 1))
        self._black = np.zeros((height, width, 3), dtype=np.uint8)

    def _panned(self, index: int) -> np.ndarray:
        x = (index * 3) % self.width
        y = (index * 2) % self.height
        return np.ascontiguousarray(self._canvas[y : y + self.height, x : x + self.width])

    def frame(self, index: int) -> np.ndarray:
        t = index / self.fps
        if self.pattern == "static":
            return self._panned(0)
        if self.pattern == "noise":
            # Coarse random blocks that change completely on every frame: cut after cut.
            cells = self._rng.integers(0, 256, size=(9, 16, 3), dtype=np.uint8)
            big = np.repeat(np.repeat(cells, -(-self.height // 9), 0), -(-self.width // 16), 1)
            return np.ascontiguousarray(big[: self.height, : self.width])
        if self.pattern == "black_then_content" and t < BLACK_SECONDS:
            return self._black
        if (
            self.pattern == "frozen_middle"
            and FROZEN_START_S <= t < FROZEN_START_S + FROZEN_SECONDS
        ):
            return self._panned(round(FROZEN_START_S * self.fps))
        return self._panned(index)


def make_clip(
    path: Path,
    width: int,
    height: int,
    seconds: float,
    fps: int = 30,
    audio: bool = True,
    pattern: Pattern = "moving",
    codec: str = "h264",
    container: str = "mp4",
    *,
    rotation: int = 0,
    faststart: bool = False,
    seed: int = 1,
    encoder_options: dict[str, str] | None = None,
) -> Path:
    """Writes a real clip: `pattern` frames at `fps`, a 440 Hz tone when `audio`."""
    encoder, options = _VIDEO_ENCODERS[codec]
    if codec == "av1":
        os.environ.setdefault("SVT_LOG", "1")  # SVT-AV1 prints its banner unless told not to
    container_options = {"movflags": "+faststart"} if faststart else {}
    frames = _Frames(width, height, fps, pattern, seed)
    count = max(1, round(seconds * fps))
    with av.open(str(path), "w", format=_MUXERS[container], options=container_options) as out:
        video = out.add_stream(encoder, rate=fps, options={**options, **(encoder_options or {})})
        video.width, video.height = width, height
        video.pix_fmt = _PIXEL_FORMATS.get(codec, "yuv420p")
        if rotation:
            video.set_display_rotation(rotation)
        sound = None
        if audio:
            sound = out.add_stream(_AUDIO_ENCODERS[container], rate=48000)
            sound.layout = "stereo"
        audio_samples = 0
        for index in range(count):
            frame = av.VideoFrame.from_ndarray(frames.frame(index), format="rgb24")
            frame.pts = index
            frame.time_base = Fraction(1, fps)
            out.mux(video.encode(frame))
            if sound is not None:
                # Keep the audio at least as far as the video, 1024 samples at a time.
                while audio_samples < (index + 1) * 48000 / fps:
                    out.mux(sound.encode(_tone(audio_samples, 1024)))
                    audio_samples += 1024
        out.mux(video.encode(None))
        if sound is not None:
            out.mux(sound.encode(None))
    return path


def _tone(start: int, samples: int, rate: int = 48000) -> av.AudioFrame:
    t = (np.arange(start, start + samples) / rate).astype(np.float32)
    wave = (0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    frame = av.AudioFrame.from_ndarray(np.stack([wave, wave]), format="fltp", layout="stereo")
    frame.sample_rate = rate
    frame.pts = start
    frame.time_base = Fraction(1, rate)
    return frame


def make_audio_only(path: Path, seconds: float = 2.0) -> Path:
    """An MP4 (m4a-like) holding only an AAC track."""
    with av.open(str(path), "w", format="mp4") as out:
        sound = out.add_stream("aac", rate=48000)
        sound.layout = "stereo"
        for start in range(0, int(seconds * 48000), 1024):
            out.mux(sound.encode(_tone(start, 1024)))
        out.mux(sound.encode(None))
    return path


def make_image(path: Path, width: int = 320, height: int = 240) -> Path:
    """A PNG picture (a test may name it .mp4)."""
    pixels = _Frames(width, height, 30, "moving", 7).frame(0)
    codec = av.CodecContext.create("png", "w")
    codec.width, codec.height, codec.pix_fmt = width, height, "rgb24"
    codec.time_base = Fraction(1, 1)
    packets = codec.encode(av.VideoFrame.from_ndarray(pixels, format="rgb24"))
    packets += codec.encode(None)
    path.write_bytes(b"".join(bytes(packet) for packet in packets))
    return path


def make_single_frame_video(path: Path, width: int = 320, height: int = 240) -> Path:
    """An MP4 whose H.264 track holds one frame: a still picture dressed as a video."""
    return make_clip(path, width, height, seconds=1 / 30, audio=False)


def make_truncated(path: Path, *, faststart: bool = True, seconds: float = 4.0) -> Path:
    """A valid clip cut in half (with `faststart` the index survives and claims the full length)."""
    whole = path.with_name(path.stem + ".whole" + path.suffix)
    make_clip(whole, 320, 240, seconds, faststart=faststart)
    data = whole.read_bytes()
    whole.unlink()
    path.write_bytes(data[: len(data) // 2])
    return path


def _boxes(data: bytes) -> list[tuple[bytes, int, int]]:
    """Top-level ISO-BMFF boxes as (type, offset, size)."""
    boxes, offset = [], 0
    while offset + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[offset : offset + 8])
        if size == 1:
            size = struct.unpack(">Q", data[offset + 8 : offset + 16])[0]
        elif size == 0:
            size = len(data) - offset
        boxes.append((kind, offset, size))
        offset += size
    return boxes


def make_corrupt(path: Path, *, seconds: float = 3.0) -> Path:
    """A clip whose index is intact but whose media data is random bytes."""
    whole = path.with_name(path.stem + ".whole" + path.suffix)
    make_clip(whole, 320, 240, seconds, faststart=True)
    data = bytearray(whole.read_bytes())
    whole.unlink()
    rng = random.Random(42)
    for kind, offset, size in _boxes(bytes(data)):
        if kind == b"mdat":
            data[offset + 8 : offset + size] = rng.randbytes(size - 8)
    path.write_bytes(bytes(data))
    return path


def make_hls_playlist(path: Path, url: str) -> Path:
    """An HLS media playlist whose segment is `url` (the SSRF shape of a hostile upload)."""
    path.write_text(
        "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:0\n"
        f"#EXTINF:2.0,\n{url}\n#EXT-X-ENDLIST\n"
    )
    return path


def make_concat_playlist(path: Path, url: str) -> Path:
    """An FFmpeg concat script pointing at `url`."""
    path.write_text(f"ffconcat version 1.0\nfile '{url}'\nduration 2.0\n")
    return path
