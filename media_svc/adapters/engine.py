"""The PyAV engine behind the transcode job: probe, ladder, transcode, validate, frames."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from pathlib import Path

from media_svc.domain.jobs import EngineRun, RenditionRecord
from media_svc.transcode.ladder import plan_ladder
from media_svc.transcode.pipeline import transcode
from media_svc.transcode.probe import probe
from media_svc.transcode.validate import validate_outputs

FRAMES_DIR = "frames"  # sampled frames kept beside the renditions, for embedding retries


class PyAVEngine:
    """Runs in a worker thread (the job calls it through asyncio.to_thread)."""

    def __init__(self, *, include_hevc: bool = False, max_duration_s: float = 180) -> None:
        self._include_hevc = include_hevc
        self._max_duration_s = max_duration_s

    def run(
        self,
        source: Path,
        out_dir: Path,
        progress: Callable[[float], None],
        cancel: threading.Event,
    ) -> EngineRun:
        # The stored original is probed again: it is what will be decoded, whatever the
        # upload saw (and a replay may run long after).
        info = probe(source, max_duration_s=self._max_duration_s)
        ladder = plan_ladder(info, include_hevc=self._include_hevc)
        result = transcode(source, out_dir, ladder, progress=progress, cancel=cancel)
        validate_outputs(out_dir, result, info, ladder)
        frames = tuple(frame.jpeg() for frame in result.sampled_frames)
        frame_files = []
        (out_dir / FRAMES_DIR).mkdir(exist_ok=True)
        for index, jpeg in enumerate(frames):
            name = f"{FRAMES_DIR}/{index:02d}.jpg"
            (out_dir / name).write_bytes(jpeg)
            frame_files.append(name)
        renditions = [
            RenditionRecord(
                name=r.name,
                kind="video",
                width=r.width,
                height=r.height,
                bandwidth_bps=r.bandwidth,
                average_bandwidth_bps=r.average_bandwidth,
                codecs=r.codecs,
                frame_rate=r.frame_rate,
                playlist_key=r.playlist,
            )
            for r in result.renditions
        ]
        if result.audio is not None:
            audio = result.audio
            renditions.append(
                RenditionRecord(
                    name=audio.name,
                    kind="audio",
                    width=0,
                    height=0,
                    bandwidth_bps=audio.bandwidth,
                    average_bandwidth_bps=audio.average_bandwidth,
                    codecs=audio.codecs,
                    frame_rate=0.0,
                    playlist_key=audio.playlist,
                )
            )
        return EngineRun(
            files=(*result.files(), *frame_files),
            duration_seconds=result.duration_seconds,
            renditions=tuple(renditions),
            master_path=result.master_playlist,
            dash_path=result.dash_manifest,
            thumbnail_path=result.thumbnail,
            preview_path=result.preview,
            quality_warnings=tuple(dataclasses.asdict(w) for w in result.warnings),
            frames_jpeg=frames,
            width=info.width,
            height=info.height,
            frame_rate=info.frame_rate,
        )
