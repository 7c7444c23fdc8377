"""Creator affinity weights, comment page tokens, and request limits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from stream_svc.domain.affinity import (
    HALF_LIFE,
    CreatorInteraction,
    Interaction,
    creator_affinities,
)
from stream_svc.domain.engagement import (
    CommentCursor,
    bounded_limit,
    comment_text,
    decode_cursor,
    encode_cursor,
    page_size,
    parse_uuid,
    share_platform,
)
from stream_svc.domain.errors import InvalidArgument

NOW = datetime(2026, 5, 1, tzinfo=UTC)
VIDEO = "7d1f9a52-3c1e-4d8e-9a41-2b7c9e0d4f13"


def test_affinity_weights_kinds_decay_and_scale_to_one() -> None:
    result = creator_affinities(
        [
            CreatorInteraction("watched", "v1", Interaction.COMPLETED, NOW),
            CreatorInteraction("watched", "v1", Interaction.COMPLETED, NOW - timedelta(days=1)),
            CreatorInteraction("liked", "v2", Interaction.LIKED, NOW),
            CreatorInteraction("shared", "v3", Interaction.SHARED, NOW),
            CreatorInteraction("old-share", "v4", Interaction.SHARED, NOW - HALF_LIFE),
        ],
        NOW,
        10,
    )
    assert [(a.creator_id, round(a.weight, 3)) for a in result] == [
        ("shared", 1.0),
        ("liked", 0.667),
        ("old-share", 0.5),
        ("watched", 0.333),
    ]
    assert (result[-1].completed, result[-1].liked, result[-1].shared) == (1, 0, 0)
    assert creator_affinities([], NOW, 10) == []
    assert (
        len(
            creator_affinities(
                [CreatorInteraction(f"c{i}", "v", Interaction.LIKED, NOW) for i in range(5)], NOW, 2
            )
        )
        == 2
    )


def test_page_tokens_round_trip_and_are_bound_to_their_video() -> None:
    cursor = CommentCursor(VIDEO, NOW, "2b7c9e0d-4f13-4d8e-9a41-7d1f9a523c1e")
    token = encode_cursor(cursor)
    assert decode_cursor(token, VIDEO) == cursor
    assert decode_cursor("", VIDEO) is None
    with pytest.raises(InvalidArgument, match="another video"):
        decode_cursor(token, "00000000-0000-4000-8000-000000000000")
    for bad in ("garbage", "e30", token[:-3]):
        with pytest.raises(InvalidArgument):
            decode_cursor(bad, VIDEO)


def test_request_limits() -> None:
    assert page_size(0, default=20, maximum=100) == 20
    assert page_size(500, default=20, maximum=100) == 100
    with pytest.raises(InvalidArgument):
        page_size(-1, default=20, maximum=100)
    assert bounded_limit(0, default=100, maximum=500) == 100
    with pytest.raises(InvalidArgument):
        bounded_limit(501, default=100, maximum=500)
    assert parse_uuid(VIDEO.upper()) == VIDEO
    with pytest.raises(InvalidArgument, match="video_id"):
        parse_uuid("nope")


def test_comment_and_platform_rules() -> None:
    assert comment_text("  hello\nworld ") == "hello\nworld"
    assert len(comment_text("é" * 500)) == 500
    for bad in ("", " \t ", "x" * 501, "bell\x07"):
        with pytest.raises(InvalidArgument):
            comment_text(bad)
    assert share_platform(" WhatsApp ") == "whatsapp"
    for bad in ("", "a b", "x" * 33, "what's"):
        with pytest.raises(InvalidArgument):
            share_platform(bad)
