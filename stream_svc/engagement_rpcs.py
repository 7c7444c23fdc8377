"""Engagement RPCs: playback events, likes, shares, comments, analytics and facts.

Thin: proto in, a call of the engagement service, proto out; domain errors become status
codes here and nowhere else.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from datetime import UTC, datetime
from typing import Any, NoReturn, TypeVar

import grpc
import psycopg
from clickhouse_connect.driver.exceptions import OperationalError as ClickHouseUnavailable
from google.protobuf import duration_pb2
from psycopg_pool import PoolTimeout
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from reels.stream.v1 import stream_service_pb2 as pb
from reels.stream.v1 import stream_service_pb2_grpc

from reels_runtime.context import current_principal
from stream_svc.adapters.engagement_bus import action_of, seconds, timestamp, to_datetime
from stream_svc.adapters.ingestion_backlog import IngestionBacklog
from stream_svc.domain.analytics import Counters, Granularity, VideoAnalytics
from stream_svc.domain.errors import EngagementError, InvalidArgument, NotFound, PermissionDenied
from stream_svc.domain.events import ClientEvent
from stream_svc.domain.model import Comment, EmbeddingRecord
from stream_svc.domain.service import EngagementService
from stream_svc.domain.trending import Window

logger = logging.getLogger(__name__)

T = TypeVar("T")

_CODES: dict[type[EngagementError], grpc.StatusCode] = {
    InvalidArgument: grpc.StatusCode.INVALID_ARGUMENT,
    NotFound: grpc.StatusCode.NOT_FOUND,
    PermissionDenied: grpc.StatusCode.PERMISSION_DENIED,
}
_UNAVAILABLE = (
    psycopg.OperationalError,
    PoolTimeout,
    RedisConnectionError,
    RedisTimeoutError,
    ClickHouseUnavailable,
)
_WINDOWS = {
    pb.TRENDING_WINDOW_1H: Window.H1,
    pb.TRENDING_WINDOW_24H: Window.H24,
    pb.TRENDING_WINDOW_7D: Window.D7,
}


async def _abort(context: grpc.aio.ServicerContext, code: grpc.StatusCode, text: str) -> NoReturn:
    await context.abort(code, text)
    raise AssertionError("unreachable: abort() raises")


async def _guard(context: grpc.aio.ServicerContext, call: Awaitable[T]) -> T:
    try:
        return await call
    except EngagementError as error:
        await _abort(context, _CODES.get(type(error), grpc.StatusCode.INTERNAL), str(error))
    except _UNAVAILABLE as error:
        logger.warning("engagement store unavailable", exc_info=error)
        await _abort(context, grpc.StatusCode.UNAVAILABLE, "a store is unavailable; retry later")


async def _user(context: grpc.aio.ServicerContext) -> str:
    principal = current_principal()
    user_id = principal.user_id if principal is not None else None
    if not user_id:
        await _abort(context, grpc.StatusCode.UNAUTHENTICATED, "an end-user token is required")
    return user_id


def _span(value_s: float) -> tuple[int, int]:
    """(seconds, nanos) of a Duration, both of one sign, as Duration.FromNanoseconds
    leaves them (computed here: a page's engagement reply holds hundreds)."""
    seconds, nanos = divmod(round(value_s * 1e9), 1_000_000_000)
    if seconds < 0 and nanos > 0:
        seconds, nanos = seconds + 1, nanos - 1_000_000_000
    return seconds, nanos


def _duration(value_s: float) -> duration_pb2.Duration:
    seconds, nanos = _span(value_s)
    return duration_pb2.Duration(seconds=seconds, nanos=nanos)


def _client_event(event: pb.PlaybackEvent) -> ClientEvent:
    # An unset duration reads as zero, which the rules treat like a missing one; this runs
    # for every event of every batch, so it avoids a HasField call per field.
    return ClientEvent(
        client_event_id=event.event_id,
        action=action_of(event.action),
        event_time=to_datetime(event.event_time) if event.HasField("event_time") else None,
        session_id=event.session_id,
        bitrate_kbps=event.bitrate_kbps,
        device=event.device,
        watch_s=seconds(event.watch_duration),
        position_s=seconds(event.position),
        startup_s=seconds(event.startup_duration),
        rebuffer_s=seconds(event.rebuffer_duration),
        from_bitrate_kbps=event.from_bitrate_kbps,
        to_bitrate_kbps=event.to_bitrate_kbps,
    )


def _counters(counters: Counters) -> pb.EngagementCounters:
    return pb.EngagementCounters(
        view_count=counters.views,
        like_count=counters.likes,
        share_count=counters.shares,
        comment_count=counters.comments,
    )


def _comment(comment: Comment) -> pb.Comment:
    return pb.Comment(
        comment_id=comment.comment_id,
        video_id=comment.video_id,
        author_id=comment.author_id,
        text=comment.text,
        create_time=timestamp(comment.created_at),
    )


def _analytics(result: VideoAnalytics) -> pb.GetVideoAnalyticsResponse:
    return pb.GetVideoAnalyticsResponse(
        video_id=result.video_id,
        counters=_counters(result.counters),
        completion_rate_p50=result.completion_rate_p50,
        completion_rate_p95=result.completion_rate_p95,
        average_watch_duration=_duration(result.average_watch_s),
        retention=[
            pb.RetentionPoint(position_percent=p.position_percent, session_ratio=p.session_ratio)
            for p in result.retention
        ],
        trending_score=result.trending_score,
        bitrate_distribution=[
            pb.BitrateShare(
                rendition=b.rendition, bitrate_kbps=b.bitrate_kbps, segment_ratio=b.segment_ratio
            )
            for b in result.bitrate_distribution
        ],
        hd_session_ratio=result.hd_session_ratio,
        rebuffer_ratio=result.rebuffer_ratio,
        startup_duration_p50=_duration(result.startup_p50_s),
        startup_duration_p95=_duration(result.startup_p95_s),
        compute_time=timestamp(result.compute_time),
    )


def _since(message: Any, name: str) -> datetime | None:
    return to_datetime(getattr(message, name)) if message.HasField(name) else None


class EngagementRpcs(stream_service_pb2_grpc.StreamServiceServicer):
    """Events, engagement, analytics and the internal fact RPCs."""

    def __init__(
        self,
        *,
        engagement: EngagementService | None,
        backlog: IngestionBacklog | None = None,
        **rest: object,
    ) -> None:
        # Cooperative: StreamServicer passes both halves' dependencies by keyword.
        super().__init__(**rest)
        self._engagement = engagement
        self._backlog = backlog

    async def _engagement_service(self, context: grpc.aio.ServicerContext) -> EngagementService:
        if self._engagement is None:
            await _abort(context, grpc.StatusCode.UNIMPLEMENTED, "engagement is not configured")
        return self._engagement

    # -- playback events ------------------------------------------------------------------

    async def RecordPlaybackEvents(
        self, request: pb.RecordPlaybackEventsRequest, context: grpc.aio.ServicerContext
    ) -> pb.RecordPlaybackEventsResponse:
        service = await self._engagement_service(context)
        user = await _user(context)
        if self._backlog is not None:
            # Backpressure: while the consumers are too far behind, the whole request is
            # refused before anything of it is judged or published.
            refusal = await _guard(context, self._backlog.admit(len(request.events)))
            if refusal is not None:
                await context.abort(
                    grpc.StatusCode.RESOURCE_EXHAUSTED,
                    refusal.message,
                    (("retry-after", str(refusal.retry_after_s)),),
                )
                raise AssertionError("unreachable: abort() raises")
        events = [_client_event(e) for e in request.events]
        verdict = await _guard(
            context, service.record_playback_events(request.video_id, user, events)
        )
        if self._backlog is not None:
            self._backlog.published(verdict.accepted_count)
        return pb.RecordPlaybackEventsResponse(
            accepted_count=verdict.accepted_count,
            rejected_events=[
                pb.RejectedEvent(index=r.index, event_id=r.client_event_id, reason=r.reason)
                for r in verdict.rejected
            ],
        )

    # -- likes, shares, comments ----------------------------------------------------------

    async def LikeVideo(
        self, request: pb.LikeVideoRequest, context: grpc.aio.ServicerContext
    ) -> pb.LikeVideoResponse:
        service = await self._engagement_service(context)
        user = await _user(context)
        counters = await _guard(context, service.like(request.video_id, user))
        return pb.LikeVideoResponse(
            video_id=request.video_id, liked=True, counters=_counters(counters)
        )

    async def UnlikeVideo(
        self, request: pb.UnlikeVideoRequest, context: grpc.aio.ServicerContext
    ) -> pb.UnlikeVideoResponse:
        service = await self._engagement_service(context)
        user = await _user(context)
        counters = await _guard(context, service.unlike(request.video_id, user))
        return pb.UnlikeVideoResponse(
            video_id=request.video_id, liked=False, counters=_counters(counters)
        )

    async def ShareVideo(
        self, request: pb.ShareVideoRequest, context: grpc.aio.ServicerContext
    ) -> pb.ShareVideoResponse:
        service = await self._engagement_service(context)
        user = await _user(context)
        counters = await _guard(context, service.share(request.video_id, user, request.platform))
        return pb.ShareVideoResponse(video_id=request.video_id, counters=_counters(counters))

    async def CreateComment(
        self, request: pb.CreateCommentRequest, context: grpc.aio.ServicerContext
    ) -> pb.CreateCommentResponse:
        service = await self._engagement_service(context)
        user = await _user(context)
        comment, counters = await _guard(
            context, service.create_comment(request.video_id, user, request.text)
        )
        return pb.CreateCommentResponse(comment=_comment(comment), counters=_counters(counters))

    async def ListComments(
        self, request: pb.ListCommentsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListCommentsResponse:
        service = await self._engagement_service(context)
        await _user(context)
        page = await _guard(
            context,
            service.list_comments(request.video_id, request.page_size, request.page_token),
        )
        return pb.ListCommentsResponse(
            comments=[_comment(c) for c in page.comments], next_page_token=page.next_page_token
        )

    async def DeleteComment(
        self, request: pb.DeleteCommentRequest, context: grpc.aio.ServicerContext
    ) -> pb.DeleteCommentResponse:
        service = await self._engagement_service(context)
        user = await _user(context)
        counters = await _guard(
            context, service.delete_comment(request.video_id, request.comment_id, user)
        )
        return pb.DeleteCommentResponse(
            video_id=request.video_id,
            comment_id=request.comment_id,
            counters=_counters(counters),
        )

    # -- analytics ------------------------------------------------------------------------

    async def GetVideoAnalytics(
        self, request: pb.GetVideoAnalyticsRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetVideoAnalyticsResponse:
        service = await self._engagement_service(context)
        user = await _user(context)
        result = await _guard(context, service.video_analytics(request.video_id, user))
        return _analytics(result)

    async def GetCreatorAnalytics(
        self, request: pb.GetCreatorAnalyticsRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetCreatorAnalyticsResponse:
        service = await self._engagement_service(context)
        user = await _user(context)
        granularity = (
            Granularity.HOUR
            if request.granularity == pb.ANALYTICS_GRANULARITY_HOUR
            else Granularity.DAY
        )
        result = await _guard(
            context,
            service.creator_analytics(
                request.creator_id,
                user,
                _since(request, "start_time"),
                _since(request, "end_time"),
                granularity,
                request.top_video_count,
            ),
        )
        return pb.GetCreatorAnalyticsResponse(
            creator_id=result.creator_id,
            video_count=result.video_count,
            totals=_counters(result.totals),
            total_watch_duration=_duration(result.total_watch_s),
            average_completion_rate=result.average_completion_rate,
            time_series=[
                pb.AnalyticsBucket(
                    start_time=timestamp(b.start),
                    counters=_counters(b.counters),
                    watch_duration=_duration(b.watch_s),
                )
                for b in result.series
            ],
            peak_hours=[pb.PeakHour(hour_of_day=h, view_count=n) for h, n in result.peak_hours],
            top_videos=[
                pb.TopVideo(
                    video_id=v.video_id,
                    title=v.title,
                    counters=_counters(v.counters),
                    completion_rate=min(1.0, v.completes / v.counters.views)
                    if v.counters.views
                    else 0.0,
                )
                for v in result.top_videos
            ],
        )

    # -- facts for the other services -----------------------------------------------------

    async def GetTrendingFacts(
        self, request: pb.GetTrendingFactsRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetTrendingFactsResponse:
        service = await self._engagement_service(context)
        facts = await _guard(context, service.trending(_WINDOWS.get(request.window), request.limit))
        return pb.GetTrendingFactsResponse(
            videos=[
                pb.TrendingVideoFact(
                    video_id=f.row.video_id,
                    creator_id=f.row.creator_id,
                    counters=_counters(f.row.counters),
                    completion_rate=f.completion_rate,
                    trending_score=f.score,
                    publish_time=timestamp(f.row.published_at),
                )
                for f in facts
            ]
        )

    async def GetHashtagCounts(
        self, request: pb.GetHashtagCountsRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetHashtagCountsResponse:
        service = await self._engagement_service(context)
        tags = await _guard(context, service.hashtags(_WINDOWS.get(request.window), request.limit))
        return pb.GetHashtagCountsResponse(
            hashtags=[
                pb.HashtagCount(hashtag=t.tag, video_count=t.video_count, view_count=t.view_count)
                for t in tags
            ]
        )

    async def GetSoundCounts(
        self, request: pb.GetSoundCountsRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetSoundCountsResponse:
        service = await self._engagement_service(context)
        sounds = await _guard(context, service.sounds(_WINDOWS.get(request.window), request.limit))
        return pb.GetSoundCountsResponse(
            sounds=[
                pb.SoundCount(sound_id=t.tag, video_count=t.video_count, view_count=t.view_count)
                for t in sounds
            ]
        )

    async def GetAffinityFacts(
        self, request: pb.GetAffinityFactsRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetAffinityFactsResponse:
        service = await self._engagement_service(context)
        creators = await _guard(context, service.affinity(request.user_id, request.limit))
        return pb.GetAffinityFactsResponse(
            creators=[
                pb.CreatorAffinity(
                    creator_id=c.creator_id,
                    weight=c.weight,
                    completed_count=c.completed,
                    liked_count=c.liked,
                    shared_count=c.shared,
                )
                for c in creators
            ]
        )

    async def GetWatchHistory(
        self, request: pb.GetWatchHistoryRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetWatchHistoryResponse:
        service = await self._engagement_service(context)
        entries = await _guard(
            context,
            service.watch_history(request.user_id, _since(request, "since_time"), request.limit),
        )
        return pb.GetWatchHistoryResponse(
            entries=[
                pb.WatchHistoryEntry(
                    video_id=e.video_id,
                    creator_id=e.creator_id,
                    watch_time=timestamp(e.watched_at),
                    completion_ratio=e.completion,
                    watch_duration=_duration(e.watch_s),
                )
                for e in entries
            ]
        )

    async def BatchGetEngagement(
        self, request: pb.BatchGetEngagementRequest, context: grpc.aio.ServicerContext
    ) -> pb.BatchGetEngagementResponse:
        service = await self._engagement_service(context)
        found, missing = await _guard(context, service.batch_engagement(list(request.video_ids)))
        reply = pb.BatchGetEngagementResponse(missing_video_ids=missing)
        # Filled in place: hundreds of messages built apart and then copied into the reply
        # cost twice the CPU.
        add = reply.engagements.add
        for e in found:
            item = add(
                video_id=e.video_id, complete_count=e.completes, completion_rate=e.completion_rate
            )
            counters, c = item.counters, e.counters
            counters.view_count = c.views
            counters.like_count = c.likes
            counters.share_count = c.shares
            counters.comment_count = c.comments
            watch = item.average_watch_duration
            watch.seconds, watch.nanos = _span(e.average_watch_s)
        return reply

    async def MirrorEmbeddings(
        self, request: pb.MirrorEmbeddingsRequest, context: grpc.aio.ServicerContext
    ) -> pb.MirrorEmbeddingsResponse:
        service = await self._engagement_service(context)
        now = datetime.now(UTC)
        records = [
            EmbeddingRecord(
                video_id=e.video_id,
                vector=tuple(e.vector),
                model_version=e.model_version,
                generated_at=(
                    (to_datetime(e.generate_time) if e.HasField("generate_time") else None) or now
                ),
                creator_id=e.creator_id,
            )
            for e in request.embeddings
        ]
        count = await _guard(context, service.mirror_embeddings(records))
        return pb.MirrorEmbeddingsResponse(upserted_count=count)
