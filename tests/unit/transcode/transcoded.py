"""A transcode as the tests keep it: its source, probe, ladder, outputs and progress."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from media_svc.transcode import MediaInfo, Rung, TranscodeResult, plan_ladder, probe, transcode


@dataclass(frozen=True)
class Transcoded:
    source: Path
    info: MediaInfo
    ladder: list[Rung]
    out: Path
    result: TranscodeResult
    progress: list[float]


def transcode_clip(source: Path, out: Path, *, include_hevc: bool = False) -> Transcoded:
    """probe -> plan_ladder -> transcode, recording every progress call."""
    info = probe(source)
    ladder = plan_ladder(info, include_hevc=include_hevc)
    progress: list[float] = []
    result = transcode(source, out, ladder, progress=progress.append)
    return Transcoded(source, info, ladder, out, result, progress)
