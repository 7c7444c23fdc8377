"""Originals in the object store: streamed puts, presigned multipart uploads, fetch-back."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

from boto3.exceptions import S3UploadFailedError
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import BotoCoreError, ClientError

from media_svc.domain.uploads import StoredPart, StoreUnavailable, UploadTooLarge
from media_svc.domain.videos import InvalidArgument
from reels_runtime.config import Config
from reels_runtime.object_store import s3_client

_T = TypeVar("_T")
_CHUNK = 1024 * 1024
# Part list problems the client can fix (upload the part again, send the right ETag).
_PART_ERRORS = frozenset({"InvalidPart", "InvalidPartOrder", "EntityTooSmall"})
_GONE = frozenset({"NoSuchUpload", "NoSuchKey", "404"})


def _client(config: Config, endpoint_url: str, timeout_s: float) -> Any:
    return s3_client(config, timeout_s=timeout_s, endpoint_url=endpoint_url, max_attempts=3)


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


class S3Originals:
    """The `OriginalStore` of the upload pipeline on any S3-compatible store.

    boto3 is synchronous, so calls run in worker threads. A thread cannot be cancelled:
    when the RPC is, the call is awaited to its end before the cancellation goes on, so
    the cleanup that follows never races an object still being written.
    """

    def __init__(
        self,
        config: Config,
        *,
        public_endpoint_url: str | None = None,
        timeout_s: float = 30.0,
    ) -> None:
        self._bucket = config.s3_bucket_video
        self._client = _client(config, config.s3_endpoint_url, timeout_s)
        # Presigned URLs name the host clients reach, which may differ from ours.
        self._presigner = _client(config, public_endpoint_url or config.s3_endpoint_url, timeout_s)
        # At most 4 parts of 8 MiB in flight: a 500 MB original never sits in memory.
        self._transfer = TransferConfig(
            multipart_threshold=8 * 1024 * 1024,
            multipart_chunksize=8 * 1024 * 1024,
            max_concurrency=4,
        )

    async def _run(self, call: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
        task = asyncio.ensure_future(asyncio.to_thread(call, *args, **kwargs))
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            with contextlib.suppress(BaseException):
                await task
            raise
        except ClientError:
            raise
        except BotoCoreError as error:
            raise StoreUnavailable(f"the object store is unavailable: {error}") from error

    async def put_file(self, key: str, path: Path, content_type: str) -> None:
        try:
            await self._run(
                self._client.upload_file,
                str(path),
                self._bucket,
                key,
                ExtraArgs={"ContentType": content_type},
                Config=self._transfer,
            )
        except (ClientError, S3UploadFailedError) as error:
            raise StoreUnavailable(f"the object store refused the upload: {error}") from error

    async def fetch(self, key: str, path: Path, max_bytes: int) -> int:
        def download() -> int:
            response = self._client.get_object(Bucket=self._bucket, Key=key)
            if int(response.get("ContentLength", 0)) > max_bytes:
                response["Body"].close()
                raise UploadTooLarge(
                    f"the video is larger than the {max_bytes / (1024 * 1024):g} MB upload "
                    "limit; trim or compress it and try again"
                )
            size = 0
            with path.open("wb") as out:
                for chunk in response["Body"].iter_chunks(_CHUNK):
                    size += len(chunk)
                    if size > max_bytes:
                        response["Body"].close()
                        raise UploadTooLarge("the video is larger than the upload limit")
                    out.write(chunk)
            return size

        try:
            return await self._run(download)
        except ClientError as error:
            raise StoreUnavailable(f"cannot read the uploaded file back: {error}") from error

    async def delete(self, key: str) -> None:
        try:
            await self._run(self._client.delete_object, Bucket=self._bucket, Key=key)
        except ClientError as error:
            if _code(error) not in _GONE:
                raise StoreUnavailable(f"cannot delete {key}: {error}") from error

    async def exists(self, key: str) -> bool:
        try:
            await self._run(self._client.head_object, Bucket=self._bucket, Key=key)
        except ClientError as error:
            if _code(error) in _GONE:
                return False
            raise StoreUnavailable(f"cannot look up {key}: {error}") from error
        return True

    async def create_multipart(self, key: str, content_type: str) -> str:
        try:
            response = await self._run(
                self._client.create_multipart_upload,
                Bucket=self._bucket,
                Key=key,
                ContentType=content_type,
            )
        except ClientError as error:
            raise StoreUnavailable(f"cannot start the upload: {error}") from error
        return str(response["UploadId"])

    async def presign_part(
        self, key: str, s3_upload_id: str, part_number: int, size: int, expires_in_s: int
    ) -> str:
        # Signing is local; ContentLength is a signed header, so a PUT of any other size
        # (or to another key or part) fails the signature check.
        return str(
            self._presigner.generate_presigned_url(
                "upload_part",
                Params={
                    "Bucket": self._bucket,
                    "Key": key,
                    "UploadId": s3_upload_id,
                    "PartNumber": part_number,
                    "ContentLength": size,
                },
                ExpiresIn=expires_in_s,
                HttpMethod="PUT",
            )
        )

    async def list_parts(self, key: str, s3_upload_id: str) -> Mapping[int, StoredPart]:
        def collect() -> dict[int, StoredPart]:
            paginator = self._client.get_paginator("list_parts")
            return {
                int(part["PartNumber"]): StoredPart(
                    int(part["PartNumber"]), str(part["ETag"]), int(part["Size"])
                )
                for page in paginator.paginate(Bucket=self._bucket, Key=key, UploadId=s3_upload_id)
                for part in page.get("Parts", ())
            }

        try:
            return await self._run(collect)
        except ClientError as error:
            if _code(error) in _GONE:
                raise InvalidArgument(
                    "the object store no longer knows this upload; start a new one"
                ) from error
            raise StoreUnavailable(f"cannot list the uploaded parts: {error}") from error

    async def complete_multipart(
        self, key: str, s3_upload_id: str, parts: Sequence[tuple[int, str]]
    ) -> None:
        try:
            await self._run(
                self._client.complete_multipart_upload,
                Bucket=self._bucket,
                Key=key,
                UploadId=s3_upload_id,
                MultipartUpload={
                    "Parts": [{"PartNumber": number, "ETag": etag} for number, etag in parts]
                },
            )
        except ClientError as error:
            if _code(error) in _PART_ERRORS:
                raise InvalidArgument(
                    f"the object store refused the parts: {error.response['Error'].get('Message')}"
                ) from error
            # A retry after a lost answer: the store completed it the first time.
            if _code(error) in _GONE and await self.exists(key):
                return
            raise StoreUnavailable(f"cannot complete the upload: {error}") from error

    async def abort_multipart(self, key: str, s3_upload_id: str) -> None:
        try:
            await self._run(
                self._client.abort_multipart_upload,
                Bucket=self._bucket,
                Key=key,
                UploadId=s3_upload_id,
            )
        except ClientError as error:
            if _code(error) not in _GONE:
                raise StoreUnavailable(f"cannot abort the upload: {error}") from error

    async def pending_uploads(self, prefix: str) -> list[tuple[str, str]]:
        """(key, upload id) of the multipart uploads still open under `prefix`."""

        def collect() -> list[tuple[str, str]]:
            response = self._client.list_multipart_uploads(Bucket=self._bucket, Prefix=prefix)
            return [(item["Key"], item["UploadId"]) for item in response.get("Uploads", ())]

        return await self._run(collect)
