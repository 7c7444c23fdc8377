import datetime

from google.api import annotations_pb2 as _annotations_pb2
from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.api import httpbody_pb2 as _httpbody_pb2
from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from reels.common.v1 import access_pb2 as _access_pb2
from reels.common.v1 import embedding_pb2 as _embedding_pb2
from reels.common.v1 import playback_pb2 as _playback_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SegmentServer(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SEGMENT_SERVER_UNSPECIFIED: _ClassVar[SegmentServer]
    SEGMENT_SERVER_CDN: _ClassVar[SegmentServer]
    SEGMENT_SERVER_ORIGIN: _ClassVar[SegmentServer]

class AnalyticsGranularity(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ANALYTICS_GRANULARITY_UNSPECIFIED: _ClassVar[AnalyticsGranularity]
    ANALYTICS_GRANULARITY_HOUR: _ClassVar[AnalyticsGranularity]
    ANALYTICS_GRANULARITY_DAY: _ClassVar[AnalyticsGranularity]

class TrendingWindow(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TRENDING_WINDOW_UNSPECIFIED: _ClassVar[TrendingWindow]
    TRENDING_WINDOW_1H: _ClassVar[TrendingWindow]
    TRENDING_WINDOW_24H: _ClassVar[TrendingWindow]
    TRENDING_WINDOW_7D: _ClassVar[TrendingWindow]
SEGMENT_SERVER_UNSPECIFIED: SegmentServer
SEGMENT_SERVER_CDN: SegmentServer
SEGMENT_SERVER_ORIGIN: SegmentServer
ANALYTICS_GRANULARITY_UNSPECIFIED: AnalyticsGranularity
ANALYTICS_GRANULARITY_HOUR: AnalyticsGranularity
ANALYTICS_GRANULARITY_DAY: AnalyticsGranularity
TRENDING_WINDOW_UNSPECIFIED: TrendingWindow
TRENDING_WINDOW_1H: TrendingWindow
TRENDING_WINDOW_24H: TrendingWindow
TRENDING_WINDOW_7D: TrendingWindow

class GetHlsManifestRequest(_message.Message):
    __slots__ = ("video_id", "token", "downlink_mbps", "ect", "rtt_ms", "save_data")
    VIDEO_ID_FIELD_NUMBER: _ClassVar[int]
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    DOWNLINK_MBPS_FIELD_NUMBER: _ClassVar[int]
    ECT_FIELD_NUMBER: _ClassVar[int]
    RTT_MS_FIELD_NUMBER: _ClassVar[int]
    SAVE_DATA_FIELD_NUMBER: _ClassVar[int]
    video_id: str
    token: str
    downlink_mbps: float
    ect: str
    rtt_ms: int
    save_data: bool
    def __init__(self, video_id: _Optional[str] = ..., token: _Optional[str] = ..., downlink_mbps: _Optional[float] = ..., ect: _Optional[str] = ..., rtt_ms: _Optional[int] = ..., save_data: _Optional[bool] = ...) -> None: ...

class GetDashManifestRequest(_message.Message):
    __slots__ = ("video_id", "token", "downlink_mbps", "ect", "rtt_ms", "save_data")
    VIDEO_ID_FIELD_NUMBER: _ClassVar[int]
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    DOWNLINK_MBPS_FIELD_NUMBER: _ClassVar[int]
    ECT_FIELD_NUMBER: _ClassVar[int]
    RTT_MS_FIELD_NUMBER: _ClassVar[int]
    SAVE_DATA_FIELD_NUMBER: _ClassVar[int]
    video_id: str
    token: str
    downlink_mbps: float
    ect: str
    rtt_ms: int
    save_data: bool
    def __init__(self, video_id: _Optional[str] = ..., token: _Optional[str] = ..., downlink_mbps: _Optional[float] = ..., ect: _Optional[str] = ..., rtt_ms: _Optional[int] = ..., save_data: _Optional[bool] = ...) -> None: ...

class GetSegmentRequest(_message.Message):
    __slots__ = ("video_id", "bitrate", "segment_id", "token", "session_id")
    VIDEO_ID_FIELD_NUMBER: _ClassVar[int]
    BITRATE_FIELD_NUMBER: _ClassVar[int]
    SEGMENT_ID_FIELD_NUMBER: _ClassVar[int]
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    video_id: str
    bitrate: str
    segment_id: str
    token: str
    session_id: str
    def __init__(self, video_id: _Optional[str] = ..., bitrate: _Optional[str] = ..., segment_id: _Optional[str] = ..., token: _Optional[str] = ..., session_id: _Optional[str] = ...) -> None: ...

class GetSegmentResponse(_message.Message):
    __slots__ = ("location", "served_by", "expire_time")
    LOCATION_FIELD_NUMBER: _ClassVar[int]
    SERVED_BY_FIELD_NUMBER: _ClassVar[int]
    EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    location: str
    served_by: SegmentServer
    expire_time: _timestamp_pb2.Timestamp
    def __init__(self, location: _Optional[str] = ..., served_by: _Optional[_Union[SegmentServer, str]] = ..., expire_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ReportBandwidthRequest(_message.Message):
    __slots__ = ("video_id", "throughput_kbps", "packet_loss_ratio", "rtt_ms", "current_bitrate_kbps", "session_id")
    VIDEO_ID_FIELD_NUMBER: _ClassVar[int]
    THROUGHPUT_KBPS_FIELD_NUMBER: _ClassVar[int]
    PACKET_LOSS_RATIO_FIELD_NUMBER: _ClassVar[int]
    RTT_MS_FIELD_NUMBER: _ClassVar[int]
    CURRENT_BITRATE_KBPS_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    video_id: str
    throughput_kbps: float
    packet_loss_ratio: float
    rtt_ms: int
    current_bitrate_kbps: int
    session_id: str
    def __init__(self, video_id: _Optional[str] = ..., throughput_kbps: _Optional[float] = ..., packet_loss_ratio: _Optional[float] = ..., rtt_ms: _Optional[int] = ..., current_bitrate_kbps: _Optional[int] = ..., session_id: _Optional[str] = ...) -> None: ...

class ReportBandwidthResponse(_message.Message):
    __slots__ = ("rendition", "bitrate_kbps")
    RENDITION_FIELD_NUMBER: _ClassVar[int]
    BITRATE_KBPS_FIELD_NUMBER: _ClassVar[int]
    rendition: str
    bitrate_kbps: int
    def __init__(self, rendition: _Optional[str] = ..., bitrate_kbps: _Optional[int] = ...) -> None: ...

class PlaybackEvent(_message.Message):
    __slots__ = ("event_id", "action", "event_time", "session_id", "bitrate_kbps", "device", "watch_duration", "position", "startup_duration", "rebuffer_duration", "from_bitrate_kbps", "to_bitrate_kbps")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    EVENT_TIME_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    BITRATE_KBPS_FIELD_NUMBER: _ClassVar[int]
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    WATCH_DURATION_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    STARTUP_DURATION_FIELD_NUMBER: _ClassVar[int]
    REBUFFER_DURATION_FIELD_NUMBER: _ClassVar[int]
    FROM_BITRATE_KBPS_FIELD_NUMBER: _ClassVar[int]
    TO_BITRATE_KBPS_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    action: _playback_pb2.PlaybackAction
    event_time: _timestamp_pb2.Timestamp
    session_id: str
    bitrate_kbps: int
    device: str
    watch_duration: _duration_pb2.Duration
    position: _duration_pb2.Duration
    startup_duration: _duration_pb2.Duration
    rebuffer_duration: _duration_pb2.Duration
    from_bitrate_kbps: int
    to_bitrate_kbps: int
    def __init__(self, event_id: _Optional[str] = ..., action: _Optional[_Union[_playback_pb2.PlaybackAction, str]] = ..., event_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., session_id: _Optional[str] = ..., bitrate_kbps: _Optional[int] = ..., device: _Optional[str] = ..., watch_duration: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., position: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., startup_duration: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., rebuffer_duration: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., from_bitrate_kbps: _Optional[int] = ..., to_bitrate_kbps: _Optional[int] = ...) -> None: ...

class RecordPlaybackEventsRequest(_message.Message):
    __slots__ = ("video_id", "events")
    VIDEO_ID_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    video_id: str
    events: _containers.RepeatedCompositeFieldContainer[PlaybackEvent]
    def __init__(self, video_id: _Optional[str] = ..., events: _Optional[_Iterable[_Union[PlaybackEvent, _Mapping]]] = ...) -> None: ...

class RejectedEvent(_message.Message):
    __slots__ = ("index", "event_id", "reason")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    index: int
    event_id: str
    reason: str
    def __init__(self, index: _Optional[int] = ..., event_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class RecordPlaybackEventsResponse(_message.Message):
    __slots__ = ("accepted_count", "rejected_events")
    ACCEPTED_COUNT_FIELD_NUMBER: _ClassVar[int]
    REJECTED_EVENTS_FIELD_NUMBER: _ClassVar[int]
    accepted_count: int
    rejected_events: _containers.RepeatedCompositeFieldContainer[RejectedEvent]
    def __init__(self, accepted_count: _Optional[int] = ..., rejected_events: _Optional[_Iterable[_Union[RejectedEvent, _Mapping]]] = ...) -> None: ...

class EngagementCounters(_message.Message):
    __slots__ = ("view_count", "like_count", "share_count", "comment_count")
    VIEW_COUNT_FIELD_NUMBER: _ClassVar[int]
    LIKE_COUNT_FIELD_NUMBER: _ClassVar[int]
    SHARE_COUNT_FIELD_NUMBER: _ClassVar[int]
    COMMENT_COUNT_FIELD_NUMBER: _ClassVar[int]
    view_count: int
    like_count: int
    share_count: int
    comment_count: int
    def __init__(self, view_count: _Optional[int] = ..., like_count: _Optional[int] = ..., share_count: _Optional[int] = ..., comment_count: _Optional[int] = ...) -> None: ...

class LikeVideoRequest(_message.Message):
    __slots__ = ("video_id",)
    VIDEO_ID_FIELD_NUMBER: _ClassVar[int]
    video_id: str
    def __init__(self, video_id: _Optional[str] = ...) -> None: ...

class LikeVideoResponse(_message.Message):
    __slots__ = ("video_id", "liked", "counters")
    VIDEO_ID_FIELD_NUMBER: _ClassVar[int]
    LIKED_FIELD_NUMBER: _ClassVar[int]
    COUNTERS_FIELD_NUMBER: _ClassVar[int]
    video_id: str
    liked: bool
    counters: EngagementCounters
    def __init__(self, video_id: _Optional[str] = ..., liked: _Optional[bool] = ..., counters: _Optional[_Union[EngagementCounters, _Mapping]] = ...) -> None: ...

class UnlikeVideoRequest(_message.Message):
    __slots__ = ("video_id",)
    VIDEO_ID_FIELD_NUMBER: _ClassVar[int]
    video_id: str
    def __init__(self, video_id: _Optional[str] = ...) -> None: ...

class UnlikeVideoResponse(_message.Message):
    __slots__ = ("video_id", "liked", "counters")
    VIDEO_ID_FIELD_NUMBER: _ClassVar[int]
    LIKED_FIELD_NUMBER: _ClassVar[int]
    COUNTERS_FIELD_NUMBER: _ClassVar[int]
    video_id: str
    liked: bool
    counters: EngagementCounters
    def __init__(self, video_id: _Optional[str] = ..., liked: _Optional[bool] = ..., counters: _Optional[_Union[EngagementCounters, _Mapping]] = ...) -> None: ...

class ShareVideoRequest(_message.Message):
    __slots__ = ("video_id", "platform")
    VIDEO_ID_FIELD_NUMBER: _ClassVar[int]
    PLATFORM_FIELD_NUMBER: _ClassVar[int]
    video_id: str
    platform: str
    def __init__(self, video_id: _Optional[str] = ..., platform: _Optional[str] = ...) -> None: ...

class ShareVideoResponse(_message.Message):
    __slots__ = ("video_id", "counters")
    VIDEO_ID_FIELD_NUMBER: _ClassVar[int]
    COUNTERS_FIELD_NUMBER: _ClassVar[int]
    video_id: str
    counters: EngagementCounters
    def __init__(self, video_id: _Optional[str] = ..., counters: _Optional[_Union[EngagementCounters, _Mapping]] = ...) -> None: ...

class Comment(_message.Message):
    __slots__ = ("comment_id", "video_id", "author_id", "text", "create_time")
    COMMENT_ID_FIELD_NUMBER: _ClassVar[int]
    VIDEO_ID_FIELD_NUMBER: _ClassVar[int]
    AUTHOR_ID_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    comment_id: str
    video_id: str
    author_id: str
    text: str
    create_time: _timestamp_pb2.Timestamp
    def __init__(self, comment_id: _Optional[str] = ..., video_id: _Optional[str] = ..., author_id: _Optional[str] = ..., text: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CreateCommentRequest(_message.Message):
    __slots__ = ("video_id", "text")
    VIDEO_ID_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    video_id: str
    text: str
    def __init__(self, video_id: _Optional[str] = ..., text: _Optional[str] = ...) -> None: ...

class CreateCommentResponse(_message.Message):
    __slots__ = ("comment", "counters")
    COMMENT_FIELD_NUMBER: _ClassVar[int]
    COUNTERS_FIELD_NUMBER: _ClassVar[int]
    comment: Comment
    counters: EngagementCounters
    def __init__(self, comment: _Optional[_Union[Comment, _Mapping]] = ..., counters: _Optional[_Union[EngagementCounters, _Mapping]] = ...) -> None: ...

class ListCommentsRequest(_message.Message):
    __slots__ = ("video_id", "page_size", "page_token")
    VIDEO_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    video_id: str
    page_size: int
    page_token: str
    def __init__(self, video_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListCommentsResponse(_message.Message):
    __slots__ = ("comments", "next_page_token")
    COMMENTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    comments: _containers.RepeatedCompositeFieldContainer[Comment]
    next_page_token: str
    def __init__(self, comments: _Optional[_Iterable[_Union[Comment, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class DeleteCommentRequest(_message.Message):
    __slots__ = ("video_id", "comment_id")
    VIDEO_ID_FIELD_NUMBER: _ClassVar[int]
    COMMENT_ID_FIELD_NUMBER: _ClassVar[int]
    video_id: str
    comment_id: str
    def __init__(self, video_id: _Optional[str] = ..., comment_id: _Optional[str] = ...) -> None: ...

class DeleteCommentResponse(_message.Message):
    __slots__ = ("video_id", "comment_id", "counters")
    VIDEO_ID_FIELD_NUMBER: _ClassVar[int]
    COMMENT_ID_FIELD_NUMBER: _ClassVar[int]
    COUNTERS_FIELD_NUMBER: _ClassVar[int]
    video_id: str
    comment_id: str
    counters: EngagementCounters
    def __init__(self, video_id: _Optional[str] = ..., comment_id: _Optional[str] = ..., counters: _Optional[_Union[EngagementCounters, _Mapping]] = ...) -> None: ...

class GetVideoAnalyticsRequest(_message.Message):
    __slots__ = ("video_id",)
    VIDEO_ID_FIELD_NUMBER: _ClassVar[int]
    video_id: str
    def __init__(self, video_id: _Optional[str] = ...) -> None: ...

class RetentionPoint(_message.Message):
    __slots__ = ("position_percent", "session_ratio")
    POSITION_PERCENT_FIELD_NUMBER: _ClassVar[int]
    SESSION_RATIO_FIELD_NUMBER: _ClassVar[int]
    position_percent: int
    session_ratio: float
    def __init__(self, position_percent: _Optional[int] = ..., session_ratio: _Optional[float] = ...) -> None: ...

class BitrateShare(_message.Message):
    __slots__ = ("rendition", "bitrate_kbps", "segment_ratio")
    RENDITION_FIELD_NUMBER: _ClassVar[int]
    BITRATE_KBPS_FIELD_NUMBER: _ClassVar[int]
    SEGMENT_RATIO_FIELD_NUMBER: _ClassVar[int]
    rendition: str
    bitrate_kbps: int
    segment_ratio: float
    def __init__(self, rendition: _Optional[str] = ..., bitrate_kbps: _Optional[int] = ..., segment_ratio: _Optional[float] = ...) -> None: ...

class GetVideoAnalyticsResponse(_message.Message):
    __slots__ = ("video_id", "counters", "completion_rate_p50", "completion_rate_p95", "average_watch_duration", "retention", "trending_score", "bitrate_distribution", "hd_session_ratio", "rebuffer_ratio", "startup_duration_p50", "startup_duration_p95", "compute_time")
    VIDEO_ID_FIELD_NUMBER: _ClassVar[int]
    COUNTERS_FIELD_NUMBER: _ClassVar[int]
    COMPLETION_RATE_P50_FIELD_NUMBER: _ClassVar[int]
    COMPLETION_RATE_P95_FIELD_NUMBER: _ClassVar[int]
    AVERAGE_WATCH_DURATION_FIELD_NUMBER: _ClassVar[int]
    RETENTION_FIELD_NUMBER: _ClassVar[int]
    TRENDING_SCORE_FIELD_NUMBER: _ClassVar[int]
    BITRATE_DISTRIBUTION_FIELD_NUMBER: _ClassVar[int]
    HD_SESSION_RATIO_FIELD_NUMBER: _ClassVar[int]
    REBUFFER_RATIO_FIELD_NUMBER: _ClassVar[int]
    STARTUP_DURATION_P50_FIELD_NUMBER: _ClassVar[int]
    STARTUP_DURATION_P95_FIELD_NUMBER: _ClassVar[int]
    COMPUTE_TIME_FIELD_NUMBER: _ClassVar[int]
    video_id: str
    counters: EngagementCounters
    completion_rate_p50: float
    completion_rate_p95: float
    average_watch_duration: _duration_pb2.Duration
    retention: _containers.RepeatedCompositeFieldContainer[RetentionPoint]
    trending_score: float
    bitrate_distribution: _containers.RepeatedCompositeFieldContainer[BitrateShare]
    hd_session_ratio: float
    rebuffer_ratio: float
    startup_duration_p50: _duration_pb2.Duration
    startup_duration_p95: _duration_pb2.Duration
    compute_time: _timestamp_pb2.Timestamp
    def __init__(self, video_id: _Optional[str] = ..., counters: _Optional[_Union[EngagementCounters, _Mapping]] = ..., completion_rate_p50: _Optional[float] = ..., completion_rate_p95: _Optional[float] = ..., average_watch_duration: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., retention: _Optional[_Iterable[_Union[RetentionPoint, _Mapping]]] = ..., trending_score: _Optional[float] = ..., bitrate_distribution: _Optional[_Iterable[_Union[BitrateShare, _Mapping]]] = ..., hd_session_ratio: _Optional[float] = ..., rebuffer_ratio: _Optional[float] = ..., startup_duration_p50: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., startup_duration_p95: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., compute_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class GetCreatorAnalyticsRequest(_message.Message):
    __slots__ = ("creator_id", "start_time", "end_time", "granularity", "top_video_count")
    CREATOR_ID_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    GRANULARITY_FIELD_NUMBER: _ClassVar[int]
    TOP_VIDEO_COUNT_FIELD_NUMBER: _ClassVar[int]
    creator_id: str
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    granularity: AnalyticsGranularity
    top_video_count: int
    def __init__(self, creator_id: _Optional[str] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., granularity: _Optional[_Union[AnalyticsGranularity, str]] = ..., top_video_count: _Optional[int] = ...) -> None: ...

class AnalyticsBucket(_message.Message):
    __slots__ = ("start_time", "counters", "watch_duration")
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    COUNTERS_FIELD_NUMBER: _ClassVar[int]
    WATCH_DURATION_FIELD_NUMBER: _ClassVar[int]
    start_time: _timestamp_pb2.Timestamp
    counters: EngagementCounters
    watch_duration: _duration_pb2.Duration
    def __init__(self, start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., counters: _Optional[_Union[EngagementCounters, _Mapping]] = ..., watch_duration: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class PeakHour(_message.Message):
    __slots__ = ("hour_of_day", "view_count")
    HOUR_OF_DAY_FIELD_NUMBER: _ClassVar[int]
    VIEW_COUNT_FIELD_NUMBER: _ClassVar[int]
    hour_of_day: int
    view_count: int
    def __init__(self, hour_of_day: _Optional[int] = ..., view_count: _Optional[int] = ...) -> None: ...

class TopVideo(_message.Message):
    __slots__ = ("video_id", "title", "counters", "completion_rate")
    VIDEO_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    COUNTERS_FIELD_NUMBER: _ClassVar[int]
    COMPLETION_RATE_FIELD_NUMBER: _ClassVar[int]
    video_id: str
    title: str
    counters: EngagementCounters
    completion_rate: float
    def __init__(self, video_id: _Optional[str] = ..., title: _Optional[str] = ..., counters: _Optional[_Union[EngagementCounters, _Mapping]] = ..., completion_rate: _Optional[float] = ...) -> None: ...

class GetCreatorAnalyticsResponse(_message.Message):
    __slots__ = ("creator_id", "video_count", "totals", "total_watch_duration", "average_completion_rate", "time_series", "peak_hours", "top_videos")
    CREATOR_ID_FIELD_NUMBER: _ClassVar[int]
    VIDEO_COUNT_FIELD_NUMBER: _ClassVar[int]
    TOTALS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_WATCH_DURATION_FIELD_NUMBER: _ClassVar[int]
    AVERAGE_COMPLETION_RATE_FIELD_NUMBER: _ClassVar[int]
    TIME_SERIES_FIELD_NUMBER: _ClassVar[int]
    PEAK_HOURS_FIELD_NUMBER: _ClassVar[int]
    TOP_VIDEOS_FIELD_NUMBER: _ClassVar[int]
    creator_id: str
    video_count: int
    totals: EngagementCounters
    total_watch_duration: _duration_pb2.Duration
    average_completion_rate: float
    time_series: _containers.RepeatedCompositeFieldContainer[AnalyticsBucket]
    peak_hours: _containers.RepeatedCompositeFieldContainer[PeakHour]
    top_videos: _containers.RepeatedCompositeFieldContainer[TopVideo]
    def __init__(self, creator_id: _Optional[str] = ..., video_count: _Optional[int] = ..., totals: _Optional[_Union[EngagementCounters, _Mapping]] = ..., total_watch_duration: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., average_completion_rate: _Optional[float] = ..., time_series: _Optional[_Iterable[_Union[AnalyticsBucket, _Mapping]]] = ..., peak_hours: _Optional[_Iterable[_Union[PeakHour, _Mapping]]] = ..., top_videos: _Optional[_Iterable[_Union[TopVideo, _Mapping]]] = ...) -> None: ...

class GetTrendingFactsRequest(_message.Message):
    __slots__ = ("window", "limit")
    WINDOW_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    window: TrendingWindow
    limit: int
    def __init__(self, window: _Optional[_Union[TrendingWindow, str]] = ..., limit: _Optional[int] = ...) -> None: ...

class TrendingVideoFact(_message.Message):
    __slots__ = ("video_id", "creator_id", "counters", "completion_rate", "trending_score", "publish_time")
    VIDEO_ID_FIELD_NUMBER: _ClassVar[int]
    CREATOR_ID_FIELD_NUMBER: _ClassVar[int]
    COUNTERS_FIELD_NUMBER: _ClassVar[int]
    COMPLETION_RATE_FIELD_NUMBER: _ClassVar[int]
    TRENDING_SCORE_FIELD_NUMBER: _ClassVar[int]
    PUBLISH_TIME_FIELD_NUMBER: _ClassVar[int]
    video_id: str
    creator_id: str
    counters: EngagementCounters
    completion_rate: float
    trending_score: float
    publish_time: _timestamp_pb2.Timestamp
    def __init__(self, video_id: _Optional[str] = ..., creator_id: _Optional[str] = ..., counters: _Optional[_Union[EngagementCounters, _Mapping]] = ..., completion_rate: _Optional[float] = ..., trending_score: _Optional[float] = ..., publish_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class GetTrendingFactsResponse(_message.Message):
    __slots__ = ("videos",)
    VIDEOS_FIELD_NUMBER: _ClassVar[int]
    videos: _containers.RepeatedCompositeFieldContainer[TrendingVideoFact]
    def __init__(self, videos: _Optional[_Iterable[_Union[TrendingVideoFact, _Mapping]]] = ...) -> None: ...

class GetHashtagCountsRequest(_message.Message):
    __slots__ = ("window", "limit")
    WINDOW_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    window: TrendingWindow
    limit: int
    def __init__(self, window: _Optional[_Union[TrendingWindow, str]] = ..., limit: _Optional[int] = ...) -> None: ...

class HashtagCount(_message.Message):
    __slots__ = ("hashtag", "video_count", "view_count")
    HASHTAG_FIELD_NUMBER: _ClassVar[int]
    VIDEO_COUNT_FIELD_NUMBER: _ClassVar[int]
    VIEW_COUNT_FIELD_NUMBER: _ClassVar[int]
    hashtag: str
    video_count: int
    view_count: int
    def __init__(self, hashtag: _Optional[str] = ..., video_count: _Optional[int] = ..., view_count: _Optional[int] = ...) -> None: ...

class GetHashtagCountsResponse(_message.Message):
    __slots__ = ("hashtags",)
    HASHTAGS_FIELD_NUMBER: _ClassVar[int]
    hashtags: _containers.RepeatedCompositeFieldContainer[HashtagCount]
    def __init__(self, hashtags: _Optional[_Iterable[_Union[HashtagCount, _Mapping]]] = ...) -> None: ...

class GetSoundCountsRequest(_message.Message):
    __slots__ = ("window", "limit")
    WINDOW_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    window: TrendingWindow
    limit: int
    def __init__(self, window: _Optional[_Union[TrendingWindow, str]] = ..., limit: _Optional[int] = ...) -> None: ...

class SoundCount(_message.Message):
    __slots__ = ("sound_id", "video_count", "view_count")
    SOUND_ID_FIELD_NUMBER: _ClassVar[int]
    VIDEO_COUNT_FIELD_NUMBER: _ClassVar[int]
    VIEW_COUNT_FIELD_NUMBER: _ClassVar[int]
    sound_id: str
    video_count: int
    view_count: int
    def __init__(self, sound_id: _Optional[str] = ..., video_count: _Optional[int] = ..., view_count: _Optional[int] = ...) -> None: ...

class GetSoundCountsResponse(_message.Message):
    __slots__ = ("sounds",)
    SOUNDS_FIELD_NUMBER: _ClassVar[int]
    sounds: _containers.RepeatedCompositeFieldContainer[SoundCount]
    def __init__(self, sounds: _Optional[_Iterable[_Union[SoundCount, _Mapping]]] = ...) -> None: ...

class GetAffinityFactsRequest(_message.Message):
    __slots__ = ("user_id", "limit")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    limit: int
    def __init__(self, user_id: _Optional[str] = ..., limit: _Optional[int] = ...) -> None: ...

class CreatorAffinity(_message.Message):
    __slots__ = ("creator_id", "weight", "completed_count", "liked_count", "shared_count")
    CREATOR_ID_FIELD_NUMBER: _ClassVar[int]
    WEIGHT_FIELD_NUMBER: _ClassVar[int]
    COMPLETED_COUNT_FIELD_NUMBER: _ClassVar[int]
    LIKED_COUNT_FIELD_NUMBER: _ClassVar[int]
    SHARED_COUNT_FIELD_NUMBER: _ClassVar[int]
    creator_id: str
    weight: float
    completed_count: int
    liked_count: int
    shared_count: int
    def __init__(self, creator_id: _Optional[str] = ..., weight: _Optional[float] = ..., completed_count: _Optional[int] = ..., liked_count: _Optional[int] = ..., shared_count: _Optional[int] = ...) -> None: ...

class GetAffinityFactsResponse(_message.Message):
    __slots__ = ("creators",)
    CREATORS_FIELD_NUMBER: _ClassVar[int]
    creators: _containers.RepeatedCompositeFieldContainer[CreatorAffinity]
    def __init__(self, creators: _Optional[_Iterable[_Union[CreatorAffinity, _Mapping]]] = ...) -> None: ...

class GetWatchHistoryRequest(_message.Message):
    __slots__ = ("user_id", "since_time", "limit")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    SINCE_TIME_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    since_time: _timestamp_pb2.Timestamp
    limit: int
    def __init__(self, user_id: _Optional[str] = ..., since_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., limit: _Optional[int] = ...) -> None: ...

class WatchHistoryEntry(_message.Message):
    __slots__ = ("video_id", "creator_id", "watch_time", "completion_ratio", "watch_duration")
    VIDEO_ID_FIELD_NUMBER: _ClassVar[int]
    CREATOR_ID_FIELD_NUMBER: _ClassVar[int]
    WATCH_TIME_FIELD_NUMBER: _ClassVar[int]
    COMPLETION_RATIO_FIELD_NUMBER: _ClassVar[int]
    WATCH_DURATION_FIELD_NUMBER: _ClassVar[int]
    video_id: str
    creator_id: str
    watch_time: _timestamp_pb2.Timestamp
    completion_ratio: float
    watch_duration: _duration_pb2.Duration
    def __init__(self, video_id: _Optional[str] = ..., creator_id: _Optional[str] = ..., watch_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., completion_ratio: _Optional[float] = ..., watch_duration: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class GetWatchHistoryResponse(_message.Message):
    __slots__ = ("entries",)
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    entries: _containers.RepeatedCompositeFieldContainer[WatchHistoryEntry]
    def __init__(self, entries: _Optional[_Iterable[_Union[WatchHistoryEntry, _Mapping]]] = ...) -> None: ...

class BatchGetEngagementRequest(_message.Message):
    __slots__ = ("video_ids",)
    VIDEO_IDS_FIELD_NUMBER: _ClassVar[int]
    video_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, video_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class VideoEngagement(_message.Message):
    __slots__ = ("video_id", "counters", "complete_count", "completion_rate", "average_watch_duration")
    VIDEO_ID_FIELD_NUMBER: _ClassVar[int]
    COUNTERS_FIELD_NUMBER: _ClassVar[int]
    COMPLETE_COUNT_FIELD_NUMBER: _ClassVar[int]
    COMPLETION_RATE_FIELD_NUMBER: _ClassVar[int]
    AVERAGE_WATCH_DURATION_FIELD_NUMBER: _ClassVar[int]
    video_id: str
    counters: EngagementCounters
    complete_count: int
    completion_rate: float
    average_watch_duration: _duration_pb2.Duration
    def __init__(self, video_id: _Optional[str] = ..., counters: _Optional[_Union[EngagementCounters, _Mapping]] = ..., complete_count: _Optional[int] = ..., completion_rate: _Optional[float] = ..., average_watch_duration: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class BatchGetEngagementResponse(_message.Message):
    __slots__ = ("engagements", "missing_video_ids")
    ENGAGEMENTS_FIELD_NUMBER: _ClassVar[int]
    MISSING_VIDEO_IDS_FIELD_NUMBER: _ClassVar[int]
    engagements: _containers.RepeatedCompositeFieldContainer[VideoEngagement]
    missing_video_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, engagements: _Optional[_Iterable[_Union[VideoEngagement, _Mapping]]] = ..., missing_video_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class MirrorEmbeddingsRequest(_message.Message):
    __slots__ = ("embeddings",)
    EMBEDDINGS_FIELD_NUMBER: _ClassVar[int]
    embeddings: _containers.RepeatedCompositeFieldContainer[_embedding_pb2.VideoEmbedding]
    def __init__(self, embeddings: _Optional[_Iterable[_Union[_embedding_pb2.VideoEmbedding, _Mapping]]] = ...) -> None: ...

class MirrorEmbeddingsResponse(_message.Message):
    __slots__ = ("upserted_count",)
    UPSERTED_COUNT_FIELD_NUMBER: _ClassVar[int]
    upserted_count: int
    def __init__(self, upserted_count: _Optional[int] = ...) -> None: ...
