import datetime

from google.api import annotations_pb2 as _annotations_pb2
from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.api import httpbody_pb2 as _httpbody_pb2
from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import field_mask_pb2 as _field_mask_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from reels.common.v1 import access_pb2 as _access_pb2
from reels.common.v1 import video_pb2 as _video_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ProcessingHealthState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PROCESSING_HEALTH_STATE_UNSPECIFIED: _ClassVar[ProcessingHealthState]
    PROCESSING_HEALTH_STATE_HEALTHY: _ClassVar[ProcessingHealthState]
    PROCESSING_HEALTH_STATE_DEGRADED: _ClassVar[ProcessingHealthState]
    PROCESSING_HEALTH_STATE_UNHEALTHY: _ClassVar[ProcessingHealthState]
PROCESSING_HEALTH_STATE_UNSPECIFIED: ProcessingHealthState
PROCESSING_HEALTH_STATE_HEALTHY: ProcessingHealthState
PROCESSING_HEALTH_STATE_DEGRADED: ProcessingHealthState
PROCESSING_HEALTH_STATE_UNHEALTHY: ProcessingHealthState

class UploadVideoMetadata(_message.Message):
    __slots__ = ("title", "description", "hashtags", "sound_id", "file_name", "content_type", "size_bytes")
    TITLE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    HASHTAGS_FIELD_NUMBER: _ClassVar[int]
    SOUND_ID_FIELD_NUMBER: _ClassVar[int]
    FILE_NAME_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    title: str
    description: str
    hashtags: _containers.RepeatedScalarFieldContainer[str]
    sound_id: str
    file_name: str
    content_type: str
    size_bytes: int
    def __init__(self, title: _Optional[str] = ..., description: _Optional[str] = ..., hashtags: _Optional[_Iterable[str]] = ..., sound_id: _Optional[str] = ..., file_name: _Optional[str] = ..., content_type: _Optional[str] = ..., size_bytes: _Optional[int] = ...) -> None: ...

class UploadVideoRequest(_message.Message):
    __slots__ = ("metadata", "chunk")
    METADATA_FIELD_NUMBER: _ClassVar[int]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    metadata: UploadVideoMetadata
    chunk: bytes
    def __init__(self, metadata: _Optional[_Union[UploadVideoMetadata, _Mapping]] = ..., chunk: _Optional[bytes] = ...) -> None: ...

class UploadVideoResponse(_message.Message):
    __slots__ = ("video_id", "status", "upload_progress_percent", "bytes_received", "status_url")
    VIDEO_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    UPLOAD_PROGRESS_PERCENT_FIELD_NUMBER: _ClassVar[int]
    BYTES_RECEIVED_FIELD_NUMBER: _ClassVar[int]
    STATUS_URL_FIELD_NUMBER: _ClassVar[int]
    video_id: str
    status: _video_pb2.VideoStatus
    upload_progress_percent: int
    bytes_received: int
    status_url: str
    def __init__(self, video_id: _Optional[str] = ..., status: _Optional[_Union[_video_pb2.VideoStatus, str]] = ..., upload_progress_percent: _Optional[int] = ..., bytes_received: _Optional[int] = ..., status_url: _Optional[str] = ...) -> None: ...

class UploadVideoMultipartResponse(_message.Message):
    __slots__ = ("video_id", "status", "upload_progress_percent", "bytes_received", "status_url")
    VIDEO_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    UPLOAD_PROGRESS_PERCENT_FIELD_NUMBER: _ClassVar[int]
    BYTES_RECEIVED_FIELD_NUMBER: _ClassVar[int]
    STATUS_URL_FIELD_NUMBER: _ClassVar[int]
    video_id: str
    status: _video_pb2.VideoStatus
    upload_progress_percent: int
    bytes_received: int
    status_url: str
    def __init__(self, video_id: _Optional[str] = ..., status: _Optional[_Union[_video_pb2.VideoStatus, str]] = ..., upload_progress_percent: _Optional[int] = ..., bytes_received: _Optional[int] = ..., status_url: _Optional[str] = ...) -> None: ...

