"""Helpers for the transcode-worker tests: a real worker process, uploads, polling."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
from reels.common.v1 import video_pb2
from reels.media.v1 import media_service_pb2 as media_pb2
from reels.media.v1 import media_service_pb2_grpc as media_grpc

from tests.support.processes import running

CHUNK = 256 * 1024

# Short waits so that failures, retries and reclaims happen within a test's time.
FAST_WORKER_ENV = {
    "SERVICE_NAME": "media_worker",
    "TRANSCODE_WORKER_CONCURRENCY": "1",
    "TRANSCODE_RETRY_BACKOFF_SECONDS": "0.2",
    "TRANSCODE_CLAIM_IDLE_MS": "1500",
    "EMBEDDING_RETRY_INTERVAL_SECONDS": "0.5",
    "VIDEO_PURGE_GRACE_SECONDS": "1",
    "VIDEO_PURGE_INTERVAL_SECONDS": "0.5",
    "TRANSCODE_PROGRESS_INTERVAL_SECONDS": "0.1",
}


@contextlib.contextmanager
def worker_process(
    service_environ: dict[str, str], log: Path, **overrides: str
) -> Iterator[subprocess.Popen[bytes]]:
    """`python -m media_svc.worker` as a real process, stopped by its pid afterwards."""
    env = {**service_environ, **FAST_WORKER_ENV, **overrides}
    with running([sys.executable, "-m", "media_svc.worker"], log, env) as process:
        yield process


async def upload(
    stub: media_grpc.MediaServiceStub, metadata: list[tuple[str, str]], clip: Path, title: str
) -> str:
    async def requests():
        yield media_pb2.UploadVideoRequest(
            metadata=media_pb2.UploadVideoMetadata(
                title=title,
                file_name=clip.name,
                content_type="video/mp4",
                size_bytes=clip.stat().st_size,  # noqa: ASYNC240 - one stat call
            )
        )
        with clip.open("rb") as source:
            while chunk := source.read(CHUNK):
                yield media_pb2.UploadVideoRequest(chunk=chunk)

    reply = await stub.UploadVideo(requests(), metadata=metadata, timeout=60)
    return reply.video_id


async def wait_for_status(
    stub: media_grpc.MediaServiceStub,
    metadata: list[tuple[str, str]],
    video_id: str,
    wanted: int,
    timeout_s: float = 120,
    seen_progress: list[int] | None = None,
) -> media_pb2.GetVideoStatusResponse:
    """Polls GetVideoStatus until `wanted`; records every progress value on the way."""
    deadline = time.monotonic() + timeout_s
    request = media_pb2.GetVideoStatusRequest(video_id=video_id)
    while time.monotonic() < deadline:
        reply = await stub.GetVideoStatus(request, metadata=metadata, timeout=5)
        if seen_progress is not None:
            seen_progress.append(reply.progress_percent)
        if reply.status == wanted:
            return reply
        if reply.status == video_pb2.VIDEO_STATUS_FAILED and wanted != reply.status:
            raise AssertionError(f"video failed: {reply.failure_reason}")
        await asyncio.sleep(0.05)
    raise TimeoutError(f"video {video_id} not {video_pb2.VideoStatus.Name(wanted)} in time")


def is_grpc_error(error: BaseException, code: grpc.StatusCode) -> bool:
    return isinstance(error, grpc.aio.AioRpcError) and error.code() is code
