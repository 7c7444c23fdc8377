"""The adaptive-bitrate ladder: which renditions a source gets, at what size and bitrate."""

from __future__ import annotations

from dataclasses import dataclass

from media_svc.transcode.probe import MediaInfo

# (short side, average kbps, peak kbps) for H.264 at up to 30 fps; the short side is the
# width of the usual 9:16 portrait clip.
_H264_RUNGS = ((720, 2500, 3750), (480, 1200, 1800), (360, 700, 1050))
# HEVC needs roughly 60% of the H.264 bitrate for the same picture.
_HEVC_FACTOR = 0.6
# Above 30 fps the same picture needs more bits; not twice as many.
_HIGH_FPS_FACTOR = 1.5
_MIN_KBPS = 150


@dataclass(frozen=True)
class Rung:
    name: str  # "720p"; also the rendition's directory name
    width: int
    height: int
    video_bitrate_kbps: int
    max_bitrate_kbps: int
    codec: str = "h264"  # "h264" | "hevc"


def _even(value: float) -> int:
    return max(2, round(value / 2) * 2)


def scaled_size(width: int, height: int, short_side: int) -> tuple[int, int]:
    """The source's size scaled so its short side is `short_side`, both rounded to even."""
    if width <= height:
        return _even(short_side), _even(height * short_side / width)
    return _even(width * short_side / height), _even(short_side)


def plan_ladder(info: MediaInfo, *, include_hevc: bool = False) -> list[Rung]:
    """720p/480p/360p by the short side, never upscaled, largest first.

    A source whose short side is below 360 gets one rung at its own size (rounded to even).
    With `include_hevc` an HEVC rung at the top rung's size comes first.
    """
    short = min(info.width, info.height)
    fps_factor = _HIGH_FPS_FACTOR if info.frame_rate > 31 else 1.0
    rungs: list[Rung] = []
    for target, kbps, peak in _H264_RUNGS:
        if target > short:
            continue
        width, height = scaled_size(info.width, info.height, target)
        rungs.append(
            Rung(f"{target}p", width, height, round(kbps * fps_factor), round(peak * fps_factor))
        )
    if not rungs:
        # Smaller than the smallest rung: keep its size (down to even numbers, which 4:2:0
        # needs), scale the bitrate by its area.
        width, height = max(2, info.width // 2 * 2), max(2, info.height // 2 * 2)
        base_short, base_kbps, base_peak = _H264_RUNGS[-1]
        base_area = base_short * base_short * 16 / 9
        share = min(1.0, width * height / base_area)
        rungs.append(
            Rung(
                f"{min(width, height)}p",
                width,
                height,
                max(_MIN_KBPS, round(base_kbps * share * fps_factor)),
                max(_MIN_KBPS * 3 // 2, round(base_peak * share * fps_factor)),
            )
        )
    if include_hevc:
        top = rungs[0]
        rungs.insert(
            0,
            Rung(
                f"{top.name}-hevc",
                top.width,
                top.height,
                round(top.video_bitrate_kbps * _HEVC_FACTOR),
                round(top.max_bitrate_kbps * _HEVC_FACTOR),
                "hevc",
            ),
        )
    return rungs
