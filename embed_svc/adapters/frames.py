"""Request frames (JPEG or raw RGB) to the encoder's input, uint8 [T, 224, 224, 3]."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import av
import numpy as np

from embed_svc.domain.errors import InvalidInput

FRAME_SIZE = 224
MAX_SIDE = 4096  # a frame larger than 4K is refused before it is decoded further
MAX_JPEG_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True)
class RawFrame:
    """One frame as the request carries it: JPEG bytes, or RGB bytes with their size."""

    jpeg: bytes = b""
    rgb: bytes = b""
    width: int = 0
    height: int = 0


def _decode_jpeg(data: bytes, index: int) -> av.VideoFrame:
    if len(data) > MAX_JPEG_BYTES:
        raise InvalidInput(f"frame {index}: JPEG larger than {MAX_JPEG_BYTES} bytes")
    codec = av.CodecContext.create("mjpeg", "r")
    try:
        frames = codec.decode(av.Packet(data))
        frames += codec.decode(None)
    except (av.FFmpegError, ValueError) as error:
        raise InvalidInput(f"frame {index} is not a decodable JPEG ({error})") from None
    if not frames:
        raise InvalidInput(f"frame {index} is not a decodable JPEG")
    frame = frames[0]
    if not (0 < frame.width <= MAX_SIDE and 0 < frame.height <= MAX_SIDE):
        raise InvalidInput(f"frame {index} is {frame.width}x{frame.height}, over {MAX_SIDE}")
    return frame


def _rgb(frame: RawFrame, index: int) -> np.ndarray:
    if not (0 < frame.width <= MAX_SIDE and 0 < frame.height <= MAX_SIDE):
        raise InvalidInput(
            f"frame {index}: width and height between 1 and {MAX_SIDE} are required for rgb"
        )
    expected = frame.width * frame.height * 3
    if len(frame.rgb) != expected:
        raise InvalidInput(
            f"frame {index}: rgb holds {len(frame.rgb)} bytes, "
            f"expected {frame.width}x{frame.height}x3 = {expected}"
        )
    return np.frombuffer(frame.rgb, dtype=np.uint8).reshape(frame.height, frame.width, 3)


def decode_frames(frames: Sequence[RawFrame], max_frames: int = 64) -> np.ndarray:
    """Decodes, cover-resizes and centre-crops every frame to 224x224 RGB."""
    if not 1 <= len(frames) <= max_frames:
        raise InvalidInput(f"between 1 and {max_frames} frames are required, got {len(frames)}")
    decoded: list[np.ndarray | av.VideoFrame] = []
    for index, frame in enumerate(frames):
        if frame.jpeg:
            decoded.append(_decode_jpeg(frame.jpeg, index))
        elif frame.rgb:
            decoded.append(_rgb(frame, index))
        else:
            raise InvalidInput(f"frame {index} has neither jpeg nor rgb pixels")
    # The same geometry as the media pipeline's sampled frames (and the encoder's tests).
    from embed_models.frames import model_frames

    return model_frames(decoded, FRAME_SIZE)
