"""The generic transactional outbox's checks that need no database (the rest runs against
PostgreSQL and Redis in tests/integration/stream/test_engagement_outbox.py and
tests/integration/media)."""

from __future__ import annotations

import asyncio

import pytest
from reels.common.v1 import events_pb2

from reels_runtime.outbox import Outbox


def test_table_names_must_be_plain_identifiers() -> None:
    for schema, table in (("media; DROP TABLE x", "outbox"), ("stream", 'out"box'), ("", "o")):
        with pytest.raises(ValueError, match="identifier"):
            Outbox(schema, {}, table)
    assert Outbox("stream", {}).name == "stream.outbox"


def test_a_topic_outside_the_map_is_refused_before_anything_is_written() -> None:
    outbox = Outbox("stream", {"video.liked": events_pb2.VideoLikedEvent})
    message = events_pb2.VideoSharedEvent(video_id="v")
    with pytest.raises(ValueError, match=r"stream\.outbox does not carry 'video\.shared'"):
        # No connection is needed to refuse it.
        asyncio.run(outbox.enqueue(None, "video.shared", message))  # type: ignore[arg-type]


def test_payloads_decode_as_the_topic_type() -> None:
    outbox = Outbox(
        "stream",
        {
            "video.liked": events_pb2.VideoLikedEvent,
            "video_events": events_pb2.PlaybackEventBatch,
        },
    )
    liked = events_pb2.VideoLikedEvent(event_id="e", video_id="v", like_count=3)
    assert outbox.decode("video.liked", liked.SerializeToString()) == liked
    batch = events_pb2.PlaybackEventBatch()
    batch.events.add(event_id="r", video_id="v")
    assert outbox.decode("video_events", batch.SerializeToString()) == batch
