"""The transcode job's rules with in-memory stand-ins for the engine and the stores."""

from __future__ import annotations

import threading
import time
import uuid
from pathlib import Path

import pytest

from media_svc.domain.jobs import EngineRun, JobTicket, Publication, RenditionRecord, TranscodeJob

pytestmark = pytest.mark.asyncio


class Store:
    def __init__(self) -> None:
        self.status = "processing"
        self.attempts = 0
        self.progress: list[int] = []
        self.published: list[Publication] = []
        self.failures: list[tuple[str, bool]] = []

    async def start_attempt(self, video_id: uuid.UUID) -> JobTicket | None:
        if self.status != "processing":
            return None
        self.attempts += 1
        return JobTicket(video_id, "alice", "videos/x/original", "videos/x/", self.attempts)

    async def set_progress(self, video_id: uuid.UUID, percent: int) -> None:
        self.progress.append(percent)

    async def publish(self, ticket: JobTicket, publication: Publication) -> bool:
        if self.status != "processing":
            return False
        self.status = "published"
        self.published.append(publication)
        return True

    async def record_failure(self, ticket: JobTicket, reason: str, final: bool) -> None:
        self.failures.append((reason, final))
        if final:
            self.status = "failed"


class Objects:
    def __init__(self) -> None:
        self.uploaded: list[tuple[str, tuple[str, ...]]] = []

    async def download(self, key: str, destination: Path) -> None:
        destination.write_bytes(b"original")  # noqa: ASYNC240 - a tiny test file

    async def upload_tree(self, prefix: str, directory: Path, files) -> None:
        assert all((directory / name).exists() for name in files)
        self.uploaded.append((prefix, tuple(files)))


class Engine:
    """Fails the first `failures` runs; otherwise reports progress and writes one file."""

    def __init__(self, failures: int = 0, seconds: float = 0.05) -> None:
        self.failures = failures
        self.seconds = seconds
        self.runs = 0
        self.cancelled = threading.Event()

    def run(self, source: Path, out_dir: Path, progress, cancel: threading.Event) -> EngineRun:
        self.runs += 1
        if self.runs <= self.failures:
            raise RuntimeError(f"encoder crashed on run {self.runs}")
        steps = 10
        for step in range(1, steps + 1):
            if cancel.is_set():
                self.cancelled.set()
                raise RuntimeError("cancelled")
            time.sleep(self.seconds / steps)
            progress(step / steps)
        (out_dir / "master.m3u8").write_text("#EXTM3U\n")
        return EngineRun(
            files=("master.m3u8",),
            duration_seconds=4.0,
            renditions=(
                RenditionRecord(
                    "360p", "video", 360, 640, 800_000, 700_000, "avc1", 30.0, "360p/playlist.m3u8"
                ),
            ),
            master_path="master.m3u8",
            dash_path="manifest.mpd",
            thumbnail_path="thumbnail.jpg",
            preview_path="preview.gif",
            quality_warnings=(),
            frames_jpeg=(b"jpeg",),
            width=360,
            height=640,
            frame_rate=30.0,
        )


class Embedder:
    def __init__(self, version: str | None = "1") -> None:
        self.version = version

    async def embed(self, ticket: JobTicket, frames_jpeg) -> str | None:
        return self.version


def _job(store: Store, engine: Engine, embedder: Embedder | None = None, **kwargs) -> TranscodeJob:
    options = {"timeout_s": 5.0, "progress_interval_s": 0.005, "backoff_s": lambda attempt: 0.0}
    return TranscodeJob(store, Objects(), engine, embedder or Embedder(), **{**options, **kwargs})


async def test_a_job_publishes_once_with_keys_under_the_videos_prefix() -> None:
    store, engine = Store(), Engine(seconds=0.2)
    assert await _job(store, engine).process(uuid.uuid4()) == "published"
    (publication,) = store.published
    assert publication.master_key == "videos/x/master.m3u8"
    assert publication.renditions[0].playlist_key == "videos/x/360p/playlist.m3u8"
    assert publication.embedding_model_version == "1"
    assert store.progress == sorted(store.progress)
    assert len(set(store.progress)) >= 3
    assert all(0 <= p <= 90 for p in store.progress)


async def test_a_redelivered_finished_job_changes_nothing() -> None:
    store, engine = Store(), Engine()
    job = _job(store, engine)
    await job.process(uuid.uuid4())
    assert await job.process(uuid.uuid4()) == "skipped"
    assert engine.runs == 1
    assert len(store.published) == 1


async def test_failures_are_retried_then_published() -> None:
    store, engine = Store(), Engine(failures=2)
    assert await _job(store, engine).process(uuid.uuid4()) == "published"
    assert store.attempts == 3
    assert store.failures == [
        ("encoder crashed on run 1", False),
        ("encoder crashed on run 2", False),
    ]


async def test_three_failures_dead_letter_the_video() -> None:
    store, engine = Store(), Engine(failures=5)
    assert await _job(store, engine).process(uuid.uuid4()) == "failed"
    assert engine.runs == 3
    assert store.failures[-1] == ("encoder crashed on run 3", True)
    assert store.status == "failed"
    assert not store.published


async def test_a_slow_transcode_is_stopped_at_its_timeout() -> None:
    store, engine = Store(), Engine(seconds=30)
    outcome = await _job(store, engine, timeout_s=0.2, max_attempts=1).process(uuid.uuid4())
    assert outcome == "failed"
    assert engine.cancelled.is_set()
    assert "longer than" in store.failures[0][0]


async def test_an_unavailable_embedder_does_not_block_publication() -> None:
    store = Store()
    assert await _job(store, Engine(), Embedder(None)).process(uuid.uuid4()) == "published"
    assert store.published[0].embedding_model_version is None