class CreateUploadSessionRequest(_message.Message):
    __slots__ = ("title", "description", "hashtags", "sound_id", "file_name", "content_type", "size_bytes")
    TITLE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    HASHTAGS_FIELD_NUMBER: _ClassVar[int]
    SOUND_ID_FIELD_NUMBER: _ClassVar[int]
    FILE_NAME_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    title: str
    description: str
    hashtags: _containers.RepeatedScalarFieldContainer[str]
    sound_id: str
    file_name: str
    content_type: str
    size_bytes: int
    def __init__(self, title: _Optional[str] = ..., description: _Optional[str] = ..., hashtags: _Optional[_Iterable[str]] = ..., sound_id: _Optional[str] = ..., file_name: _Optional[str] = ..., content_type: _Optional[str] = ..., size_bytes: _Optional[int] = ...) -> None: ...

class UploadPart(_message.Message):
    __slots__ = ("part_number", "url")
    PART_NUMBER_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    part_number: int
    url: str
    def __init__(self, part_number: _Optional[int] = ..., url: _Optional[str] = ...) -> None: ...

class CreateUploadSessionResponse(_message.Message):
    __slots__ = ("upload_id", "video_id", "part_size_bytes", "parts", "expire_time")
    UPLOAD_ID_FIELD_NUMBER: _ClassVar[int]
    VIDEO_ID_FIELD_NUMBER: _ClassVar[int]
    PART_SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    PARTS_FIELD_NUMBER: _ClassVar[int]
    EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    upload_id: str
    video_id: str
    part_size_bytes: int
    parts: _containers.RepeatedCompositeFieldContainer[UploadPart]
    expire_time: _timestamp_pb2.Timestamp
    def __init__(self, upload_id: _Optional[str] = ..., video_id: _Optional[str] = ..., part_size_bytes: _Optional[int] = ..., parts: _Optional[_Iterable[_Union[UploadPart, _Mapping]]] = ..., expire_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CompletedPart(_message.Message):
    __slots__ = ("part_number", "etag")
    PART_NUMBER_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    part_number: int
    etag: str
    def __init__(self, part_number: _Optional[int] = ..., etag: _Optional[str] = ...) -> None: ...

class CompleteUploadSessionRequest(_message.Message):
    __slots__ = ("upload_id", "parts")
    UPLOAD_ID_FIELD_NUMBER: _ClassVar[int]
    PARTS_FIELD_NUMBER: _ClassVar[int]
    upload_id: str
    parts: _containers.RepeatedCompositeFieldContainer[CompletedPart]
    def __init__(self, upload_id: _Optional[str] = ..., parts: _Optional[_Iterable[_Union[CompletedPart, _Mapping]]] = ...) -> None: ...

class CompleteUploadSessionResponse(_message.Message):
    __slots__ = ("video_id", "status", "upload_progress_percent", "bytes_received", "status_url")
    VIDEO_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    UPLOAD_PROGRESS_PERCENT_FIELD_NUMBER: _ClassVar[int]
    BYTES_RECEIVED_FIELD_NUMBER: _ClassVar[int]
    STATUS_URL_FIELD_NUMBER: _ClassVar[int]
    video_id: str
    status: _video_pb2.VideoStatus
    upload_progress_percent: int
    bytes_received: int
    status_url: str
    def __init__(self, video_id: _Optional[str] = ..., status: _Optional[_Union[_video_pb2.VideoStatus, str]] = ..., upload_progress_percent: _Optional[int] = ..., bytes_received: _Optional[int] = ..., status_url: _Optional[str] = ...) -> None: ...

class GetVideoStatusRequest(_message.Message):
    __slots__ = ("video_id",)
    VIDEO_ID_FIELD_NUMBER: _ClassVar[int]
    video_id: str
    def __init__(self, video_id: _Optional[str] = ...) -> None: ...

class ModerationFlag(_message.Message):
    __slots__ = ("field", "term", "reason")
    FIELD_FIELD_NUMBER: _ClassVar[int]
    TERM_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    field: str
    term: str
    reason: str
    def __init__(self, field: _Optional[str] = ..., term: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class GetVideoStatusResponse(_message.Message):
    __slots__ = ("video_id", "creator_id", "title", "status", "progress_percent", "failure_reason", "quality_warnings", "moderation_flags", "renditions", "create_time", "update_time", "publish_time", "duration", "thumbnail_url", "preview_url")
    VIDEO_ID_FIELD_NUMBER: _ClassVar[int]
    CREATOR_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_PERCENT_FIELD_NUMBER: _ClassVar[int]
    FAILURE_REASON_FIELD_NUMBER: _ClassVar[int]
    QUALITY_WARNINGS_FIELD_NUMBER: _ClassVar[int]
    MODERATION_FLAGS_FIELD_NUMBER: _ClassVar[int]
    RENDITIONS_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    PUBLISH_TIME_FIELD_NUMBER: _ClassVar[int]
    DURATION_FIELD_NUMBER: _ClassVar[int]
    THUMBNAIL_URL_FIELD_NUMBER: _ClassVar[int]
    PREVIEW_URL_FIELD_NUMBER: _ClassVar[int]
    video_id: str
    creator_id: str
    title: str
    status: _video_pb2.VideoStatus
    progress_percent: int
    failure_reason: str
    quality_warnings: _containers.RepeatedCompositeFieldContainer[_video_pb2.QualityWarning]
    moderation_flags: _containers.RepeatedCompositeFieldContainer[ModerationFlag]
    renditions: _containers.RepeatedCompositeFieldContainer[_video_pb2.Rendition]
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    publish_time: _timestamp_pb2.Timestamp
    duration: _duration_pb2.Duration
    thumbnail_url: str
    preview_url: str
    def __init__(self, video_id: _Optional[str] = ..., creator_id: _Optional[str] = ..., title: _Optional[str] = ..., status: _Optional[_Union[_video_pb2.VideoStatus, str]] = ..., progress_percent: _Optional[int] = ..., failure_reason: _Optional[str] = ..., quality_warnings: _Optional[_Iterable[_Union[_video_pb2.QualityWarning, _Mapping]]] = ..., moderation_flags: _Optional[_Iterable[_Union[ModerationFlag, _Mapping]]] = ..., renditions: _Optional[_Iterable[_Union[_video_pb2.Rendition, _Mapping]]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., publish_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., duration: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., thumbnail_url: _Optional[str] = ..., preview_url: _Optional[str] = ...) -> None: ...

class VideoMetadata(_message.Message):
    __slots__ = ("title", "description", "hashtags", "sound_id")
    TITLE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    HASHTAGS_FIELD_NUMBER: _ClassVar[int]
    SOUND_ID_FIELD_NUMBER: _ClassVar[int]
    title: str
    description: str
    hashtags: _containers.RepeatedScalarFieldContainer[str]
    sound_id: str
    def __init__(self, title: _Optional[str] = ..., description: _Optional[str] = ..., hashtags: _Optional[_Iterable[str]] = ..., sound_id: _Optional[str] = ...) -> None: ...

class UpdateVideoRequest(_message.Message):
    __slots__ = ("video_id", "video", "update_mask")
    VIDEO_ID_FIELD_NUMBER: _ClassVar[int]
    VIDEO_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    video_id: str
    video: VideoMetadata
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, video_id: _Optional[str] = ..., video: _Optional[_Union[VideoMetadata, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class UpdateVideoResponse(_message.Message):
    __slots__ = ("video",)
    VIDEO_FIELD_NUMBER: _ClassVar[int]
    video: _video_pb2.VideoSummary
    def __init__(self, video: _Optional[_Union[_video_pb2.VideoSummary, _Mapping]] = ...) -> None: ...

class DeleteVideoRequest(_message.Message):
    __slots__ = ("video_id",)
    VIDEO_ID_FIELD_NUMBER: _ClassVar[int]
    video_id: str
    def __init__(self, video_id: _Optional[str] = ...) -> None: ...

class DeleteVideoResponse(_message.Message):
    __slots__ = ("video_id", "status", "purge_time")
    VIDEO_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    PURGE_TIME_FIELD_NUMBER: _ClassVar[int]
    video_id: str
    status: _video_pb2.VideoStatus
    purge_time: _timestamp_pb2.Timestamp
    def __init__(self, video_id: _Optional[str] = ..., status: _Optional[_Union[_video_pb2.VideoStatus, str]] = ..., purge_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class GetVideoProcessingHealthRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetVideoProcessingHealthResponse(_message.Message):
    __slots__ = ("state", "reasons", "queue_depth", "live_workers", "object_store_reachable", "cdn_reachable", "processed_count", "failure_rate", "average_processing_duration", "check_time")
    STATE_FIELD_NUMBER: _ClassVar[int]
    REASONS_FIELD_NUMBER: _ClassVar[int]
    QUEUE_DEPTH_FIELD_NUMBER: _ClassVar[int]
    LIVE_WORKERS_FIELD_NUMBER: _ClassVar[int]
    OBJECT_STORE_REACHABLE_FIELD_NUMBER: _ClassVar[int]
    CDN_REACHABLE_FIELD_NUMBER: _ClassVar[int]
    PROCESSED_COUNT_FIELD_NUMBER: _ClassVar[int]
    FAILURE_RATE_FIELD_NUMBER: _ClassVar[int]
    AVERAGE_PROCESSING_DURATION_FIELD_NUMBER: _ClassVar[int]
    CHECK_TIME_FIELD_NUMBER: _ClassVar[int]
    state: ProcessingHealthState
    reasons: _containers.RepeatedScalarFieldContainer[str]
    queue_depth: int
    live_workers: int
    object_store_reachable: bool
    cdn_reachable: bool
    processed_count: int
    failure_rate: float
    average_processing_duration: _duration_pb2.Duration
    check_time: _timestamp_pb2.Timestamp
    def __init__(self, state: _Optional[_Union[ProcessingHealthState, str]] = ..., reasons: _Optional[_Iterable[str]] = ..., queue_depth: _Optional[int] = ..., live_workers: _Optional[int] = ..., object_store_reachable: _Optional[bool] = ..., cdn_reachable: _Optional[bool] = ..., processed_count: _Optional[int] = ..., failure_rate: _Optional[float] = ..., average_processing_duration: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., check_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class BatchGetVideosRequest(_message.Message):
    __slots__ = ("video_ids",)
    VIDEO_IDS_FIELD_NUMBER: _ClassVar[int]
    video_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, video_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class BatchGetVideosResponse(_message.Message):
    __slots__ = ("videos", "missing_video_ids")
    VIDEOS_FIELD_NUMBER: _ClassVar[int]
    MISSING_VIDEO_IDS_FIELD_NUMBER: _ClassVar[int]
    videos: _containers.RepeatedCompositeFieldContainer[_video_pb2.VideoSummary]
    missing_video_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, videos: _Optional[_Iterable[_Union[_video_pb2.VideoSummary, _Mapping]]] = ..., missing_video_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class ListFailedVideosRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class FailedVideo(_message.Message):
    __slots__ = ("video_id", "creator_id", "title", "reason", "attempts", "last_error_time", "create_time", "replay_count")
    VIDEO_ID_FIELD_NUMBER: _ClassVar[int]
    CREATOR_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    LAST_ERROR_TIME_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    REPLAY_COUNT_FIELD_NUMBER: _ClassVar[int]
    video_id: str
    creator_id: str
    title: str
    reason: str
    attempts: int
    last_error_time: _timestamp_pb2.Timestamp
    create_time: _timestamp_pb2.Timestamp
    replay_count: int
    def __init__(self, video_id: _Optional[str] = ..., creator_id: _Optional[str] = ..., title: _Optional[str] = ..., reason: _Optional[str] = ..., attempts: _Optional[int] = ..., last_error_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., replay_count: _Optional[int] = ...) -> None: ...

class ListFailedVideosResponse(_message.Message):
    __slots__ = ("failed_videos", "next_page_token")
    FAILED_VIDEOS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    failed_videos: _containers.RepeatedCompositeFieldContainer[FailedVideo]
    next_page_token: str
    def __init__(self, failed_videos: _Optional[_Iterable[_Union[FailedVideo, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ReplayFailedVideoRequest(_message.Message):
    __slots__ = ("video_id",)
    VIDEO_ID_FIELD_NUMBER: _ClassVar[int]
    video_id: str
    def __init__(self, video_id: _Optional[str] = ...) -> None: ...

class ReplayFailedVideoResponse(_message.Message):
    __slots__ = ("video_id", "status", "replay_count")
    VIDEO_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    REPLAY_COUNT_FIELD_NUMBER: _ClassVar[int]
    video_id: str
    status: _video_pb2.VideoStatus
    replay_count: int
    def __init__(self, video_id: _Optional[str] = ..., status: _Optional[_Union[_video_pb2.VideoStatus, str]] = ..., replay_count: _Optional[int] = ...) -> None: ...
