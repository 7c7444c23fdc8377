"""FrameAnalyzer on synthetic grey frames: each warning fires on its pattern and only there."""

from __future__ import annotations

import numpy as np
import pytest

from media_svc.transcode.analysis import FrameAnalyzer, QualityWarning, source_warnings

RNG = np.random.default_rng(3)
SHARP = RNG.integers(0, 256, size=(256, 144), dtype=np.uint8)


def _smooth() -> np.ndarray:
    y, x = np.mgrid[0:256, 0:144]
    return (128 + 60 * np.sin(x / 40.0) * np.cos(y / 50.0)).astype(np.uint8)


def _shifted(index: int) -> np.ndarray:
    return np.roll(SHARP, index * 3, axis=1)


def _run(frames: list[np.ndarray], fps: float = 10.0) -> list[QualityWarning]:
    analyzer = FrameAnalyzer()
    for index, frame in enumerate(frames):
        time = index / fps
        if analyzer.wants(time):
            analyzer.add(time, frame)
    return analyzer.warnings(len(frames) / fps)


def _kinds(warnings: list[QualityWarning]) -> list[str]:
    return [warning.kind for warning in warnings]


def test_moving_sharp_frames_raise_nothing() -> None:
    assert _run([_shifted(i) for i in range(50)]) == []


def test_black_stretch_of_a_second_or_more() -> None:
    black = np.full((256, 144), 0, dtype=np.uint8)
    frames = [black] * 15 + [_shifted(i) for i in range(35)]
    (warning,) = _run(frames)
    assert warning.kind == "black_frames"
    assert (warning.start_seconds, warning.end_seconds) == (0.0, 1.5)
    assert warning.value == pytest.approx(1.5)
    assert _run([black] * 8 + [_shifted(i) for i in range(42)]) == []  # 0.8 s is fine


def test_frozen_stretch_of_two_seconds_or_more() -> None:
    frames = (
        [_shifted(i) for i in range(10)]
        + [_shifted(10)] * 25
        + [_shifted(i) for i in range(11, 26)]
    )
    (warning,) = _run(frames)
    assert warning.kind == "frozen_frames"
    assert (warning.start_seconds, warning.end_seconds) == (1.0, 3.5)
    short = (
        [_shifted(i) for i in range(10)]
        + [_shifted(10)] * 15
        + [_shifted(i) for i in range(11, 36)]
    )
    assert _run(short) == []


def test_blur_over_most_of_the_clip() -> None:
    smooth = _smooth()
    (warning,) = _run([np.roll(smooth, 6 * i, axis=0) for i in range(50)])
    assert warning.kind == "blur"
    assert warning.value is not None and warning.value < 60
    mostly_sharp = [np.roll(smooth, 6 * i, axis=0) for i in range(10)] + [
        _shifted(i) for i in range(40)
    ]
    assert _run(mostly_sharp) == []


def test_flat_frames_are_not_called_blurred() -> None:
    grey = np.full((256, 144), 128, dtype=np.uint8)
    assert "blur" not in _kinds(_run([grey + (i % 2) for i in range(50)]))


def test_cut_after_cut_is_flagged() -> None:
    frames = [RNG.integers(0, 256, size=(8, 8), dtype=np.uint8) for _ in range(50)]
    big = [np.kron(frame, np.ones((32, 18), dtype=np.uint8)) for frame in frames]
    warnings = _run(big)
    assert _kinds(warnings) == ["frequent_scene_changes"]
    assert warnings[0].value is not None and warnings[0].value > 60


def test_source_warnings() -> None:
    kinds = _kinds(source_warnings(320, 180, 12.0, has_audio=False))
    assert kinds == ["low_resolution", "low_frame_rate", "no_audio"]
    assert source_warnings(720, 1280, 30.0, has_audio=True) == []
