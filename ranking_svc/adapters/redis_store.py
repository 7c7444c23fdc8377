"""ranking's Redis state: seen filters, feed sessions, hot lists and the page cache."""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from redis.asyncio import Redis
from redis.exceptions import RedisError

from ranking_svc.domain.model import (
    Components,
    Engagement,
    Fallback,
    RankedItem,
    Source,
    Tier,
    Video,
)
from ranking_svc.domain.ports import DependencyFailed, Session

logger = logging.getLogger(__name__)

DEPENDENCY = "ranking.redis"
# A seen filter holds at most this many videos (the oldest go first).
SEEN_MAX = 2000
# Feed sessions are immutable once written: this process keeps the last ones it wrote or
# read, so cutting the next page of a session does not fetch and parse 300 items again.
SESSION_MEMO = 256
# A cached page: b"P2\0" generation \0 next_cursor \0 video ids (comma) \0 body.
_PAGE_MAGIC = b"P2\0"
# What a cached page's body holds: a serialized GetFeedResponse (GetFeed) or a serialized
# google.api.HttpBody holding the page's JSON (GetFeedJson, the HTTP route). Each form is
# cached under its own key, so neither door pays for rendering the other's.
FORM_PROTO = "pb"
FORM_JSON = "json"


@dataclass(frozen=True)
class CachedPage:
    """A page as the cache holds it: the serialized response, ready to send as it is, and
    what the hit path needs without parsing it (its video ids and next cursor)."""

    body: bytes
    video_ids: tuple[str, ...]
    next_cursor: str


def encode_page(
    generation: bytes, next_cursor: str, video_ids: Sequence[str], body: bytes
) -> bytes:
    return b"\0".join(
        (
            _PAGE_MAGIC + generation,
            next_cursor.encode(),
            ",".join(video_ids).encode(),
            body,
        )
    )


def decode_page(raw: bytes) -> tuple[bytes, CachedPage] | None:
    """(generation, page), or None for a value in another format."""
    if not raw.startswith(_PAGE_MAGIC):
        return None
    parts = raw[len(_PAGE_MAGIC) :].split(b"\0", 3)
    if len(parts) != 4:
        return None
    generation, cursor, ids, body = parts
    video_ids = tuple(ids.decode().split(",")) if ids else ()
    return generation, CachedPage(body, video_ids, cursor.decode())


def item_to_dict(item: RankedItem) -> dict[str, Any]:
    v, e, s = item.video, item.engagement, item.score
    return {
        "v": [
            v.video_id,
            v.creator_id,
            v.title,
            v.description,
            list(v.hashtags),
            v.sound_id,
            v.duration_s,
            v.thumbnail_url,
            v.preview_url,
            v.published_at.timestamp() if v.published_at else None,
            v.creator_name,
        ],
        "e": [e.views, e.likes, e.shares, e.comments, e.completes, e.completion_rate],
        "s": [int(x) for x in item.sources],
        "c": [s.completion, s.engagement, s.affinity, s.deep, s.freshness, s.total],
    }


def item_from_dict(data: dict[str, Any]) -> RankedItem:
    v = data["v"]
    published = datetime.fromtimestamp(v[9], UTC) if v[9] is not None else None
    return RankedItem(
        video=Video(
            video_id=v[0],
            creator_id=v[1],
            title=v[2],
            description=v[3],
            hashtags=tuple(v[4]),
            sound_id=v[5],
            duration_s=v[6],
            thumbnail_url=v[7],
            preview_url=v[8],
            published_at=published,
            creator_name=v[10],
        ),
        engagement=Engagement(*data["e"]),
        sources=tuple(Source(x) for x in data["s"]),
        # orjson writes a non-finite float as null; a score is never one, but if it were,
        # it comes back as NaN rather than as a None that breaks the arithmetic later.
        score=Components(*(math.nan if x is None else x for x in data["c"])),
    )


def _dump(items: Sequence[RankedItem]) -> bytes:
    return orjson.dumps([item_to_dict(i) for i in items])


def _load(raw: bytes) -> list[RankedItem]:
    return [item_from_dict(d) for d in orjson.loads(raw)]


