"""Scene families for content tests of the video encoder: clips generated, H.264-encoded
with PyAV at several qualities, decoded, resized, noised and shifted in time.

Two pairs are built to be hard: `foliage_fine` / `foliage_flat` share their mean colour
and differ only in texture; `city_still` / `city_pan` are the same kind of picture and
differ only in camera motion.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

import av
import numpy as np

from embed_models.frames import model_frames

FPS = 10
SOURCE_FRAMES = 30
SAMPLED_FRAMES = 10
SAMPLE_STEP = 2

Renderer = Callable[[int, np.ndarray, np.ndarray], np.ndarray]  # (t, u, v) -> RGB float


@dataclass(frozen=True)
class Variant:
    """How one clip of a family is degraded on its way to the encoder."""

    seed: int
    width: int
    height: int
    crf: int
    noise: float  # std of Gaussian noise added to the source, in 0-255 units
    start: int  # first sampled source frame (a shift in time)


VARIANTS = (
    Variant(seed=1, width=224, height=224, crf=18, noise=0.0, start=0),
    Variant(seed=2, width=320, height=320, crf=30, noise=4.0, start=3),
    Variant(seed=3, width=288, height=512, crf=36, noise=0.0, start=5),
    Variant(seed=4, width=160, height=160, crf=24, noise=8.0, start=2),
    Variant(seed=5, width=400, height=240, crf=28, noise=2.0, start=7),
)


def _grid(rng: np.random.Generator, cells: int) -> np.ndarray:
    grid = rng.uniform(-1.0, 1.0, size=(cells, cells))
    return grid - grid.mean()


def _blocks(grid: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Zero-mean blocky value noise on the periodic grid."""
    cells = grid.shape[0]
    rows = np.floor(v * cells).astype(int) % cells
    cols = np.floor(u * cells).astype(int) % cells
    return grid[rows[:, None], cols[None, :]]


