import datetime

from google.api import annotations_pb2 as _annotations_pb2
from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.api import httpbody_pb2 as _httpbody_pb2
from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from reels.common.v1 import access_pb2 as _access_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CandidateSource(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CANDIDATE_SOURCE_UNSPECIFIED: _ClassVar[CandidateSource]
    CANDIDATE_SOURCE_FOLLOWING: _ClassVar[CandidateSource]
    CANDIDATE_SOURCE_TRENDING: _ClassVar[CandidateSource]
    CANDIDATE_SOURCE_AFFINITY: _ClassVar[CandidateSource]
    CANDIDATE_SOURCE_DEEP_RECALL: _ClassVar[CandidateSource]
    CANDIDATE_SOURCE_EXPLORATION: _ClassVar[CandidateSource]

class ServingTier(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SERVING_TIER_UNSPECIFIED: _ClassVar[ServingTier]
    SERVING_TIER_MODEL: _ClassVar[ServingTier]
    SERVING_TIER_RULES: _ClassVar[ServingTier]
    SERVING_TIER_TRENDING_ONLY: _ClassVar[ServingTier]

class DiscoverySource(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DISCOVERY_SOURCE_UNSPECIFIED: _ClassVar[DiscoverySource]
    DISCOVERY_SOURCE_WATCH_HISTORY: _ClassVar[DiscoverySource]
    DISCOVERY_SOURCE_AFFINITY: _ClassVar[DiscoverySource]
    DISCOVERY_SOURCE_SIMILAR_CREATORS: _ClassVar[DiscoverySource]
    DISCOVERY_SOURCE_POPULAR: _ClassVar[DiscoverySource]
CANDIDATE_SOURCE_UNSPECIFIED: CandidateSource
CANDIDATE_SOURCE_FOLLOWING: CandidateSource
CANDIDATE_SOURCE_TRENDING: CandidateSource
CANDIDATE_SOURCE_AFFINITY: CandidateSource
CANDIDATE_SOURCE_DEEP_RECALL: CandidateSource
CANDIDATE_SOURCE_EXPLORATION: CandidateSource
SERVING_TIER_UNSPECIFIED: ServingTier
SERVING_TIER_MODEL: ServingTier
SERVING_TIER_RULES: ServingTier
SERVING_TIER_TRENDING_ONLY: ServingTier
DISCOVERY_SOURCE_UNSPECIFIED: DiscoverySource
DISCOVERY_SOURCE_WATCH_HISTORY: DiscoverySource
DISCOVERY_SOURCE_AFFINITY: DiscoverySource
DISCOVERY_SOURCE_SIMILAR_CREATORS: DiscoverySource
DISCOVERY_SOURCE_POPULAR: DiscoverySource

class ScoreComponents(_message.Message):
    __slots__ = ("completion", "engagement", "affinity", "deep", "freshness", "total")
    COMPLETION_FIELD_NUMBER: _ClassVar[int]
    ENGAGEMENT_FIELD_NUMBER: _ClassVar[int]
    AFFINITY_FIELD_NUMBER: _ClassVar[int]
    DEEP_FIELD_NUMBER: _ClassVar[int]
    FRESHNESS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    completion: float
    engagement: float
    affinity: float
    deep: float
    freshness: float
    total: float
    def __init__(self, completion: _Optional[float] = ..., engagement: _Optional[float] = ..., affinity: _Optional[float] = ..., deep: _Optional[float] = ..., freshness: _Optional[float] = ..., total: _Optional[float] = ...) -> None: ...

class FeedItem(_message.Message):
    __slots__ = ("video_id", "creator_id", "creator_name", "title", "view_count", "like_count", "completion_rate", "thumbnail_url", "preview_url", "hls_url", "dash_url", "sources", "score", "description", "hashtags", "sound_id", "duration", "publish_time")
    VIDEO_ID_FIELD_NUMBER: _ClassVar[int]
    CREATOR_ID_FIELD_NUMBER: _ClassVar[int]
    CREATOR_NAME_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    VIEW_COUNT_FIELD_NUMBER: _ClassVar[int]
    LIKE_COUNT_FIELD_NUMBER: _ClassVar[int]
    COMPLETION_RATE_FIELD_NUMBER: _ClassVar[int]
    THUMBNAIL_URL_FIELD_NUMBER: _ClassVar[int]
    PREVIEW_URL_FIELD_NUMBER: _ClassVar[int]
    HLS_URL_FIELD_NUMBER: _ClassVar[int]
    DASH_URL_FIELD_NUMBER: _ClassVar[int]
    SOURCES_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    HASHTAGS_FIELD_NUMBER: _ClassVar[int]
    SOUND_ID_FIELD_NUMBER: _ClassVar[int]
    DURATION_FIELD_NUMBER: _ClassVar[int]
    PUBLISH_TIME_FIELD_NUMBER: _ClassVar[int]
    video_id: str
    creator_id: str
    creator_name: str
    title: str
    view_count: int
    like_count: int
    completion_rate: float
    thumbnail_url: str
    preview_url: str
    hls_url: str
    dash_url: str
    sources: _containers.RepeatedScalarFieldContainer[CandidateSource]
    score: ScoreComponents
    description: str
    hashtags: _containers.RepeatedScalarFieldContainer[str]
    sound_id: str
    duration: _duration_pb2.Duration
    publish_time: _timestamp_pb2.Timestamp
    def __init__(self, video_id: _Optional[str] = ..., creator_id: _Optional[str] = ..., creator_name: _Optional[str] = ..., title: _Optional[str] = ..., view_count: _Optional[int] = ..., like_count: _Optional[int] = ..., completion_rate: _Optional[float] = ..., thumbnail_url: _Optional[str] = ..., preview_url: _Optional[str] = ..., hls_url: _Optional[str] = ..., dash_url: _Optional[str] = ..., sources: _Optional[_Iterable[_Union[CandidateSource, str]]] = ..., score: _Optional[_Union[ScoreComponents, _Mapping]] = ..., description: _Optional[str] = ..., hashtags: _Optional[_Iterable[str]] = ..., sound_id: _Optional[str] = ..., duration: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., publish_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class GetFeedRequest(_message.Message):
    __slots__ = ("limit", "cursor", "algo")
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    ALGO_FIELD_NUMBER: _ClassVar[int]
    limit: int
    cursor: str
    algo: str
    def __init__(self, limit: _Optional[int] = ..., cursor: _Optional[str] = ..., algo: _Optional[str] = ...) -> None: ...

class FallbackReason(_message.Message):
    __slots__ = ("dependency", "reason")
    DEPENDENCY_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    dependency: str
    reason: str
    def __init__(self, dependency: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class GetFeedResponse(_message.Message):
    __slots__ = ("items", "next_cursor", "tier", "fallback_reasons")
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    NEXT_CURSOR_FIELD_NUMBER: _ClassVar[int]
    TIER_FIELD_NUMBER: _ClassVar[int]
    FALLBACK_REASONS_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[FeedItem]
    next_cursor: str
    tier: ServingTier
    fallback_reasons: _containers.RepeatedCompositeFieldContainer[FallbackReason]
    def __init__(self, items: _Optional[_Iterable[_Union[FeedItem, _Mapping]]] = ..., next_cursor: _Optional[str] = ..., tier: _Optional[_Union[ServingTier, str]] = ..., fallback_reasons: _Optional[_Iterable[_Union[FallbackReason, _Mapping]]] = ...) -> None: ...

class GetTrendingVideosRequest(_message.Message):
    __slots__ = ("window", "limit", "cursor")
    WINDOW_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    window: str
    limit: int
    cursor: str
    def __init__(self, window: _Optional[str] = ..., limit: _Optional[int] = ..., cursor: _Optional[str] = ...) -> None: ...

class GetTrendingVideosResponse(_message.Message):
    __slots__ = ("items", "next_cursor", "window")
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    NEXT_CURSOR_FIELD_NUMBER: _ClassVar[int]
    WINDOW_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[FeedItem]
    next_cursor: str
    window: str
    def __init__(self, items: _Optional[_Iterable[_Union[FeedItem, _Mapping]]] = ..., next_cursor: _Optional[str] = ..., window: _Optional[str] = ...) -> None: ...

class SampleVideo(_message.Message):
    __slots__ = ("video_id", "title", "thumbnail_url", "preview_url", "view_count", "publish_time")
    VIDEO_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    THUMBNAIL_URL_FIELD_NUMBER: _ClassVar[int]
    PREVIEW_URL_FIELD_NUMBER: _ClassVar[int]
    VIEW_COUNT_FIELD_NUMBER: _ClassVar[int]
    PUBLISH_TIME_FIELD_NUMBER: _ClassVar[int]
    video_id: str
    title: str
    thumbnail_url: str
    preview_url: str
    view_count: int
    publish_time: _timestamp_pb2.Timestamp
    def __init__(self, video_id: _Optional[str] = ..., title: _Optional[str] = ..., thumbnail_url: _Optional[str] = ..., preview_url: _Optional[str] = ..., view_count: _Optional[int] = ..., publish_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class DiscoveredCreator(_message.Message):
    __slots__ = ("creator_id", "display_name", "follower_count", "sources", "score", "sample_videos")
    CREATOR_ID_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    FOLLOWER_COUNT_FIELD_NUMBER: _ClassVar[int]
    SOURCES_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    SAMPLE_VIDEOS_FIELD_NUMBER: _ClassVar[int]
    creator_id: str
    display_name: str
    follower_count: int
    sources: _containers.RepeatedScalarFieldContainer[DiscoverySource]
    score: float
    sample_videos: _containers.RepeatedCompositeFieldContainer[SampleVideo]
    def __init__(self, creator_id: _Optional[str] = ..., display_name: _Optional[str] = ..., follower_count: _Optional[int] = ..., sources: _Optional[_Iterable[_Union[DiscoverySource, str]]] = ..., score: _Optional[float] = ..., sample_videos: _Optional[_Iterable[_Union[SampleVideo, _Mapping]]] = ...) -> None: ...

class DiscoverCreatorsRequest(_message.Message):
    __slots__ = ("limit", "cursor")
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    limit: int
    cursor: str
    def __init__(self, limit: _Optional[int] = ..., cursor: _Optional[str] = ...) -> None: ...

class DiscoverCreatorsResponse(_message.Message):
    __slots__ = ("creators", "next_cursor")
    CREATORS_FIELD_NUMBER: _ClassVar[int]
    NEXT_CURSOR_FIELD_NUMBER: _ClassVar[int]
    creators: _containers.RepeatedCompositeFieldContainer[DiscoveredCreator]
    next_cursor: str
    def __init__(self, creators: _Optional[_Iterable[_Union[DiscoveredCreator, _Mapping]]] = ..., next_cursor: _Optional[str] = ...) -> None: ...

class SearchVideosRequest(_message.Message):
    __slots__ = ("q", "limit", "cursor")
    Q_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    q: str
    limit: int
    cursor: str
    def __init__(self, q: _Optional[str] = ..., limit: _Optional[int] = ..., cursor: _Optional[str] = ...) -> None: ...

class SearchVideosResponse(_message.Message):
    __slots__ = ("items", "next_cursor")
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    NEXT_CURSOR_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[FeedItem]
    next_cursor: str
    def __init__(self, items: _Optional[_Iterable[_Union[FeedItem, _Mapping]]] = ..., next_cursor: _Optional[str] = ...) -> None: ...

class GetTrendingHashtagsRequest(_message.Message):
    __slots__ = ("limit",)
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    limit: int
    def __init__(self, limit: _Optional[int] = ...) -> None: ...

class TrendingHashtag(_message.Message):
    __slots__ = ("hashtag", "video_count", "view_count")
    HASHTAG_FIELD_NUMBER: _ClassVar[int]
    VIDEO_COUNT_FIELD_NUMBER: _ClassVar[int]
    VIEW_COUNT_FIELD_NUMBER: _ClassVar[int]
    hashtag: str
    video_count: int
    view_count: int
    def __init__(self, hashtag: _Optional[str] = ..., video_count: _Optional[int] = ..., view_count: _Optional[int] = ...) -> None: ...

class GetTrendingHashtagsResponse(_message.Message):
    __slots__ = ("hashtags",)
    HASHTAGS_FIELD_NUMBER: _ClassVar[int]
    hashtags: _containers.RepeatedCompositeFieldContainer[TrendingHashtag]
    def __init__(self, hashtags: _Optional[_Iterable[_Union[TrendingHashtag, _Mapping]]] = ...) -> None: ...

class GetTrendingSoundsRequest(_message.Message):
    __slots__ = ("limit",)
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    limit: int
    def __init__(self, limit: _Optional[int] = ...) -> None: ...

class TrendingSound(_message.Message):
    __slots__ = ("sound_id", "video_count", "view_count")
    SOUND_ID_FIELD_NUMBER: _ClassVar[int]
    VIDEO_COUNT_FIELD_NUMBER: _ClassVar[int]
    VIEW_COUNT_FIELD_NUMBER: _ClassVar[int]
    sound_id: str
    video_count: int
    view_count: int
    def __init__(self, sound_id: _Optional[str] = ..., video_count: _Optional[int] = ..., view_count: _Optional[int] = ...) -> None: ...

class GetTrendingSoundsResponse(_message.Message):
    __slots__ = ("sounds",)
    SOUNDS_FIELD_NUMBER: _ClassVar[int]
    sounds: _containers.RepeatedCompositeFieldContainer[TrendingSound]
    def __init__(self, sounds: _Optional[_Iterable[_Union[TrendingSound, _Mapping]]] = ...) -> None: ...

class FollowCreatorRequest(_message.Message):
    __slots__ = ("user_id",)
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    def __init__(self, user_id: _Optional[str] = ...) -> None: ...

class FollowCreatorResponse(_message.Message):
    __slots__ = ("user_id", "following", "follower_count")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    FOLLOWING_FIELD_NUMBER: _ClassVar[int]
    FOLLOWER_COUNT_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    following: bool
    follower_count: int
    def __init__(self, user_id: _Optional[str] = ..., following: _Optional[bool] = ..., follower_count: _Optional[int] = ...) -> None: ...

class UnfollowCreatorRequest(_message.Message):
    __slots__ = ("user_id",)
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    def __init__(self, user_id: _Optional[str] = ...) -> None: ...

class UnfollowCreatorResponse(_message.Message):
    __slots__ = ("user_id", "following", "follower_count")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    FOLLOWING_FIELD_NUMBER: _ClassVar[int]
    FOLLOWER_COUNT_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    following: bool
    follower_count: int
    def __init__(self, user_id: _Optional[str] = ..., following: _Optional[bool] = ..., follower_count: _Optional[int] = ...) -> None: ...

class GetCreatorProfileRequest(_message.Message):
    __slots__ = ("creator_id",)
    CREATOR_ID_FIELD_NUMBER: _ClassVar[int]
    creator_id: str
    def __init__(self, creator_id: _Optional[str] = ...) -> None: ...

class GetCreatorProfileResponse(_message.Message):
    __slots__ = ("creator_id", "display_name", "follower_count", "following_count", "video_count", "following", "sample_videos")
    CREATOR_ID_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    FOLLOWER_COUNT_FIELD_NUMBER: _ClassVar[int]
    FOLLOWING_COUNT_FIELD_NUMBER: _ClassVar[int]
    VIDEO_COUNT_FIELD_NUMBER: _ClassVar[int]
    FOLLOWING_FIELD_NUMBER: _ClassVar[int]
    SAMPLE_VIDEOS_FIELD_NUMBER: _ClassVar[int]
    creator_id: str
    display_name: str
    follower_count: int
    following_count: int
    video_count: int
    following: bool
    sample_videos: _containers.RepeatedCompositeFieldContainer[SampleVideo]
    def __init__(self, creator_id: _Optional[str] = ..., display_name: _Optional[str] = ..., follower_count: _Optional[int] = ..., following_count: _Optional[int] = ..., video_count: _Optional[int] = ..., following: _Optional[bool] = ..., sample_videos: _Optional[_Iterable[_Union[SampleVideo, _Mapping]]] = ...) -> None: ...
