"""Helpers of the ranking tests: publishing videos as media_svc does, waiting for ranking's
index, and calling ranking_svc as a user."""

from __future__ import annotations

import asyncio
import time

from tests.integration.stream.engagement_support import new_id, publish_video
from tests.support.uploads import query

__all__ = ["indexed", "new_id", "publish_indexed", "wait_indexed"]


def indexed(database_url: str, video_id: str) -> dict | None:
    rows = query(
        database_url, "SELECT * FROM ranking.published_videos WHERE video_id = %s", video_id
    )
    return rows[0] if rows else None


async def wait_indexed(
    database_url: str, video_id: str, *, deleted: bool = False, within: float = 15.0
) -> float:
    """Waits until ranking's consumer has (un)indexed the video; returns the seconds taken."""
    started = time.monotonic()
    while time.monotonic() - started < within:
        row = await asyncio.to_thread(indexed, database_url, video_id)
        if row is not None and (row["deleted_at"] is not None) == deleted:
            return time.monotonic() - started
        await asyncio.sleep(0.05)
    raise AssertionError(f"video {video_id} not {'deleted' if deleted else 'indexed'} in time")


async def publish_indexed(config, database_url: str, creator_id: str, **fields) -> str:
    video_id = await publish_video(config, creator_id, **fields)
    await wait_indexed(database_url, video_id)
    return video_id
