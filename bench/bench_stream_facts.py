"""stream_svc's share of a fresh feed page: the per-user fact RPCs ranking_svc sends it.

Self-contained like bench_feed.py: a throwaway PostgreSQL database and Redis namespace,
seeded with bench/seed_feed.py at `--scale`, stream_svc started as its own process with
the environment bench_feed.py gives it. Then, for many distinct users, one "page" sends
what ranking_svc sends stream_svc for a fresh page (ranking_svc/domain/feed.py):
GetAffinityFacts(user, limit 50) and GetWatchHistory(user, limit 200) side by side, then
BatchGetEngagement of the page's candidates (`--candidates` ids, a fresh sample per
page). GetTrendingFacts is left out: ranking_svc memoises it across users. Every call
goes through a real gRPC channel with a deadline and ranking_svc's service token.

Pages start at a fixed rate (open loop); latency is from each page's scheduled start.
Printed: stream_svc's CPU per page (utime + stime from /proc, before/after), p50/p95/p99
of the page, and of each RPC.

    .venv/bin/python bench/bench_stream_facts.py [--scale 1] [--rate 50] [--seconds 20]
        [--candidates 300] [--repeat 2] [--rpcs affinity,history,engagement]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "gen"), str(REPO), str(REPO / "bench")]
os.chdir(REPO)

import grpc  # noqa: E402
import psycopg  # noqa: E402
from bench_feed import (  # noqa: E402
    PYTHON,
    cpu_seconds,
    free_port,
    grpc_serving,
    process,
    seeded_world,
    wait_for,
)
from reels.stream.v1 import stream_service_pb2 as pb  # noqa: E402
from reels.stream.v1 import stream_service_pb2_grpc as stream_grpc  # noqa: E402

# What ranking_svc asks for on a fresh page (feed.py: affinity(user, 50), watched(user,
# 200)) and the deadlines it gives those calls, widened: on 2 shared cores a missed
# deadline would hide the CPU a call costs rather than measure it.
AFFINITY_LIMIT = 50
HISTORY_LIMIT = 200
DEADLINE_S = 2.0


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def line(name: str, values: list[float]) -> str:
    return (
        f"  {name:<20} p50 {pct(values, 50):7.1f} ms  p95 {pct(values, 95):7.1f} ms  "
        f"p99 {pct(values, 99):7.1f} ms"
    )


async def run(
    args: argparse.Namespace,
    address: str,
    token: str,
    users: int,
    videos: list[str],
    pid: int,
) -> None:
    metadata = (("authorization", f"Bearer {token}"),)
    idle = [0.0]  # stream_svc's CPU seconds per second without requests
    rng = random.Random(args.seed)
    async with grpc.aio.insecure_channel(address) as channel:
        stub = stream_grpc.StreamServiceStub(channel)
        user_order = list(range(users))
        rng.shuffle(user_order)
        next_user = iter(user_order * 1000)

        async def timed(calls: dict[str, list[float]], name: str, call) -> object:  # type: ignore[no-untyped-def]
            started = time.perf_counter()
            reply = await call
            calls.setdefault(name, []).append((time.perf_counter() - started) * 1000)
            return reply

        async def nothing() -> None:
            return None

        async def page(calls: dict[str, list[float]]) -> tuple[int, int, int]:
            user = f"u{next(next_user):06d}"
            candidates = rng.sample(videos, min(args.candidates, len(videos)))
            affinity, history = await asyncio.gather(
                timed(
                    calls,
                    "GetAffinityFacts",
                    stub.GetAffinityFacts(
                        pb.GetAffinityFactsRequest(user_id=user, limit=AFFINITY_LIMIT),
                        metadata=metadata,
                        timeout=DEADLINE_S,
                    ),
                )
                if "affinity" in args.rpcs
                else nothing(),
                timed(
                    calls,
                    "GetWatchHistory",
                    stub.GetWatchHistory(
                        pb.GetWatchHistoryRequest(user_id=user, limit=HISTORY_LIMIT),
                        metadata=metadata,
                        timeout=DEADLINE_S,
                    ),
                )
                if "history" in args.rpcs
                else nothing(),
            )
            engagement = (
                await timed(
                    calls,
                    "BatchGetEngagement",
                    stub.BatchGetEngagement(
                        pb.BatchGetEngagementRequest(video_ids=candidates),
                        metadata=metadata,
                        timeout=DEADLINE_S,
                    ),
                )
                if "engagement" in args.rpcs
                else None
            )
            return (
                len(affinity.creators) if affinity else 0,  # type: ignore[attr-defined]
                len(history.entries) if history else 0,  # type: ignore[attr-defined]
                len(engagement.engagements) if engagement else 0,  # type: ignore[attr-defined]
            )

        async def open_loop(rate: float, seconds: float, label: str, report: bool) -> None:
            loop = asyncio.get_running_loop()
            latencies: list[float] = []
            calls: dict[str, list[float]] = {}
            errors: dict[str, int] = {}
            sizes = [0, 0, 0]
            total = int(rate * seconds)
            start = loop.time() + 0.05

            async def one(scheduled: float) -> None:
                try:
                    found = await page(calls)
                except grpc.aio.AioRpcError as error:
                    errors[error.code().name] = errors.get(error.code().name, 0) + 1
                    return
                latencies.append((loop.time() - scheduled) * 1000)
                for i, n in enumerate(found):
                    sizes[i] += n

            cpu0 = cpu_seconds(pid)
            tasks = []
            for i in range(total):
                scheduled = start + i / rate
                delay = scheduled - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                tasks.append(asyncio.ensure_future(one(scheduled)))
            await asyncio.gather(*tasks)
            cpu = cpu_seconds(pid) - cpu0
            elapsed = loop.time() - start
            busy = cpu - idle[0] * elapsed
            if not report:
                return
            done = max(1, len(latencies))
            print(
                f"{label}: offered {rate:.0f} pages/s, achieved {len(latencies) / elapsed:.0f}/s, "
                f"n={total} errors={sum(errors.values())} {errors or ''}"
            )
            print(
                f"  stream_svc CPU {1000 * busy / max(1, total):6.2f} ms/page"
                f" ({1000 * cpu / max(1, total):.2f} before taking idle off)"
            )
            print(line("page", latencies))
            for name, values in calls.items():
                print(line(name, values))
            print(
                f"  per page on average: {sizes[0] / done:.1f} creators, "
                f"{sizes[1] / done:.1f} history entries, {sizes[2] / done:.1f} engagements"
            )

        # Warm-up (connections, chDB's caches, the token's first verification) is not measured.
        await open_loop(10, 5, "warm-up", report=False)
        # What stream_svc burns with no request (its consumers, chDB's background merges of
        # the freshly seeded parts) is charged to no page: it is measured and taken off.
        cpu0, idle_started = cpu_seconds(pid), time.monotonic()
        await asyncio.sleep(args.idle_seconds)
        idle[0] = (cpu_seconds(pid) - cpu0) / (time.monotonic() - idle_started)
        print(f"# stream_svc idle: {1000 * idle[0]:.1f} ms of CPU per second")
        print(
            f"# {users} seeded users, {len(videos)} videos; per page: affinity({AFFINITY_LIMIT})"
            f" + history({HISTORY_LIMIT}) side by side, then engagement of {args.candidates}"
            " candidates; deadline "
            f"{DEADLINE_S:.0f} s per call; load generator on the same 2 cores;"
            f" sending {','.join(sorted(args.rpcs))}"
        )
        for run_index in range(args.repeat):
            await open_loop(args.rate, args.seconds, f"run {run_index + 1}", report=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--rate", type=float, default=50)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--candidates", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--idle-seconds", type=float, default=5)
    parser.add_argument(
        "--rpcs",
        type=lambda v: set(v.split(",")),
        default={"affinity", "history", "engagement"},
        help="the page's calls to send (affinity,history,engagement): to attribute the CPU",
    )
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    with seeded_world("reels-bench-stream-facts-", args.scale, args.seed) as world:
        print(world.seed_line)
        users, database_url, signer = world.users, world.database_url, world.signer
        with psycopg.connect(database_url) as conn:
            videos = [
                row[0]
                for row in conn.execute(
                    "SELECT video_id::text FROM stream.video_engagement ORDER BY video_id"
                ).fetchall()
            ]
        stream, metrics_port = world.env["STREAM_SVC_ADDR"], free_port()
        env = {
            **world.env,
            "SERVICE_NAME": "stream_svc",
            "GRPC_LISTEN": stream,
            "METRICS_PORT": str(metrics_port),
        }
        with process([PYTHON, "-m", "stream_svc"], world.work / "stream.log", env) as proc:
            wait_for(lambda: grpc_serving(stream), 120, "stream_svc")
            # ranking_svc's own identity, as its ServiceTokenSource mints it.
            token = signer.mint_service("ranking_svc", ttl=3600)
            asyncio.run(run(args, stream, token, users, videos, proc.pid))


if __name__ == "__main__":
    main()
