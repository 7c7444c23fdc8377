"""Playback: manifests with a recommended start, segment redirects, bandwidth advice."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from stream_svc.domain.bitrate import (
    BandwidthReport,
    Hints,
    ReportError,
    Rung,
    Tier,
    pick_rung,
    recommend,
    start_tier,
)
from stream_svc.domain.playback_manifests import (
    DASH_CONTENT_TYPE,
    HLS_CONTENT_TYPE,
    Pathway,
    PlaybackUrls,
    dash_mpd,
    hls_master,
    hls_media,
    personalise,
)
from stream_svc.domain.playback_model import (
    InvalidArgument,
    NotFound,
    PlaybackVideo,
    parse_video_id,
    valid_session_id,
)

SERVED_BY_CDN = "cdn"
SERVED_BY_ORIGIN = "origin"


@dataclass(frozen=True)
class SegmentLocation:
    url: str
    served_by: str  # SERVED_BY_CDN or SERVED_BY_ORIGIN
    expires_at: float  # epoch seconds


@dataclass(frozen=True)
class Delivery:
    """Which pathways are up right now, in the order players should try them."""

    state: str  # a short label of the health state; cached manifests are keyed by it
    pathways: tuple[Pathway, ...]


@dataclass(frozen=True)
class WatchSegment:
    """A media segment fetched through the redirect, for the `watch_segment` event."""

    video_id: str
    creator_id: str
    user_id: str
    session_id: str
    rendition: str
    segment_id: str
    bitrate_kbps: int
    position_s: float


class Catalogue(Protocol):
    async def get(self, video_id: str) -> PlaybackVideo | None:
        """The playable video, or None when unknown, unpublished or deleted."""
        ...


class ManifestCache(Protocol):
    async def get(
        self, video_id: str, variant: str | None
    ) -> tuple[PlaybackVideo | None, str | None]:
        """The cached video and, when `variant` is given, its cached manifest template."""
        ...

    async def put_video(self, video: PlaybackVideo) -> None: ...

    async def put_manifest(self, video_id: str, variant: str, template: str) -> None: ...


class SegmentDelivery(Protocol):
    async def locate(self, object_key: str, version: int) -> SegmentLocation:
        """The CDN URL when the CDN is up, else the origin's; raises Unavailable."""
        ...

    async def delivery(self, object_prefix: str, version: int) -> Delivery: ...


class PlaybackEvents(Protocol):
    async def watch_segment(self, event: WatchSegment) -> None: ...


class BandwidthStore(Protocol):
    async def latest_mbps(self, user_id: str) -> float | None: ...

    async def record(
        self,
        user_id: str,
        video_id: str,
        session_id: str | None,
        report: BandwidthReport,
        recommended: Rung,
    ) -> None: ...


TokenMinter = Callable[[str, str], str]  # (user id, video id) -> signed playback token


@dataclass(frozen=True)
class Manifest:
    body: str
    content_type: str
    session_id: str


