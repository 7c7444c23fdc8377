import datetime

from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class VideoStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    VIDEO_STATUS_UNSPECIFIED: _ClassVar[VideoStatus]
    VIDEO_STATUS_UPLOADING: _ClassVar[VideoStatus]
    VIDEO_STATUS_PROCESSING: _ClassVar[VideoStatus]
    VIDEO_STATUS_PUBLISHED: _ClassVar[VideoStatus]
    VIDEO_STATUS_FAILED: _ClassVar[VideoStatus]
    VIDEO_STATUS_DELETED: _ClassVar[VideoStatus]

class RenditionKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RENDITION_KIND_UNSPECIFIED: _ClassVar[RenditionKind]
    RENDITION_KIND_VIDEO: _ClassVar[RenditionKind]
    RENDITION_KIND_AUDIO: _ClassVar[RenditionKind]

class QualityWarningKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    QUALITY_WARNING_KIND_UNSPECIFIED: _ClassVar[QualityWarningKind]
    QUALITY_WARNING_KIND_BLUR: _ClassVar[QualityWarningKind]
    QUALITY_WARNING_KIND_BLACK_FRAMES: _ClassVar[QualityWarningKind]
    QUALITY_WARNING_KIND_FROZEN_FRAMES: _ClassVar[QualityWarningKind]
    QUALITY_WARNING_KIND_LOW_RESOLUTION: _ClassVar[QualityWarningKind]
    QUALITY_WARNING_KIND_LOW_FRAME_RATE: _ClassVar[QualityWarningKind]
    QUALITY_WARNING_KIND_FREQUENT_SCENE_CHANGES: _ClassVar[QualityWarningKind]
    QUALITY_WARNING_KIND_NO_AUDIO: _ClassVar[QualityWarningKind]
VIDEO_STATUS_UNSPECIFIED: VideoStatus
VIDEO_STATUS_UPLOADING: VideoStatus
VIDEO_STATUS_PROCESSING: VideoStatus
VIDEO_STATUS_PUBLISHED: VideoStatus
VIDEO_STATUS_FAILED: VideoStatus
VIDEO_STATUS_DELETED: VideoStatus
RENDITION_KIND_UNSPECIFIED: RenditionKind
RENDITION_KIND_VIDEO: RenditionKind
RENDITION_KIND_AUDIO: RenditionKind
QUALITY_WARNING_KIND_UNSPECIFIED: QualityWarningKind
QUALITY_WARNING_KIND_BLUR: QualityWarningKind
QUALITY_WARNING_KIND_BLACK_FRAMES: QualityWarningKind
QUALITY_WARNING_KIND_FROZEN_FRAMES: QualityWarningKind
QUALITY_WARNING_KIND_LOW_RESOLUTION: QualityWarningKind
QUALITY_WARNING_KIND_LOW_FRAME_RATE: QualityWarningKind
QUALITY_WARNING_KIND_FREQUENT_SCENE_CHANGES: QualityWarningKind
QUALITY_WARNING_KIND_NO_AUDIO: QualityWarningKind

class Rendition(_message.Message):
    __slots__ = ("name", "kind", "width", "height", "bandwidth_bps", "average_bandwidth_bps", "codecs", "frame_rate", "playlist_object_key")
    NAME_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    BANDWIDTH_BPS_FIELD_NUMBER: _ClassVar[int]
    AVERAGE_BANDWIDTH_BPS_FIELD_NUMBER: _ClassVar[int]
    CODECS_FIELD_NUMBER: _ClassVar[int]
    FRAME_RATE_FIELD_NUMBER: _ClassVar[int]
    PLAYLIST_OBJECT_KEY_FIELD_NUMBER: _ClassVar[int]
    name: str
    kind: RenditionKind
    width: int
    height: int
    bandwidth_bps: int
    average_bandwidth_bps: int
    codecs: str
    frame_rate: float
    playlist_object_key: str
    def __init__(self, name: _Optional[str] = ..., kind: _Optional[_Union[RenditionKind, str]] = ..., width: _Optional[int] = ..., height: _Optional[int] = ..., bandwidth_bps: _Optional[int] = ..., average_bandwidth_bps: _Optional[int] = ..., codecs: _Optional[str] = ..., frame_rate: _Optional[float] = ..., playlist_object_key: _Optional[str] = ...) -> None: ...

class QualityWarning(_message.Message):
    __slots__ = ("kind", "message", "start_offset", "end_offset", "value")
    KIND_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    START_OFFSET_FIELD_NUMBER: _ClassVar[int]
    END_OFFSET_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    kind: QualityWarningKind
    message: str
    start_offset: _duration_pb2.Duration
    end_offset: _duration_pb2.Duration
    value: float
    def __init__(self, kind: _Optional[_Union[QualityWarningKind, str]] = ..., message: _Optional[str] = ..., start_offset: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., end_offset: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., value: _Optional[float] = ...) -> None: ...

class VideoSummary(_message.Message):
    __slots__ = ("video_id", "creator_id", "title", "description", "hashtags", "sound_id", "duration", "status", "publish_time", "thumbnail_url", "preview_url", "renditions", "create_time", "update_time")
    VIDEO_ID_FIELD_NUMBER: _ClassVar[int]
    CREATOR_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    HASHTAGS_FIELD_NUMBER: _ClassVar[int]
    SOUND_ID_FIELD_NUMBER: _ClassVar[int]
    DURATION_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    PUBLISH_TIME_FIELD_NUMBER: _ClassVar[int]
    THUMBNAIL_URL_FIELD_NUMBER: _ClassVar[int]
    PREVIEW_URL_FIELD_NUMBER: _ClassVar[int]
    RENDITIONS_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    video_id: str
    creator_id: str
    title: str
    description: str
    hashtags: _containers.RepeatedScalarFieldContainer[str]
    sound_id: str
    duration: _duration_pb2.Duration
    status: VideoStatus
    publish_time: _timestamp_pb2.Timestamp
    thumbnail_url: str
    preview_url: str
    renditions: _containers.RepeatedCompositeFieldContainer[Rendition]
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, video_id: _Optional[str] = ..., creator_id: _Optional[str] = ..., title: _Optional[str] = ..., description: _Optional[str] = ..., hashtags: _Optional[_Iterable[str]] = ..., sound_id: _Optional[str] = ..., duration: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., status: _Optional[_Union[VideoStatus, str]] = ..., publish_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., thumbnail_url: _Optional[str] = ..., preview_url: _Optional[str] = ..., renditions: _Optional[_Iterable[_Union[Rendition, _Mapping]]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
