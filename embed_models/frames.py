"""Frames to the encoder's input: RGB uint8, 224x224, cover-resized and centre-cropped."""

from __future__ import annotations

from collections.abc import Iterable

import av
import numpy as np
from av.video.reformatter import Interpolation, VideoReformatter

from embed_models import FRAME_SIZE


def cover_size(width: int, height: int, side: int = FRAME_SIZE) -> tuple[int, int]:
    """The size whose short side is `side`, keeping the aspect ratio (before the crop)."""
    if width <= height:
        return side, max(side, round(height * side / width))
    return max(side, round(width * side / height)), side


def model_frames(
    frames: Iterable[np.ndarray | av.VideoFrame], side: int = FRAME_SIZE
) -> np.ndarray:
    """uint8 [T, side, side, 3] from RGB arrays [H, W, 3] or decoded frames of any size.

    Same geometry as the media pipeline's sampled frames: scale so the short side is
    `side` (area interpolation), then cut the centre square.
    """
    reformatter = VideoReformatter()  # our own: PyAV reformatters must not be shared
    out = []
    for item in frames:
        if isinstance(item, np.ndarray):
            if item.ndim != 3 or item.shape[2] != 3 or item.dtype != np.uint8:
                raise ValueError(f"expected uint8 RGB [H, W, 3], got {item.dtype} {item.shape}")
            item = av.VideoFrame.from_ndarray(np.ascontiguousarray(item), format="rgb24")
        width, height = cover_size(item.width, item.height, side)
        rgb = reformatter.reformat(
            item, width=width, height=height, format="rgb24", interpolation=Interpolation.AREA
        ).to_ndarray()
        top, left = (height - side) // 2, (width - side) // 2
        out.append(rgb[top : top + side, left : left + side])
    if not out:
        raise ValueError("no frames")
    return np.ascontiguousarray(np.stack(out))
