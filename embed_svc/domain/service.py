"""embed_svc's use cases: embed, look up, user embeddings, recall, scoring, similarity."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from embed_svc.domain.errors import InvalidInput, NotFound
from embed_svc.domain.model import Recall, Scored, UserVector, VideoVector
from embed_svc.domain.ports import Cache, Encoder, History, Mirror, Searcher, VectorStore
from embed_svc.domain.vectors import centroid, user_embedding

logger = logging.getLogger(__name__)

MAX_FRAMES = 64
MAX_IDS = 1000
MAX_RECALL_K = 1000
MAX_SIMILAR_K = 200
MIRROR_BATCH = 500
# How long a refresh waits for the watch that asked for it to reach the history.
RETRY_WATCH_S = 30.0
# The shortest sleep of the refresh loop when a refresh is already due (see
# wait_for_due_users).
MIN_REFRESH_WAIT_S = 0.05


@dataclass(frozen=True)
class Tuning:
    """The knobs of the use cases (from EmbedSettings)."""

    dimension: int = 256
    half_life_h: float = 72.0
    history_limit: int = 200
    recall_candidates: int = 300
    recall_stale_s: float = 300.0
    user_refresh_delay_s: float = 2.0


def _check_id(value: str, name: str) -> None:
    if not value:
        raise InvalidInput(f"{name} is required")
    if len(value) > 128:
        raise InvalidInput(f"{name} is longer than 128 characters")


def _k(k: int, default: int, maximum: int) -> int:
    if k == 0:
        return default
    if not 1 <= k <= maximum:
        raise InvalidInput(f"k must be between 1 and {maximum}, got {k}")
    return k


class EmbedService:
    """The whole of embed_svc behind its RPCs and its event consumers."""

    def __init__(
        self,
        *,
        encoder: Encoder,
        store: VectorStore,
        searcher: Searcher,
        cache: Cache,
        history: History,
        mirror: Mirror,
        tuning: Tuning | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._encoder = encoder
        self._store = store
        self._search = searcher
        self._cache = cache
        self._history = history
        self._mirror = mirror
        self._tuning = tuning or Tuning()
        self._clock = clock
        self._refreshing: set[str] = set()
        self._background: set[asyncio.Task[None]] = set()
        # Set when this process schedules a refresh, so the refresh loop recomputes when
        # the next one is due instead of polling Redis for it.
        self._refresh_scheduled = asyncio.Event()

    # ------------------------------------------------------------------ video embeddings

    async def embed_video(
        self,
        video_id: str,
        creator_id: str,
        frames: np.ndarray,
        *,
        published_at: int = 0,
        model_version: str = "",
    ) -> VideoVector:
        """Embeds the frames, stores the vector (replacing any older one) and queues its mirror."""
        _check_id(video_id, "video_id")
        _check_id(creator_id, "creator_id")
        if frames.ndim != 4 or not 1 <= frames.shape[0] <= MAX_FRAMES:
            raise InvalidInput(f"between 1 and {MAX_FRAMES} frames are required")
        vector, version = await self._encoder.embed(frames, model_version or None)
        published_at = published_at or await self._cache.published_at(video_id)
        video = VideoVector(
            video_id=video_id,
            creator_id=creator_id,
            model_version=version,
            vector=vector,
            published_at=published_at,
            generated_at=self._clock(),
        )
        if video_id in await self._cache.deleted([video_id]):
            # Deleted meanwhile: answer, but never make the video recallable again.
            return video
        await self._store.upsert([video])
        await self._cache.put_videos([video])
        await self._cache.queue_mirror([video_id])
        if published_at:
            await self.refresh_creator(creator_id)
        return video

    async def embeddings(
        self, video_ids: Sequence[str], model_version: str = ""
    ) -> tuple[list[VideoVector], list[str]]:
        """The stored vectors in the order asked for, and the ids without one."""
        if len(video_ids) > MAX_IDS:
            raise InvalidInput(f"at most {MAX_IDS} video ids, got {len(video_ids)}")
        found = await self._lookup(video_ids)
        vectors, missing = [], []
        for video_id in video_ids:
            video = found.get(video_id)
            if video is None or (model_version and video.model_version != model_version):
                missing.append(video_id)
            else:
                vectors.append(video)
        return vectors, missing

    async def _lookup(self, video_ids: Sequence[str]) -> dict[str, VideoVector]:
        unique = list(dict.fromkeys(v for v in video_ids if v))
        if not unique:
            return {}
        found = await self._cache.get_videos(unique)
        misses = [v for v in unique if v not in found]
        if misses:
            stored = await self._store.get(misses)
            if stored:
                await self._cache.put_videos(list(stored.values()))
            found.update(stored)
        return found

    # ------------------------------------------------------------------ user embeddings

    async def user_vector(self, user_id: str, *, refresh: bool = False) -> UserVector:
        """The user's embedding, from the cache unless `refresh`, else from watch history."""
        _check_id(user_id, "user_id")
        if not refresh:
            cached = await self._cache.get_user(user_id)
            if cached is not None:
                return cached
        user, _watched = await self._compute_user(user_id)
        return user

    async def _compute_user(self, user_id: str) -> tuple[UserVector, set[str]]:
        entries = await self._history.watch_history(user_id, self._tuning.history_limit)
        found = await self._lookup([e.video_id for e in entries])
        # One vector space: the version most of the watched videos are embedded with.
        version = _majority(found.values())
        vectors = {vid: v.vector for vid, v in found.items() if v.model_version == version}
        mean, used = user_embedding(entries, vectors, datetime.now(UTC), self._tuning.half_life_h)
        user = UserVector(user_id, mean, version if mean is not None else "", used, self._clock())
        await self._cache.put_user(user)
        return user, {e.video_id for e in entries}

    async def watched(self, user_id: str, video_id: str = "") -> None:
        """A watch event arrived: refresh the user's embedding and candidates soon."""
        await self.watched_many({user_id: video_id})

    async def watched_many(self, watches: Mapping[str, str]) -> None:
        """A batch of watch events, as {user: the latest video they watched}: each user's
        refresh is scheduled once, however many of their watches the batch holds."""
        watches = {user: video for user, video in watches.items() if user}
        if watches:
            await self._cache.schedule_user_refreshes(
                watches, self._clock() + self._tuning.user_refresh_delay_s
            )
            self._refresh_scheduled.set()

    async def refresh_due_users(self, limit: int = 50) -> int:
        """Recomputes the embedding and recall candidates of users whose refresh is due.

        stream_svc writes watches to its history in batches: when the watch that asked for
        the refresh is not in the history yet, the refresh is tried again a little later
        (for up to RETRY_WATCH_S).
        """
        due = await self._cache.due_users(self._clock(), limit)
        # Concurrently: their searches coalesce into one Milvus call (one pass over the rows).
        await asyncio.gather(*(self._refresh_due(*entry) for entry in due))
        return len(due)

    async def wait_for_due_users(self, max_wait_s: float) -> None:
        """Sleeps until the earliest scheduled refresh is due, at most `max_wait_s` (for
        refreshes another replica schedules), and wakes at once when this process
        schedules one: the refresh loop runs at the due time instead of polling."""
        self._refresh_scheduled.clear()  # before reading, so a schedule meanwhile counts
        due_at = await self._cache.next_refresh_at()
        wait_s = max_wait_s
        if due_at is not None:
            # Never 0: a due user another replica is taking must not make a busy loop.
            wait_s = min(max_wait_s, max(MIN_REFRESH_WAIT_S, due_at - self._clock()))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._refresh_scheduled.wait(), wait_s)

    async def _refresh_due(self, user_id: str, video_id: str, since: float) -> None:
        try:
            _user, watched = await self._refresh(user_id)
        except Exception:
            logger.exception("user refresh failed", extra={"user_id": user_id})
            watched = set()
        if video_id and video_id not in watched and self._clock() - since < RETRY_WATCH_S:
            retry_at = self._clock() + max(0.5, self._tuning.user_refresh_delay_s)
            await self._cache.schedule_user_refresh(user_id, retry_at, video_id, since)

    async def refresh_user(self, user_id: str) -> UserVector:
        """Recomputes the user's embedding from history and their recall candidates now."""
        user, _watched = await self._refresh(user_id)
        return user

    async def _refresh(self, user_id: str) -> tuple[UserVector, set[str]]:
        user, watched = await self._compute_user(user_id)
        await self._precompute(user)
        return user, watched

    async def _precompute(self, user: UserVector) -> list[Scored]:
        if user.vector is None:
            await self._cache.drop_recall(user.user_id)
            return []
        hits = await self._search(user.vector, self._tuning.recall_candidates, user.model_version)
        await self._cache.put_recall(user.user_id, hits, user.model_version, self._clock())
        return hits

    # ------------------------------------------------------------------ recall and scoring

    async def recall(self, user_id: str, k: int, exclude: Sequence[str] = ()) -> Recall:
        """The published videos nearest to the user, read from the precomputed candidates."""
        _check_id(user_id, "user_id")
        k = _k(k, 100, MAX_RECALL_K)
        if len(exclude) > MAX_IDS:
            raise InvalidInput(f"at most {MAX_IDS} excluded ids, got {len(exclude)}")
        precomputed = await self._cache.get_recall(user_id)
        source = "precomputed"
        if precomputed is not None:
            hits, version, computed_at = precomputed
            if self._clock() - computed_at > self._tuning.recall_stale_s:
                self._refresh_later(user_id)
        else:
            user = await self.user_vector(user_id)
            if user.vector is None:
                return Recall([], "", cold_start=True, source="cold_start")
            hits, version = await self._precompute(user), user.model_version
            source = "computed"
        chosen = await self._filtered(hits, k, set(exclude))
        complete = len(hits) < self._tuning.recall_candidates  # the list holds every match
        if len(chosen) < k and not complete:
            # Exclusions ate into the list: search deeper, this once, on the request path.
            user = await self.user_vector(user_id)
            if user.vector is not None:
                deeper = await self._search(user.vector, k + len(exclude), user.model_version)
                chosen = await self._filtered(deeper, k, set(exclude))
                source = "computed"
        return Recall(chosen, version, cold_start=False, source=source)

    async def _filtered(self, hits: Sequence[Scored], k: int, exclude: set[str]) -> list[Scored]:
        kept = [h for h in hits if h.id not in exclude]
        gone = await self._cache.deleted([h.id for h in kept[: k + 50]]) if kept else set()
        return [h for h in kept if h.id not in gone][:k]

    def _refresh_later(self, user_id: str) -> None:
        if user_id in self._refreshing:
            return
        self._refreshing.add(user_id)

        async def refresh() -> None:
            try:
                await self.refresh_user(user_id)
            except Exception:
                logger.warning("background recall refresh failed", extra={"user_id": user_id})
            finally:
                self._refreshing.discard(user_id)

        task = asyncio.create_task(refresh())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def score(
        self, user_id: str, video_ids: Sequence[str]
    ) -> tuple[list[tuple[str, float]], str, list[str]]:
        """The ranking model's score per candidate with a vector; the rest listed unscored."""
        _check_id(user_id, "user_id")
        if not 1 <= len(video_ids) <= MAX_IDS:
            raise InvalidInput(f"between 1 and {MAX_IDS} candidates are required")
        user = await self.user_vector(user_id)
        found = await self._lookup(video_ids)
        version = user.model_version or _majority(found.values())
        scored_ids = [v for v in video_ids if v in found and found[v].model_version == version]
        unscored = [v for v in video_ids if v not in set(scored_ids)]
        if not scored_ids:
            return [], "", unscored
        dimension = found[scored_ids[0]].vector.shape[0]
        user_vector = user.vector if user.vector is not None else np.zeros(dimension, np.float32)
        candidates = np.stack([found[v].vector for v in scored_ids]).astype(np.float32)
        scores, ranking_version = await self._encoder.score(user_vector, candidates)
        return list(zip(scored_ids, map(float, scores), strict=True)), ranking_version, unscored

    async def similar_videos(self, video_id: str, k: int) -> tuple[list[Scored], str]:
        _check_id(video_id, "video_id")
        k = _k(k, 20, MAX_SIMILAR_K)
        found = await self._lookup([video_id])
        video = found.get(video_id)
        if video is None:
            raise NotFound(f"video {video_id} has no embedding")
        hits = await self._search(video.vector, k + 1, video.model_version)
        chosen = await self._filtered(hits, k, {video_id})
        return chosen, video.model_version

    async def similar_creators(
        self, user_id: str, k: int, exclude: Sequence[str] = ()
    ) -> tuple[list[Scored], bool]:
        _check_id(user_id, "user_id")
        k = _k(k, 20, MAX_SIMILAR_K)
        if len(exclude) > MAX_IDS:
            raise InvalidInput(f"at most {MAX_IDS} excluded creators, got {len(exclude)}")
        user = await self.user_vector(user_id)
        if user.vector is None:
            return [], True
        hits = await self._store.search_creators(user.vector, k + len(exclude), user.model_version)
        excluded = set(exclude)
        return [h for h in hits if h.id not in excluded][:k], False

    # ------------------------------------------------------------------ catalogue events

    async def published(self, video_id: str, creator_id: str, published_at: int) -> None:
        """video.published: the video becomes recallable (now, or when its vector comes)."""
        published_at = published_at or int(self._clock())
        await self._cache.mark_published(video_id, published_at)
        stored = (await self._store.get([video_id])).get(video_id)
        if stored is not None and stored.published_at != published_at:
            updated = VideoVector(
                video_id=stored.video_id,
                creator_id=stored.creator_id,
                model_version=stored.model_version,
                vector=stored.vector,
                published_at=published_at,
                generated_at=stored.generated_at,
            )
            await self._store.upsert([updated])
            await self._cache.put_videos([updated])
        creator = creator_id or (stored.creator_id if stored is not None else "")
        if creator:
            await self.refresh_creator(creator)

    async def deleted(self, video_id: str, creator_id: str) -> None:
        """video.deleted: the vector goes, and the video is never recalled again."""
        await self._cache.mark_deleted(video_id)
        stored = (await self._store.get([video_id])).get(video_id)
        await self._store.delete(video_id)
        await self._cache.drop_video(video_id)
        creator = creator_id or (stored.creator_id if stored else "")
        if creator:
            await self.refresh_creator(creator)

    async def refresh_creator(self, creator_id: str) -> None:
        """Recomputes the creator's centroid from their published videos."""
        videos = await self._store.by_creator(creator_id)
        version = _majority(videos)
        mean = centroid(v.vector for v in videos if v.model_version == version)
        count = sum(1 for v in videos if v.model_version == version)
        await self._store.upsert_centroid(creator_id, mean, version, count)

    # ------------------------------------------------------------------ ClickHouse mirror

    async def mirror_pending(self) -> int:
        """Sends queued vectors to stream_svc's ClickHouse mirror; returns how many."""
        video_ids = await self._cache.mirror_batch(MIRROR_BATCH)
        if not video_ids:
            return 0
        vectors, _missing = await self.embeddings(video_ids)
        if vectors:
            await self._mirror.mirror(vectors)
        await self._cache.mirrored(video_ids)
        return len(vectors)

    async def queue_depths(self) -> dict[str, int]:
        return await self._cache.queue_depths()

    async def close(self) -> None:
        for task in list(self._background):
            task.cancel()
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)


def _majority(videos: object) -> str:
    versions = Counter(v.model_version for v in videos)  # type: ignore[attr-defined]
    return versions.most_common(1)[0][0] if versions else ""
