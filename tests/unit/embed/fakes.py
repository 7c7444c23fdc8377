"""In-memory fakes of embed_svc's ports, for the domain's unit tests."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from embed_svc.domain.model import Scored, UserVector, VideoVector, WatchEntry


class FakeEncoder:
    def __init__(self, vectors: dict[int, np.ndarray] | None = None) -> None:
        self.calls = 0

    async def embed(self, frames: np.ndarray, version: str | None) -> tuple[np.ndarray, str]:
        self.calls += 1
        mean = frames.reshape(-1, 3).mean(axis=0).astype(np.float32) + 1
        vector = np.zeros(8, np.float32)
        vector[:3] = mean
        return vector / np.linalg.norm(vector), f"enc/{version or 1}"

    async def score(self, user: np.ndarray, candidates: np.ndarray) -> tuple[np.ndarray, str]:
        return (candidates @ user + 1) / 2, "rank/1"


class FakeStore:
    def __init__(self) -> None:
        self.rows: dict[str, VideoVector] = {}
        self.centroids: dict[str, tuple[np.ndarray, str]] = {}
        self.searches = 0

    async def upsert(self, vectors: Sequence[VideoVector]) -> None:
        for v in vectors:
            self.rows[v.video_id] = v

    async def get(self, video_ids: Sequence[str]) -> dict[str, VideoVector]:
        return {v: self.rows[v] for v in video_ids if v in self.rows}

    async def delete(self, video_id: str) -> None:
        self.rows.pop(video_id, None)

    async def search(
        self, queries: np.ndarray, limit: int, model_version: str
    ) -> list[list[Scored]]:
        self.searches += 1
        live = [
            v for v in self.rows.values() if v.published_at and v.model_version == model_version
        ]
        results = []
        for query in queries:
            hits = sorted(
                (Scored(v.video_id, v.creator_id, float(v.vector @ query)) for v in live),
                key=lambda h: -h.score,
            )
            results.append(hits[:limit])
        return results

    async def by_creator(self, creator_id: str) -> list[VideoVector]:
        return [v for v in self.rows.values() if v.creator_id == creator_id and v.published_at]

    async def upsert_centroid(
        self, creator_id: str, vector: np.ndarray | None, model_version: str, videos: int
    ) -> None:
        if vector is None:
            self.centroids.pop(creator_id, None)
        else:
            self.centroids[creator_id] = (vector, model_version)

    async def search_creators(
        self, query: np.ndarray, limit: int, model_version: str
    ) -> list[Scored]:
        hits = [
            Scored(c, "", float(v @ query))
            for c, (v, version) in self.centroids.items()
            if version == model_version
        ]
        return sorted(hits, key=lambda h: -h.score)[:limit]


class FakeCache:
    def __init__(self) -> None:
        self.videos: dict[str, VideoVector] = {}
        self.users: dict[str, UserVector] = {}
        self.recalls: dict[str, tuple[list[Scored], str, float]] = {}
        self.published: dict[str, int] = {}
        self.gone: set[str] = set()
        self.refresh: dict[str, tuple[float, str, float]] = {}
        self.mirror: set[str] = set()

    async def get_videos(self, video_ids: Sequence[str]) -> dict[str, VideoVector]:
        return {v: self.videos[v] for v in video_ids if v in self.videos}

    async def put_videos(self, vectors: Sequence[VideoVector]) -> None:
        self.videos.update({v.video_id: v for v in vectors})

    async def drop_video(self, video_id: str) -> None:
        self.videos.pop(video_id, None)

    async def get_user(self, user_id: str) -> UserVector | None:
        return self.users.get(user_id)

    async def put_user(self, user: UserVector) -> None:
        self.users[user.user_id] = user

    async def get_recall(self, user_id: str) -> tuple[list[Scored], str, float] | None:
        return self.recalls.get(user_id)

    async def put_recall(
        self, user_id: str, hits: Sequence[Scored], model_version: str, computed_at: float
    ) -> None:
        self.recalls[user_id] = (list(hits), model_version, computed_at)

    async def drop_recall(self, user_id: str) -> None:
        self.recalls.pop(user_id, None)

    async def published_at(self, video_id: str) -> int:
        return self.published.get(video_id, 0)

    async def mark_published(self, video_id: str, published_at: int) -> None:
        self.published[video_id] = published_at

    async def mark_deleted(self, video_id: str) -> None:
        self.gone.add(video_id)
        self.published.pop(video_id, None)

    async def deleted(self, video_ids: Sequence[str]) -> set[str]:
        return set(video_ids) & self.gone

    async def schedule_user_refresh(
        self, user_id: str, at: float, video_id: str = "", since: float | None = None
    ) -> None:
        first = self.refresh.get(user_id)
        self.refresh[user_id] = (
            first[0] if first else at,
            video_id,
            first[2] if first else (at if since is None else since),
        )

    async def schedule_user_refreshes(self, watches: Mapping[str, str], at: float) -> None:
        for user_id, video_id in watches.items():
            await self.schedule_user_refresh(user_id, at, video_id)

    async def due_users(self, now: float, limit: int) -> list[tuple[str, str, float]]:
        due = [(u, v, s) for u, (at, v, s) in self.refresh.items() if at <= now][:limit]
        for user_id, _, _ in due:
            del self.refresh[user_id]
        return due

    async def next_refresh_at(self) -> float | None:
        return min((at for at, _, _ in self.refresh.values()), default=None)

    async def queue_mirror(self, video_ids: Sequence[str]) -> None:
        self.mirror.update(video_ids)

    async def mirror_batch(self, limit: int) -> list[str]:
        return sorted(self.mirror)[:limit]

    async def mirrored(self, video_ids: Sequence[str]) -> None:
        self.mirror.difference_update(video_ids)

    async def queue_depths(self) -> dict[str, int]:
        return {"mirror": len(self.mirror), "user_refresh": len(self.refresh)}


class FakeHistory:
    def __init__(self) -> None:
        self.entries: dict[str, list[WatchEntry]] = {}

    async def watch_history(self, user_id: str, limit: int) -> list[WatchEntry]:
        return self.entries.get(user_id, [])[:limit]


class FakeMirror:
    def __init__(self) -> None:
        self.mirrored: list[str] = []

    async def mirror(self, vectors: Sequence[VideoVector]) -> None:
        self.mirrored.extend(v.video_id for v in vectors)
