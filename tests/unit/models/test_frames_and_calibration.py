"""Frames to the encoder's input geometry, and the seeded calibration clips."""

from __future__ import annotations

import numpy as np
import pytest

from embed_models.calibration import FRAMES, SIZE, calibration_batches
from embed_models.frames import cover_size, model_frames


def test_portrait_frames_are_cover_resized_and_centre_cropped() -> None:
    frame = np.zeros((1280, 720, 3), np.uint8)
    frame[:, :, 0] = 200  # red everywhere
    frame[:200] = (0, 0, 255)  # a blue band at the top, outside the centre square
    out = model_frames([frame, frame])
    assert out.shape == (2, 224, 224, 3) and out.dtype == np.uint8
    assert out[..., 2].max() < 10 and abs(int(out[..., 0].mean()) - 200) <= 2
    assert cover_size(720, 1280) == (224, 398)


def test_small_frames_are_upscaled() -> None:
    out = model_frames([np.full((90, 160, 3), 77, np.uint8)])
    assert out.shape == (1, 224, 224, 3)
    assert abs(int(out.mean()) - 77) <= 1


def test_bad_frames_are_refused() -> None:
    with pytest.raises(ValueError, match="uint8 RGB"):
        model_frames([np.zeros((10, 10, 3), np.float32)])
    with pytest.raises(ValueError, match="no frames"):
        model_frames([])


def test_calibration_clips_are_reproducible() -> None:
    first = next(calibration_batches(5, 4, batch=4))
    again = next(calibration_batches(5, 4, batch=4))
    other = next(calibration_batches(6, 4, batch=4))
    assert first.shape == (4, FRAMES, SIZE, SIZE, 3) and first.dtype == np.uint8
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)
