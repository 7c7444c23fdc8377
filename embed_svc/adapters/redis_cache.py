"""Redis: the 24 h embedding cache, user embeddings, precomputed recall, catalogue state,
and the two work queues (vectors to mirror, users to refresh)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence

import numpy as np
from redis.asyncio import Redis

from embed_svc.domain.model import Scored, UserVector, VideoVector

# Catalogue state outlives any embedding retry (media_svc backs off to every 10 min).
_STATE_TTL_S = 30 * 24 * 3600


def _text(value: bytes | str | None) -> str:
    if value is None:
        return ""
    return value.decode() if isinstance(value, bytes) else value


class RedisCache:
    """The Cache port; `key(*parts)` puts every key in the deployment's namespace."""

    def __init__(self, redis: Redis, key: Callable[..., str], ttl_s: int) -> None:
        self._redis = redis
        self._key = key
        self._ttl = ttl_s
        self._refresh_queue = key("embed", "user-refresh")
        self._mirror_queue = key("embed", "mirror")

    # ------------------------------------------------------------------ video vectors

    async def get_videos(self, video_ids: Sequence[str]) -> dict[str, VideoVector]:
        if not video_ids:
            return {}
        async with self._redis.pipeline(transaction=False) as pipe:
            for video_id in video_ids:
                pipe.hgetall(self._key("embed", "video", video_id))
            rows = await pipe.execute()
        found = {}
        for video_id, row in zip(video_ids, rows, strict=True):
            if row and b"vec" in row:
                found[video_id] = VideoVector(
                    video_id=video_id,
                    creator_id=_text(row.get(b"creator")),
                    model_version=_text(row.get(b"version")),
                    vector=np.frombuffer(row[b"vec"], dtype="<f4").copy(),
                    published_at=int(_text(row.get(b"published")) or 0),
                    generated_at=float(_text(row.get(b"generated")) or 0),
                )
        return found

    async def put_videos(self, vectors: Sequence[VideoVector]) -> None:
        async with self._redis.pipeline(transaction=False) as pipe:
            for v in vectors:
                key = self._key("embed", "video", v.video_id)
                pipe.delete(key)
                pipe.hset(
                    key,
                    mapping={
                        "creator": v.creator_id,
                        "version": v.model_version,
                        "vec": np.asarray(v.vector, dtype="<f4").tobytes(),
                        "published": str(int(v.published_at)),
                        "generated": repr(float(v.generated_at)),
                    },
                )
                pipe.expire(key, self._ttl)
            await pipe.execute()

    async def drop_video(self, video_id: str) -> None:
        await self._redis.delete(self._key("embed", "video", video_id))

    # ------------------------------------------------------------------ users

    async def get_user(self, user_id: str) -> UserVector | None:
        row = await self._redis.hgetall(self._key("embed", "user", user_id))
        if not row:
            return None
        raw = row.get(b"vec") or b""
        return UserVector(
            user_id=user_id,
            vector=np.frombuffer(raw, dtype="<f4").copy() if raw else None,
            model_version=_text(row.get(b"version")),
            watched_count=int(_text(row.get(b"count")) or 0),
            computed_at=float(_text(row.get(b"computed")) or 0),
        )

    async def put_user(self, user: UserVector) -> None:
        key = self._key("embed", "user", user.user_id)
        vector = b"" if user.vector is None else np.asarray(user.vector, "<f4").tobytes()
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.delete(key)
            pipe.hset(
                key,
                mapping={
                    "vec": vector,
                    "version": user.model_version,
                    "count": str(user.watched_count),
                    "computed": repr(user.computed_at),
                },
            )
            pipe.expire(key, self._ttl)
            await pipe.execute()

    async def get_recall(self, user_id: str) -> tuple[list[Scored], str, float] | None:
        raw = await self._redis.get(self._key("embed", "recall", user_id))
        if raw is None:
            return None
        data = json.loads(raw)
        hits = [Scored(h[0], h[1], float(h[2])) for h in data["hits"]]
        return hits, data["version"], float(data["computed"])

    async def put_recall(
        self, user_id: str, hits: Sequence[Scored], model_version: str, computed_at: float
    ) -> None:
        data = {
            "version": model_version,
            "computed": computed_at,
            "hits": [[h.id, h.creator_id, round(h.score, 6)] for h in hits],
        }
        await self._redis.set(
            self._key("embed", "recall", user_id),
            json.dumps(data, separators=(",", ":")),
            ex=self._ttl,
        )

    async def drop_recall(self, user_id: str) -> None:
        await self._redis.delete(self._key("embed", "recall", user_id))

    # ------------------------------------------------------------------ catalogue state

    async def published_at(self, video_id: str) -> int:
        raw = await self._redis.get(self._key("embed", "published", video_id))
        return int(_text(raw) or 0)

    async def mark_published(self, video_id: str, published_at: int) -> None:
        await self._redis.set(
            self._key("embed", "published", video_id), str(published_at), ex=_STATE_TTL_S
        )

    async def mark_deleted(self, video_id: str) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.set(self._key("embed", "deleted", video_id), "1", ex=_STATE_TTL_S)
            pipe.delete(self._key("embed", "published", video_id))
            await pipe.execute()

    async def deleted(self, video_ids: Sequence[str]) -> set[str]:
        if not video_ids:
            return set()
        async with self._redis.pipeline(transaction=False) as pipe:
            for video_id in video_ids:
                pipe.exists(self._key("embed", "deleted", video_id))
            flags = await pipe.execute()
        return {v for v, flag in zip(video_ids, flags, strict=True) if flag}

    # ------------------------------------------------------------------ queues

    async def schedule_user_refresh(
        self, user_id: str, at: float, video_id: str = "", since: float | None = None
    ) -> None:
        await self._schedule({user_id: video_id}, at, at if since is None else since)

    async def schedule_user_refreshes(self, watches: Mapping[str, str], at: float) -> None:
        """schedule_user_refresh for each (user, watched video), in one transaction."""
        await self._schedule(watches, at, at)

    async def _schedule(self, watches: Mapping[str, str], at: float, since: float) -> None:
        # NX: a burst of watches keeps the first due time, so the user is not starved; the
        # info remembers the latest watch and when the first of the burst asked.
        if not watches:
            return
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.zadd(self._refresh_queue, dict.fromkeys(watches, at), nx=True)
            for user_id, video_id in watches.items():
                info = self._key("embed", "user-refresh-info", user_id)
                if video_id:
                    pipe.hset(info, "video", video_id)
                pipe.hsetnx(info, "since", repr(since))
                pipe.expire(info, 3600)
            await pipe.execute()

    async def due_users(self, now: float, limit: int) -> list[tuple[str, str, float]]:
        due = await self._redis.zrangebyscore(self._refresh_queue, "-inf", now, start=0, num=limit)
        taken = []
        for member in due:
            # ZREM answers whether this caller took the user (several replicas may poll).
            if not await self._redis.zrem(self._refresh_queue, member):
                continue
            user_id = _text(member)
            info = self._key("embed", "user-refresh-info", user_id)
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.hgetall(info)
                pipe.delete(info)
                row, _ = await pipe.execute()
            since = float(_text(row.get(b"since")) or now)
            taken.append((user_id, _text(row.get(b"video")), since))
        return taken

    async def next_refresh_at(self) -> float | None:
        first = await self._redis.zrange(self._refresh_queue, 0, 0, withscores=True)
        return float(first[0][1]) if first else None

    async def queue_mirror(self, video_ids: Sequence[str]) -> None:
        if video_ids:
            await self._redis.sadd(self._mirror_queue, *video_ids)

    async def mirror_batch(self, limit: int) -> list[str]:
        members = await self._redis.srandmember(self._mirror_queue, limit)
        return sorted(_text(m) for m in members or ())

    async def mirrored(self, video_ids: Sequence[str]) -> None:
        if video_ids:
            await self._redis.srem(self._mirror_queue, *video_ids)

    async def queue_depths(self) -> dict[str, int]:
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.scard(self._mirror_queue)
            pipe.zcard(self._refresh_queue)
            mirror, users = await pipe.execute()
        return {"mirror": int(mirror), "user_refresh": int(users)}
