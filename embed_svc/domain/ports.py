"""The interfaces embed_svc's domain depends on; adapters/ implements them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

import numpy as np

from embed_svc.domain.model import Scored, UserVector, VideoVector, WatchEntry


class Encoder(Protocol):
    """The model server: the video encoder and the ranking model."""

    async def embed(self, frames: np.ndarray, version: str | None) -> tuple[np.ndarray, str]:
        """The L2-normalised vector of uint8 frames [T, 224, 224, 3] and its model version."""
        ...

    async def score(self, user: np.ndarray, candidates: np.ndarray) -> tuple[np.ndarray, str]:
        """The ranking model's score in [0, 1] per candidate row, and its model version."""
        ...


class VectorStore(Protocol):
    """Milvus: one vector per video, and one centroid per creator."""

    async def upsert(self, vectors: Sequence[VideoVector]) -> None: ...

    async def get(self, video_ids: Sequence[str]) -> dict[str, VideoVector]: ...

    async def delete(self, video_id: str) -> None: ...

    async def search(
        self, queries: np.ndarray, limit: int, model_version: str
    ) -> list[list[Scored]]:
        """Per query row, the nearest published videos of `model_version`, nearest first."""
        ...

    async def by_creator(self, creator_id: str) -> list[VideoVector]:
        """The creator's published videos' vectors."""
        ...

    async def upsert_centroid(
        self, creator_id: str, vector: np.ndarray | None, model_version: str, videos: int
    ) -> None:
        """Stores the creator's centroid; None removes it (no published video left)."""
        ...

    async def search_creators(
        self, query: np.ndarray, limit: int, model_version: str
    ) -> list[Scored]: ...


class Searcher(Protocol):
    """Nearest published videos for many queries (the coalescer batches these calls)."""

    async def __call__(self, query: np.ndarray, limit: int, model_version: str) -> list[Scored]: ...


class Cache(Protocol):
    """Redis: cached vectors, user embeddings, precomputed recall, catalogue state, queues."""

    async def get_videos(self, video_ids: Sequence[str]) -> dict[str, VideoVector]: ...

    async def put_videos(self, vectors: Sequence[VideoVector]) -> None: ...

    async def drop_video(self, video_id: str) -> None: ...

    async def get_user(self, user_id: str) -> UserVector | None: ...

    async def put_user(self, user: UserVector) -> None: ...

    async def get_recall(self, user_id: str) -> tuple[list[Scored], str, float] | None:
        """The user's precomputed candidates, their model version and when computed."""
        ...

    async def put_recall(
        self, user_id: str, hits: Sequence[Scored], model_version: str, computed_at: float
    ) -> None: ...

    async def drop_recall(self, user_id: str) -> None: ...

    async def published_at(self, video_id: str) -> int:
        """When video.published said the video was published (0: not seen)."""
        ...

    async def mark_published(self, video_id: str, published_at: int) -> None: ...

    async def mark_deleted(self, video_id: str) -> None: ...

    async def deleted(self, video_ids: Sequence[str]) -> set[str]: ...

    async def schedule_user_refresh(
        self, user_id: str, at: float, video_id: str = "", since: float | None = None
    ) -> None:
        """Asks for the user's refresh at `at`, for a watch of `video_id` (if known);
        `since` is when the first ask of this refresh was made (default: `at`)."""
        ...

    async def schedule_user_refreshes(self, watches: Mapping[str, str], at: float) -> None:
        """`schedule_user_refresh(user, at, video)` for each (user, watched video) at once."""
        ...

    async def due_users(self, now: float, limit: int) -> list[tuple[str, str, float]]:
        """Takes (removes) up to `limit` due users: (user, watched video, first asked at)."""
        ...

    async def next_refresh_at(self) -> float | None:
        """When the earliest scheduled user refresh is due; None when none is scheduled."""
        ...

    async def queue_mirror(self, video_ids: Sequence[str]) -> None: ...

    async def mirror_batch(self, limit: int) -> list[str]: ...

    async def mirrored(self, video_ids: Sequence[str]) -> None: ...

    async def queue_depths(self) -> dict[str, int]: ...


class History(Protocol):
    """stream_svc's watch history."""

    async def watch_history(self, user_id: str, limit: int) -> list[WatchEntry]: ...


class Mirror(Protocol):
    """stream_svc's ClickHouse mirror of embeddings."""

    async def mirror(self, vectors: Sequence[VideoVector]) -> None: ...
