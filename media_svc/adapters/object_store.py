"""The S3 object store (SeaweedFS locally) as media_svc uses it."""

from __future__ import annotations

import asyncio

import boto3
from botocore.config import Config as BotoConfig
from botocore.exceptions import BotoCoreError, ClientError

from reels_runtime.config import Config


def s3_client(config: Config, timeout_s: float = 5.0):
    """A boto3 S3 client with bounded timeouts, so a stopped store fails fast."""
    return boto3.client(
        "s3",
        endpoint_url=config.s3_endpoint_url,
        aws_access_key_id=config.s3_access_key_id,
        aws_secret_access_key=config.s3_secret_access_key,
        region_name=config.s3_region,
        config=BotoConfig(
            connect_timeout=timeout_s,
            read_timeout=timeout_s,
            retries={"max_attempts": 1},
            s3={"addressing_style": "path"},
            signature_version="s3v4",
        ),
    )


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
