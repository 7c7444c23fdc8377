"""A feed page as the JSON document HTTP clients receive, written straight from its items.

The document is what Envoy's transcoder prints for a GetFeedResponse (the proto3 JSON
mapping with `preserve_proto_field_names` and `always_print_primitive_fields`, as
envoy/envoy.yaml asks): snake_case names, int64 as strings, enums by name, Timestamp and
Duration as strings, unset message fields left out, every other field printed. Written
here because protobuf's own json_format costs ~3 ms of Python for a 50-item page (this
~0.8 ms, as much as building the proto), and a page is rendered once, when it is built:
every cache hit then leaves through Envoy as the stored bytes, without the ~1.5 ms of
transcoding per request it would cost otherwise.
tests/unit/ranking/test_feed_json.py holds this module to json_format's output.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
from google.api import httpbody_pb2
from reels.ranking.v1 import ranking_service_pb2 as pb

from ranking_svc.domain.model import Fallback, Page, RankedItem

CONTENT_TYPE = "application/json"
# Enum values by number, as the mapping prints them (the enum wrappers' Name() is slower).
_SOURCES = {value.number: value.name for value in pb.CandidateSource.DESCRIPTOR.values}
_TIERS = {value.number: value.name for value in pb.ServingTier.DESCRIPTOR.values}


def _double(value: float) -> float | str:
    """Finite doubles are JSON numbers; the mapping spells the others as strings."""
    if math.isfinite(value):
        return value
    if math.isnan(value):
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


def _fraction(nanos: int) -> str:
    """The mapping's fractional seconds: none, or 3, 6 or 9 digits, as few as exact."""
    if nanos == 0:
        return ""
    if nanos % 1_000_000 == 0:
        return f".{nanos // 1_000_000:03d}"
    if nanos % 1_000 == 0:
        return f".{nanos // 1_000:06d}"
    return f".{nanos:09d}"


def _duration(seconds: float) -> str:
    """google.protobuf.Duration's JSON ("15.500s"), of the nanoseconds the proto holds."""
    nanos = round(seconds * 1e9)
    whole, part = divmod(abs(nanos), 1_000_000_000)
    return f"{'-' if nanos < 0 else ''}{whole}{_fraction(part)}s"


def _timestamp(moment: datetime) -> str:
    """google.protobuf.Timestamp's JSON (RFC 3339 in UTC, "Z")."""
    utc = moment.astimezone(UTC) if moment.tzinfo is not None else moment
    return f"{utc:%Y-%m-%dT%H:%M:%S}{_fraction(utc.microsecond * 1_000)}Z"


def item(ranked: RankedItem, urls: tuple[str, str]) -> dict[str, Any]:
    """One FeedItem, its fields in the proto's order."""
    video, engagement, score = ranked.video, ranked.engagement, ranked.score
    document: dict[str, Any] = {
        "video_id": video.video_id,
        "creator_id": video.creator_id,
        "creator_name": video.creator_name,
        "title": video.title,
        "view_count": str(int(engagement.views)),
        "like_count": str(int(engagement.likes)),
        "completion_rate": _double(engagement.completion_rate),
        "thumbnail_url": video.thumbnail_url,
        "preview_url": video.preview_url,
        "hls_url": urls[0],
        "dash_url": urls[1],
        "sources": [_SOURCES[source] for source in ranked.sources],
        "score": {
            "completion": _double(score.completion),
            "engagement": _double(score.engagement),
            "affinity": _double(score.affinity),
            "deep": _double(score.deep),
            "freshness": _double(score.freshness),
            "total": _double(score.total),
        },
        "description": video.description,
        "hashtags": list(video.hashtags),
        "sound_id": video.sound_id,
        "duration": _duration(video.duration_s),
    }
    if video.published_at is not None:
        document["publish_time"] = _timestamp(video.published_at)
    return document


def page_document(page: Page, urls: Sequence[tuple[str, str]]) -> bytes:
    """The GetFeedResponse of `page` as JSON (UTF-8), each item with its playback URLs."""
    document = {
        "items": [item(ranked, pair) for ranked, pair in zip(page.items, urls, strict=True)],
        "next_cursor": page.next_cursor,
        "tier": _TIERS[page.tier],
        "fallback_reasons": [_reason(fallback) for fallback in page.fallbacks],
    }
    # orjson writes compact UTF-8, as json.dumps(ensure_ascii=False) does, ~8x faster;
    # every double has already been through _double (orjson would write NaN as null).
    return orjson.dumps(document)


def _reason(fallback: Fallback) -> dict[str, str]:
    return {"dependency": fallback.dependency, "reason": fallback.reason}


def http_body(document: bytes) -> bytes:
    """The serialized google.api.HttpBody Envoy turns into the HTTP response."""
    return httpbody_pb2.HttpBody(content_type=CONTENT_TYPE, data=document).SerializeToString()
