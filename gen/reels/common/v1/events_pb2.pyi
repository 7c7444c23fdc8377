import datetime

from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import field_mask_pb2 as _field_mask_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from reels.common.v1 import playback_pb2 as _playback_pb2
from reels.common.v1 import video_pb2 as _video_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class VideoUploadedEvent(_message.Message):
    __slots__ = ("event_id", "occur_time", "video_id", "creator_id", "original_object_key", "content_type", "size_bytes", "duration", "width", "height", "object_key_prefix")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    OCCUR_TIME_FIELD_NUMBER: _ClassVar[int]
    VIDEO_ID_FIELD_NUMBER: _ClassVar[int]
    CREATOR_ID_FIELD_NUMBER: _ClassVar[int]
    ORIGINAL_OBJECT_KEY_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    DURATION_FIELD_NUMBER: _ClassVar[int]
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    OBJECT_KEY_PREFIX_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    occur_time: _timestamp_pb2.Timestamp
    video_id: str
    creator_id: str
    original_object_key: str
    content_type: str
    size_bytes: int
    duration: _duration_pb2.Duration
    width: int
    height: int
    object_key_prefix: str
    def __init__(self, event_id: _Optional[str] = ..., occur_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., video_id: _Optional[str] = ..., creator_id: _Optional[str] = ..., original_object_key: _Optional[str] = ..., content_type: _Optional[str] = ..., size_bytes: _Optional[int] = ..., duration: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., width: _Optional[int] = ..., height: _Optional[int] = ..., object_key_prefix: _Optional[str] = ...) -> None: ...

class VideoPublishedEvent(_message.Message):
    __slots__ = ("event_id", "occur_time", "video", "object_key_prefix", "hls_master_object_key", "dash_manifest_object_key", "thumbnail_object_key", "preview_object_key", "embedding_model_version")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    OCCUR_TIME_FIELD_NUMBER: _ClassVar[int]
    VIDEO_FIELD_NUMBER: _ClassVar[int]
    OBJECT_KEY_PREFIX_FIELD_NUMBER: _ClassVar[int]
    HLS_MASTER_OBJECT_KEY_FIELD_NUMBER: _ClassVar[int]
    DASH_MANIFEST_OBJECT_KEY_FIELD_NUMBER: _ClassVar[int]
    THUMBNAIL_OBJECT_KEY_FIELD_NUMBER: _ClassVar[int]
    PREVIEW_OBJECT_KEY_FIELD_NUMBER: _ClassVar[int]
    EMBEDDING_MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    occur_time: _timestamp_pb2.Timestamp
    video: _video_pb2.VideoSummary
    object_key_prefix: str
    hls_master_object_key: str
    dash_manifest_object_key: str
    thumbnail_object_key: str
    preview_object_key: str
    embedding_model_version: str
    def __init__(self, event_id: _Optional[str] = ..., occur_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., video: _Optional[_Union[_video_pb2.VideoSummary, _Mapping]] = ..., object_key_prefix: _Optional[str] = ..., hls_master_object_key: _Optional[str] = ..., dash_manifest_object_key: _Optional[str] = ..., thumbnail_object_key: _Optional[str] = ..., preview_object_key: _Optional[str] = ..., embedding_model_version: _Optional[str] = ...) -> None: ...

