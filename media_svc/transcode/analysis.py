"""Cheap frame statistics gathered during the one decode, turned into quality warnings."""

from __future__ import annotations

import statistics
from dataclasses import dataclass

import numpy as np

# About ten analysed frames per second of video are enough for stretches measured in
# seconds, and keep a 60 fps 3-minute clip cheap.
INTERVAL_S = 0.1
# Frames are analysed as small grey pictures with this short side (full-range luma 0-255).
SHORT_SIDE = 144
BLACK_LUMA = 24.0  # mean luma below this is black (video black is 16 in limited range)
BLACK_MIN_S = 1.0
FROZEN_DIFF = 1.0  # mean |difference| of consecutive analysed frames: nothing moved
FROZEN_MIN_S = 2.0
FLAT_STD = 8.0  # a frame this uniform has no edges to judge sharpness by
BLUR_LAPLACIAN_VAR = 60.0  # variance of the Laplacian below this looks blurred
BLUR_SHARE = 0.6  # "most of the clip"
CUT_DIFF = 40.0  # mean |difference| of 8x8-block averages: a new shot
CUTS_PER_MINUTE_MAX = 60.0  # one cut per second on average over the whole clip
CUTS_MIN = 5
LOW_RESOLUTION_SHORT_SIDE = 360
LOW_FRAME_RATE = 15.0


@dataclass(frozen=True)
class QualityWarning:
    kind: str  # blur | black_frames | frozen_frames | frequent_scene_changes | low_resolution
    #            | low_frame_rate | no_audio
    message: str
    start_seconds: float | None = None
    end_seconds: float | None = None
    value: float | None = None


@dataclass
class _Sample:
    time: float
    mean: float
    std: float
    laplacian_var: float
    diff: float | None  # to the previous analysed frame
    cut: bool


def analysis_size(width: int, height: int) -> tuple[int, int]:
    """The (even) size frames are shrunk to for analysis."""
    short = min(width, height, SHORT_SIDE)
    if width <= height:
        return short // 2 * 2, max(2, round(height * short / width / 2) * 2)
    return max(2, round(width * short / height / 2) * 2), short // 2 * 2


