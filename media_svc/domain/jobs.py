"""One transcode job: from an uploaded original to a published video, or a dead letter.

The orchestration is plain Python; the engine, the object store, the catalogue and the
embedding service are injected, so the rules (idempotency, attempts, progress, what is
published) are testable without them and the adapters stay thin.
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 3


@dataclass(frozen=True)
class JobTicket:
    """A video the worker may process now: it is `processing` and this is attempt N."""

    video_id: uuid.UUID
    creator_id: str
    original_key: str
    object_prefix: str
    attempt: int


@dataclass(frozen=True)
class RenditionRecord:
    """One published rendition, as the catalogue stores it and the event announces it."""

    name: str
    kind: str  # "video" or "audio"
    width: int
    height: int
    bandwidth_bps: int
    average_bandwidth_bps: int
    codecs: str
    frame_rate: float
    playlist_key: str


@dataclass(frozen=True)
class Publication:
    """Everything a successful job publishes."""

    duration_seconds: float
    renditions: tuple[RenditionRecord, ...]
    master_key: str
    dash_key: str
    thumbnail_key: str
    preview_key: str
    quality_warnings: tuple[dict[str, Any], ...]
    embedding_model_version: str | None
    width: int
    height: int
    frame_rate: float


class JobStore(Protocol):
    async def start_attempt(self, video_id: uuid.UUID) -> JobTicket | None: ...
    async def set_progress(self, video_id: uuid.UUID, percent: int) -> None: ...
    async def publish(self, ticket: JobTicket, publication: Publication) -> bool: ...
    async def record_failure(self, ticket: JobTicket, reason: str, final: bool) -> None: ...


class MediaObjects(Protocol):
    async def download(self, key: str, destination: Path) -> None: ...
    async def upload_tree(self, prefix: str, directory: Path, files: Sequence[str]) -> None: ...


class Engine(Protocol):
    """Runs in a worker thread: transcode, validate, and describe the outputs."""

    def run(
        self,
        source: Path,
        out_dir: Path,
        progress: Callable[[float], None],
        cancel: threading.Event,
    ) -> EngineRun: ...


@dataclass(frozen=True)
class EngineRun:
    """The engine's finished work: files to upload, what to publish, frames to embed."""

    files: tuple[str, ...]
    duration_seconds: float
    renditions: tuple[RenditionRecord, ...]  # playlist_key relative to the work directory
    master_path: str
    dash_path: str
    thumbnail_path: str
    preview_path: str
    quality_warnings: tuple[dict[str, Any], ...]
    frames_jpeg: tuple[bytes, ...]
    width: int
    height: int
    frame_rate: float


class Embedder(Protocol):
    async def embed(self, ticket: JobTicket, frames_jpeg: Sequence[bytes]) -> str | None:
        """The model version of the new embedding, or None when the service is unavailable."""


class JobTimedOut(Exception):
    pass


@dataclass
class _Progress:
    """Shared between the engine thread (writer) and the reporter task (reader)."""

    fraction: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def update(self, fraction: float) -> None:
        with self.lock:
            self.fraction = max(self.fraction, min(1.0, fraction))

    def read(self) -> float:
        with self.lock:
            return self.fraction


# Encoding is most of the work; validation, upload and publishing share the rest.
ENCODE_SHARE = 90


class TranscodeJob:
    """Processes one video id; safe to run again for the same id (at-least-once delivery)."""

    def __init__(
        self,
        store: JobStore,
        objects: MediaObjects,
        engine: Engine,
        embedder: Embedder,
        *,
        timeout_s: float,
        progress_interval_s: float = 0.5,
        backoff_s: Callable[[int], float] = lambda attempt: 2.0**attempt,
        max_attempts: int = MAX_ATTEMPTS,
        work_root: Path | None = None,
    ) -> None:
        self._store = store
        self._objects = objects
        self._engine = engine
        self._embedder = embedder
        self._timeout_s = timeout_s
        self._progress_interval_s = progress_interval_s
        self._backoff_s = backoff_s
        self._max_attempts = max_attempts
        self._work_root = work_root

    async def process(self, video_id: uuid.UUID) -> str:
        """Runs attempts until one publishes or the last one dead-letters the video.

        Returns what happened: "published", "skipped" (nothing to do: already published,
        deleted, failed or unknown — a redelivery changes nothing) or "failed".
        """
        while True:
            ticket = await self._store.start_attempt(video_id)
            if ticket is None:
                return "skipped"
            try:
                published = await self._attempt(ticket)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                reason = _reason(error)
                final = ticket.attempt >= self._max_attempts
                logger.warning(
                    "transcode attempt failed",
                    extra={"video_id": str(video_id), "attempt": ticket.attempt, "final": final},
                    exc_info=error,
                )
                await self._store.record_failure(ticket, reason, final)
                if final:
                    return "failed"
                await asyncio.sleep(self._backoff_s(ticket.attempt))
                continue
            return "published" if published else "skipped"

    async def _attempt(self, ticket: JobTicket) -> bool:
        started = time.monotonic()
        with tempfile.TemporaryDirectory(prefix="reels-job-", dir=self._work_root) as work:
            source = Path(work) / "original"
            out_dir = Path(work) / "out"
            out_dir.mkdir()
            await self._objects.download(ticket.original_key, source)
            run = await self._run_engine(ticket, source, out_dir)
            await self._objects.upload_tree(ticket.object_prefix, out_dir, run.files)
            model_version = await self._embedder.embed(ticket, run.frames_jpeg)
            publication = _publication(ticket.object_prefix, run, model_version)
            published = await self._store.publish(ticket, publication)
        logger.info(
            "transcode finished",
            extra={
                "video_id": str(ticket.video_id),
                "published": published,
                "seconds": round(time.monotonic() - started, 2),
            },
        )
        return published

    async def _run_engine(self, ticket: JobTicket, source: Path, out_dir: Path) -> EngineRun:
        progress = _Progress()
        cancel = threading.Event()
        engine_task = asyncio.create_task(
            asyncio.to_thread(self._engine.run, source, out_dir, progress.update, cancel)
        )
        reported = -1
        deadline = time.monotonic() + self._timeout_s
        try:
            while not engine_task.done():
                if time.monotonic() > deadline:
                    raise JobTimedOut(
                        f"transcoding took longer than {self._timeout_s:.0f} s and was stopped"
                    )
                await asyncio.wait({engine_task}, timeout=self._progress_interval_s)
                percent = int(progress.read() * ENCODE_SHARE)
                if percent > reported:
                    await self._store.set_progress(ticket.video_id, percent)
                    reported = percent
            return engine_task.result()
        finally:
            if not engine_task.done():
                # The engine checks `cancel` between frames: the thread ends promptly.
                cancel.set()
                await asyncio.gather(engine_task, return_exceptions=True)


def _publication(prefix: str, run: EngineRun, model_version: str | None) -> Publication:
    def key(relative: str) -> str:
        return f"{prefix}{relative}"

    renditions = tuple(
        RenditionRecord(**{**r.__dict__, "playlist_key": key(r.playlist_key)})
        for r in run.renditions
    )
    return Publication(
        duration_seconds=run.duration_seconds,
        renditions=renditions,
        master_key=key(run.master_path),
        dash_key=key(run.dash_path),
        thumbnail_key=key(run.thumbnail_path),
        preview_key=key(run.preview_path),
        quality_warnings=run.quality_warnings,
        embedding_model_version=model_version,
        width=run.width,
        height=run.height,
        frame_rate=run.frame_rate,
    )


def _reason(error: BaseException) -> str:
    text = str(error) or type(error).__name__
    return text[:500]
