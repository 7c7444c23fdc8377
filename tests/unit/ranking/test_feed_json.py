"""The feed's JSON document against protobuf's own JSON mapping of the same page.

feed_json writes the document by hand for speed; it must say exactly what Envoy's
transcoder would print for the GetFeedResponse (snake_case names, every field printed:
envoy/envoy.yaml's print options), which json_format prints with the same options.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta, timezone

import pytest
from google.api import httpbody_pb2
from google.protobuf import json_format
from reels.ranking.v1 import ranking_service_pb2 as pb

from ranking_svc import feed_json
from ranking_svc.domain.model import (
    Components,
    Engagement,
    Fallback,
    Page,
    RankedItem,
    Source,
    Tier,
    Video,
)
from ranking_svc.servicer import feed_response


def _expected(page: Page, urls: list[tuple[str, str]]) -> dict:
    return json_format.MessageToDict(
        feed_response(page, urls),
        preserving_proto_field_name=True,
        always_print_fields_with_no_presence=True,
    )


def _urls(page: Page) -> list[tuple[str, str]]:
    return [
        (f"http://gw/api/v1/reels/{i.video.video_id}/manifest.m3u8?token=t.{n}", f"d{n}")
        for n, i in enumerate(page.items)
    ]


FULL = RankedItem(
    Video(
        video_id="0b6e5f5c-1d2a-4c1e-9a57-2f3c4d5e6f70",
        creator_id="creator-1",
        title='Ünïcode 🎬 "quoted" <b>&',
        description="line one\nline two\ttabbed \\ backslash \u2028",
        hashtags=("fun", "日本"),
        sound_id="sound-9",
        duration_s=15.5,
        thumbnail_url="http://s3/thumb.jpg",
        preview_url="http://s3/preview.gif",
        published_at=datetime(2026, 12, 7, 18, 30, 5, 123456, tzinfo=UTC),
        creator_name="Zoë",
    ),
    Engagement(views=2**40, likes=7, completion_rate=0.123456789),
    (Source.FOLLOWING, Source.DEEP_RECALL),
    Components(0.4, 0.3, 0.2, 0.1, 0.987654321, 0.73),
)
# Zero values everywhere, no publish time, no sources: printed as the mapping prints them.
EMPTY = RankedItem(Video(video_id="v-empty", creator_id=""), Engagement(), (), Components())
WHOLE_SECONDS = RankedItem(
    Video(
        video_id="v-whole",
        creator_id="c",
        duration_s=3.0,
        published_at=datetime(2026, 1, 1, tzinfo=UTC),
    ),
    Engagement(views=1, likes=0, completion_rate=1.0),
    (Source.EXPLORATION,),
    Components(total=1.0),
)


@pytest.mark.parametrize(
    "page",
    [
        Page((FULL, EMPTY, WHOLE_SECONDS), "next-cursor", Tier.MODEL),
        Page(
            (WHOLE_SECONDS,),
            "",
            Tier.RULES,
            (Fallback("embed_svc.recall", "deadline exceeded"), Fallback("model", "")),
        ),
        Page((), "", Tier.TRENDING_ONLY),
    ],
    ids=["model-tier", "rules-with-fallbacks", "empty"],
)
def test_the_document_is_the_proto_json_mapping_of_the_page(page: Page) -> None:
    urls = _urls(page)
    document = feed_json.page_document(page, urls)
    assert json.loads(document) == _expected(page, urls)


@pytest.mark.parametrize("seconds", [0.0, 0.001, 1.000001, 2.123456789, 59.94, 180.0, -1.5])
@pytest.mark.parametrize(
    "published",
    [
        datetime(2026, 12, 7, 18, 30, 5, 123000, tzinfo=UTC),
        datetime(2026, 12, 7, 18, 30, 5, 1, tzinfo=UTC),
        datetime(1999, 12, 31, 23, 59, 59, tzinfo=UTC),
        datetime(2026, 6, 1, 12, 0, tzinfo=timezone(timedelta(hours=2))),
    ],
)
def test_durations_and_times_are_printed_as_the_mapping_prints_them(
    seconds: float, published: datetime
) -> None:
    ranked = RankedItem(
        Video(video_id="v", creator_id="c", duration_s=seconds, published_at=published),
        Engagement(),
        (),
        Components(),
    )
    page = Page((ranked,), "")
    urls = _urls(page)
    assert json.loads(feed_json.page_document(page, urls)) == _expected(page, urls)


def test_every_feed_item_field_is_written() -> None:
    """A field added to FeedItem must be added here too: a populated item names them all."""
    written = set(feed_json.item(FULL, ("h", "d")))
    assert written == {field.name for field in pb.FeedItem.DESCRIPTOR.fields}
    page_fields = set(json.loads(feed_json.page_document(Page((FULL,), "c"), [("h", "d")])))
    assert page_fields == {field.name for field in pb.GetFeedResponse.DESCRIPTOR.fields}


def test_the_document_is_compact_utf8() -> None:
    document = feed_json.page_document(Page((FULL,), "c"), [("h", "d")])
    assert "Zoë".encode() in document and b"\\u00eb" not in document
    assert b'": ' not in document and b", " not in document


def test_non_finite_scores_are_spelled_as_the_mapping_spells_them() -> None:
    odd = RankedItem(
        Video(video_id="v", creator_id="c"),
        Engagement(completion_rate=math.nan),
        (),
        Components(completion=math.inf, engagement=-math.inf),
    )
    document = json.loads(feed_json.page_document(Page((odd,), ""), [("h", "d")]))
    item = document["items"][0]
    assert item["completion_rate"] == "NaN"
    assert item["score"]["completion"] == "Infinity"
    assert item["score"]["engagement"] == "-Infinity"
    # and protobuf reads them back as the same values
    parsed = json_format.ParseDict(document, pb.GetFeedResponse())
    assert math.isnan(parsed.items[0].completion_rate)
    assert parsed.items[0].score.completion == math.inf


def test_the_http_body_carries_the_document_as_json() -> None:
    document = feed_json.page_document(Page((FULL,), "c"), [("h", "d")])
    body = httpbody_pb2.HttpBody.FromString(feed_json.http_body(document))
    assert body.content_type == "application/json"
    assert body.data == document
