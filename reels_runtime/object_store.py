"""S3 clients for the services that own objects (media) or hand out their URLs (stream)."""

from __future__ import annotations

import boto3
from botocore.config import Config as BotoConfig

from reels_runtime.config import Config


def s3_client(
    config: Config,
    *,
    timeout_s: float = 5.0,
    endpoint_url: str | None = None,
    max_attempts: int = 1,
):
    """A boto3 S3 client with bounded timeouts, so a stopped store fails fast.

    `endpoint_url` overrides S3_ENDPOINT_URL, e.g. with the address clients reach for
    presigned URLs.
    """
    return boto3.client(
        "s3",
        endpoint_url=endpoint_url or config.s3_endpoint_url,
        aws_access_key_id=config.s3_access_key_id,
        aws_secret_access_key=config.s3_secret_access_key,
        region_name=config.s3_region,
        config=BotoConfig(
            connect_timeout=min(timeout_s, 5.0),
            read_timeout=timeout_s,
            retries={"max_attempts": max_attempts, "mode": "standard"},
            s3={"addressing_style": "path"},
            signature_version="s3v4",
        ),
    )
