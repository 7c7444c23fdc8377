"""Helpers for the playback tests: a published clip, the CDN stand-in, players (FFmpeg)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import grpc
from reels.common.v1 import video_pb2
from reels.media.v1 import media_service_pb2_grpc as media_grpc
from reels.stream.v1 import stream_service_pb2 as stream_pb2
from reels.stream.v1 import stream_service_pb2_grpc as stream_grpc

from reels_runtime import localstack
from reels_runtime.cdn_config import cdn_values, render
from tests.integration.media.worker_support import upload, wait_for_status, worker_process
from tests.support.clips import make_clip
from tests.support.processes import free_port, http_status, running, wait_until

FFMPEG = shutil.which("ffmpeg") or "ffmpeg"
FFPROBE = shutil.which("ffprobe") or "ffprobe"


@dataclass(frozen=True)
class PublishedClip:
    video_id: str
    creator_id: str


async def publish_clip(
    media_target: str,
    keys,
    service_environ: dict[str, str],
    directory: Path,
    *,
    seconds: float = 4.0,
    title: str = "playback clip",
) -> PublishedClip:
    """Uploads a 9:16 clip with audio and waits until the real worker published it."""
    clip = make_clip(directory / f"{uuid.uuid4().hex[:8]}.mp4", 720, 1280, seconds)
    creator = f"creator-{uuid.uuid4().hex[:10]}"
    metadata = keys.user_metadata(creator)
    with worker_process(service_environ, directory / f"worker-{clip.stem}.log"):
        async with grpc.aio.insecure_channel(media_target) as channel:
            stub = media_grpc.MediaServiceStub(channel)
            video_id = await upload(stub, metadata, clip, title)
            await wait_for_status(stub, metadata, video_id, video_pb2.VIDEO_STATUS_PUBLISHED)
    return PublishedClip(video_id, creator)


async def wait_playable(stream_target: str, keys, video_id: str, timeout_s: float = 30) -> None:
    """Waits until stream_svc's consumer has the video (its manifest stops being NOT_FOUND)."""
    metadata = keys.user_metadata("viewer-wait")
    deadline = time.monotonic() + timeout_s
    async with grpc.aio.insecure_channel(stream_target) as channel:
        stub = stream_grpc.StreamServiceStub(channel)
        while True:
            try:
                await stub.GetHlsManifest(
                    stream_pb2.GetHlsManifestRequest(video_id=video_id),
                    metadata=metadata,
                    timeout=5,
                )
                return
            except grpc.aio.AioRpcError as error:
                if error.code() is not grpc.StatusCode.NOT_FOUND:
                    raise
            if time.monotonic() > deadline:
                raise TimeoutError(f"video {video_id} not playable in time")
            await asyncio.sleep(0.1)


async def wait_not_found(stream_target: str, keys, video_id: str, timeout_s: float = 30) -> None:
    metadata = keys.user_metadata("viewer-wait")
    deadline = time.monotonic() + timeout_s
    async with grpc.aio.insecure_channel(stream_target) as channel:
        stub = stream_grpc.StreamServiceStub(channel)
        while time.monotonic() < deadline:
            try:
                await stub.GetHlsManifest(
                    stream_pb2.GetHlsManifestRequest(video_id=video_id),
                    metadata=metadata,
                    timeout=5,
                )
            except grpc.aio.AioRpcError as error:
                if error.code() is grpc.StatusCode.NOT_FOUND:
                    return
                raise
            await asyncio.sleep(0.1)
    raise TimeoutError(f"video {video_id} still playable")


@dataclass(frozen=True)
class Cdn:
    url: str
    admin_url: str
    process: subprocess.Popen[bytes]


@contextlib.contextmanager
def cdn_standin(
    cdn_url: str, origin_url: str, directory: Path, cache_ttl_s: int = 300
) -> Iterator[Cdn]:
    """The CDN stand-in (envoy/cdn.yaml) on `cdn_url`'s port in front of `origin_url`."""
    admin_port = free_port()
    values = cdn_values(
        {
            "CDN_URL": cdn_url,
            "S3_ENDPOINT_URL": origin_url,
            "CDN_ADMIN_PORT": str(admin_port),
            "CDN_CACHE_TTL_SECONDS": str(cache_ttl_s),
        }
    )
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"cdn-{urlsplit(cdn_url).port}.yaml"
    path.write_text(render(values))
    with running(localstack.envoy_command(path), directory / f"{path.stem}.log") as process:
        wait_until(lambda: http_status(f"{cdn_url}/healthz") == 200, 30, "CDN stand-in")
        yield Cdn(cdn_url, f"http://127.0.0.1:{admin_port}", process)


async def ffmpeg_decode(url: str, *, every_stream: bool = True, timeout_s: float = 180) -> str:
    """Decodes `url` to nowhere with the ffmpeg CLI; any error fails.

    With `every_stream` (-map 0) every stream of every variant is decoded: all the rungs
    and the audio. Runs as an asyncio subprocess: the services under test share this event
    loop, so a blocking wait would stall the very servers FFmpeg is talking to.
    """
    mapping = ["-map", "0"] if every_stream else []
    command = [FFMPEG, "-v", "error", "-xerror", "-i", url, *mapping, "-f", "null", "-"]
    return await _run(command, timeout_s)


async def ffprobe_json(url: str, *extra: str) -> dict:
    out = await _run([FFPROBE, "-v", "error", *extra, "-show_streams", "-of", "json", url], 60)
    return json.loads(out)


async def _run(command: list[str], timeout_s: float) -> str:
    process = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    try:
        async with asyncio.timeout(timeout_s):
            out, err = await process.communicate()
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    if process.returncode != 0:
        raise AssertionError(
            f"{Path(command[0]).name} exited {process.returncode}: {err.decode()[-2000:]}"
        )
    return out.decode()