class FrameAnalyzer:
    """Fed small grey frames in time order; `warnings()` reads the stretches afterwards."""

    def __init__(self) -> None:
        self._samples: list[_Sample] = []
        self._previous: np.ndarray | None = None
        self._previous_blocks: np.ndarray | None = None
        self._next_time = float("-inf")

    def wants(self, time: float) -> bool:
        """Whether the frame at `time` should be analysed (about every INTERVAL_S)."""
        return time >= self._next_time

    def add(self, time: float, grey: np.ndarray) -> None:
        self._next_time = time + INTERVAL_S * 0.95
        luma = grey.astype(np.float32)
        laplacian = (
            luma[:-2, 1:-1]
            + luma[2:, 1:-1]
            + luma[1:-1, :-2]
            + luma[1:-1, 2:]
            - 4.0 * luma[1:-1, 1:-1]
        )
        h, w = (luma.shape[0] // 8) * 8, (luma.shape[1] // 8) * 8
        blocks = luma[:h, :w].reshape(h // 8, 8, w // 8, 8).mean(axis=(1, 3))
        diff = None
        cut = False
        if self._previous is not None and self._previous_blocks is not None:
            diff = float(np.abs(luma - self._previous).mean())
            cut = float(np.abs(blocks - self._previous_blocks).mean()) > CUT_DIFF
        self._samples.append(
            _Sample(time, float(luma.mean()), float(luma.std()), float(laplacian.var()), diff, cut)
        )
        self._previous, self._previous_blocks = luma, blocks

    def warnings(self, duration: float) -> list[QualityWarning]:
        return [
            *self._black(duration),
            *self._frozen(duration),
            *self._blur(),
            *self._cuts(duration),
        ]

    def _runs(self, flags: list[bool]) -> list[tuple[int, int]]:
        """[first, stop) index ranges of consecutive flagged samples."""
        runs: list[tuple[int, int]] = []
        first: int | None = None
        for index, flagged in enumerate([*flags, False]):
            if flagged and first is None:
                first = index
            elif not flagged and first is not None:
                runs.append((first, index))
                first = None
        return runs

    def _time(self, index: int, duration: float) -> float:
        """When sample `index` starts; past the last sample, the end of the clip."""
        return self._samples[index].time if index < len(self._samples) else duration

    def _black(self, duration: float) -> list[QualityWarning]:
        flags = [sample.mean < BLACK_LUMA for sample in self._samples]
        stretches = [
            (self._time(first, duration), self._time(stop, duration))
            for first, stop in self._runs(flags)
        ]
        return [
            QualityWarning(
                "black_frames",
                f"The video is black from {start:.1f} s to {end:.1f} s.",
                round(start, 3),
                round(end, 3),
                round(end - start, 3),
            )
            for start, end in stretches
            if end - start >= BLACK_MIN_S
        ]

    def _frozen(self, duration: float) -> list[QualityWarning]:
        # Sample i is flagged when it equals sample i-1, so a run starts one sample earlier.
        # Black stretches are reported as black, not as frozen.
        flags = [
            sample.diff is not None and sample.diff < FROZEN_DIFF and sample.mean >= BLACK_LUMA
            for sample in self._samples
        ]
        stretches = [
            (self._time(first - 1, duration), self._time(stop, duration))
            for first, stop in self._runs(flags)
        ]
        return [
            QualityWarning(
                "frozen_frames",
                f"The picture does not move from {start:.1f} s to {end:.1f} s.",
                round(start, 3),
                round(end, 3),
                round(end - start, 3),
            )
            for start, end in stretches
            if end - start >= FROZEN_MIN_S
        ]

    def _blur(self) -> list[QualityWarning]:
        judged = [s for s in self._samples if s.std >= FLAT_STD and s.mean >= BLACK_LUMA]
        if len(judged) < 3:
            return []
        blurred = [s for s in judged if s.laplacian_var < BLUR_LAPLACIAN_VAR]
        if len(blurred) < BLUR_SHARE * len(judged):
            return []
        median = statistics.median(s.laplacian_var for s in judged)
        return [
            QualityWarning(
                "blur",
                "Most of the video looks blurred or out of focus.",
                round(blurred[0].time, 3),
                round(blurred[-1].time, 3),
                round(median, 1),
            )
        ]

    def _cuts(self, duration: float) -> list[QualityWarning]:
        cuts = [s.time for s in self._samples if s.cut]
        if len(cuts) < CUTS_MIN or duration <= 0:
            return []
        per_minute = len(cuts) * 60.0 / duration
        if per_minute <= CUTS_PER_MINUTE_MAX:
            return []
        return [
            QualityWarning(
                "frequent_scene_changes",
                f"The picture changes completely {per_minute:.0f} times a minute; "
                "viewers may find it hard to follow.",
                round(cuts[0], 3),
                round(cuts[-1], 3),
                round(per_minute, 1),
            )
        ]

    @property
    def scene_changes(self) -> int:
        return sum(1 for s in self._samples if s.cut)


def source_warnings(
    width: int, height: int, frame_rate: float, has_audio: bool
) -> list[QualityWarning]:
    """Warnings about the source as a whole rather than its frames."""
    warnings = []
    short = min(width, height)
    if short < LOW_RESOLUTION_SHORT_SIDE:
        warnings.append(
            QualityWarning(
                "low_resolution",
                f"The video is {width}x{height}; below {LOW_RESOLUTION_SHORT_SIDE}p it looks "
                "soft on most phones.",
                value=float(short),
            )
        )
    if frame_rate < LOW_FRAME_RATE:
        warnings.append(
            QualityWarning(
                "low_frame_rate",
                f"The video plays at {frame_rate:.3g} frames per second; motion will look jerky.",
                value=round(frame_rate, 3),
            )
        )
    if not has_audio:
        warnings.append(QualityWarning("no_audio", "The video has no sound.", value=0.0))
    return warnings
