"""RankingService over gRPC: proto in, domain call, proto out."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import grpc
from google.protobuf import duration_pb2, timestamp_pb2
from reels.ranking.v1 import ranking_service_pb2 as pb
from reels.ranking.v1 import ranking_service_pb2_grpc

from ranking_svc import feed_json
from ranking_svc.adapters.redis_store import FORM_JSON, FORM_PROTO, CachedPage, RedisFeedStore
from ranking_svc.busy import BuildsInFlight
from ranking_svc.domain.catalog import Catalog
from ranking_svc.domain.feed import FeedService, check_algo, page_limit
from ranking_svc.domain.memo import ExpiringMemo
from ranking_svc.domain.model import (
    Fallback,
    InvalidArgument,
    NotFound,
    Page,
    RankedItem,
    Unavailable,
    Video,
)
from ranking_svc.domain.ports import DependencyFailed
from ranking_svc.metrics import (
    FEED_CACHE_HITS,
    FEED_CACHE_MISSES,
    FEED_LATENCY_MS,
    FEED_PREFETCHES,
    RANKING_BACKGROUND,
    RANKING_REQUESTS,
)
from reels_runtime.context import current_principal

logger = logging.getLogger(__name__)
_UNSEEN = object()
# Prefetches waiting at most: beyond, new ones are shed; and how long one may wait.
_PREFETCH_QUEUE = 256
_PREFETCH_MAX_WAIT_S = 2.0
# Users' pages being built at once from which the process counts as overloaded: its
# prefetches wait (and are shed after _PREFETCH_MAX_WAIT_S) until fewer are. Under the
# page cache's usual load one build or none is in flight; queueing shows as several.
# bench/bench_feed.py at 50 fresh pages/s, alternating with and without: p95 0.6-0.9 s
# against 1.3-2.3 s, 47-48 pages/s served against 41-48, the Zipf hit rate unchanged.
_BUSY_BUILDS = 4
# A page served again within this many seconds is not marked seen again.
_REMARK_AFTER_S = 30.0

_SOURCE_NAMES = {
    "watch_history": pb.DISCOVERY_SOURCE_WATCH_HISTORY,
    "affinity": pb.DISCOVERY_SOURCE_AFFINITY,
    "similar_creators": pb.DISCOVERY_SOURCE_SIMILAR_CREATORS,
    "popular": pb.DISCOVERY_SOURCE_POPULAR,
}


class PlaybackLinks:
    """HLS/DASH URLs with a signed playback token, minted once per user and video for a
    while. Tokens are signed inline: an EdDSA signature takes ~30-50 µs (a 50-item page
    signs in ~2 ms); cryptography releases the GIL while it signs, but under load both
    CPUs are busy anyway, so a thread hop would add latency, not throughput.
    """

    def __init__(
        self,
        mint: Callable[[str, str], str],
        base_url: str,
        ttl_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._mint = mint
        self._base = base_url.rstrip("/")
        # Reuse a token for half its life, so a handed-out URL always has time left.
        self._reuse_s = ttl_s / 2
        self._clock = clock
        self._tokens: dict[tuple[str, str], tuple[str, float]] = {}

    def tokens(self, user_id: str, video_ids: Sequence[str]) -> dict[str, str]:
        """Every video's token: reused while it has more than half its life left,
        signed otherwise."""
        now = self._clock()
        found: dict[str, str] = {}
        for video_id in video_ids:
            known = self._tokens.get((user_id, video_id))
            if known is not None and known[1] > now:
                found[video_id] = known[0]
                continue
            token = self._mint(user_id, video_id)
            if len(self._tokens) > 200_000:
                self._tokens.clear()
            self._tokens[(user_id, video_id)] = (token, now + self._reuse_s)
            found[video_id] = token
        return found

    def with_token(self, video_id: str, token: str) -> tuple[str, str]:
        root = f"{self._base}/api/v1/reels/{video_id}"
        return f"{root}/manifest.m3u8?token={token}", f"{root}/manifest.mpd?token={token}"


@dataclass
class RankingDeps:
    feed: FeedService
    catalog: Catalog
    store: RedisFeedStore
    links: PlaybackLinks
    index: Any
    # Cut and cache the next page of a session whenever a page is served, so the cursor
    # of page N+1 maps to a key written while page N was being read.
    prefetch: bool = True
    # At most this many prefetches at once; beyond, they are skipped (an overloaded
    # process sheds the speculative work first).
    prefetch_concurrency: int = 4
    # How long a prefetched page stays cached (the page TTL): not prefetched again before.
    page_ttl_s: float = 60.0


def _stamp(moment: Any) -> timestamp_pb2.Timestamp | None:
    if moment is None:
        return None
    value = timestamp_pb2.Timestamp()
    value.FromDatetime(moment)
    return value


def _span(seconds: float) -> duration_pb2.Duration:
    value = duration_pb2.Duration()
    value.FromNanoseconds(round(seconds * 1e9))
    return value


def _caller() -> tuple[str, str | None]:
    principal = current_principal()
    if principal is None or principal.user_id is None:
        raise PermissionError("an end user's token is required")
    return principal.user_id, principal.display_name


class RankingServicer(ranking_service_pb2_grpc.RankingServiceServicer):
    def __init__(self, deps: RankingDeps) -> None:
        self._d = deps
        self._background: set[asyncio.Task[None]] = set()
        self._profiles: dict[str, str | None] = {}
        # (cursor, form) pairs this process prefetched, until when that page stays cached.
        self._prefetched: ExpiringMemo[tuple[str, str], bool] = ExpiringMemo(100_000)
        # Prefetches wait here (oldest first) for one of `prefetch_concurrency` workers.
        self._prefetch_queue: deque[tuple[float, str, int, str, str, str]] = deque()
        self._prefetching = 0
        # Users' pages being built right now: prefetches wait while the process is busy.
        self._builds = BuildsInFlight(_BUSY_BUILDS)
        # Pages whose videos this process marked seen lately: a page served again (a
        # refresh within its TTL) does not rewrite the same seen-filter entries.
        self._marked: ExpiringMemo[tuple[str, str, tuple[str, ...]], bool] = ExpiringMemo(100_000)

    def _later(self, work: Any) -> None:
        task = asyncio.ensure_future(work)
        self._background.add(task)
        RANKING_BACKGROUND.set(len(self._background))
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._background.discard(task)
        RANKING_BACKGROUND.set(len(self._background) + len(self._prefetch_queue))
        if not task.cancelled() and task.exception() is not None:
            logger.warning("background write failed", exc_info=task.exception())

    async def _guard(self, context: grpc.aio.ServicerContext, work: Any) -> Any:
        try:
            return await work
        except InvalidArgument as error:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(error))
        except NotFound as error:
            await context.abort(grpc.StatusCode.NOT_FOUND, str(error))
        except PermissionError as error:
            await context.abort(grpc.StatusCode.UNAUTHENTICATED, str(error))
        except (Unavailable, DependencyFailed) as error:
            await context.abort(grpc.StatusCode.UNAVAILABLE, str(error))

    # -- rendering ---------------------------------------------------------------------

    def _urls(self, user_id: str, items: Sequence[RankedItem]) -> list[tuple[str, str]]:
        """Each item's HLS and DASH URLs, with the caller's playback token."""
        links = self._d.links
        tokens = links.tokens(user_id, [i.video.video_id for i in items])
        return [links.with_token(i.video.video_id, tokens[i.video.video_id]) for i in items]

    def _items(self, user_id: str, items: Sequence[RankedItem]) -> list[pb.FeedItem]:
        urls = self._urls(user_id, items)
        return [feed_item(i, pair) for i, pair in zip(items, urls, strict=True)]

    @staticmethod
    def _sample(video: Video) -> pb.SampleVideo:
        return pb.SampleVideo(
            video_id=video.video_id,
            title=video.title,
            thumbnail_url=video.thumbnail_url,
            preview_url=video.preview_url,
            publish_time=_stamp(video.published_at),
        )

    def _render_page(self, user_id: str, page: Page, form: str) -> CachedPage:
        """The page's response in `form`, serialized once: the same bytes are cached and
        sent (a GetFeedResponse, or for FORM_JSON an HttpBody holding its JSON)."""
        urls = self._urls(user_id, page.items)
        if form == FORM_JSON:
            body = feed_json.http_body(feed_json.page_document(page, urls))
        else:
            body = feed_response(page, urls).SerializeToString()
        return CachedPage(body, tuple(i.video.video_id for i in page.items), page.next_cursor)

    # -- the feed ----------------------------------------------------------------------

    async def GetFeed(self, request: pb.GetFeedRequest, context: Any) -> bytes:
        """The serialized GetFeedResponse: a cached page goes out as the bytes Redis
        returned (registered with a serializer that passes bytes through)."""
        return await self._guard(context, self._get_feed(request, FORM_PROTO))

    async def GetFeedJson(self, request: pb.GetFeedRequest, context: Any) -> bytes:
        """The same page as a serialized HttpBody holding its JSON (the HTTP route):
        Envoy passes the cached document on instead of transcoding it on every hit."""
        return await self._guard(context, self._get_feed(request, FORM_JSON))

    async def _get_feed(self, request: pb.GetFeedRequest, form: str) -> bytes:
        started = time.perf_counter()
        user_id, name = _caller()
        limit, algo = page_limit(request.limit), check_algo(request.algo)
        RANKING_REQUESTS.labels(algo).inc()
        if request.cursor:
            self._d.feed.check_cursor(user_id, limit, request.cursor, algo)
        store = self._d.store
        cached, generation = await store.cached_page(user_id, request.cursor, algo, limit, form)
        if cached is not None:
            FEED_CACHE_HITS.inc()
            self._mark_seen(user_id, cached)
            if cached.next_cursor:
                self._prefetch_soon(user_id, limit, cached.next_cursor, algo, form)
            FEED_LATENCY_MS.labels("hit").observe((time.perf_counter() - started) * 1000)
            return cached.body
        FEED_CACHE_MISSES.inc()
        if not request.cursor and self._profiles.get(user_id, _UNSEEN) != name:
            # Records the caller's display name (from their token) for profiles; once per
            # name change per process, not on every page.
            if len(self._profiles) > 100_000:
                self._profiles.clear()
            self._profiles[user_id] = name
            self._later(self._d.index.ensure_profile(user_id, name))
        with self._builds.building():
            page = await self._d.feed.page(user_id, limit, request.cursor, algo)
            built = self._render_page(user_id, page, form)
            await store.put_page(user_id, request.cursor, algo, limit, built, generation, form=form)
        self._mark_seen(user_id, built)
        if page.next_cursor:
            self._prefetch_soon(user_id, limit, page.next_cursor, algo, form)
        FEED_LATENCY_MS.labels("miss").observe((time.perf_counter() - started) * 1000)
        return built.body

    def _mark_seen(self, user_id: str, page: CachedPage) -> None:
        """Adds a served page's videos to the user's seen filter (batched, off the
        request's path), unless this very page was marked in the last seconds."""
        now = time.monotonic()
        # The page's identity: its next cursor names its session and offset; a rebuilt
        # page (a new session) is another page even under the same cache key.
        key = (user_id, page.next_cursor, page.video_ids)
        if self._marked.get(key, now):
            return
        self._marked.put(key, True, now + _REMARK_AFTER_S, now)
        self._d.store.mark_seen_soon(user_id, page.video_ids)

    def _prefetch_soon(self, user_id: str, limit: int, cursor: str, algo: str, form: str) -> None:
        """Caches the page after the one being served, off the request's path: most
        sessions scroll on, and their next request is then a hit. Once per cursor per
        page TTL. Prefetches queue for `prefetch_concurrency` workers; an overloaded
        process sheds them (a full queue, or one that waited too long) before anything
        a user waits for."""
        if not self._d.prefetch:
            return
        now = time.monotonic()
        if self._prefetched.get((cursor, form), now):
            return
        if len(self._prefetch_queue) >= _PREFETCH_QUEUE:
            FEED_PREFETCHES.labels("shed").inc()
            return
        # Slightly shorter than the page TTL: once the page expired, prefetch it again.
        self._prefetched.put((cursor, form), True, now + 0.9 * self._d.page_ttl_s, now)
        self._prefetch_queue.append((now, user_id, limit, cursor, algo, form))
        RANKING_BACKGROUND.set(len(self._background) + len(self._prefetch_queue))
        if self._prefetching < self._d.prefetch_concurrency:
            self._prefetching += 1
            self._later(self._prefetch_worker())

    async def _prefetch_worker(self) -> None:
        try:
            while self._prefetch_queue:
                queued, user_id, limit, cursor, algo, form = self._prefetch_queue.popleft()
                RANKING_BACKGROUND.set(len(self._background) + len(self._prefetch_queue))
                if not await self._builds.not_busy_before(queued + _PREFETCH_MAX_WAIT_S):
                    # Overloaded (waited too long already, or users' pages kept the process
                    # busy): the user has probably asked already. The memo stays, so hits
                    # of the page before do not queue it again and again; if asked for,
                    # the page is built then.
                    FEED_PREFETCHES.labels("shed").inc()
                    continue
                try:
                    await self._prefetch(user_id, limit, cursor, algo, form)
                except Exception:
                    self._prefetched.forget((cursor, form))
                    logger.warning("prefetch failed", exc_info=True)
        finally:
            self._prefetching -= 1

    async def _prefetch(self, user_id: str, limit: int, cursor: str, algo: str, form: str) -> None:
        store = self._d.store
        if await store.has_page(user_id, cursor, algo, limit, form):
            FEED_PREFETCHES.labels("cached").inc()
            return
        try:
            page = await self._d.feed.page(user_id, limit, cursor, algo)
        except (InvalidArgument, DependencyFailed):
            # The session expired or Redis is away: the request will say so itself.
            FEED_PREFETCHES.labels("failed").inc()
            return
        built = self._render_page(user_id, page, form)
        await store.put_page(user_id, cursor, algo, limit, built, only_if_absent=True, form=form)
        FEED_PREFETCHES.labels("built").inc()

    # -- trending, search, hashtags, sounds ------------------------------------------

    async def GetTrendingVideos(self, request: Any, context: Any) -> pb.GetTrendingVideosResponse:
        async def work() -> pb.GetTrendingVideosResponse:
            user_id, _ = _caller()
            window = request.window or "24h"
            page = await self._d.catalog.trending_videos(
                user_id, window, request.limit, request.cursor
            )
            return pb.GetTrendingVideosResponse(
                items=self._items(user_id, page.items),
                next_cursor=page.next_cursor,
                window=window,
            )

        return await self._guard(context, work())

    async def SearchVideos(self, request: Any, context: Any) -> pb.SearchVideosResponse:
        async def work() -> pb.SearchVideosResponse:
            user_id, _ = _caller()
            page = await self._d.catalog.search(user_id, request.q, request.limit, request.cursor)
            return pb.SearchVideosResponse(
                items=self._items(user_id, page.items), next_cursor=page.next_cursor
            )

        return await self._guard(context, work())

    async def GetTrendingHashtags(self, request: Any, context: Any) -> Any:
        async def work() -> pb.GetTrendingHashtagsResponse:
            _caller()
            counts = await self._d.catalog.hashtags(request.limit)
            return pb.GetTrendingHashtagsResponse(
                hashtags=[
                    pb.TrendingHashtag(
                        hashtag=c.key, video_count=c.video_count, view_count=c.view_count
                    )
                    for c in counts
                ]
            )

        return await self._guard(context, work())

    async def GetTrendingSounds(self, request: Any, context: Any) -> Any:
        async def work() -> pb.GetTrendingSoundsResponse:
            _caller()
            counts = await self._d.catalog.sounds(request.limit)
            return pb.GetTrendingSoundsResponse(
                sounds=[
                    pb.TrendingSound(
                        sound_id=c.key, video_count=c.video_count, view_count=c.view_count
                    )
                    for c in counts
                ]
            )

        return await self._guard(context, work())

    # -- follows, profiles, discovery --------------------------------------------------

    async def FollowCreator(self, request: Any, context: Any) -> pb.FollowCreatorResponse:
        async def work() -> pb.FollowCreatorResponse:
            user_id, name = _caller()
            count = await self._d.catalog.follow(user_id, name, request.user_id)
            return pb.FollowCreatorResponse(
                user_id=request.user_id, following=True, follower_count=count
            )

        return await self._guard(context, work())

    async def UnfollowCreator(self, request: Any, context: Any) -> pb.UnfollowCreatorResponse:
        async def work() -> pb.UnfollowCreatorResponse:
            user_id, name = _caller()
            count = await self._d.catalog.unfollow(user_id, name, request.user_id)
            return pb.UnfollowCreatorResponse(
                user_id=request.user_id, following=False, follower_count=count
            )

        return await self._guard(context, work())

    async def GetCreatorProfile(self, request: Any, context: Any) -> pb.GetCreatorProfileResponse:
        async def work() -> pb.GetCreatorProfileResponse:
            user_id, _ = _caller()
            found = await self._d.catalog.profile(user_id, request.creator_id)
            p = found.profile
            return pb.GetCreatorProfileResponse(
                creator_id=p.creator_id,
                display_name=p.display_name,
                follower_count=p.follower_count,
                following_count=p.following_count,
                video_count=p.video_count,
                following=found.following,
                sample_videos=[self._sample(v) for v in found.samples],
            )

        return await self._guard(context, work())

    async def DiscoverCreators(self, request: Any, context: Any) -> pb.DiscoverCreatorsResponse:
        async def work() -> pb.DiscoverCreatorsResponse:
            user_id, _ = _caller()
            suggestions, next_cursor = await self._d.catalog.discover(
                user_id, request.limit, request.cursor
            )
            return pb.DiscoverCreatorsResponse(
                creators=[
                    pb.DiscoveredCreator(
                        creator_id=s.creator_id,
                        display_name=s.display_name,
                        follower_count=s.follower_count,
                        sources=sorted(_SOURCE_NAMES[x] for x in s.sources),
                        score=s.score,
                        sample_videos=[self._sample(v) for v in s.samples],
                    )
                    for s in suggestions
                ],
                next_cursor=next_cursor,
            )

        return await self._guard(context, work())


def feed_item(item: RankedItem, urls: tuple[str, str]) -> pb.FeedItem:
    """One ranked item as the proto FeedItem, with its HLS and DASH URLs."""
    video, engagement, score = item.video, item.engagement, item.score
    hls, dash = urls
    return pb.FeedItem(
        video_id=video.video_id,
        creator_id=video.creator_id,
        creator_name=video.creator_name,
        title=video.title,
        description=video.description,
        hashtags=list(video.hashtags),
        sound_id=video.sound_id,
        duration=_span(video.duration_s),
        publish_time=_stamp(video.published_at),
        view_count=engagement.views,
        like_count=engagement.likes,
        completion_rate=engagement.completion_rate,
        thumbnail_url=video.thumbnail_url,
        preview_url=video.preview_url,
        hls_url=hls,
        dash_url=dash,
        sources=[int(s) for s in item.sources],
        score=pb.ScoreComponents(
            completion=score.completion,
            engagement=score.engagement,
            affinity=score.affinity,
            deep=score.deep,
            freshness=score.freshness,
            total=score.total,
        ),
    )


def feed_response(page: Page, urls: Sequence[tuple[str, str]]) -> pb.GetFeedResponse:
    """The GetFeedResponse of `page`, each item with its HLS and DASH URLs."""
    return pb.GetFeedResponse(
        items=[feed_item(i, pair) for i, pair in zip(page.items, urls, strict=True)],
        next_cursor=page.next_cursor,
        tier=int(page.tier),
        fallback_reasons=[_reason(f) for f in page.fallbacks],
    )


def _reason(fallback: Fallback) -> pb.FallbackReason:
    return pb.FallbackReason(dependency=fallback.dependency, reason=fallback.reason)


def _feed_response_bytes(response: bytes | Any) -> bytes:
    if isinstance(response, bytes):
        return response
    return response.SerializeToString()


class _Registrar:
    """Collects the generated method handlers so GetFeed's can be swapped before they
    reach the server."""

    def __init__(self) -> None:
        self.handlers: dict[str, grpc.RpcMethodHandler] = {}
        self.service = ""

    def add_generic_rpc_handlers(self, handlers: Any) -> None:
        pass

    def add_registered_method_handlers(self, service: str, handlers: Any) -> None:
        self.service, self.handlers = service, dict(handlers)


def add_ranking_servicer(servicer: RankingServicer, server: grpc.aio.Server) -> None:
    """add_RankingServiceServicer_to_server, but the feed RPCs' serializer passes bytes
    through: a cached page is sent as it was stored (no parse and re-serialize of 70 kB)."""
    registrar = _Registrar()
    ranking_service_pb2_grpc.add_RankingServiceServicer_to_server(servicer, registrar)
    handlers = registrar.handlers
    for name in ("GetFeed", "GetFeedJson"):
        feed = handlers[name]
        handlers[name] = grpc.unary_unary_rpc_method_handler(
            feed.unary_unary,
            request_deserializer=feed.request_deserializer,
            response_serializer=_feed_response_bytes,
        )
    server.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler(registrar.service, handlers),)
    )
    server.add_registered_method_handlers(registrar.service, handlers)