class VideoUpdatedEvent(_message.Message):
    __slots__ = ("event_id", "occur_time", "video", "update_mask")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    OCCUR_TIME_FIELD_NUMBER: _ClassVar[int]
    VIDEO_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    occur_time: _timestamp_pb2.Timestamp
    video: _video_pb2.VideoSummary
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, event_id: _Optional[str] = ..., occur_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., video: _Optional[_Union[_video_pb2.VideoSummary, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class VideoDeletedEvent(_message.Message):
    __slots__ = ("event_id", "occur_time", "video_id", "creator_id", "object_key_prefix", "purge_time")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    OCCUR_TIME_FIELD_NUMBER: _ClassVar[int]
    VIDEO_ID_FIELD_NUMBER: _ClassVar[int]
    CREATOR_ID_FIELD_NUMBER: _ClassVar[int]
    OBJECT_KEY_PREFIX_FIELD_NUMBER: _ClassVar[int]
    PURGE_TIME_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    occur_time: _timestamp_pb2.Timestamp
    video_id: str
    creator_id: str
    object_key_prefix: str
    purge_time: _timestamp_pb2.Timestamp
    def __init__(self, event_id: _Optional[str] = ..., occur_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., video_id: _Optional[str] = ..., creator_id: _Optional[str] = ..., object_key_prefix: _Optional[str] = ..., purge_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class PlaybackEventRecorded(_message.Message):
    __slots__ = ("event_id", "occur_time", "video_id", "user_id", "session_id", "action", "event_time", "bitrate_kbps", "device", "watch_duration", "position", "startup_duration", "rebuffer_duration", "from_bitrate_kbps", "to_bitrate_kbps", "creator_id", "client_event_id", "rendition", "segment_id")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    OCCUR_TIME_FIELD_NUMBER: _ClassVar[int]
    VIDEO_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    EVENT_TIME_FIELD_NUMBER: _ClassVar[int]
    BITRATE_KBPS_FIELD_NUMBER: _ClassVar[int]
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    WATCH_DURATION_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    STARTUP_DURATION_FIELD_NUMBER: _ClassVar[int]
    REBUFFER_DURATION_FIELD_NUMBER: _ClassVar[int]
    FROM_BITRATE_KBPS_FIELD_NUMBER: _ClassVar[int]
    TO_BITRATE_KBPS_FIELD_NUMBER: _ClassVar[int]
    CREATOR_ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    RENDITION_FIELD_NUMBER: _ClassVar[int]
    SEGMENT_ID_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    occur_time: _timestamp_pb2.Timestamp
    video_id: str
    user_id: str
    session_id: str
    action: _playback_pb2.PlaybackAction
    event_time: _timestamp_pb2.Timestamp
    bitrate_kbps: int
    device: str
    watch_duration: _duration_pb2.Duration
    position: _duration_pb2.Duration
    startup_duration: _duration_pb2.Duration
    rebuffer_duration: _duration_pb2.Duration
    from_bitrate_kbps: int
    to_bitrate_kbps: int
    creator_id: str
    client_event_id: str
    rendition: str
    segment_id: str
    def __init__(self, event_id: _Optional[str] = ..., occur_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., video_id: _Optional[str] = ..., user_id: _Optional[str] = ..., session_id: _Optional[str] = ..., action: _Optional[_Union[_playback_pb2.PlaybackAction, str]] = ..., event_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., bitrate_kbps: _Optional[int] = ..., device: _Optional[str] = ..., watch_duration: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., position: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., startup_duration: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., rebuffer_duration: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., from_bitrate_kbps: _Optional[int] = ..., to_bitrate_kbps: _Optional[int] = ..., creator_id: _Optional[str] = ..., client_event_id: _Optional[str] = ..., rendition: _Optional[str] = ..., segment_id: _Optional[str] = ...) -> None: ...

class PlaybackEventBatch(_message.Message):
    __slots__ = ("events",)
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[PlaybackEventRecorded]
    def __init__(self, events: _Optional[_Iterable[_Union[PlaybackEventRecorded, _Mapping]]] = ...) -> None: ...

class VideoLikedEvent(_message.Message):
    __slots__ = ("event_id", "occur_time", "video_id", "user_id", "creator_id", "like_count")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    OCCUR_TIME_FIELD_NUMBER: _ClassVar[int]
    VIDEO_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    CREATOR_ID_FIELD_NUMBER: _ClassVar[int]
    LIKE_COUNT_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    occur_time: _timestamp_pb2.Timestamp
    video_id: str
    user_id: str
    creator_id: str
    like_count: int
    def __init__(self, event_id: _Optional[str] = ..., occur_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., video_id: _Optional[str] = ..., user_id: _Optional[str] = ..., creator_id: _Optional[str] = ..., like_count: _Optional[int] = ...) -> None: ...

class VideoUnlikedEvent(_message.Message):
    __slots__ = ("event_id", "occur_time", "video_id", "user_id", "creator_id", "like_count")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    OCCUR_TIME_FIELD_NUMBER: _ClassVar[int]
    VIDEO_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    CREATOR_ID_FIELD_NUMBER: _ClassVar[int]
    LIKE_COUNT_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    occur_time: _timestamp_pb2.Timestamp
    video_id: str
    user_id: str
    creator_id: str
    like_count: int
    def __init__(self, event_id: _Optional[str] = ..., occur_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., video_id: _Optional[str] = ..., user_id: _Optional[str] = ..., creator_id: _Optional[str] = ..., like_count: _Optional[int] = ...) -> None: ...

class VideoSharedEvent(_message.Message):
    __slots__ = ("event_id", "occur_time", "video_id", "user_id", "creator_id", "platform", "share_count")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    OCCUR_TIME_FIELD_NUMBER: _ClassVar[int]
    VIDEO_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    CREATOR_ID_FIELD_NUMBER: _ClassVar[int]
    PLATFORM_FIELD_NUMBER: _ClassVar[int]
    SHARE_COUNT_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    occur_time: _timestamp_pb2.Timestamp
    video_id: str
    user_id: str
    creator_id: str
    platform: str
    share_count: int
    def __init__(self, event_id: _Optional[str] = ..., occur_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., video_id: _Optional[str] = ..., user_id: _Optional[str] = ..., creator_id: _Optional[str] = ..., platform: _Optional[str] = ..., share_count: _Optional[int] = ...) -> None: ...

class VideoCommentedEvent(_message.Message):
    __slots__ = ("event_id", "occur_time", "video_id", "user_id", "creator_id", "comment_id", "text", "comment_count")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    OCCUR_TIME_FIELD_NUMBER: _ClassVar[int]
    VIDEO_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    CREATOR_ID_FIELD_NUMBER: _ClassVar[int]
    COMMENT_ID_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    COMMENT_COUNT_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    occur_time: _timestamp_pb2.Timestamp
    video_id: str
    user_id: str
    creator_id: str
    comment_id: str
    text: str
    comment_count: int
    def __init__(self, event_id: _Optional[str] = ..., occur_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., video_id: _Optional[str] = ..., user_id: _Optional[str] = ..., creator_id: _Optional[str] = ..., comment_id: _Optional[str] = ..., text: _Optional[str] = ..., comment_count: _Optional[int] = ...) -> None: ...