class RedisFeedStore:
    """Keys live in the deployment's namespace (`key(...)` is Config.redis_key)."""

    def __init__(
        self,
        redis: Redis,
        key: Callable[..., str],
        *,
        seen_ttl_s: int,
        session_ttl_s: int,
        hot_ttl_s: int,
        page_ttl_s: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._redis = redis
        self._key = key
        self._seen_ttl = seen_ttl_s
        self._session_ttl = session_ttl_s
        self._hot_ttl = hot_ttl_s
        self._page_ttl = page_ttl_s
        self._clock = clock
        self._sessions: OrderedDict[tuple[str, str], Session] = OrderedDict()
        # The last hot list read per window, raw and parsed: the same bytes are not parsed
        # again (every fresh page reads the 24 h list).
        self._hot_memo: dict[str, tuple[bytes, list[RankedItem]]] = {}
        # Seen-filter writes queued by this loop iteration, sent as one pipeline.
        self._seen_queue: list[tuple[str, Sequence[str], float]] = []
        self._seen_flush: asyncio.Task[None] | None = None

    # -- seen filter -------------------------------------------------------------------

    def seen_key(self, user_id: str) -> str:
        return self._key("seen", user_id)

    async def seen(self, user_id: str) -> set[str]:
        try:
            members = await self._redis.zrangebyscore(
                self.seen_key(user_id), self._clock() - self._seen_ttl, "+inf"
            )
        except RedisError as error:
            raise DependencyFailed(DEPENDENCY, f"UNAVAILABLE: {error}") from error
        return {m.decode() for m in members}

    async def _write_seen(self, batch: Sequence[tuple[str, Sequence[str], float]]) -> None:
        async with self._redis.pipeline(transaction=False) as pipe:
            for user_id, video_ids, now in batch:
                key = self.seen_key(user_id)
                pipe.zadd(key, {video_id: now for video_id in video_ids})
                pipe.zremrangebyscore(key, "-inf", now - self._seen_ttl)
                pipe.zremrangebyrank(key, 0, -SEEN_MAX - 1)
                pipe.expire(key, self._seen_ttl)
            await pipe.execute()

    def mark_seen_soon(self, user_id: str, video_ids: Sequence[str]) -> None:
        """Adds served videos to the user's seen filter off the request's path: the writes
        of every page served in this loop iteration go to Redis together, in one pipeline
        (one round trip)."""
        if not video_ids:
            return
        self._seen_queue.append((user_id, video_ids, self._clock()))
        if self._seen_flush is None:
            self._seen_flush = asyncio.ensure_future(self._flush_seen())

    async def _flush_seen(self) -> None:
        try:
            await asyncio.sleep(0)
            while self._seen_queue:
                batch, self._seen_queue = self._seen_queue, []
                try:
                    await self._write_seen(batch)
                except RedisError:
                    logger.warning("seen-filter write failed", exc_info=True)
        finally:
            self._seen_flush = None

    async def drain(self) -> None:
        """Waits for queued seen-filter writes (on shutdown, and in tests)."""
        while self._seen_flush is not None:
            await asyncio.shield(self._seen_flush)

    # -- feed sessions -----------------------------------------------------------------

    async def save_session(self, user_id: str, session: str, page: Session) -> None:
        body = {
            "tier": int(page.tier),
            "fallbacks": [[f.dependency, f.reason] for f in page.fallbacks],
            "items": [item_to_dict(i) for i in page.items],
        }
        try:
            await self._redis.set(
                self._key("feed-session", user_id, session),
                orjson.dumps(body),
                ex=self._session_ttl,
            )
        except RedisError as error:
            raise DependencyFailed(DEPENDENCY, f"UNAVAILABLE: {error}") from error
        self._remember(user_id, session, page)

    def _remember(self, user_id: str, session: str, page: Session) -> None:
        self._sessions[(user_id, session)] = page
        self._sessions.move_to_end((user_id, session))
        while len(self._sessions) > SESSION_MEMO:
            self._sessions.popitem(last=False)

    async def load_session(self, user_id: str, session: str) -> Session | None:
        known = self._sessions.get((user_id, session))
        if known is not None:
            # Immutable once written; it lives in Redis at least as long as in this memo
            # (written with the session TTL moments before, or just read from there).
            return known
        try:
            raw = await self._redis.get(self._key("feed-session", user_id, session))
        except RedisError as error:
            raise DependencyFailed(DEPENDENCY, f"UNAVAILABLE: {error}") from error
        if raw is None:
            return None
        body = orjson.loads(raw)
        page = Session(
            items=tuple(item_from_dict(d) for d in body["items"]),
            tier=Tier(body["tier"]),
            fallbacks=tuple(Fallback(d, r) for d, r in body["fallbacks"]),
        )
        self._remember(user_id, session, page)
        return page

    # -- hot lists ---------------------------------------------------------------------

    async def hot(self, window: str) -> list[RankedItem] | None:
        try:
            raw = await self._redis.get(self._key("hot", "videos", window))
        except RedisError:
            return None
        if raw is None:
            return None
        memo = self._hot_memo.get(window)
        if memo is not None and memo[0] == raw:
            return list(memo[1])
        items = _load(raw)
        self._hot_memo[window] = (raw, items)
        return list(items)

    async def put_hot(self, window: str, items: Sequence[RankedItem]) -> None:
        try:
            await self._redis.set(
                self._key("hot", "videos", window), _dump(items), ex=self._hot_ttl
            )
        except RedisError:
            return

    async def forget_hot(self) -> None:
        try:
            await self._redis.delete(*(self._key("hot", "videos", w) for w in ("1h", "24h", "7d")))
        except RedisError:
            return

    async def cached_json(self, *parts: str) -> Any | None:
        try:
            raw = await self._redis.get(self._key(*parts))
        except RedisError:
            return None
        return None if raw is None else json.loads(raw)

    async def put_json(self, value: Any, *parts: str) -> None:
        try:
            await self._redis.set(self._key(*parts), json.dumps(value), ex=self._hot_ttl)
        except RedisError:
            return

    # -- the page cache ----------------------------------------------------------------

    def page_key(
        self, user_id: str, cursor: str, algo: str, limit: int, form: str = FORM_PROTO
    ) -> str:
        """`reels:{user_id}:{cursor}:{algo}:{limit}` ("fresh" for the first page), with
        `:json` after it for the JSON form: the key covers everything that changes the
        page's bytes."""
        parts = (user_id, cursor or "fresh", algo, str(limit))
        return self._key(*parts, form) if form != FORM_PROTO else self._key(*parts)

    def generation_key(self, user_id: str) -> str:
        return self._key("feed-gen", user_id)

    async def cached_page(
        self, user_id: str, cursor: str, algo: str, limit: int, form: str = FORM_PROTO
    ) -> tuple[CachedPage | None, bytes]:
        """A cached page and the user's feed generation, in one round trip.

        A fresh page counts only if no followee published and the user did not follow or
        unfollow since it was built (its generation); a miss of a fresh page returns the
        current generation, which the page built next is stamped with.
        """
        key = self.page_key(user_id, cursor, algo, limit, form)
        try:
            if cursor:
                raw = await self._redis.get(key)
                generation = None
            else:
                raw, generation = await self._redis.mget(key, self.generation_key(user_id))
        except RedisError:
            return None, b""
        current = generation or b""
        if raw is None:
            return None, current
        decoded = decode_page(raw)
        if decoded is None:
            return None, current
        stamp, page = decoded
        if generation is not None and stamp != generation:
            return None, current
        return page, current

    async def put_page(
        self,
        user_id: str,
        cursor: str,
        algo: str,
        limit: int,
        page: CachedPage,
        generation: bytes = b"",
        *,
        only_if_absent: bool = False,
        form: str = FORM_PROTO,
    ) -> bool:
        """Caches a page for the page TTL; False when it was not written (a Redis error,
        or `only_if_absent` and the page is cached already)."""
        key = self.page_key(user_id, cursor, algo, limit, form)
        value = encode_page(generation, page.next_cursor, page.video_ids, page.body)
        try:
            written = await self._redis.set(key, value, ex=self._page_ttl, nx=only_if_absent)
        except RedisError:
            return False
        return bool(written)

    async def has_page(
        self, user_id: str, cursor: str, algo: str, limit: int, form: str = FORM_PROTO
    ) -> bool:
        try:
            key = self.page_key(user_id, cursor, algo, limit, form)
            return bool(await self._redis.exists(key))
        except RedisError:
            return False

    async def bump_generations(self, user_ids: Sequence[str]) -> None:
        """Invalidates these users' fresh pages (a followee published, or they followed)."""
        if not user_ids:
            return
        stamp = str(time.time_ns())
        async with self._redis.pipeline(transaction=False) as pipe:
            for user_id in user_ids:
                pipe.set(self.generation_key(user_id), stamp, ex=self._session_ttl)
            await pipe.execute()
