"""End-to-end ingestion: playback events posted through Envoy until queryable in ClickHouse.

Needs `make up` first (the real mesh: Envoy, stream_svc with chDB in-process, PostgreSQL,
Redis). The bench publishes one video per client as media_svc would (a VideoPublishedEvent
on the stack's event bus), then each client posts batches of playback events for its video
through Envoy (`POST /api/v1/reels/{id}/events`), back to back or at an offered rate, for a
fixed time.

"Queryable" is measured through an RPC that reads ClickHouse: stream_svc's
`GetWatchHistory` (ClickHouse `watch_history`, called directly on stream_svc with a service
token, since it is internal). One viewer watches every bench video and every session is a
20 s video watched to the end, so one history poll says how many sessions of each video
landed; a batch is queryable once all its sessions are. Prints sustained events/s (posted,
and first POST → last batch queryable), stream_svc's CPU per event (from its Prometheus
endpoint), and the post→queryable lag p50/p95/max (from the moment the POST was sent).

    .venv/bin/python bench/bench_ingestion.py [--clients 8] [--batch 500] [--seconds 30]
        [--rate EVENTS_PER_S] [--poll 0.2]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import grpc
import httpx
from redis.asyncio import Redis

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "gen"), str(REPO)]
os.chdir(REPO)  # the key paths in Config's defaults are relative to the repository

from google.protobuf import duration_pb2, timestamp_pb2  # noqa: E402
from reels.common.v1 import events_pb2, video_pb2  # noqa: E402
from reels.stream.v1 import stream_service_pb2 as pb  # noqa: E402
from reels.stream.v1 import stream_service_pb2_grpc as stream_grpc  # noqa: E402

from reels_runtime.auth import TokenSigner  # noqa: E402
from reels_runtime.config import Config  # noqa: E402
from reels_runtime.eventbus import EventBus  # noqa: E402

GATEWAY = os.environ.get("GATEWAY_URL", "http://127.0.0.1:8080")
VIDEO_S = 20
# One viewing session: five progress events of a 20 s video watched to the end.
SESSION = (
    ("PLAYBACK_ACTION_WATCH_START", 0),
    ("PLAYBACK_ACTION_WATCH_25", 5),
    ("PLAYBACK_ACTION_WATCH_50", 10),
    ("PLAYBACK_ACTION_WATCH_75", 15),
    ("PLAYBACK_ACTION_WATCH_COMPLETE", 20),
)


async def cpu_seconds(http: httpx.AsyncClient, url: str) -> float | None:
    """stream_svc's process_cpu_seconds_total from its Prometheus endpoint, if reachable."""
    try:
        text = (await http.get(url, timeout=5)).text
    except httpx.HTTPError:
        return None
    for line in text.splitlines():
        if line.startswith("process_cpu_seconds_total "):
            return float(line.split()[1])
    return None


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


@dataclass
class Client:
    index: int
    user: str
    video_id: str
    headers: dict[str, str]
    # (monotonic time the POST was sent, sessions posted up to and including the batch)
    posted: list[tuple[float, int]] = field(default_factory=list)
    sessions: int = 0
    events: int = 0
    rejected: int = 0
    # Events (and POSTs) refused whole with 429 while the consumers were too far behind.
    refused: int = 0
    refused_posts: int = 0
    backoff_s: float = 0.0
    lags: list[float] = field(default_factory=list)
    last_seen: float = 0.0


async def publish_videos(config: Config, count: int, run: str) -> list[str]:
    redis = Redis.from_url(config.redis_url)
    bus = EventBus(redis, config.event_stream_prefix)
    ids = []
    try:
        for k in range(count):
            video_id = str(uuid.uuid4())
            now = timestamp_pb2.Timestamp()
            now.GetCurrentTime()
            length = duration_pb2.Duration(seconds=VIDEO_S)
            message = events_pb2.VideoPublishedEvent(
                event_id=str(uuid.uuid4()),
                occur_time=now,
                video=video_pb2.VideoSummary(
                    video_id=video_id,
                    creator_id=f"bench-creator-{run}-{k}",
                    title=f"bench {run} {k}",
                    duration=length,
                    status=video_pb2.VIDEO_STATUS_PUBLISHED,
                    publish_time=now,
                    update_time=now,
                ),
            )
            await bus.publish("video.published", message, event_id=message.event_id)
            ids.append(video_id)
    finally:
        await redis.aclose()
    return ids


