import datetime

from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from reels.common.v1 import access_pb2 as _access_pb2
from reels.common.v1 import embedding_pb2 as _embedding_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Frame(_message.Message):
    __slots__ = ("jpeg", "rgb", "width", "height", "offset")
    JPEG_FIELD_NUMBER: _ClassVar[int]
    RGB_FIELD_NUMBER: _ClassVar[int]
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    jpeg: bytes
    rgb: bytes
    width: int
    height: int
    offset: _duration_pb2.Duration
    def __init__(self, jpeg: _Optional[bytes] = ..., rgb: _Optional[bytes] = ..., width: _Optional[int] = ..., height: _Optional[int] = ..., offset: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class EmbedVideoRequest(_message.Message):
    __slots__ = ("video_id", "creator_id", "publish_time", "frames", "model_version")
    VIDEO_ID_FIELD_NUMBER: _ClassVar[int]
    CREATOR_ID_FIELD_NUMBER: _ClassVar[int]
    PUBLISH_TIME_FIELD_NUMBER: _ClassVar[int]
    FRAMES_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    video_id: str
    creator_id: str
    publish_time: _timestamp_pb2.Timestamp
    frames: _containers.RepeatedCompositeFieldContainer[Frame]
    model_version: str
    def __init__(self, video_id: _Optional[str] = ..., creator_id: _Optional[str] = ..., publish_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., frames: _Optional[_Iterable[_Union[Frame, _Mapping]]] = ..., model_version: _Optional[str] = ...) -> None: ...

class EmbedVideoResponse(_message.Message):
    __slots__ = ("video_id", "embedding", "model_version", "dimension")
    VIDEO_ID_FIELD_NUMBER: _ClassVar[int]
    EMBEDDING_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    DIMENSION_FIELD_NUMBER: _ClassVar[int]
    video_id: str
    embedding: _containers.RepeatedScalarFieldContainer[float]
    model_version: str
    dimension: int
    def __init__(self, video_id: _Optional[str] = ..., embedding: _Optional[_Iterable[float]] = ..., model_version: _Optional[str] = ..., dimension: _Optional[int] = ...) -> None: ...

class BatchGetVideoEmbeddingsRequest(_message.Message):
    __slots__ = ("video_ids", "model_version")
    VIDEO_IDS_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    video_ids: _containers.RepeatedScalarFieldContainer[str]
    model_version: str
    def __init__(self, video_ids: _Optional[_Iterable[str]] = ..., model_version: _Optional[str] = ...) -> None: ...

class BatchGetVideoEmbeddingsResponse(_message.Message):
    __slots__ = ("embeddings", "missing_video_ids")
    EMBEDDINGS_FIELD_NUMBER: _ClassVar[int]
    MISSING_VIDEO_IDS_FIELD_NUMBER: _ClassVar[int]
    embeddings: _containers.RepeatedCompositeFieldContainer[_embedding_pb2.VideoEmbedding]
    missing_video_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, embeddings: _Optional[_Iterable[_Union[_embedding_pb2.VideoEmbedding, _Mapping]]] = ..., missing_video_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class GetUserEmbeddingRequest(_message.Message):
    __slots__ = ("user_id",)
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    def __init__(self, user_id: _Optional[str] = ...) -> None: ...

class GetUserEmbeddingResponse(_message.Message):
    __slots__ = ("user_id", "embedding", "model_version", "watched_video_count", "cold_start", "compute_time")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    EMBEDDING_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    WATCHED_VIDEO_COUNT_FIELD_NUMBER: _ClassVar[int]
    COLD_START_FIELD_NUMBER: _ClassVar[int]
    COMPUTE_TIME_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    embedding: _containers.RepeatedScalarFieldContainer[float]
    model_version: str
    watched_video_count: int
    cold_start: bool
    compute_time: _timestamp_pb2.Timestamp
    def __init__(self, user_id: _Optional[str] = ..., embedding: _Optional[_Iterable[float]] = ..., model_version: _Optional[str] = ..., watched_video_count: _Optional[int] = ..., cold_start: _Optional[bool] = ..., compute_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class RecallForUserRequest(_message.Message):
    __slots__ = ("user_id", "k", "exclude_video_ids")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    K_FIELD_NUMBER: _ClassVar[int]
    EXCLUDE_VIDEO_IDS_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    k: int
    exclude_video_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, user_id: _Optional[str] = ..., k: _Optional[int] = ..., exclude_video_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class ScoredVideo(_message.Message):
    __slots__ = ("video_id", "creator_id", "score")
    VIDEO_ID_FIELD_NUMBER: _ClassVar[int]
    CREATOR_ID_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    video_id: str
    creator_id: str
    score: float
    def __init__(self, video_id: _Optional[str] = ..., creator_id: _Optional[str] = ..., score: _Optional[float] = ...) -> None: ...

class RecallForUserResponse(_message.Message):
    __slots__ = ("videos", "model_version", "cold_start")
    VIDEOS_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    COLD_START_FIELD_NUMBER: _ClassVar[int]
    videos: _containers.RepeatedCompositeFieldContainer[ScoredVideo]
    model_version: str
    cold_start: bool
    def __init__(self, videos: _Optional[_Iterable[_Union[ScoredVideo, _Mapping]]] = ..., model_version: _Optional[str] = ..., cold_start: _Optional[bool] = ...) -> None: ...

class ScoreCandidatesRequest(_message.Message):
    __slots__ = ("user_id", "video_ids")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    VIDEO_IDS_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    video_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, user_id: _Optional[str] = ..., video_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class CandidateScore(_message.Message):
    __slots__ = ("video_id", "score")
    VIDEO_ID_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    video_id: str
    score: float
    def __init__(self, video_id: _Optional[str] = ..., score: _Optional[float] = ...) -> None: ...

class ScoreCandidatesResponse(_message.Message):
    __slots__ = ("scores", "model_version", "unscored_video_ids")
    SCORES_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    UNSCORED_VIDEO_IDS_FIELD_NUMBER: _ClassVar[int]
    scores: _containers.RepeatedCompositeFieldContainer[CandidateScore]
    model_version: str
    unscored_video_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, scores: _Optional[_Iterable[_Union[CandidateScore, _Mapping]]] = ..., model_version: _Optional[str] = ..., unscored_video_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class SimilarVideosRequest(_message.Message):
    __slots__ = ("video_id", "k")
    VIDEO_ID_FIELD_NUMBER: _ClassVar[int]
    K_FIELD_NUMBER: _ClassVar[int]
    video_id: str
    k: int
    def __init__(self, video_id: _Optional[str] = ..., k: _Optional[int] = ...) -> None: ...

class SimilarVideosResponse(_message.Message):
    __slots__ = ("videos", "model_version")
    VIDEOS_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    videos: _containers.RepeatedCompositeFieldContainer[ScoredVideo]
    model_version: str
    def __init__(self, videos: _Optional[_Iterable[_Union[ScoredVideo, _Mapping]]] = ..., model_version: _Optional[str] = ...) -> None: ...

class SimilarCreatorsRequest(_message.Message):
    __slots__ = ("user_id", "k", "exclude_creator_ids")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    K_FIELD_NUMBER: _ClassVar[int]
    EXCLUDE_CREATOR_IDS_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    k: int
    exclude_creator_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, user_id: _Optional[str] = ..., k: _Optional[int] = ..., exclude_creator_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class SimilarCreator(_message.Message):
    __slots__ = ("creator_id", "similarity")
    CREATOR_ID_FIELD_NUMBER: _ClassVar[int]
    SIMILARITY_FIELD_NUMBER: _ClassVar[int]
    creator_id: str
    similarity: float
    def __init__(self, creator_id: _Optional[str] = ..., similarity: _Optional[float] = ...) -> None: ...

class SimilarCreatorsResponse(_message.Message):
    __slots__ = ("creators", "cold_start")
    CREATORS_FIELD_NUMBER: _ClassVar[int]
    COLD_START_FIELD_NUMBER: _ClassVar[int]
    creators: _containers.RepeatedCompositeFieldContainer[SimilarCreator]
    cold_start: bool
    def __init__(self, creators: _Optional[_Iterable[_Union[SimilarCreator, _Mapping]]] = ..., cold_start: _Optional[bool] = ...) -> None: ...
