"""Helpers for the upload tests: dedicated servers and gateways, clips, and what is left behind."""

from __future__ import annotations

import asyncio
import glob
import os
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import dict_row
from redis.asyncio import Redis
from reels.common.v1 import events_pb2
from reels.media.v1 import media_service_pb2 as media_pb2

from media_svc.redis_keys import MediaKeys
from media_svc.settings import MediaSettings
from reels_runtime import localstack
from reels_runtime.config import Config
from reels_runtime.object_store import s3_client as runtime_s3_client
from reels_runtime.server import ReelsServer
from tests.support import clips
from tests.support.processes import http_status, running, wait_until

CHUNK = 64 * 1024


def new_user() -> str:
    """A creator id of its own per test, so tests never share quota, rows or sessions."""
    return f"creator-{uuid.uuid4().hex[:12]}"


@asynccontextmanager
async def media_service(config: Config, settings: MediaSettings) -> AsyncIterator[ReelsServer]:
    """A media_svc of its own (e.g. a tiny size limit or a blocklist) on port 0."""
    from media_svc.server import create_server

    server = await create_server(config.replace(service_name="media_svc"), settings)
    await server.start()
    try:
        yield server
    finally:
        await server.stop(grace=1)


@dataclass(frozen=True)
class Edge:
    url: str


@contextmanager
def envoy_in_front_of(keys: Any, directory: Path, media_target: str) -> Iterator[Edge]:
    """A real Envoy whose media_svc cluster is `media_target` (other clusters unused)."""
    from tests.conftest import gateway_config

    directory.mkdir(parents=True, exist_ok=True)
    path, port, admin_port = gateway_config(
        keys, directory / "envoy.yaml", media_target, media_target, media_target
    )
    admin = f"http://127.0.0.1:{admin_port}"
    with running(localstack.envoy_command(path), directory / "envoy.log"):
        wait_until(lambda: http_status(f"{admin}/ready") == 200, 30, "Envoy")
        yield Edge(f"http://127.0.0.1:{port}")


class Clips:
    """Small real clips (and hostile files), made once per directory with tests/support/clips."""

    def __init__(self, directory: Path) -> None:
        self._dir = directory

    def _make(self, name: str, make: Any) -> Path:
        path = self._dir / name
        if not path.exists():
            make(path)
        return path

    def portrait(self) -> Path:
        return self._make("portrait.mp4", lambda p: clips.make_clip(p, 360, 640, 1.0))

    def short(self) -> Path:
        """Half a second: under the 1-second limit of the strict test servers."""
        return self._make("short.mp4", lambda p: clips.make_clip(p, 320, 240, 0.5))

    def long(self) -> Path:
        return self._make("long.mp4", lambda p: clips.make_clip(p, 320, 240, 2.5, audio=False))

    def large(self) -> Path:
        """Lossless, so above 5 MiB: two parts of a resumable upload."""
        return self._make(
            "large.mp4",
            lambda p: clips.make_clip(p, 640, 360, 2.5, encoder_options={"crf": "0"}),
        )

    def corrupt(self) -> Path:
        return self._make("corrupt.mp4", clips.make_corrupt)

    def truncated(self) -> Path:
        return self._make("truncated.mp4", clips.make_truncated)

    def audio_only(self) -> Path:
        return self._make("audio-only.mp4", clips.make_audio_only)

    def image_as_mp4(self) -> Path:
        return self._make("picture.mp4", clips.make_image)

    def hls_as_mp4(self, url: str) -> Path:
        path = self._dir / f"playlist-{uuid.uuid4().hex[:6]}.mp4"
        return clips.make_hls_playlist(path, url)


def s3_client(config: Config) -> Any:
    return runtime_s3_client(config, timeout_s=30.0)


def object_keys(config: Config, prefix: str = "videos/") -> set[str]:
    paginator = s3_client(config).get_paginator("list_objects_v2")
    return {
        item["Key"]
        for page in paginator.paginate(Bucket=config.s3_bucket_video, Prefix=prefix)
        for item in page.get("Contents", ())
    }


def open_multipart_uploads(config: Config, prefix: str = "videos/") -> set[tuple[str, str]]:
    response = s3_client(config).list_multipart_uploads(
        Bucket=config.s3_bucket_video, Prefix=prefix
    )
    return {(item["Key"], item["UploadId"]) for item in response.get("Uploads", ())}


def query(database_url: str, sql: str, *params: object) -> list[dict[str, Any]]:
    with psycopg.connect(database_url, autocommit=True) as conn:
        return list(conn.cursor(row_factory=dict_row).execute(sql, params).fetchall())


def video_rows(database_url: str, creator_id: str) -> list[dict[str, Any]]:
    return query(database_url, "SELECT * FROM media.videos WHERE creator_id = %s", creator_id)


def video_row(database_url: str, video_id: str) -> dict[str, Any] | None:
    rows = query(database_url, "SELECT * FROM media.videos WHERE id = %s", video_id)
    return rows[0] if rows else None


