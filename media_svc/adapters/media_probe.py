"""The upload pipeline's prober: PyAV's probe (media_svc.transcode) off the event loop."""

from __future__ import annotations

import asyncio
from pathlib import Path

from media_svc.domain.uploads import MediaRejected, SourceInfo, base_content_type
from media_svc.transcode.probe import InvalidMedia, MediaInfo, probe

# The content type each detected container family is stored with, unless the declared
# one names the same family (a .mov sent as video/quicktime stays video/quicktime).
_FAMILY_TYPES = {
    "mp4": ("video/mp4", ("video/mp4", "video/x-m4v", "video/3gpp", "video/3gpp2")),
    "mov": ("video/quicktime", ("video/quicktime", "video/mp4")),
    "webm": ("video/webm", ("video/webm",)),
    "matroska": ("video/x-matroska", ("video/x-matroska", "video/matroska")),
    "avi": ("video/x-msvideo", ("video/x-msvideo", "video/avi", "video/msvideo")),
}


def content_type_of(info: MediaInfo, declared: str | None) -> str:
    """The content type to store for a probed file."""
    usual, honest = _FAMILY_TYPES.get(info.container, ("application/octet-stream", ()))
    declared = base_content_type(declared)
    return declared if declared in honest else usual


class PyAVProber:
    """Probes in a worker thread, a few at a time, bounded by the configured max duration."""

    def __init__(self, max_duration_s: float, concurrency: int = 4) -> None:
        self._max_duration_s = max_duration_s
        self._slots = asyncio.Semaphore(concurrency)

    async def __call__(
        self, path: Path, *, declared_content_type: str | None, file_name: str | None
    ) -> SourceInfo:
        async with self._slots:
            try:
                info = await asyncio.to_thread(
                    probe,
                    path,
                    max_duration_s=self._max_duration_s,
                    declared_content_type=declared_content_type,
                    file_name=file_name,
                )
            except InvalidMedia as error:
                raise MediaRejected(str(error)) from error
        return SourceInfo(
            container=info.container,
            content_type=content_type_of(info, declared_content_type),
            video_codec=info.video_codec,
            width=info.width,
            height=info.height,
            frame_rate=info.frame_rate,
            duration_seconds=info.duration_seconds,
            has_audio=info.has_audio,
            audio_codec=info.audio_codec,
        )
