"""Still outputs: the JPEG thumbnail, the animated GIF preview, frames resized for embeddings."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import av.error
import av.filter
import numpy as np

THUMBNAIL_BOX = (320, 240)
PREVIEW_BOX = (240, 240)
PREVIEW_FRAMES = 3
PREVIEW_FRAME_SECONDS = 0.6
EMBED_SIZE = 224
_PALETTE_BITS = 0xF8  # the 5 high bits of each channel: what the GIF palette is built from


def fit_within(width: int, height: int, box: tuple[int, int]) -> tuple[int, int]:
    """The largest size inside `box` with the source's aspect ratio (never upscaled)."""
    scale = min(box[0] / width, box[1] / height, 1.0)
    return max(1, round(width * scale)), max(1, round(height * scale))


def cover_size(width: int, height: int, side: int) -> tuple[int, int]:
    """The size whose short side is `side` (before a centre crop to side x side)."""
    if width <= height:
        return side, max(side, round(height * side / width))
    return max(side, round(width * side / height)), side


def centre_crop(rgb: np.ndarray, side: int) -> np.ndarray:
    top = (rgb.shape[0] - side) // 2
    left = (rgb.shape[1] - side) // 2
    return np.ascontiguousarray(rgb[top : top + side, left : left + side])


def encode_jpeg(rgb: np.ndarray, quality: int = 90) -> bytes:
    """JPEG bytes of an RGB array, with FFmpeg's mjpeg encoder (full-range YUV 4:2:0)."""
    height, width = rgb.shape[:2]
    codec = av.CodecContext.create("mjpeg", "w")
    codec.width, codec.height, codec.pix_fmt = width, height, "yuvj420p"
    codec.time_base = Fraction(1, 25)
    # Fixed quantiser: 2 is the best mjpeg offers, 31 the worst.
    codec.qscale = True
    codec.global_quality = max(2, min(31, round((100 - quality) / 3.3) + 2)) * 118
    frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
    frame = frame.reformat(format="yuvj420p", dst_color_range="JPEG")
    packets = codec.encode(frame) + codec.encode(None)
    return b"".join(bytes(packet) for packet in packets)


def write_gif(path: Path, frames: list[np.ndarray], seconds_per_frame: float) -> None:
    """An animated, endlessly looping GIF with one palette built from all its frames."""
    height, width = frames[0].shape[:2]
    delay = max(2, round(seconds_per_frame * 100))  # GIF delays are in centiseconds
    time_base = Fraction(1, 100)
    graph = av.filter.Graph()
    full = graph.add_buffer(width=width, height=height, format="rgb24", time_base=time_base)
    coarse = graph.add_buffer(width=width, height=height, format="rgb24", time_base=time_base)
    palette = graph.add("palettegen", "max_colors=128:stats_mode=full")
    apply = graph.add("paletteuse", "dither=bayer:bayer_scale=3")
    sink = graph.add("buffersink")
    full.link_to(apply, 0, 0)
    coarse.link_to(palette)
    palette.link_to(apply, 0, 1)
    apply.link_to(sink)
    graph.configure()
    # palettegen's cost grows with the number of distinct colours (a video frame has tens
    # of thousands): the palette is built from the frames at 5 bits a channel, 3-4x
    # cheaper for the same picture (PSNR of the GIF against the frames unchanged, 29.6-30.0
    # dB on the benchmark's clip); the frames themselves are mapped at full precision.
    for source, pictures in ((coarse, [rgb & _PALETTE_BITS for rgb in frames]), (full, frames)):
        for index, rgb in enumerate(pictures):
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            frame.pts, frame.time_base = index * delay, time_base
            source.push(frame)
        source.push(None)  # palettegen emits its palette at the end of its input
    quantised = []
    while True:
        try:
            quantised.append(sink.pull())
        except (av.error.EOFError, av.error.BlockingIOError):
            break
    with av.open(str(path), "w", format="gif", options={"loop": "0"}) as out:
        stream = out.add_stream("gif", rate=Fraction(100, delay))
        stream.width, stream.height, stream.pix_fmt = width, height, "pal8"
        stream.codec_context.time_base = time_base
        for index, frame in enumerate(quantised):
            frame.pts, frame.time_base, frame.duration = index * delay, time_base, delay
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