def session_rows(database_url: str, creator_id: str) -> list[dict[str, Any]]:
    return query(
        database_url, "SELECT * FROM media.upload_sessions WHERE creator_id = %s", creator_id
    )


def spool_files(directory: str | None = None) -> set[str]:
    return set(glob.glob(os.path.join(directory or tempfile.gettempdir(), "reels-upload-*")))


def _quota_key(config: Config, creator_id: str) -> str:
    prefix = MediaKeys.from_config(config).upload_quota_prefix
    return f"{prefix}{datetime.now(UTC).date()}:{creator_id}"


async def quota_used(config: Config, creator_id: str) -> int:
    key = _quota_key(config, creator_id)
    async with Redis.from_url(config.redis_url) as redis:
        return int(await redis.get(key) or 0)


async def set_quota_used(config: Config, creator_id: str, used: int) -> None:
    key = _quota_key(config, creator_id)
    async with Redis.from_url(config.redis_url) as redis:
        await redis.set(key, used, ex=86400 + 3600)


async def uploaded_event(
    config: Config, video_id: str, timeout_s: float = 10.0
) -> events_pb2.VideoUploadedEvent:
    """The `video.uploaded` event of a video, read back from its stream with XRANGE."""
    key = f"{config.event_stream_prefix}video.uploaded"
    deadline = asyncio.get_running_loop().time() + timeout_s
    async with Redis.from_url(config.redis_url) as redis:
        while True:
            for _, fields in await redis.xrange(key):
                event = events_pb2.VideoUploadedEvent.FromString(fields[b"payload"])
                if event.video_id == video_id:
                    return event
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"no video.uploaded event for {video_id} on {key}")
            await asyncio.sleep(0.1)


@dataclass(frozen=True)
class Leftovers:
    """Everything an upload could leave behind, for one creator."""

    rows: int
    sessions: int
    objects: frozenset[str]
    multipart: frozenset[tuple[str, str]]
    spooled: frozenset[str]
    quota: int

    @classmethod
    async def of(
        cls, config: Config, database_url: str, creator_id: str, spool_dir: str | None = None
    ) -> Leftovers:
        return cls(
            rows=len(video_rows(database_url, creator_id)),
            sessions=len(session_rows(database_url, creator_id)),
            objects=frozenset(await asyncio.to_thread(object_keys, config)),
            multipart=frozenset(await asyncio.to_thread(open_multipart_uploads, config)),
            spooled=frozenset(spool_files(spool_dir)),
            quota=await quota_used(config, creator_id),
        )


async def assert_nothing_left(
    before: Leftovers,
    config: Config,
    database_url: str,
    creator_id: str,
    spool_dir: str | None = None,
) -> None:
    """No row, session, object, open multipart upload, spool file or quota slot remains.

    Cleanup of a cancelled call may finish just after the client sees the error: wait a
    little for it.
    """
    deadline = asyncio.get_running_loop().time() + 5.0
    while True:
        after = await Leftovers.of(config, database_url, creator_id, spool_dir)
        clean = (
            after.rows == 0
            and after.sessions == 0
            and after.objects <= before.objects
            and after.multipart <= before.multipart
            and after.spooled <= before.spooled
            and after.quota == 0
        )
        if clean or asyncio.get_running_loop().time() > deadline:
            break
        await asyncio.sleep(0.1)
    assert after.rows == 0, "a videos row was left behind"
    assert after.sessions == 0, "an upload session was left behind"
    assert after.objects - before.objects == set(), "objects were left behind"
    assert after.multipart - before.multipart == set(), "a multipart upload was left open"
    assert after.spooled - before.spooled == set(), "a spool file was left behind"
    assert after.quota == 0, "the quota slot was not given back"


async def upload_requests(
    data: bytes,
    *,
    title: str = "a clip",
    chunk: int = CHUNK,
    **metadata: Any,
) -> AsyncIterator[media_pb2.UploadVideoRequest]:
    """An UploadVideo stream: metadata first, then the file in chunks."""
    yield media_pb2.UploadVideoRequest(
        metadata=media_pb2.UploadVideoMetadata(title=title, **metadata)
    )
    for start in range(0, len(data), chunk):
        yield media_pb2.UploadVideoRequest(chunk=data[start : start + chunk])


def multipart_form(
    fields: list[tuple[str, str]],
    file: tuple[str, bytes, str] | None,
    *,
    file_first: bool = False,
    boundary: str = "reels-test-boundary-7c1f",
) -> tuple[str, bytes]:
    """(content type, body) of a multipart/form-data form, built by hand."""
    parts: list[bytes] = []
    for name, value in fields:
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
            + value.encode()
            + b"\r\n"
        )
    if file is not None:
        file_name, data, content_type = file
        part = (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
                f'filename="{file_name}"\r\nContent-Type: {content_type}\r\n\r\n'
            ).encode()
            + data
            + b"\r\n"
        )
        parts.insert(0, part) if file_first else parts.append(part)
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return f"multipart/form-data; boundary={boundary}", body
