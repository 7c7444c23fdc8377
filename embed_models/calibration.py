"""Procedurally generated calibration clips: where the encoder's feature scales come from.

No real footage exists here, so the per-statistic mean and spread used for
standardisation are measured on a seeded set of synthetic clips spanning flat colour,
gradients, value noise at many scales, stripes and checks, blobs and colour blocks;
still and panning cameras (log-uniform speeds), flicker, hard cuts and chaos; with and
without sensor noise. Same seed, same clips.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

SIZE = 224
FRAMES = 8
# Fixed: a new projection seed (a new model version) rotates the embedding space; the
# calibration (what "typical" means for each statistic) stays the same.
CALIBRATION_SEED = 1729
_MAX_SPEED = 10.0  # pixels per frame of a panning camera
_F32 = np.float32


def _resize_matrix(out_size: int, in_size: int) -> np.ndarray:
    """Bilinear interpolation as a matrix: out = M @ in along one axis."""
    positions = (np.arange(out_size) + 0.5) * in_size / out_size - 0.5
    positions = np.clip(positions, 0, in_size - 1)
    low = np.floor(positions).astype(int)
    high = np.minimum(low + 1, in_size - 1)
    frac = positions - low
    matrix = np.zeros((out_size, in_size), _F32)
    matrix[np.arange(out_size), low] += 1 - frac
    matrix[np.arange(out_size), high] += frac
    return matrix


def _value_noise(rng: np.random.Generator, height: int, width: int, cell: int) -> np.ndarray:
    small = rng.random((height // cell + 2, width // cell + 2), dtype=_F32)
    rows = _resize_matrix(height, small.shape[0])
    cols = _resize_matrix(width, small.shape[1])
    return rows @ small @ cols.T


def _canvas(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """One random picture [height, width, 3] in [0, 1], of a random kind."""
    kind = rng.integers(0, 7)
    low, high = rng.random((2, 3), dtype=_F32)
    yy = np.arange(height, dtype=_F32)[:, None]
    xx = np.arange(width, dtype=_F32)[None, :]
    if kind == 0:  # flat colour
        mix = np.zeros((height, width), _F32)
    elif kind == 1:  # linear gradient in a random direction
        angle = rng.uniform(0, 2 * np.pi)
        ramp = np.cos(angle) * xx + np.sin(angle) * yy
        mix = (ramp - ramp.min()) / (np.ptp(ramp) + 1e-6)
    elif kind == 2:  # value noise at a random scale (1 to 64 px cells)
        mix = _value_noise(rng, height, width, int(2 ** rng.uniform(0, 6)))
    elif kind == 3:  # stripes, random period and orientation, soft or hard
        period = rng.uniform(3, 48)
        angle = rng.uniform(0, np.pi)
        phase = (np.cos(angle) * xx + np.sin(angle) * yy) * _F32(2 * np.pi / period)
        mix = 0.5 + 0.5 * np.sin(phase)
        if rng.random() < 0.5:
            mix = (mix > 0.5).astype(_F32)
    elif kind == 4:  # checks
        cell = int(rng.integers(2, 40))
        mix = ((yy // cell + xx // cell) % 2).astype(_F32)
    elif kind == 5:  # soft blobs
        mix = np.zeros((height, width), _F32)
        for _ in range(int(rng.integers(2, 12))):
            cy, cx = rng.uniform(0, height), rng.uniform(0, width)
            radius = rng.uniform(8, 80)
            mix += np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / _F32(2 * radius**2))
        mix = np.minimum(mix, 1)
    else:  # colour noise blocks
        cell = int(rng.integers(1, 24))
        small = rng.random((height // cell + 1, width // cell + 1, 3), dtype=_F32)
        return np.repeat(np.repeat(small, cell, 0), cell, 1)[:height, :width]
    contrast = _F32(rng.uniform(0.1, 1.0))
    mix = 0.5 + (mix - 0.5) * contrast
    return low + mix[..., None] * (high - low)


def calibration_clip(rng: np.random.Generator) -> np.ndarray:
    """One uint8 [FRAMES, SIZE, SIZE, 3] clip."""
    margin = int(_MAX_SPEED * FRAMES)
    canvas = _canvas(rng, SIZE + margin, SIZE + margin)
    # Mostly still or panning cameras, as in most short clips; some flicker, cuts, chaos.
    motion = rng.choice(5, p=[0.35, 0.35, 0.1, 0.1, 0.1])
    # Log-uniform speeds: slow pans are as common as fast ones, per octave.
    speed = np.exp(rng.uniform(np.log(0.5), np.log(_MAX_SPEED), size=2)) * rng.choice([-1, 1], 2)
    clip = np.empty((FRAMES, SIZE, SIZE, 3), _F32)
    cut = _canvas(rng, SIZE, SIZE) if motion == 3 else None
    for t in range(FRAMES):
        y0 = x0 = margin // 2
        if motion == 1:  # panning camera
            y0 = int(margin / 2 + speed[0] * (t - FRAMES / 2))
            x0 = int(margin / 2 + speed[1] * (t - FRAMES / 2))
        frame = canvas[y0 : y0 + SIZE, x0 : x0 + SIZE]
        if motion == 2:  # flicker
            frame = frame * _F32(1 + 0.2 * np.sin(t * rng.uniform(0.5, 3)))
        elif motion == 3 and t >= FRAMES // 2:  # a hard cut halfway
            frame = cut
        elif motion == 4:  # a different picture every frame
            frame = _canvas(rng, SIZE, SIZE)
        clip[t] = frame
    noise = rng.choice([0.0, 0.0, 2.0, 5.0, 10.0])
    clip *= 255.0
    if noise:
        clip += rng.standard_normal(clip.shape, dtype=_F32) * _F32(noise)
    np.clip(clip, 0, 255, out=clip)
    return np.rint(clip, out=clip).astype(np.uint8)


def calibration_batches(seed: int, clips: int, batch: int = 8) -> Iterator[np.ndarray]:
    """`clips` calibration clips in uint8 batches [batch, FRAMES, SIZE, SIZE, 3]."""
    rng = np.random.default_rng(seed)
    for start in range(0, clips, batch):
        yield np.stack([calibration_clip(rng) for _ in range(min(batch, clips - start))])
