"""The feed under load through Envoy: cached and fresh pages at fixed offered rates (open
loop), a canned response of the same size through the same Envoy as the floor, ramps to the
knee, and the page-cache hit rate under a Zipf request model.

Self-contained: it creates a throwaway PostgreSQL database and Redis namespace, seeds them
with bench/seed_feed.py at `--scale`, starts stream_svc and ranking_svc as their own
processes (embed_svc is not started: the feed is served by the rules tier, as when the
model is away) and Envoy in front, then offers load from this one process (asyncio +
a lean HTTP/1.1 keep-alive client, up to 256 connections) on the same machine. Latency is measured
from each request's *scheduled* start, so a stalled client does not hide queueing.

    .venv/bin/python bench/bench_feed.py [--scale 0.01] [--seconds 10]
        [--cached-rate 500] [--fresh-rate 50] [--ramp-cached 100,250,500,750]
        [--ramp-fresh 5,10,20,35,50] [--zipf-users 2000] [--zipf-s 1.1]
        [--zipf-rate 150] [--zipf-warmup 60] [--zipf-seconds 30] [--depth-mean 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "gen"), str(REPO)]
os.chdir(REPO)

import grpc  # noqa: E402
from google.protobuf import json_format  # noqa: E402
from grpc_health.v1 import health_pb2, health_pb2_grpc  # noqa: E402
from reels.ranking.v1 import ranking_service_pb2 as pb  # noqa: E402
from reels.ranking.v1 import ranking_service_pb2_grpc as ranking_grpc  # noqa: E402

from reels_runtime import localstack  # noqa: E402
from reels_runtime.auth import PLAYBACK_KEY_FILE, TokenSigner, generate_dev_keys  # noqa: E402
from reels_runtime.db import create_database_if_missing, drop_database_if_exists  # noqa: E402
from reels_runtime.envoy_config import gateway_values, render  # noqa: E402
from reels_runtime.migrate import migrate_postgres  # noqa: E402

PYTHON = sys.executable
BASE_DATABASE_URL = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/reels")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
KID = "reels-bench-1"
PLAYBACK_KID = "reels-bench-playback-1"
CANNED_PATH = "/bench/canned"


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(probe: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if probe():
                return
        except Exception:  # noqa: S110 - not up yet
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{what} not up within {seconds:.0f} s")


def grpc_serving(address: str) -> bool:
    with grpc.insecure_channel(address) as channel:
        reply = health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(), timeout=1
        )
    return reply.status == health_pb2.HealthCheckResponse.SERVING


def http_ok(url: str) -> bool:
    with urllib.request.urlopen(url, timeout=1) as response:  # noqa: S310
        return response.status == 200


@contextmanager
def process(command: list[str], log: Path, env: dict[str, str]) -> Iterator[subprocess.Popen]:
    with log.open("wb") as out:
        proc = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def canned_config(rendered: str, body: str) -> str:
    """Adds a direct response of `body` to the rendered gateway config (the floor)."""
    route = (
        f'- match: {{ path: "{CANNED_PATH}" }}\n'
        "  direct_response:\n"
        "    status: 200\n"
        f"    body: {{ inline_string: {json.dumps(body)} }}\n"
        "  response_headers_to_add:\n"
        '    - header: { key: "content-type", value: "application/json" }\n'
        # The transcoder would answer 404 for a path no RPC maps (reject_unknown_method);
        # every other filter (CORS, JWT, rate limit, Lua) still runs.
        "  typed_per_filter_config:\n"
        "    envoy.filters.http.grpc_json_transcoder:\n"
        '      "@type": type.googleapis.com/envoy.config.route.v3.FilterConfig\n'
        "      disabled: true\n"
    )
    anchor = re.search(
        r"^( *)- match: \{ prefix: \"/reels\.media\.v1\.MediaService/Upload", rendered, re.M
    )
    assert anchor, "route anchor not found in envoy.yaml"
    indent = anchor.group(1)
    block = "".join(indent + line + "\n" for line in route.splitlines())
    rendered = rendered[: anchor.start()] + block + rendered[anchor.start() :]
    name = re.search(r"^( *)name: gateway\n", rendered, re.M)
    assert name, "route_config name not found"
    extra = f"{name.group(1)}max_direct_response_body_size_bytes: 1048576\n"
    return rendered[: name.end()] + extra + rendered[name.end() :]


# ---------------------------------------------------------------------------------------
# A lean HTTP/1.1 client: the load generator shares the 2 cores with everything it
# measures, and httpx spends ~1 ms of CPU per request, so at a few hundred requests per
# second the client, not the feed, would be what is measured.


class RawHttp:
    """Keep-alive HTTP/1.1 GETs over a pool of plain asyncio connections."""

    def __init__(self, host: str, port: int, connections: int) -> None:
        self._host, self._port = host, port
        self._idle: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter] | None]
        self._idle = asyncio.Queue()
        for _ in range(connections):
            self._idle.put_nowait(None)  # opened on first use

    async def get(self, path: str, headers: dict[str, str]) -> tuple[int, bytes]:
        conn = await self._idle.get()
        try:
            if conn is None:
                conn = await asyncio.open_connection(self._host, self._port)
            reader, writer = conn
            head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
            writer.write(f"GET {path} HTTP/1.1\r\nhost: bench\r\n{head}\r\n".encode())
            status_line = await reader.readline()
            status = int(status_line.split()[1])
            length, chunked = None, False
            while True:
                line = await reader.readline()
                if line in (b"\r\n", b""):
                    break
                name, _, value = line.partition(b":")
                name = name.strip().lower()
                if name == b"content-length":
                    length = int(value)
                elif name == b"transfer-encoding" and b"chunked" in value.lower():
                    chunked = True
            if chunked:
                parts = []
                while True:
                    size = int((await reader.readline()).split(b";")[0], 16)
                    if size == 0:
                        await reader.readline()
                        break
                    parts.append(await reader.readexactly(size))
                    await reader.readline()
                body = b"".join(parts)
            else:
                body = await reader.readexactly(length or 0)
        except Exception:
            if conn is not None:
                conn[1].close()
            self._idle.put_nowait(None)
            raise
        self._idle.put_nowait(conn)
        return status, body


# ---------------------------------------------------------------------------------------
# Load


# The processes whose CPU time each run reports per request (pid by name): CPU per
# request does not depend on what else the shared cores run, unlike latency.
CPU_PIDS: dict[str, int] = {}


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Result:
    offered: float
    seconds: float
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    tiers: dict[str, int] = field(default_factory=dict)
    cpu_s: dict[str, float] = field(default_factory=dict)

    def pct(self, p: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]

    @property
    def achieved(self) -> float:
        return len(self.latencies_ms) / self.seconds

    def line(self, name: str) -> str:
        n = len(self.latencies_ms) + self.errors
        return (
            f"{name:<22} offered {self.offered:>6.0f}/s achieved {self.achieved:>6.0f}/s "
            f"n={n:<6} err={self.errors:<4} p50 {self.pct(50):7.1f} ms  "
            f"p95 {self.pct(95):7.1f} ms  p99 {self.pct(99):7.1f} ms"
            + "".join(
                f"  {name} CPU {1000 * cpu / max(1, n):.2f} ms/req"
                for name, cpu in self.cpu_s.items()
            )
        )


async def open_loop(
    rate: float, seconds: float, request: Callable[[int], Awaitable[str | None]]
) -> Result:
    """Starts request i at t0 + i/rate whatever the earlier ones do (open loop)."""
    loop = asyncio.get_running_loop()
    result = Result(rate, seconds)
    total = int(rate * seconds)
    start = loop.time() + 0.05

    async def one(i: int, scheduled: float) -> None:
        try:
            tier = await request(i)
        except Exception:
            result.errors += 1
            return
        if tier == "error":
            result.errors += 1
            return
        result.latencies_ms.append((loop.time() - scheduled) * 1000)
        if tier:
            result.tiers[tier] = result.tiers.get(tier, 0) + 1

    cpu0 = {name: cpu_seconds(pid) for name, pid in CPU_PIDS.items()}
    tasks = []
    for i in range(total):
        scheduled = start + i / rate
        delay = scheduled - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.ensure_future(one(i, scheduled)))
    await asyncio.gather(*tasks)
    result.seconds = max(seconds, loop.time() - start)
    result.cpu_s = {name: cpu_seconds(pid) - cpu0[name] for name, pid in CPU_PIDS.items()}
    return result


def metrics_text(url: str) -> str:
    with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310
        return response.read().decode()


def metric(url: str, name: str) -> float:
    text = metrics_text(url)
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            total += float(line.rsplit(" ", 1)[1])
    return total


async def run(
    args: argparse.Namespace,
    gateway: str,
    ranking: str,
    metrics_url: str,
    signer: TokenSigner,
    users: int,
    namespace: str,
) -> None:
    tokens: dict[str, str] = {}

    def headers(user: str) -> dict[str, str]:
        if user not in tokens:
            tokens[user] = f"Bearer {signer.mint_user(user, ttl=3600)}"
        return {"authorization": tokens[user]}

    host, port = gateway.removeprefix("http://").split(":")
    raw = RawHttp(host, int(port), 256)
    limits = httpx.Limits(max_connections=16, max_keepalive_connections=16)
    async with httpx.AsyncClient(base_url=gateway, timeout=10, limits=limits) as http:
        tier_field = re.compile(rb'"tier":\s*"(\w+)"')
        next_field = re.compile(rb'"next_cursor":\s*"([^"]+)"')

        async def feed(
            user: str, limit: int, cursor: str = "", parse: bool = False
        ) -> tuple[str, dict]:
            """The page's tier (and its body when asked: parsing 70 kB of JSON costs the
            load generator, which shares the cores with the services, real CPU)."""
            params: dict[str, object] = {"limit": limit}
            if cursor:
                params["cursor"] = cursor
            if parse:
                response = await http.get("/api/v1/reels", params=params, headers=headers(user))
                if response.status_code != 200:
                    return "error", {}
                body = response.json()
                return body.get("tier", "?"), body
            path = f"/api/v1/reels?limit={limit}" + (f"&cursor={cursor}" if cursor else "")
            status, content = await raw.get(path, headers(user))
            if status != 200:
                return "error", {}
            found = tier_field.search(content)
            nxt = next_field.search(content)
            return (found.group(1).decode() if found else "?"), (
                {"next_cursor": nxt.group(1).decode()} if nxt else {}
            )

        # Fresh pages: every request a (user, limit) pair never asked for before.
        fresh_pairs = ((f"u{u:06d}", lim) for lim in range(50, 0, -1) for u in range(users))

        async def fresh(_: int) -> str:
            user, limit = next(fresh_pairs)
            tier, _body = await feed(user, limit)
            return tier

        # Warm-up (connections, caches of the services) is not measured.
        await open_loop(10, 2, fresh)
        print(f"# {users} seeded users; ranking_svc without embed_svc (rules tier)")
        print(
            "# one load process (asyncio, raw HTTP/1.1, <=256 keep-alive connections) on the "
            "same 2 cores as Envoy, ranking_svc, stream_svc, PostgreSQL and Redis"
        )
        # Cached pages: a pool of pages built once, then requested again within their TTL.
        warm = [(f"u{u:06d}", 30) for u in range(0, min(users, 400))]
        gate = asyncio.Semaphore(16)

        async def warm_one(user: str, limit: int) -> None:
            async with gate:
                await feed(user, limit)

        async def drained(most_s: float = 30.0) -> None:
            """Waits for ranking_svc's background work (next-page prefetches) to finish,
            from its gauge; a ranking_svc without the gauge gets a fixed 5 s."""
            deadline = time.monotonic() + most_s
            try:
                has_gauge = "ranking_background_tasks" in metrics_text(metrics_url)
            except OSError:
                has_gauge = False
            if not has_gauge:
                await asyncio.sleep(5)
                return
            while time.monotonic() < deadline:
                if metric(metrics_url, "ranking_background_tasks") == 0:
                    break
                await asyncio.sleep(0.2)
            await asyncio.sleep(0.5)
            waited = most_s - (deadline - time.monotonic())
            if waited > 2:
                print(f"# waited {waited:.0f} s for ranking_svc's background work")

        async def rewarm(rebuild: bool = False) -> None:
            if rebuild:
                # Pages still cached from the last warm-up would expire in the middle of
                # the step (their 60 s run out) and be rebuilt under the measured load:
                # drop them, so every page the step asks for was built moments before.
                forget_first_pages(namespace)
            await asyncio.gather(*(warm_one(u, lim) for u, lim in warm))
            # ranking_svc prefetches each built page's next page in the background: let
            # that work drain before measuring.
            await drained()

        await rewarm()
        canned_size = len((await raw.get(CANNED_PATH, headers("u000000")))[1])
        cached_size = len((await raw.get("/api/v1/reels?limit=30", headers(warm[0][0])))[1])

        async def cached(i: int) -> str:
            user, limit = warm[random.randrange(len(warm))]
            return (await feed(user, limit))[0]

        async def canned(_: int) -> str:
            status, _body = await raw.get(CANNED_PATH, headers("u000000"))
            return "" if status == 200 else "error"

        print(
            f"# cached page (limit 30): {cached_size} bytes of JSON; canned response: "
            f"{canned_size} bytes (a real 30-item page, JSON-escaped by Envoy's local reply)"
        )
        # Each measured run starts once the previous one's background work (prefetches)
        # is done, so none is charged for another's.
        results = {"cached": await open_loop(args.cached_rate, args.seconds, cached)}
        await drained()
        results["canned (floor)"] = await open_loop(args.cached_rate, args.seconds, canned)
        results["fresh"] = await open_loop(args.fresh_rate, args.seconds, fresh)
        await drained()
        results["canned @fresh rate"] = await open_loop(args.fresh_rate, args.seconds, canned)
        for name, result in results.items():
            print(result.line(name))
        print(f"# tiers of fresh pages: {results['fresh'].tiers}")

        print("# ramp, cached pages (rebuilt and re-warmed before each step)")
        for rate in args.ramp_cached:
            await rewarm(rebuild=True)
            r = await open_loop(rate, args.ramp_seconds, cached)
            print(r.line(f"cached @{rate:.0f}"))
            if r.errors > 0.01 * (len(r.latencies_ms) + r.errors) or r.pct(95) > 2000:
                break
        print("# ramp, fresh pages")
        for rate in args.ramp_fresh:
            await drained()
            r = await open_loop(rate, args.ramp_seconds, fresh)
            print(r.line(f"fresh @{rate:.0f}"))
            if r.errors > 0.01 * (len(r.latencies_ms) + r.errors) or r.pct(95) > 2000:
                break

        # Page-cache hit rate under a Zipf request model.
        zipf_users = min(args.zipf_users, users)
        rng = random.Random(11)
        weights = [1 / (k + 1) ** args.zipf_s for k in range(zipf_users)]
        order = list(range(zipf_users))
        rng.shuffle(order)
        sessions: dict[str, tuple[str, int]] = {}  # user -> (next cursor, pages left)

        first_seen: set[str] = set()
        phase: dict[str, set[str]] = {"firsts": set(), "users": set()}

        async def zipf_request(_: int) -> str:
            user = f"u{order[rng.choices(range(zipf_users), weights)[0]]:06d}"
            phase["users"].add(user)
            if user not in first_seen:
                # The first page a user asks for in the run cannot be a hit (nothing has
                # been built for them yet): counted to put the hit rate in context.
                first_seen.add(user)
                phase["firsts"].add(user)
            cursor, left = sessions.pop(user, ("", 0))
            if left <= 0:
                cursor = ""
                # Page depth: geometric with the given mean (at least one page).
                left = 1
                while rng.random() > 1 / args.depth_mean:
                    left += 1
            tier, body = await feed(user, 20, cursor)
            nxt = body.get("next_cursor", "")
            if left > 1 and nxt:
                sessions[user] = (nxt, left - 1)
            return tier

        def hit_counts() -> tuple[float, float]:
            return (
                metric(metrics_url, "feed_cache_hits_total"),
                metric(metrics_url, "feed_cache_misses_total"),
            )

        async def zipf_phase(name: str, seconds: float) -> None:
            phase["firsts"], phase["users"] = set(), set()
            hits0, misses0 = hit_counts()
            z = await open_loop(args.zipf_rate, seconds, zipf_request)
            hits1, misses1 = hit_counts()
            hits, misses = hits1 - hits0, misses1 - misses0
            print(z.line(name))
            print(
                f"cache hit rate {name}: {hits / max(1, hits + misses):.1%} "
                f"(hits {hits:.0f}, misses {misses:.0f}, from ranking_svc's metrics; "
                f"{len(phase['users'])} distinct users, {len(phase['firsts'])} of them "
                f"asking for the first time in the run)"
            )

        print(
            f"# cache model: {zipf_users} users, Zipf s={args.zipf_s} activity, page depth "
            f"geometric mean {args.depth_mean} (each session follows next_cursor), limit 20, "
            f"{args.zipf_rate:.0f} req/s, TTL 60 s; first {args.zipf_warmup:.0f} s from a "
            f"cold cache (cold start), then {args.zipf_seconds:.0f} s measured on (steady "
            f"state)"
        )
        await drained()
        if args.zipf_warmup > 0:
            await zipf_phase("zipf cold start", args.zipf_warmup)
        await zipf_phase("zipf steady", args.zipf_seconds)


@dataclass
class SeededWorld:
    """A throwaway PostgreSQL database, chDB directory, Redis namespace and key set, seeded
    by bench/seed_feed.py; `env` is the environment every service of the bench starts
    from (peers not started point at free ports)."""

    work: Path
    signer: TokenSigner
    jwks: Path
    database_url: str
    seed_line: str
    users: int
    env: dict[str, str]


@contextmanager
def seeded_world(prefix: str, scale: float, seed: int) -> Iterator[SeededWorld]:
    """Seeds a world at `scale` and drops its database afterwards (logs stay in `work`)."""
    work = Path(tempfile.mkdtemp(prefix=prefix))
    private, jwks = generate_dev_keys(work / "keys", KID, playback_kid=PLAYBACK_KID)
    signer = TokenSigner.from_pem_file(private, KID, "reels-local", "reels")
    base, _, _ = BASE_DATABASE_URL.rpartition("/")
    database_url = f"{base}/reels_bench_{uuid.uuid4().hex[:10]}"
    data = work / "data"
    data.mkdir()
    clickhouse_url = f"chdb://{(data / 'clickhouse').resolve()}"
    namespace = f"reels-bench-{uuid.uuid4().hex[:8]}"
    create_database_if_missing(database_url)
    try:
        migrate_postgres(database_url)
        started = time.monotonic()
        seed_command = [PYTHON, str(REPO / "bench" / "seed_feed.py"), "--scale", str(scale)]
        seed_command += ["--database-url", database_url, "--clickhouse-url", clickhouse_url]
        seeded = subprocess.run(
            [*seed_command, "--seed", str(seed)], check=True, capture_output=True, text=True
        )
        took = time.monotonic() - started
        line = f"# seed --scale {scale}: {seeded.stdout.strip()} ({took:.0f} s)"
        users = int(re.search(r"users=(\d+)", seeded.stdout).group(1))  # type: ignore[union-attr]
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "REDIS_URL": REDIS_URL,
            "REDIS_NAMESPACE": namespace,
            "REELS_DATA_DIR": str(data),
            "CLICKHOUSE_URL": clickhouse_url,
            "JWT_JWKS_PATH": str(jwks),
            "JWT_PRIVATE_KEY_PATH": str(private),
            "JWT_KEY_ID": KID,
            "JWT_PLAYBACK_KEY_PATH": str(private.parent / PLAYBACK_KEY_FILE),
            "JWT_PLAYBACK_KEY_ID": PLAYBACK_KID,
            "STREAM_SVC_ADDR": f"127.0.0.1:{free_port()}",
            "RANKING_SVC_ADDR": f"127.0.0.1:{free_port()}",
            "EMBED_SVC_ADDR": f"127.0.0.1:{free_port()}",
            "MEDIA_SVC_ADDR": f"127.0.0.1:{free_port()}",
            "CDN_URL": f"http://127.0.0.1:{free_port()}",
            "LOG_LEVEL": "WARNING",
        }
        yield SeededWorld(work, signer, jwks, database_url, line, users, env)
    finally:
        # Nothing of the run outlives it but its logs: the seen filters alone are kept
        # for days, and a run at --scale 1 left ~100 MB in Redis and 50 MB of chDB data.
        drop_database_if_exists(database_url)
        forget_redis_namespace(namespace)
        shutil.rmtree(data, ignore_errors=True)
        print(f"# logs in {work}")


def forget_first_pages(namespace: str) -> None:
    """Deletes every cached first page of the run (keys `{namespace}:{user}:fresh:...`,
    see ranking_svc's RedisFeedStore.page_key)."""
    forget_keys(f"{namespace}:*:fresh:*")


def forget_redis_namespace(namespace: str) -> None:
    forget_keys(f"{namespace}:*")


def forget_keys(pattern: str) -> None:
    """Unlinks the bench's Redis keys matching `pattern`, a thousand at a time."""
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_timeout=10)
    try:
        batch: list[bytes] = []
        for key in client.scan_iter(match=pattern, count=1000):
            batch.append(key)
            if len(batch) >= 1000:
                client.unlink(*batch)
                batch.clear()
        if batch:
            client.unlink(*batch)
    finally:
        client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.01)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--ramp-seconds", type=float, default=5)
    parser.add_argument("--cached-rate", type=float, default=500)
    parser.add_argument("--fresh-rate", type=float, default=50)
    parser.add_argument(
        "--ramp-cached",
        type=lambda s: [float(x) for x in s.split(",")],
        default=[100, 250, 500, 750],
    )
    parser.add_argument(
        "--ramp-fresh",
        type=lambda s: [float(x) for x in s.split(",")],
        default=[5, 10, 20, 35, 50],
    )
    parser.add_argument("--zipf-users", type=int, default=2000)
    parser.add_argument("--zipf-s", type=float, default=1.1)
    parser.add_argument("--zipf-rate", type=float, default=150)
    parser.add_argument("--zipf-seconds", type=float, default=30)
    parser.add_argument(
        "--zipf-warmup",
        type=float,
        default=60,
        help="seconds of the model from a cold cache before the measured (steady) run",
    )
    parser.add_argument("--depth-mean", type=float, default=3)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    with seeded_world("reels-bench-feed-", args.scale, args.seed) as world:
        print(world.seed_line)
        env, work, jwks, signer = world.env, world.work, world.jwks, world.signer
        stream, ranking = env["STREAM_SVC_ADDR"], env["RANKING_SVC_ADDR"]
        metrics_port = free_port()
        with (
            process(
                [PYTHON, "-m", "stream_svc"],
                work / "stream.log",
                {**env, "SERVICE_NAME": "stream_svc", "GRPC_LISTEN": stream, "METRICS_PORT": "0"},
            ) as stream_proc,
            process(
                [PYTHON, "-m", "ranking_svc"],
                work / "ranking.log",
                {
                    **env,
                    "SERVICE_NAME": "ranking_svc",
                    "GRPC_LISTEN": ranking,
                    "METRICS_PORT": str(metrics_port),
                },
            ) as ranking_proc,
        ):
            CPU_PIDS.update(ranking=ranking_proc.pid, stream=stream_proc.pid)
            wait_for(lambda: grpc_serving(stream), 120, "stream_svc")
            wait_for(lambda: grpc_serving(ranking), 60, "ranking_svc")
            # The canned floor is a real page of the same size, rendered once over gRPC.
            with grpc.insecure_channel(ranking) as channel:
                page = ranking_grpc.RankingServiceStub(channel).GetFeed(
                    pb.GetFeedRequest(limit=30),
                    metadata=[("authorization", f"Bearer {signer.mint_user('u000001')}")],
                    timeout=10,
                )
            body = json_format.MessageToJson(page, preserving_proto_field_name=True, indent=None)
            port, admin = free_port(), free_port()
            values = gateway_values(
                {
                    "GATEWAY_PORT": str(port),
                    "GATEWAY_ADMIN_PORT": str(admin),
                    "JWT_JWKS_PATH": str(jwks),
                    "MEDIA_SVC_ADDR": env["MEDIA_SVC_ADDR"],
                    "STREAM_SVC_ADDR": stream,
                    "RANKING_SVC_ADDR": ranking,
                    "GATEWAY_RATE_LIMIT_PER_SECOND": "100000",
                    "GATEWAY_RATE_LIMIT_BURST": "100000",
                }
            )
            config = work / "envoy.yaml"
            config.write_text(canned_config(render(values), body))
            with process(localstack.envoy_command(config), work / "envoy.log", env) as envoy:
                CPU_PIDS["envoy"] = envoy.pid
                wait_for(lambda: http_ok(f"http://127.0.0.1:{admin}/ready"), 30, "Envoy")
                asyncio.run(
                    run(
                        args,
                        f"http://127.0.0.1:{port}",
                        ranking,
                        f"http://127.0.0.1:{metrics_port}/metrics",
                        signer,
                        world.users,
                        env["REDIS_NAMESPACE"],
                    )
                )


if __name__ == "__main__":
    main()
