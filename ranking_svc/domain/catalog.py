"""Everything beside the feed: trending, search, hashtags, sounds, follows, profiles, discovery."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from ranking_svc.domain.cursor import CursorCodec, CursorState
from ranking_svc.domain.feed import HOT_LIST_SIZE, TrendingLists, page_limit
from ranking_svc.domain.model import (
    WINDOWS,
    Components,
    Engagement,
    InvalidArgument,
    NotFound,
    Page,
    RankedItem,
    Unavailable,
    Video,
)
from ranking_svc.domain.ports import CreatorProfile, DependencyFailed

logger = logging.getLogger(__name__)

MAX_QUERY_CHARS = 200
MAX_SEARCH_OFFSET = 1000
DEFAULT_TOP = 50
SAMPLES = 3


@dataclass(frozen=True)
class Count:
    key: str
    video_count: int
    view_count: int


@dataclass(frozen=True)
class Profile:
    profile: CreatorProfile
    following: bool
    samples: tuple[Video, ...]


@dataclass
class Suggestion:
    creator_id: str
    score: float = 0.0
    sources: set[str] = field(default_factory=set)
    display_name: str = ""
    follower_count: int = 0
    samples: tuple[Video, ...] = ()


def check_window(window: str) -> str:
    window = window or "24h"
    if window not in WINDOWS:
        raise InvalidArgument(f"window must be one of {', '.join(WINDOWS)}, got {window!r}")
    return window


def _top_limit(limit: int) -> int:
    if limit < 0 or limit > DEFAULT_TOP:
        raise InvalidArgument(f"limit must be between 0 and {DEFAULT_TOP}, got {limit}")
    return limit or DEFAULT_TOP


async def _optional(work: Any, timeout_s: float, what: str) -> Any:
    try:
        return await asyncio.wait_for(work, timeout_s)
    except (TimeoutError, DependencyFailed) as error:
        logger.info("optional source missed", extra={"source": what, "error": str(error)})
        return None


class Catalog:
    def __init__(
        self,
        index: Any,
        facts: Any,
        deep: Any,
        store: Any,
        trending: TrendingLists,
        cursors: CursorCodec,
        clock: Callable[[], datetime],
        *,
        search_half_life_days: float = 7.0,
        peer_timeout_s: float = 0.2,
    ) -> None:
        self._index = index
        self._facts = facts
        self._deep = deep
        self._store = store
        self._trending = trending
        self._cursors = cursors
        self._clock = clock
        self._half_life = search_half_life_days
        self._peer_timeout = peer_timeout_s

    # -- trending videos ---------------------------------------------------------------

    async def trending_videos(self, user_id: str, window: str, limit: int, cursor: str) -> Page:
        window = check_window(window)
        limit = page_limit(limit)
        binding = {"window": window, "limit": limit}
        offset = 0
        if cursor:
            offset = self._cursors.decode(
                cursor, kind="trending", user_id=user_id, binding=binding
            ).offset
        try:
            items = await asyncio.wait_for(self._trending.top(window), 5.0)
        except (TimeoutError, DependencyFailed) as error:
            raise Unavailable(f"trending facts are unavailable: {error}") from error
        items = items[:HOT_LIST_SIZE]
        chunk = tuple(items[offset : offset + limit])
        end = offset + len(chunk)
        next_cursor = ""
        if end < len(items):
            next_cursor = self._cursors.encode(CursorState("trending", user_id, end, binding))
        return Page(chunk, next_cursor)

    # -- search ------------------------------------------------------------------------

    async def search(self, user_id: str, query: str, limit: int, cursor: str) -> Page:
        query = query.strip()
        if not query or len(query) > MAX_QUERY_CHARS:
            raise InvalidArgument(f"q must be 1 to {MAX_QUERY_CHARS} characters")
        limit = page_limit(limit)
        digest = hashlib.sha256(query.encode()).hexdigest()[:16]
        binding = {"q": digest, "limit": limit}
        offset = 0
        if cursor:
            offset = self._cursors.decode(
                cursor, kind="search", user_id=user_id, binding=binding
            ).offset
        if offset >= MAX_SEARCH_OFFSET:
            return Page((), "")
        hits = await self._index.search(query, self._clock(), self._half_life, offset, limit + 1)
        more = len(hits) > limit
        hits = hits[:limit]
        items = tuple(
            RankedItem(h.video, Engagement(), (), Components(total=h.relevance)) for h in hits
        )
        next_cursor = ""
        if more:
            next_cursor = self._cursors.encode(
                CursorState("search", user_id, offset + len(items), binding)
            )
        return Page(items, next_cursor)

    # -- hashtags and sounds -----------------------------------------------------------

    async def hashtags(self, limit: int) -> list[Count]:
        return await self._counts("hashtags", limit)

    async def sounds(self, limit: int) -> list[Count]:
        return await self._counts("sounds", limit)

    async def _counts(self, kind: str, limit: int) -> list[Count]:
        limit = _top_limit(limit)
        cached = await self._store.cached_json("hot", kind, "24h")
        if cached is None:
            fetch = self._facts.hashtags if kind == "hashtags" else self._facts.sounds
            rows = await _optional(fetch("24h", DEFAULT_TOP), self._peer_timeout * 5, kind)
            if rows is None:
                # stream_svc is away: count what ranking's own index knows (no views).
                since = self._clock() - timedelta(hours=24)
                local = (
                    self._index.hashtag_counts if kind == "hashtags" else (self._index.sound_counts)
                )
                try:
                    rows = [(key, n, 0) for key, n in await local(since, DEFAULT_TOP)]
                except DependencyFailed as error:
                    raise Unavailable(f"no source of {kind} counts answers") from error
            else:
                await self._store.put_json([list(r) for r in rows], "hot", kind, "24h")
            cached = [list(r) for r in rows]
        return [Count(str(k), int(n), int(v)) for k, n, v in cached[:limit]]

    # -- follows and profiles ----------------------------------------------------------

    async def follow(self, user_id: str, display_name: str | None, target: str) -> int:
        self._check_target(user_id, target)
        await self._index.ensure_profile(user_id, display_name)
        if not await self._index.user_exists(target):
            raise NotFound(f"user {target} is unknown")
        count = await self._index.follow(user_id, target)
        await self._store.bump_generations([user_id])
        return count

    async def unfollow(self, user_id: str, display_name: str | None, target: str) -> int:
        self._check_target(user_id, target)
        await self._index.ensure_profile(user_id, display_name)
        count = await self._index.unfollow(user_id, target)
        await self._store.bump_generations([user_id])
        return count

    @staticmethod
    def _check_target(user_id: str, target: str) -> None:
        if not target:
            raise InvalidArgument("user_id is required")
        if target == user_id:
            raise InvalidArgument("you cannot follow or unfollow yourself")

    async def profile(self, user_id: str, creator_id: str) -> Profile:
        if not creator_id:
            raise InvalidArgument("creator_id is required")
        profile = await self._index.profile(creator_id)
        if profile is None:
            raise NotFound(f"creator {creator_id} has no profile and no published video")
        following, samples = await asyncio.gather(
            self._index.is_following(user_id, creator_id),
            self._index.samples([creator_id], 6),
        )
        return Profile(profile, following, tuple(samples))

    # -- discovery ---------------------------------------------------------------------

    async def discover(self, user_id: str, limit: int, cursor: str) -> tuple[list[Suggestion], str]:
        limit = page_limit(limit)
        binding = {"limit": limit}
        offset = 0
        if cursor:
            offset = self._cursors.decode(
                cursor, kind="creators", user_id=user_id, binding=binding
            ).offset
        followees = await self._index.followees(user_id)
        excluded = followees | {user_id}
        history, affinity, similar, popular = await asyncio.gather(
            _optional(self._facts.watched(user_id, 200), self._peer_timeout, "history"),
            _optional(self._facts.affinity(user_id, 50), self._peer_timeout, "affinity"),
            _optional(
                self._deep.similar_creators(user_id, 50, sorted(excluded)[:1000]),
                self._peer_timeout,
                "similar",
            ),
            self._index.popular_creators(100),
        )
        suggestions: dict[str, Suggestion] = {}

        def add(creator: str, score: float, source: str) -> None:
            if not creator or creator in excluded:
                return
            entry = suggestions.setdefault(creator, Suggestion(creator))
            entry.score += score
            entry.sources.add(source)

        watched: dict[str, int] = {}
        for _video, creator in history or []:
            watched[creator] = watched.get(creator, 0) + 1
        most = max(watched.values(), default=0)
        for creator, n in watched.items():
            add(creator, 0.3 * n / most, "watch_history")
        best = max((w for w in (affinity or {}).values()), default=0.0)
        for creator, weight in (affinity or {}).items():
            add(creator, 0.4 * (weight / best if best > 0 else 0.0), "affinity")
        for creator, similarity in similar or []:
            add(creator, 0.3 * max(0.0, similarity), "similar_creators")
        for rank, creator in enumerate(popular):
            add(creator, 0.05 * (1 - rank / max(1, len(popular))), "popular")
        ranked = sorted(suggestions.values(), key=lambda s: (-s.score, s.creator_id))
        chunk = ranked[offset : offset + limit]
        ids = [s.creator_id for s in chunk]
        profiles, samples = await asyncio.gather(
            self._index.profiles(ids), self._index.samples(ids, SAMPLES)
        )
        by_creator: dict[str, list[Video]] = {}
        for video in samples:
            by_creator.setdefault(video.creator_id, []).append(video)
        for suggestion in chunk:
            known = profiles.get(suggestion.creator_id)
            if known is not None:
                suggestion.display_name = known.display_name
                suggestion.follower_count = known.follower_count
            suggestion.samples = tuple(by_creator.get(suggestion.creator_id, ())[:SAMPLES])
        next_cursor = ""
        if offset + len(chunk) < len(ranked):
            next_cursor = self._cursors.encode(
                CursorState("creators", user_id, offset + len(chunk), binding)
            )
        return chunk, next_cursor
