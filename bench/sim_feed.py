"""A simulated population replayed against our feed ranking and against popularity and
recency baselines, on the same seed: completion-rate P50/P95, NDCG@10, catalogue coverage
and creator diversity, side by side.

The model (parameters and seed below are committed before any tuning):
- users have latent interests (a Dirichlet mix over topics); creators specialise in a
  topic; videos carry mostly their creator's topic plus noise, and a latent quality;
- a user completes a video with probability sigmoid(A * (interest . topics - B) +
  C * (quality - 0.5)); a completed video is liked with probability LIKE_P;
- users follow FOLLOWS creators, drawn by interest and creator popularity;
- the catalogue is published over time (a share at the start, with organic views and
  completes from the average viewer, the rest round by round);
  each round every active user asks for one page of PAGE items and watches all of them.

"Ours" is ranking_svc's own domain code (FeedService: four sources, scoring, seen filter,
author cap) over in-memory adapters that answer from the simulated history as the real
services would: creator affinity from completes (1), likes (2) and shares (3) as
stream_svc weighs them, trending from decayed weighted engagement (view 1, complete 2,
like 3, share 5) as stream_svc ranks it. "ours-rules" is the rules tier (embed_svc
unavailable), the tier the gate is about. "ours-model" stands in for embed_svc with a
content encoder that sees a video's latent topics through noise (EMBED_NOISE, an
assumption of the adapter, not of the world): the user embedding is the completion-
weighted, time-decayed mean of the watched videos' embeddings (as embed_svc computes it),
recall is the nearest unseen published videos, and the "ranking model" is the cosine
similarity mapped to [0, 1] — a plain two-tower stand-in, so read its figures as what
recall plus a content model can add, not as the model server's quality. Baselines: most
viewed first, and newest first, both without what the user has seen.

Completion "P50" is the median user's completion rate; "P95" is the rate 95 % of users
reach or exceed (the 5th percentile), which is what a gate "P95 >= 50 %" can mean.
NDCG@10 uses each shown item's true completion probability as its gain, against the best
10 unseen published videos for that user.

    .venv/bin/python bench/sim_feed.py [--users 1000] [--rounds 8] [--seed 2026]
        [--tiers rules,model]

--seed changes only the random draws (a check against tuning to one seed); the committed
seed is the default.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO)]

from ranking_svc.domain.cursor import CursorCodec  # noqa: E402
from ranking_svc.domain.feed import FeedService, TrendingLists  # noqa: E402
from ranking_svc.domain.model import Engagement, RankedItem, Video  # noqa: E402
from ranking_svc.domain.ports import DependencyFailed, Recalled, TrendingFact  # noqa: E402
from ranking_svc.settings import RankingSettings  # noqa: E402

# --- the committed simulation parameters ----------------------------------------------
SEED = 2026
TOPICS = 16
CREATORS = 300
VIDEOS = 5000
FOLLOWS = 5
PAGE = 10
INITIAL_SHARE = 0.6  # of the catalogue published before the first round
ROUND = timedelta(hours=6)
A, B, C = 6.0, 0.2, 2.0  # watch model
LIKE_P = 0.3
SHARE_P = 0.03
WARM_VIEWS = 20  # mean organic views per video before the first round
# ----------------------------------------------------------------------------------------

START = datetime(2026, 11, 1, tzinfo=UTC)

# --- the simulated embed_svc (adapter assumptions, not the world) --------------------------
EMBED_NOISE = 0.15  # std of the encoder's per-dimension noise over a video's topic mix
EMBED_HALF_LIFE_H = 72.0  # embed_svc's user-embedding half-life (EmbedTuning.half_life_h)
MIN_COMPLETION_WEIGHT = 0.05  # embed_svc: a watch that barely started still counts this much


@dataclass
class World:
    interest: np.ndarray  # users x topics
    topics: np.ndarray  # videos x topics
    quality: np.ndarray
    creator_of: np.ndarray
    published: list[datetime]
    follows: dict[int, set[int]]

    def p_complete(self, user: int, videos: np.ndarray) -> np.ndarray:
        match = self.topics[videos] @ self.interest[user]
        z = A * (match - B) + C * (self.quality[videos] - 0.5)
        return 1.0 / (1.0 + np.exp(-z))


def build_world(users: int, rng: np.random.Generator) -> World:
    interest = rng.dirichlet(np.full(TOPICS, 0.3), users)
    creator_topic = rng.integers(0, TOPICS, CREATORS)
    creator_pop = 1.0 / np.arange(1, CREATORS + 1) ** 0.8
    creator_pop /= creator_pop.sum()
    creator_of = rng.choice(CREATORS, VIDEOS, p=creator_pop)
    topics = 0.2 * rng.dirichlet(np.full(TOPICS, 0.5), VIDEOS)
    topics[np.arange(VIDEOS), creator_topic[creator_of]] += 0.8
    quality = rng.beta(2, 2, VIDEOS)
    initial = int(VIDEOS * INITIAL_SHARE)
    published = [START - timedelta(hours=float(h)) for h in rng.uniform(0, 96, initial)]
    published += [START + ROUND * (1 + i % 8) for i in range(VIDEOS - initial)]
    follows: dict[int, set[int]] = {}
    for user in range(users):
        score = interest[user][creator_topic] * (0.5 + creator_pop * CREATORS)
        follows[user] = set(
            int(c) for c in rng.choice(CREATORS, FOLLOWS, p=score / score.sum(), replace=False)
        )
    return World(interest, topics, quality, creator_of, published, follows)


def vid(i: int) -> str:
    return f"v{i:05d}"


def cid(c: int) -> str:
    return f"c{c:04d}"


class History:
    """Everything the platform has observed: views, completes, likes, per-user history."""

    def __init__(self) -> None:
        self.views: Counter[int] = Counter()
        self.completes: Counter[int] = Counter()
        self.likes: Counter[int] = Counter()
        self.shares: Counter[int] = Counter()
        self.recent: Counter[int] = Counter()  # weighted engagement of the last rounds
        self.seen: dict[int, set[int]] = defaultdict(set)
        self.creator_weight: dict[int, Counter[int]] = defaultdict(Counter)
        # (video, completed, when) per user: the watch history embed_svc reads.
        self.watches: dict[int, list[tuple[int, bool, datetime]]] = defaultdict(list)

    def engagement(self, v: int) -> Engagement:
        views = self.views[v]
        return Engagement(
            views=views,
            likes=self.likes[v],
            shares=self.shares[v],
            completes=self.completes[v],
            completion_rate=self.completes[v] / views if views else 0.0,
        )


class SimIndex:
    def __init__(self, world: World, now: list[datetime]) -> None:
        self.w, self.now = world, now
        self._live_at: datetime | None = None
        self._live: list[int] = []
        self.by_creator: dict[int, list[int]] = defaultdict(list)
        for v, c in enumerate(world.creator_of):
            self.by_creator[int(c)].append(v)

    def live(self, v: int) -> bool:
        return self.w.published[v] <= self.now[0]

    def live_ids(self) -> list[int]:
        """The published videos, newest first (cached per simulated instant)."""
        if self._live_at != self.now[0]:
            self._live = sorted(
                (v for v in range(VIDEOS) if self.live(v)),
                key=lambda v: self.w.published[v],
                reverse=True,
            )
            self._live_at = self.now[0]
        return self._live

    def video(self, v: int) -> Video:
        return Video(vid(v), cid(int(self.w.creator_of[v])), published_at=self.w.published[v])

    async def videos(self, ids: Sequence[str]) -> dict[str, Video]:
        out = {}
        for i in ids:
            v = int(i[1:])
            if self.live(v):
                out[i] = self.video(v)
        return out

    async def followee_videos(self, user_id: str, since: datetime, limit: int) -> list[Video]:
        user = int(user_id[1:])
        found = [
            v
            for c in self.w.follows[user]
            for v in self.by_creator[c]
            if self.live(v) and self.w.published[v] >= since
        ]
        found.sort(key=lambda v: self.w.published[v], reverse=True)
        return [self.video(v) for v in found[:limit]]

    async def creators_videos(self, creators, since, per_creator, limit) -> list[Video]:
        out = []
        for c in creators:
            vs = [v for v in self.by_creator[int(c[1:])] if self.live(v)]
            vs.sort(key=lambda v: self.w.published[v], reverse=True)
            out += [self.video(v) for v in vs[:per_creator] if self.w.published[v] >= since]
        return out[:limit]

    async def recent_videos(self, limit: int, since=None) -> list[Video]:
        return [self.video(v) for v in self.live_ids()[:limit]]

    async def followees(self, user_id: str) -> set[str]:
        return {cid(c) for c in self.w.follows[int(user_id[1:])]}


class SimFacts:
    def __init__(self, world: World, history: History, index: SimIndex) -> None:
        self.w, self.h, self.index = world, history, index

    async def trending(self, window: str, limit: int) -> list[TrendingFact]:
        top = [v for v, _ in self.h.recent.most_common(limit * 2) if self.index.live(v)]
        return [
            TrendingFact(
                vid(v),
                cid(int(self.w.creator_of[v])),
                self.h.engagement(v),
                float(self.h.recent[v]),
            )
            for v in top[:limit]
        ]

    async def affinity(self, user_id: str, limit: int) -> dict[str, float]:
        weights = self.h.creator_weight[int(user_id[1:])]
        return {cid(c): float(w) for c, w in weights.most_common(limit)}

    async def watched(self, user_id: str, limit: int) -> list[tuple[str, str]]:
        return []  # the seen filter below already holds every watched video

    async def engagement(self, ids: Sequence[str]) -> dict[str, Engagement]:
        return {i: self.h.engagement(int(i[1:])) for i in ids}


class SimDeep:
    """embed_svc over the simulated history: embeddings, user embedding, recall, scores."""

    def __init__(self, world: World, history: History, index: SimIndex, seed: int) -> None:
        self.h, self.index = history, index
        noise = np.random.default_rng(seed + 3).normal(0.0, EMBED_NOISE, world.topics.shape)
        vectors = world.topics + noise
        self.vectors = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)

    def user_vector(self, user: int) -> np.ndarray | None:
        watches = self.h.watches[user]
        if not watches:
            return None
        now = self.index.now[0]
        weights = np.array(
            [
                max(MIN_COMPLETION_WEIGHT, 1.0 if completed else 0.0)
                * 0.5 ** ((now - at).total_seconds() / 3600 / EMBED_HALF_LIFE_H)
                for _v, completed, at in watches
            ]
        )
        mean = weights @ self.vectors[[v for v, _c, _a in watches]]
        norm = float(np.linalg.norm(mean))
        return mean / norm if norm > 0 else None

    async def recall(self, user_id: str, k: int, exclude: Sequence[str]) -> list[Recalled]:
        user = int(user_id[1:])
        vector = self.user_vector(user)
        if vector is None:
            return []
        skip = {int(i[1:]) for i in exclude} | self.h.seen[user]
        live = np.array([v for v in self.index.live_ids() if v not in skip], dtype=int)
        if not len(live):
            return []
        sims = self.vectors[live] @ vector
        top = np.argsort(-sims)[:k]
        return [
            Recalled(vid(int(live[i])), cid(int(self.index.w.creator_of[live[i]])), float(sims[i]))
            for i in top
        ]

    async def score(self, user_id: str, ids: Sequence[str]) -> dict[str, float]:
        vector = self.user_vector(int(user_id[1:]))
        if vector is None:
            return {i: 0.5 for i in ids}
        sims = self.vectors[[int(i[1:]) for i in ids]] @ vector
        return {i: float((1.0 + s) / 2.0) for i, s in zip(ids, sims, strict=True)}


class NoDeep:
    async def recall(self, user_id: str, k: int, exclude: Sequence[str]) -> list[Recalled]:
        raise DependencyFailed("embed.RecallForUser", "not simulated")

    async def score(self, user_id: str, ids: Sequence[str]) -> dict[str, float]:
        raise DependencyFailed("embed.ScoreCandidates", "not simulated")


class SimStore:
    def __init__(self, history: History) -> None:
        self.h = history
        self.hot_lists: dict[str, list[RankedItem]] = {}

    async def seen(self, user_id: str) -> set[str]:
        return {vid(v) for v in self.h.seen[int(user_id[1:])]}

    async def mark_seen(self, user_id: str, ids: Sequence[str]) -> None:
        return

    async def save_session(self, user_id, session, page) -> None:
        return

    async def load_session(self, user_id, session):
        return None

    async def hot(self, window: str):
        return self.hot_lists.get(window)

    async def put_hot(self, window: str, items) -> None:
        self.hot_lists[window] = list(items)


def ndcg(gains_shown: Sequence[float], ideal: Sequence[float]) -> float:
    def dcg(gains: Sequence[float]) -> float:
        return sum(g / math.log2(i + 2) for i, g in enumerate(gains))

    best = dcg(sorted(ideal, reverse=True)[:PAGE])
    return dcg(gains_shown) / best if best > 0 else 0.0


async def simulate(policy: str, users: int, rounds: int, seed: int = SEED) -> dict[str, float]:
    rng = np.random.default_rng(seed)
    world = build_world(users, rng)
    watch_rng = np.random.default_rng(seed + 1)  # the same watch draws for every policy
    history = History()
    # Organic history before the first round (the same for every policy): each published
    # video has views from its creator's reach and completes from the average viewer.
    warm_rng = np.random.default_rng(seed + 2)
    mean_interest = world.interest.mean(axis=0)
    for v in range(VIDEOS):
        if world.published[v] > START:
            continue
        views = int(warm_rng.poisson(WARM_VIEWS * (0.5 + world.quality[v])))
        z = A * (float(world.topics[v] @ mean_interest) - B) + C * (world.quality[v] - 0.5)
        completes = int(warm_rng.binomial(views, 1 / (1 + math.exp(-z)))) if views else 0
        history.views[v] += views
        history.completes[v] += completes
        history.likes[v] += int(warm_rng.binomial(completes, LIKE_P)) if completes else 0
        history.recent[v] += views + 2 * completes
    now = [START]
    index = SimIndex(world, now)
    store = SimStore(history)
    facts = SimFacts(world, history, index)
    feed = FeedService(
        index,
        facts,
        SimDeep(world, history, index, seed) if policy == "ours-model" else NoDeep(),
        store,
        TrendingLists(index, facts, store, lambda: now[0]),
        CursorCodec(b"s" * 32, 3600),
        # The documented defaults of ranking_svc's settings (RANKING_* unset).
        RankingSettings.from_env({}).feed,
        lambda: now[0],
    )
    per_user_views: Counter[int] = Counter()
    per_user_completes: Counter[int] = Counter()
    ndcgs: list[float] = []
    shown_all: set[int] = set()
    creators_per_page: list[int] = []
    for _ in range(rounds):
        store.hot_lists.clear()
        history.recent = Counter({v: n * 0.5 for v, n in history.recent.items()})
        live = np.array([v for v in range(VIDEOS) if index.live(v)])
        for user in range(users):
            seen = history.seen[user]
            if policy.startswith("ours"):
                page = await feed.page(f"u{user:05d}", PAGE, "", "ch")
                shown = [int(i.video.video_id[1:]) for i in page.items]
            else:
                key = (
                    (lambda v: (history.views[v], world.published[v]))
                    if policy == "popularity"
                    else (lambda v: world.published[v])
                )
                candidates = [int(v) for v in live if int(v) not in seen]
                shown = sorted(candidates, key=key, reverse=True)[:PAGE]
            if not shown:
                continue
            p = world.p_complete(user, np.array(shown))
            unseen = np.array([v for v in live if v not in seen])
            ideal = world.p_complete(user, unseen) if len(unseen) else np.array([])
            ndcgs.append(ndcg(list(p), list(np.sort(ideal)[-PAGE:])))
            shown_all.update(shown)
            creators_per_page.append(len({int(world.creator_of[v]) for v in shown}))
            draws = watch_rng.random((len(shown), 3))
            for (v, pv), (d_complete, d_like, d_share) in zip(
                zip(shown, p, strict=True), draws, strict=True
            ):
                history.views[v] += 1
                history.recent[v] += 1
                per_user_views[user] += 1
                seen.add(v)
                creator = int(world.creator_of[v])
                history.watches[user].append((v, bool(d_complete < pv), now[0]))
                if d_complete < pv:
                    history.completes[v] += 1
                    history.recent[v] += 2
                    per_user_completes[user] += 1
                    history.creator_weight[user][creator] += 1
                    if d_like < LIKE_P:
                        history.likes[v] += 1
                        history.recent[v] += 3
                        history.creator_weight[user][creator] += 2
                    if d_share < SHARE_P:
                        history.shares[v] += 1
                        history.recent[v] += 5
                        history.creator_weight[user][creator] += 3
        now[0] += ROUND
    rates = np.array(
        [per_user_completes[u] / per_user_views[u] for u in range(users) if per_user_views[u]]
    )
    published_total = sum(1 for v in range(VIDEOS) if world.published[v] <= now[0])
    return {
        "completion P50": float(np.percentile(rates, 50)),
        "completion P95 (5th pct)": float(np.percentile(rates, 5)),
        "completion mean": float(rates.mean()),
        "NDCG@10": float(np.mean(ndcgs)),
        "coverage": len(shown_all) / published_total,
        "creators per page": float(np.mean(creators_per_page)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--seed", type=int, default=SEED, help=f"default {SEED} (committed)")
    parser.add_argument(
        "--tiers", default="rules,model", help="which of our tiers to run: rules, model or both"
    )
    args = parser.parse_args()
    tiers = [t.strip() for t in args.tiers.split(",") if t.strip()]
    if not tiers or any(t not in ("rules", "model") for t in tiers):
        parser.error("--tiers takes rules, model or rules,model")
    print(
        f"# seed {args.seed}: {args.users} users, {CREATORS} creators, {VIDEOS} videos, "
        f"{TOPICS} topics, {args.rounds} rounds of one {PAGE}-item page per user "
        f"({ROUND.total_seconds() / 3600:.0f} h apart), watch model "
        f"sigmoid({A}*(match-{B}) + {C}*(quality-0.5))"
    )
    feed = RankingSettings.from_env({}).feed
    w, f = feed.weights, feed.freshness
    print(
        f"# ours: weights completion {w.completion} engagement {w.engagement} affinity "
        f"{w.affinity} deep {w.deep} (rules: without deep), freshness half-life "
        f"{f.half_life_hours:g} h floor {f.floor:g}; model tier: encoder noise {EMBED_NOISE}"
    )
    results = {}
    for policy in (*(f"ours-{t}" for t in tiers), "popularity", "recency"):
        started = time.monotonic()
        results[policy] = asyncio.run(simulate(policy, args.users, args.rounds, args.seed))
        print(f"# {policy}: {time.monotonic() - started:.0f} s")
    metrics = list(results["popularity"])
    print(f"{'metric':<26}" + "".join(f"{p:>12}" for p in results))
    for m in metrics:
        print(f"{m:<26}" + "".join(f"{results[p][m]:>12.3f}" for p in results))
    for tier in tiers:
        ours = results[f"ours-{tier}"]["completion mean"]
        uplift = ours / results["popularity"]["completion mean"] - 1
        print(f"uplift of mean completion over popularity ({tier} tier): {uplift:+.1%}")


if __name__ == "__main__":
    main()
