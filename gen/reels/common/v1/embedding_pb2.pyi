import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class VideoEmbedding(_message.Message):
    __slots__ = ("video_id", "vector", "model_version", "generate_time", "creator_id")
    VIDEO_ID_FIELD_NUMBER: _ClassVar[int]
    VECTOR_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    GENERATE_TIME_FIELD_NUMBER: _ClassVar[int]
    CREATOR_ID_FIELD_NUMBER: _ClassVar[int]
    video_id: str
    vector: _containers.RepeatedScalarFieldContainer[float]
    model_version: str
    generate_time: _timestamp_pb2.Timestamp
    creator_id: str
    def __init__(self, video_id: _Optional[str] = ..., vector: _Optional[_Iterable[float]] = ..., model_version: _Optional[str] = ..., generate_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., creator_id: _Optional[str] = ...) -> None: ...