class PlaybackService:
    """The playback half of stream_svc over its ports (catalogue, cache, CDN, events)."""

    def __init__(
        self,
        *,
        catalogue: Catalogue,
        cache: ManifestCache,
        delivery: SegmentDelivery,
        events: PlaybackEvents,
        bandwidth: BandwidthStore,
        mint_token: TokenMinter,
        urls: PlaybackUrls,
        new_session_id: Callable[[], str] = lambda: uuid.uuid4().hex,
    ) -> None:
        self._catalogue = catalogue
        self._cache = cache
        self._delivery = delivery
        self._events = events
        self._bandwidth = bandwidth
        self._mint = mint_token
        self._urls = urls
        self._new_session_id = new_session_id

    async def _load(self, video_id: str, variant: str | None) -> tuple[PlaybackVideo, str | None]:
        video, template = await self._cache.get(video_id, variant)
        if video is None:
            video = await self._catalogue.get(video_id)
            if video is None:
                raise NotFound(f"video {video_id} is not published")
            await self._cache.put_video(video)
            template = None  # never trust a manifest cached beside no video
        return video, template

    async def _tier(self, user_id: str, hints: Hints) -> Tier:
        last = None
        if hints.downlink_mbps is None and hints.effective_type is None:
            last = await self._bandwidth.latest_mbps(user_id)
        return start_tier(hints, last)

    def _personalised(self, template: str, user_id: str, video_id: str, session: str) -> str:
        return personalise(template, self._mint(user_id, video_id), session)

    async def hls_master(
        self, raw_video_id: str, user_id: str, hints: Hints, session_id: str | None = None
    ) -> Manifest:
        video_id = parse_video_id(raw_video_id)
        tier = await self._tier(user_id, hints)
        variant = f"hls:{tier.value}"
        video, template = await self._load(video_id, variant)
        if template is None:
            first = pick_rung(video.rungs(), tier).name
            template = hls_master(video, first, self._urls)
            await self._cache.put_manifest(video_id, variant, template)
        session = valid_session_id(session_id) or self._new_session_id()
        body = self._personalised(template, user_id, video_id, session)
        return Manifest(body, HLS_CONTENT_TYPE, session)

    async def hls_media(
        self, raw_video_id: str, rendition: str, user_id: str, session_id: str | None
    ) -> Manifest:
        video_id = parse_video_id(raw_video_id)
        variant = f"hls-media:{rendition}"
        video, template = await self._load(video_id, variant)
        if template is None:
            template = hls_media(video, video.track(rendition), self._urls)
            await self._cache.put_manifest(video_id, variant, template)
        session = valid_session_id(session_id) or self._new_session_id()
        body = self._personalised(template, user_id, video_id, session)
        return Manifest(body, HLS_CONTENT_TYPE, session)

    async def dash(
        self, raw_video_id: str, user_id: str, hints: Hints, session_id: str | None = None
    ) -> Manifest:
        video_id = parse_video_id(raw_video_id)
        tier = await self._tier(user_id, hints)
        video, _ = await self._load(video_id, None)
        delivery = await self._delivery.delivery(video.object_prefix, video.version)
        # The BaseURLs follow the CDN's health: a flip renders (and caches) a new variant.
        variant = f"dash:{tier.value}:{delivery.state}"
        _, template = await self._cache.get(video_id, variant)
        if template is None:
            first = pick_rung(video.rungs(), tier).name
            template = dash_mpd(video, first, delivery.pathways, self._urls)
            await self._cache.put_manifest(video_id, variant, template)
        session = valid_session_id(session_id) or self._new_session_id()
        body = self._personalised(template, user_id, video_id, session)
        return Manifest(body, DASH_CONTENT_TYPE, session)

    async def segment(
        self,
        raw_video_id: str,
        rendition: str,
        segment_id: str,
        user_id: str,
        session_id: str | None,
    ) -> SegmentLocation:
        """Where to fetch one init or media segment; media segments count as watched."""
        video_id = parse_video_id(raw_video_id)
        video, _ = await self._load(video_id, None)
        track = video.track(rendition)
        if not track.has_object(segment_id):
            raise NotFound(f"rendition {rendition} of video {video_id} has no {segment_id!r}")
        location = await self._delivery.locate(video.object_key(track, segment_id), video.version)
        if segment_id != track.init:
            await self._events.watch_segment(
                WatchSegment(
                    video_id=video_id,
                    creator_id=video.creator_id,
                    user_id=user_id,
                    session_id=valid_session_id(session_id) or "",
                    rendition=track.name,
                    segment_id=segment_id,
                    bitrate_kbps=track.bitrate_kbps,
                    position_s=track.position_s(segment_id),
                )
            )
        return location

    async def report_bandwidth(
        self, raw_video_id: str, user_id: str, session_id: str | None, report: BandwidthReport
    ) -> Rung:
        video_id = parse_video_id(raw_video_id)
        try:
            report.validate()
        except ReportError as error:
            raise InvalidArgument(str(error)) from None
        if session_id and valid_session_id(session_id) is None:
            raise InvalidArgument("session_id must be 1 to 64 letters, digits, '-' or '_'")
        video, _ = await self._load(video_id, None)
        rung = recommend(report, video.rungs())
        await self._bandwidth.record(user_id, video_id, session_id or None, report, rung)
        return rung
