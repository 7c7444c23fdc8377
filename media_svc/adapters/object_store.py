"""The S3 object store (SeaweedFS locally) as media_svc uses it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from pathlib import Path, PurePosixPath

from botocore.exceptions import BotoCoreError, ClientError

from reels_runtime.config import Config
from reels_runtime.object_store import s3_client


class ObjectStore:
    """The video bucket; boto3 is synchronous, so calls run in a worker thread."""

    def __init__(self, config: Config, probe_timeout_s: float = 1.0) -> None:
        self._bucket = config.s3_bucket_video
        self._probe_client = s3_client(config, timeout_s=probe_timeout_s)

    async def reachable(self) -> tuple[bool, str]:
        """Whether the bucket answers a signed HEAD; the reason says why not."""
        try:
            await asyncio.to_thread(self._probe_client.head_bucket, Bucket=self._bucket)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "error")
            return False, f"object store refused bucket {self._bucket!r}: {code}"
        except BotoCoreError as error:
            return False, f"object store unreachable: {error}"
        return True, ""


_CONTENT_TYPES = {
    ".m3u8": "application/vnd.apple.mpegurl",
    ".mpd": "application/dash+xml",
    ".m4s": "video/iso.segment",
    ".mp4": "video/mp4",
    ".jpg": "image/jpeg",
    ".gif": "image/gif",
}
# Segments never change once written (a re-transcode invalidates the CDN explicitly);
# playlists are small and may be rewritten.
_CACHE_CONTROL = {
    ".m4s": "public, max-age=31536000, immutable",
    ".mp4": "public, max-age=31536000, immutable",
}
_UPLOAD_CONCURRENCY = 8


def content_type_for(name: str) -> str:
    return _CONTENT_TYPES.get(PurePosixPath(name).suffix, "application/octet-stream")


class MediaObjects:
    """The objects of videos under `videos/{id}/`: originals in, renditions out."""

    def __init__(self, config: Config, timeout_s: float = 30.0) -> None:
        self._bucket = config.s3_bucket_video
        self._client = s3_client(config, timeout_s=timeout_s)
        self._limit = asyncio.Semaphore(_UPLOAD_CONCURRENCY)

    async def download(self, key: str, destination: Path) -> None:
        await asyncio.to_thread(self._client.download_file, self._bucket, key, str(destination))

    async def _upload_one(self, key: str, path: Path) -> None:
        extra = {"ContentType": content_type_for(path.name)}
        if path.suffix in _CACHE_CONTROL:
            extra["CacheControl"] = _CACHE_CONTROL[path.suffix]
        async with self._limit:
            await asyncio.to_thread(
                self._client.upload_file, str(path), self._bucket, key, ExtraArgs=extra
            )

    async def upload_tree(self, prefix: str, directory: Path, files: Sequence[str]) -> None:
        """Uploads the files (relative to `directory`) under `prefix`; keys are deterministic,
        so a repeated job overwrites rather than duplicates."""
        await asyncio.gather(
            *(self._upload_one(f"{prefix}{name}", directory / name) for name in files)
        )

    async def put_bytes(self, key: str, data: bytes, content_type: str) -> None:
        await asyncio.to_thread(
            self._client.put_object,
            Bucket=self._bucket,
            Key=key,
            Body=data,
            ContentType=content_type,
        )

    async def get_bytes(self, key: str) -> bytes:
        def read() -> bytes:
            return self._client.get_object(Bucket=self._bucket, Key=key)["Body"].read()

        return await asyncio.to_thread(read)

    async def list_keys(self, prefix: str) -> list[str]:
        def collect() -> list[str]:
            paginator = self._client.get_paginator("list_objects_v2")
            return [
                item["Key"]
                for page in paginator.paginate(Bucket=self._bucket, Prefix=prefix)
                for item in page.get("Contents", ())
            ]

        return await asyncio.to_thread(collect)

    async def delete_prefix(self, prefix: str) -> int:
        """Deletes every object under `prefix`; returns how many there were."""
        if not prefix.startswith("videos/") or not prefix.endswith("/"):
            raise ValueError(f"refusing to delete outside one video's prefix: {prefix!r}")
        keys = await self.list_keys(prefix)
        for start in range(0, len(keys), 1000):
            batch = [{"Key": key} for key in keys[start : start + 1000]]
            await asyncio.to_thread(
                self._client.delete_objects, Bucket=self._bucket, Delete={"Objects": batch}
            )
        return len(keys)


# What players fetch without credentials: playlists, manifests, segments, images. Originals
# ("videos/{id}/original", no extension) match none of these and stay private.
PUBLIC_SUFFIXES = ("m3u8", "mpd", "m4s", "mp4", "jpg", "gif")


def public_read_policy(bucket: str) -> dict:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "PublicRenditions",
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": [f"arn:aws:s3:::{bucket}/videos/*.{ext}" for ext in PUBLIC_SUFFIXES],
            }
        ],
    }


def bucket_cors_rules() -> dict:
    """Web players on other origins fetch segments directly (hls.js, dash.js), and browsers
    PUT resumable-upload parts to presigned URLs (they read each part's ETag back)."""
    return {
        "CORSRules": [
            {
                "AllowedOrigins": ["*"],
                "AllowedMethods": ["GET", "HEAD", "PUT"],
                "AllowedHeaders": ["*"],
                "ExposeHeaders": ["Content-Length", "Content-Range", "ETag"],
                "MaxAgeSeconds": 600,
            }
        ]
    }


async def apply_bucket_access(config: Config) -> None:
    """Makes renditions publicly readable (and CORS-enabled) while originals stay private.

    Local stacks call this at start; in production the bucket's policy is infrastructure's
    (MEDIA_MANAGE_BUCKET_POLICY=false) and the CDN reads the bucket with its own identity.
    """
    client = s3_client(config)
    bucket = config.s3_bucket_video
    await asyncio.to_thread(
        client.put_bucket_policy, Bucket=bucket, Policy=json.dumps(public_read_policy(bucket))
    )
    await asyncio.to_thread(
        client.put_bucket_cors, Bucket=bucket, CORSConfiguration=bucket_cors_rules()
    )