def batch_body(client: Client, batch_no: int, sessions: int) -> dict:
    now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    events = []
    for s in range(sessions):
        session = f"c{client.index}-b{batch_no}-s{s}"
        for step, (action, second) in enumerate(SESSION):
            events.append(
                {
                    "event_id": f"{session}-{step}",
                    "action": action,
                    "event_time": now,
                    "session_id": session,
                    "device": "bench",
                    "bitrate_kbps": 2500,
                    "watch_duration": f"{second}s",
                    "position": f"{second}s",
                }
            )
    return {"events": events}


async def post_batches(
    http: httpx.AsyncClient,
    client: Client,
    per_batch: int,
    until: float,
    every: float,
    offset: float,
):
    """Posts batches until `until`: back to back, or one every `every` seconds (open loop:
    a slow answer does not delay the next batch's slot)."""
    sessions = per_batch // len(SESSION)
    batch_no = 0
    next_slot = time.monotonic() + offset
    while time.monotonic() < until:
        if every:
            await asyncio.sleep(max(0.0, next_slot - time.monotonic()))
            next_slot += every
        body = batch_body(client, batch_no, sessions)
        sent = time.monotonic()
        reply = await http.post(
            f"/api/v1/reels/{client.video_id}/events", json=body, headers=client.headers
        )
        if reply.status_code == 429:
            # Backpressure: nothing of the batch was kept; wait as told and post a new one
            # (an open loop loses the slots it waits through, as a real client would).
            client.refused += len(body["events"])
            client.refused_posts += 1
            wait = min(float(reply.headers.get("retry-after", "1")), max(0.0, until - sent))
            client.backoff_s += wait
            await asyncio.sleep(wait)
            if every:
                next_slot = max(next_slot, time.monotonic())
            continue
        reply.raise_for_status()
        result = reply.json()
        client.rejected += len(result.get("rejected_events", []))
        client.events += result["accepted_count"]
        client.sessions += sessions
        client.posted.append((sent, client.sessions))
        batch_no += 1


async def watch_queryable(
    stub: stream_grpc.StreamServiceStub,
    service: list,
    viewer: str,
    clients: list[Client],
    done: asyncio.Event,
    interval: float,
) -> None:
    """Polls the viewer's history (one ClickHouse query for every client's video: the
    polls share chDB with the inserts being measured) and dates each batch's arrival."""
    pending = [0] * len(clients)  # per client, its first batch not yet seen
    while True:
        reply = await stub.GetWatchHistory(
            pb.GetWatchHistoryRequest(user_id=viewer), metadata=service, timeout=10
        )
        now = time.monotonic()
        seen = {
            e.video_id: round(e.watch_duration.ToTimedelta().total_seconds() / VIDEO_S)
            for e in reply.entries
        }
        for k, client in enumerate(clients):
            landed = seen.get(client.video_id, 0)
            while pending[k] < len(client.posted) and client.posted[pending[k]][1] <= landed:
                client.lags.append(now - client.posted[pending[k]][0])
                client.last_seen = now
                pending[k] += 1
        if done.is_set() and all(p == len(c.posted) for p, c in zip(pending, clients, strict=True)):
            return
        await asyncio.sleep(interval)


