"""Vector recall on Milvus Lite and the feed's precomputed path; ScoreCandidates; prints figures.

    .venv/bin/python bench/bench_recall.py [--quick] [--sizes 100000,200000] [--queries 100]

For each size: writes that many clustered, L2-normalised 256-d vectors into a Milvus Lite
file through embed_svc's own MilvusStore (HNSW, cosine), reopens it as a restarted service
would (Milvus Lite builds the index on load), then measures, per user query vector:

- raw Milvus search: one search call per recall (k=50), sequential, p50/p95;
- coalesced: 32 concurrent recalls through embed_svc's SearchCoalescer (fewer calls);
- the feed's path: RecallForUser's use case reading the user's precomputed candidates from
  Redis (embed_svc's RedisCache, deleted-video filter included), p50/p95;

with recall@50 of each against exact (numpy brute-force) search over the same vectors.
Then ScoreCandidates' use case for 500 candidates (vectors from the Redis cache, the
ranking model through a `python -m model_server` subprocess on exported models), p50/p95.
Goals: feed path p95 <= 30 ms with recall@50 >= 0.95 at 100k. Not a test: the machine
is shared, read medians. `--quick` runs 10k and 20k vectors with fewer queries.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
for path in (ROOT, ROOT / "gen"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from redis.asyncio import Redis  # noqa: E402

from embed_svc.adapters.milvus_store import MilvusStore  # noqa: E402
from embed_svc.adapters.redis_cache import RedisCache  # noqa: E402
from embed_svc.domain.batching import SearchCoalescer  # noqa: E402
from embed_svc.domain.model import UserVector, VideoVector, WatchEntry  # noqa: E402
from embed_svc.domain.service import EmbedService, Tuning  # noqa: E402

DIM = 256
K = 50
VERSION = "video_encoder/1"
CLUSTERS = 2000
INSERT_BATCH = 5000
FEED_GOAL_MS = 30.0
RECALL_GOAL = 0.95


def _normalise(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def _vectors(n: int, rng: np.random.Generator, centres: np.ndarray) -> np.ndarray:
    # Videos cluster by content (scene families): a centre plus spread, as real embeddings do.
    picks = rng.integers(0, len(centres), size=n)
    return _normalise(centres[picks] + rng.normal(0, 0.08, size=(n, DIM)).astype(np.float32))


def _exact(matrix: np.ndarray, queries: np.ndarray, k: int) -> list[set[int]]:
    scores = queries @ matrix.T
    top = np.argpartition(-scores, k, axis=1)[:, :k]
    return [set(row.tolist()) for row in top]


def _recall_at(found: list[list[str]], truth: list[set[int]]) -> float:
    hits = [
        len({int(v[1:]) for v in ids[:K]} & exact) / K
        for ids, exact in zip(found, truth, strict=True)
    ]
    return statistics.fmean(hits)


def _pct(times: list[float]) -> tuple[float, float]:
    ordered = sorted(times)
    return statistics.median(ordered) * 1000, ordered[int(0.95 * (len(ordered) - 1))] * 1000


class _NoHistory:
    async def watch_history(self, user_id: str, limit: int) -> list[WatchEntry]:
        return []


class _NoMirror:
    async def mirror(self, vectors: object) -> None:
        return None


class _NoEncoder:
    async def embed(self, frames: np.ndarray, version: str | None) -> tuple[np.ndarray, str]:
        raise RuntimeError("not used by the benchmark")

    async def score(self, user: np.ndarray, candidates: np.ndarray) -> tuple[np.ndarray, str]:
        raise RuntimeError("not used by the benchmark")


async def _fill(store: MilvusStore, vectors: np.ndarray, start: int) -> None:
    for offset in range(0, len(vectors), INSERT_BATCH):
        chunk = vectors[offset : offset + INSERT_BATCH]
        await store.upsert(
            [
                VideoVector(
                    f"v{start + offset + i}", f"c{(start + offset + i) % 5000}", VERSION, vec, 1
                )
                for i, vec in enumerate(chunk)
            ]
        )


async def _measure_size(
    db: str, matrix: np.ndarray, queries: np.ndarray, redis: Redis, namespace: str
) -> dict[str, tuple[float, float, float]]:
    started = time.perf_counter()
    store = MilvusStore(db, dimension=DIM)
    # As a restarted service finds it: flushed, and the HNSW index built on load.
    await store.flush(reload=True)
    print(f"  flushed and indexed in {time.perf_counter() - started:.1f} s", flush=True)
    truth = _exact(matrix, queries, K)
    figures: dict[str, tuple[float, float, float]] = {}
    try:
        await store.search(queries[:1], K, VERSION)  # warm-up
        raw_times, raw_ids = [], []
        for query in queries:
            t0 = time.perf_counter()
            [hits] = await store.search(query[np.newaxis], K, VERSION)
            raw_times.append(time.perf_counter() - t0)
            raw_ids.append([h.id for h in hits])
        figures["raw Milvus search, 1 query per call"] = (
            *_pct(raw_times),
            _recall_at(raw_ids, truth),
        )

        coalescer = SearchCoalescer(store.search)
        batch_times: list[float] = []
        batch_ids: list[list[str]] = [[] for _ in queries]

        async def one(index: int) -> None:
            t0 = time.perf_counter()
            hits = await coalescer(queries[index], K, VERSION)
            batch_times.append(time.perf_counter() - t0)
            batch_ids[index] = [h.id for h in hits]

        for offset in range(0, len(queries), 32):
            await asyncio.gather(*(one(i) for i in range(offset, min(offset + 32, len(queries)))))
        name = f"coalesced, 32 concurrent ({coalescer.calls} calls)"
        figures[name] = (*_pct(batch_times), _recall_at(batch_ids, truth))
        # A burst of 32 concurrent recalls: each its own call, versus one coalesced call.
        burst = queries[:32]
        t0 = time.perf_counter()
        await asyncio.gather(*(store.search(q[np.newaxis], K, VERSION) for q in burst))
        separate_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        await asyncio.gather(*(coalescer(q, K, VERSION) for q in burst))
        together_s = time.perf_counter() - t0
        print(
            f"  burst of {len(burst)} recalls: {separate_s * 1000:.0f} ms as separate calls, "
            f"{together_s * 1000:.0f} ms coalesced",
            flush=True,
        )

        def key(*parts: str) -> str:
            return ":".join((namespace, *parts))

        cache = RedisCache(redis, key, 3600)
        service = EmbedService(
            encoder=_NoEncoder(),
            store=store,
            searcher=coalescer,
            cache=cache,
            history=_NoHistory(),
            mirror=_NoMirror(),
            tuning=Tuning(recall_candidates=300, recall_stale_s=3600),
        )
        users = [f"bench-user-{len(matrix)}-{i}" for i in range(len(queries))]
        now = time.time()
        precompute_started = time.perf_counter()
        for user, query in zip(users, queries, strict=True):
            await cache.put_user(UserVector(user, query, VERSION, 10, now))
        # As the refresh loop does it: 50 users at once, their searches coalesced.
        calls_before = coalescer.calls
        for offset in range(0, len(users), 50):
            await asyncio.gather(*(service.recall(u, K) for u in users[offset : offset + 50]))
        precompute_s = time.perf_counter() - precompute_started
        precompute_calls = coalescer.calls - calls_before
        feed_times, feed_ids = [], []
        for user in users:
            t0 = time.perf_counter()
            recall = await service.recall(user, K)
            feed_times.append(time.perf_counter() - t0)
            feed_ids.append([h.id for h in recall.hits])
        figures["feed path: precomputed candidates in Redis"] = (
            *_pct(feed_times),
            _recall_at(feed_ids, truth),
        )
        print(
            f"  precomputing {len(users)} users' candidates (off the request path, "
            f"{precompute_calls} search calls): {precompute_s / len(users) * 1000:.1f} ms per user",
            flush=True,
        )
        await coalescer.close()
    finally:
        await store.close()
    return figures


def _start_model_server(models: str, port: int) -> subprocess.Popen[bytes]:
    subprocess.run(
        [sys.executable, "-m", "embed_models.export", "--out", models],
        check=True,
        capture_output=True,
        cwd=ROOT,
    )
    return subprocess.Popen(
        [sys.executable, "-m", "model_server", "--model-base", models, "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def _score_candidates(
    redis: Redis, namespace: str, db: str, matrix: np.ndarray, calls: int
) -> tuple[float, float] | None:
    from embed_svc.adapters.model_client import ModelClient

    with tempfile.TemporaryDirectory(prefix="bench-models-") as models:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        server = await asyncio.to_thread(_start_model_server, models, port)
        model = ModelClient(
            f"127.0.0.1:{port}",
            encoder_model="video_encoder",
            ranking_model="ranking_model",
            budget_s=10.0,
        )
        store = MilvusStore(db, dimension=DIM)
        try:
            await store.open()

            def key(*parts: str) -> str:
                return ":".join((namespace, *parts))

            cache = RedisCache(redis, key, 3600)
            service = EmbedService(
                encoder=model,
                store=store,
                searcher=SearchCoalescer(store.search),
                cache=cache,
                history=_NoHistory(),
                mirror=_NoMirror(),
            )
            rng = np.random.default_rng(5)
            user = "bench-scorer"
            await cache.put_user(UserVector(user, matrix[0], VERSION, 10, time.time()))
            deadline = time.monotonic() + 180
            while True:  # the model server loads and warms up its models
                try:
                    await service.score(user, ["v0"])
                    break
                except Exception:
                    if time.monotonic() > deadline:
                        raise
                    await asyncio.sleep(0.5)
            times = []
            for _ in range(calls):
                ids = [f"v{i}" for i in rng.choice(len(matrix), 500, replace=False)]
                await service.score(user, ids)  # first sight fills the Redis cache
                t0 = time.perf_counter()
                scores, _, unscored = await service.score(user, ids)
                times.append(time.perf_counter() - t0)
                assert len(scores) == 500 and not unscored
            return _pct(times)
        finally:
            await model.close()
            await store.close()
            server.terminate()
            server.wait(timeout=30)


async def _main(sizes: list[int], queries_n: int, score_calls: int) -> None:
    rng = np.random.default_rng(7)
    centres = _normalise(rng.normal(size=(CLUSTERS, DIM)).astype(np.float32))
    redis = Redis.from_url(os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15"))
    namespace = f"reels-bench-{uuid.uuid4().hex[:8]}"
    print(f"bench_recall {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} CPUs, k={K}")
    rows: list[tuple[int, str, float, float, float]] = []
    try:
        with tempfile.TemporaryDirectory(prefix="bench-milvus-") as tmp:
            db = str(Path(tmp) / "milvus.db")
            matrix = np.zeros((0, DIM), np.float32)
            for size in sorted(sizes):
                extra = _vectors(size - len(matrix), rng, centres)
                store = MilvusStore(db, dimension=DIM)
                t0 = time.perf_counter()
                await _fill(store, extra, len(matrix))
                await store.close()
                matrix = np.concatenate([matrix, extra])
                print(f"{size} vectors: inserted in {time.perf_counter() - t0:.1f} s", flush=True)
                queries = _vectors(queries_n, rng, centres)
                for name, (p50, p95, recall) in (
                    await _measure_size(db, matrix, queries, redis, namespace)
                ).items():
                    rows.append((size, name, p50, p95, recall))
            score = await _score_candidates(redis, namespace, db, matrix, score_calls)
    finally:
        async for found in redis.scan_iter(match=f"{namespace}:*", count=1000):
            await redis.delete(found)
        await redis.aclose()

    print()
    print(f"{'vectors':>8}  {'path':<48} {'p50 ms':>8} {'p95 ms':>8} {'recall@50':>10}")
    for size, name, p50, p95, recall in rows:
        print(f"{size:>8}  {name:<48} {p50:>8.1f} {p95:>8.1f} {recall:>10.3f}")
    if score is not None:
        print(f"\nScoreCandidates, 500 candidates: p50 {score[0]:.1f} ms, p95 {score[1]:.1f} ms")
    feed = [r for r in rows if r[1].startswith("feed") and r[0] == min(sizes)]
    if feed:
        ok = feed[0][3] <= FEED_GOAL_MS and feed[0][4] >= RECALL_GOAL
        print(
            f"feed path at {feed[0][0]}: p95 {feed[0][3]:.1f} ms (goal <= {FEED_GOAL_MS:.0f}), "
            f"recall@50 {feed[0][4]:.3f} (goal >= {RECALL_GOAL}): {'met' if ok else 'NOT met'}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10k and 20k vectors, 30 queries")
    parser.add_argument("--sizes", default="100000,200000")
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--score-calls", type=int, default=50)
    args = parser.parse_args()
    sizes = [10_000, 20_000] if args.quick else [int(s) for s in args.sizes.split(",")]
    queries = 30 if args.quick else args.queries
    asyncio.run(_main(sizes, queries, 20 if args.quick else args.score_calls))


if __name__ == "__main__":
    main()