def _smooth(grid: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Zero-mean smooth (bilinear) value noise on the periodic grid."""
    cells = grid.shape[0]
    fv, fu = v * cells, u * cells
    r0, c0 = np.floor(fv).astype(int), np.floor(fu).astype(int)
    wr, wc = (fv - r0)[:, None], (fu - c0)[None, :]
    r0, c0 = r0 % cells, c0 % cells
    r1, c1 = (r0 + 1) % cells, (c0 + 1) % cells
    top = grid[r0[:, None], c0[None, :]] * (1 - wc) + grid[r0[:, None], c1[None, :]] * wc
    bottom = grid[r1[:, None], c0[None, :]] * (1 - wc) + grid[r1[:, None], c1[None, :]] * wc
    return top * (1 - wr) + bottom * wr


def _sunset(seed: int) -> Renderer:
    rng = np.random.default_rng(seed)
    sun_u = rng.uniform(0.35, 0.65)
    top, bottom = np.array([250.0, 150.0, 60.0]), np.array([90.0, 40.0, 110.0])

    def render(t: int, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        sky = top + (bottom - top) * v[:, None, None]
        sky = np.broadcast_to(sky, (v.size, u.size, 3))
        sun_v = 0.3 + 0.15 * t / SOURCE_FRAMES
        d2 = (u[None, :] - sun_u) ** 2 + (v[:, None] - sun_v) ** 2
        glow = np.exp(-d2 / (2 * 0.08**2))[..., None]
        return sky + (np.array([255.0, 235.0, 160.0]) - sky) * 0.85 * glow

    return render


def _ocean(seed: int) -> Renderer:
    rng = np.random.default_rng(seed)
    phase = rng.uniform(0, 2 * np.pi, size=2)
    base = np.array([20.0, 85.0, 140.0])

    def render(t: int, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        swell = np.sin(2 * np.pi * (7 * v[:, None] - 1.5 * t / SOURCE_FRAMES) + phase[0])
        swell = swell + 0.5 * np.sin(2 * np.pi * 2 * u[None, :] + phase[1])
        shade = (0.5 + v[:, None]) * swell
        return base + shade[..., None] * np.array([10.0, 25.0, 30.0])

    return render


_FOLIAGE = np.array([96.0, 128.0, 64.0])


def _foliage(seed: int, fine: bool) -> Renderer:
    # The same mean colour; fine leaves (4 px cells at 224) or a soft, large-scale wash.
    texture = _blocks if fine else _smooth
    grid = _grid(np.random.default_rng(seed), 56 if fine else 3)
    amplitude = np.array([50.0, 60.0, 35.0]) if fine else np.array([12.0, 15.0, 8.0])

    def render(t: int, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        drift = 0.004 * t  # the same slow drift in both families
        return _FOLIAGE + texture(grid, u + drift, v)[..., None] * amplitude

    return render


def _city(seed: int, pan: bool) -> Renderer:
    rng = np.random.default_rng(seed)
    edges = np.sort(rng.uniform(0, 1, size=9))
    greys = rng.uniform(70, 150, size=edges.size)
    heights = rng.uniform(0.25, 0.75, size=edges.size)
    sky = np.array([170.0, 195.0, 225.0])

    def render(t: int, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        x = (u + (0.03 * t if pan else 0.0)) % 1.0
        building = np.searchsorted(edges, x) % edges.size
        grey = greys[building][None, :]
        roof = (1.0 - heights[building])[None, :]
        inside = v[:, None] > roof
        windows = ((np.floor(x * 60) % 2 == 0)[None, :]) & ((np.floor(v * 40) % 2 == 0)[:, None])
        wall = np.where(windows & inside, grey + 70.0, grey)[..., None] * np.array([1.0, 1.0, 1.05])
        return np.where(inside[..., None], wall, sky)

    return render


@dataclass(frozen=True)
class Family:
    name: str
    make: Callable[[int], Renderer]


FAMILIES = (
    Family("sunset", _sunset),
    Family("ocean", _ocean),
    Family("foliage_fine", lambda seed: _foliage(seed, fine=True)),
    Family("foliage_flat", lambda seed: _foliage(seed, fine=False)),
    Family("city_still", lambda seed: _city(seed, pan=False)),
    Family("city_pan", lambda seed: _city(seed, pan=True)),
)


def source_frames(family: Family, variant: Variant) -> np.ndarray:
    """uint8 [SOURCE_FRAMES, height, width, 3], with the variant's sensor noise."""
    render = family.make(variant.seed)
    # Scene units follow the short side, so the centre square of any frame shape shows the
    # same scene at the same scale (as a portrait and a square take of one shot would).
    side = min(variant.width, variant.height)
    u = (np.arange(variant.width) + 0.5 - variant.width / 2) / side + 0.5
    v = (np.arange(variant.height) + 0.5 - variant.height / 2) / side + 0.5
    noise = np.random.default_rng(1000 + variant.seed)
    frames = []
    for t in range(SOURCE_FRAMES):
        frame = np.asarray(render(t, u, v), dtype=np.float64)
        if variant.noise:
            frame = frame + noise.normal(0.0, variant.noise, size=frame.shape)
        frames.append(np.clip(np.round(frame), 0, 255).astype(np.uint8))
    return np.stack(frames)


def h264_roundtrip(frames: np.ndarray, crf: int) -> list[av.VideoFrame]:
    """Encodes to an in-memory H.264 MP4 at `crf` and decodes it again."""
    buffer = io.BytesIO()
    height, width = frames.shape[1:3]
    with av.open(buffer, "w", format="mp4") as out:
        stream = out.add_stream(
            "libx264", rate=FPS, options={"preset": "ultrafast", "crf": str(crf)}
        )
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for index, rgb in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            frame.pts, frame.time_base = index, Fraction(1, FPS)
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    buffer.seek(0)
    with av.open(buffer, "r") as container:
        return [frame.reformat(format="rgb24") for frame in container.decode(video=0)]


def family_clip(family: Family, variant: Variant) -> np.ndarray:
    """The encoder's input for one clip: uint8 [SAMPLED_FRAMES, 224, 224, 3]."""
    decoded = h264_roundtrip(source_frames(family, variant), variant.crf)
    picks = [variant.start + SAMPLE_STEP * i for i in range(SAMPLED_FRAMES)]
    return model_frames(decoded[i] for i in picks)