async def run(args: argparse.Namespace) -> None:
    config = Config.from_env(service_name="bench-ingestion")
    signer = TokenSigner.from_config(config)
    service = [("authorization", f"Bearer {signer.mint_service('bench', ttl=3600)}")]
    tag = uuid.uuid4().hex[:6]
    videos = await publish_videos(config, args.clients, tag)
    async with grpc.aio.insecure_channel(config.stream_svc_addr) as channel:
        stub = stream_grpc.StreamServiceStub(channel)
        deadline = time.monotonic() + 60
        while True:
            known = await stub.BatchGetEngagement(
                pb.BatchGetEngagementRequest(video_ids=videos), metadata=service, timeout=10
            )
            if len(known.engagements) == len(videos):
                break
            if time.monotonic() > deadline:
                raise SystemExit("stream_svc did not learn of the bench videos within 60 s")
            await asyncio.sleep(0.2)
        # One viewer watches every client's video, so one history poll covers them all.
        viewer = f"bench-viewer-{tag}"
        headers = {"authorization": f"Bearer {signer.mint_user(viewer, ttl=3600)}"}
        clients = [Client(k, viewer, video, headers) for k, video in enumerate(videos)]
        limits = httpx.Limits(max_connections=args.clients, max_keepalive_connections=args.clients)
        done = asyncio.Event()
        async with httpx.AsyncClient(base_url=GATEWAY, timeout=60, limits=limits) as http:
            watcher = asyncio.create_task(
                watch_queryable(stub, service, viewer, clients, done, args.poll)
            )
            cpu_before = await cpu_seconds(http, args.stream_metrics)
            load_before = os.getloadavg()
            started = time.monotonic()
            until = started + args.seconds
            # With --rate, each client posts one batch per `every` seconds, staggered.
            every = args.batch * args.clients / args.rate if args.rate else 0.0
            await asyncio.gather(
                *(
                    post_batches(http, c, args.batch, until, every, every * c.index / len(clients))
                    for c in clients
                )
            )
            posting_s = time.monotonic() - started
            done.set()
            try:
                await asyncio.wait_for(watcher, timeout=300)
            except TimeoutError:
                print("WARNING: not every batch became queryable within 300 s")
            cpu_after = await cpu_seconds(http, args.stream_metrics)
    load_after = os.getloadavg()
    events = sum(c.events for c in clients)
    lags = [lag for c in clients for lag in c.lags]
    last = max((c.last_seen for c in clients), default=started)
    print(
        f"gateway {GATEWAY}; {args.clients} concurrent clients, {args.batch} events per POST "
        f"({args.batch // len(SESSION)} sessions of {len(SESSION)} events), {args.seconds} s, "
        f"{f'offered {args.rate:,.0f} events/s' if args.rate else 'closed loop'}; "
        f"GetWatchHistory polled every {args.poll} s"
    )
    print(
        f"posted {events} events in {sum(len(c.posted) for c in clients)} POSTs over "
        f"{posting_s:.1f} s: {events / posting_s:,.0f} events/s accepted "
        f"({sum(c.rejected for c in clients)} rejected)"
    )
    refused = sum(c.refused for c in clients)
    print(
        f"refused with 429 (backlog over STREAM_EVENTS_MAX_BACKLOG): {refused} events in "
        f"{sum(c.refused_posts for c in clients)} POSTs "
        f"({refused / max(1, refused + events):.1%} of the events offered); "
        f"clients waited {sum(c.backoff_s for c in clients):.1f} s in all per Retry-After"
    )
    print(
        f"end to end (first POST → last batch queryable in ClickHouse, {last - started:.1f} s): "
        f"{events / (last - started):,.0f} events/s  (goal ≥ 10,000/s)"
    )
    if cpu_before is not None and cpu_after is not None and events:
        per_event = (cpu_after - cpu_before) / events
        print(
            f"stream_svc CPU: {per_event * 1e6:,.0f} µs per event from POST to ClickHouse and "
            f"the counters (RPC, bus, consumer, polls), i.e. {1 / per_event:,.0f} events/s "
            "per fully used core"
        )
    print(
        "load average (1/5/15 min) before "
        + "/".join(f"{v:.2f}" for v in load_before)
        + ", after "
        + "/".join(f"{v:.2f}" for v in load_after)
        + f" on {os.cpu_count()} CPUs (other work on the machine skews every figure)"
    )
    if lags:
        print(
            f"post→queryable lag over {len(lags)} batches: p50 {statistics.median(lags):.2f} s  "
            f"p95 {percentile(lags, 0.95):.2f} s  max {max(lags):.2f} s  (goal p95 ≤ 5 s)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--batch", type=int, default=500, help="events per POST (≤ 500)")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument(
        "--rate",
        type=float,
        default=0.0,
        help="offered events/s over all clients (open loop); 0 posts as fast as answered",
    )
    parser.add_argument(
        "--poll", type=float, default=0.2, help="seconds between two polls of the history"
    )
    parser.add_argument(
        "--stream-metrics",
        default=os.environ.get("STREAM_METRICS_URL", "http://127.0.0.1:9462/metrics"),
        help="stream_svc's Prometheus endpoint (make up: port 9462), for its CPU time",
    )
    args = parser.parse_args()
    if not 5 <= args.batch <= 500:
        parser.error("--batch must be between 5 and 500")
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
