"""Upload→published latency and upload memory through the gateway of a running stack.

Needs `make up` first (it measures the real mesh: Envoy, media_svc, the transcode worker,
SeaweedFS, PostgreSQL, Redis). Prints:
  * upload→published latency for N uploads of a 1080x1920 15-second clip, 1 and 4 at a
    time (p50 / p95 / max; the product's SLA is 5 minutes, the goal p95 ≤ 60 s);
  * media_svc's resident memory before and at the peak of a large upload through Envoy
    (goal: < 100 MB growth for 500 MB; the upload streams to disk, not to memory).

    .venv/bin/python bench/bench_pipeline.py [--uploads 20] [--big-mb 500]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.support.clips import make_clip  # noqa: E402

GATEWAY = os.environ.get("GATEWAY_URL", "http://127.0.0.1:8080")


def token(user: str) -> str:
    return subprocess.run(
        [
            str(REPO / ".venv/bin/python"),
            "-m",
            "reels_runtime.auth",
            "token",
            "--keys",
            str(REPO / "var/keys"),
            "--user",
            user,
        ],
        check=True,
        capture_output=True,
        text=True,
        cwd=REPO,
    ).stdout.strip()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def upload_and_wait(http: httpx.AsyncClient, clip: Path, headers: dict) -> float:
    started = time.monotonic()
    with clip.open("rb") as body:
        reply = await http.post(
            "/api/v1/reels/upload",
            headers=headers,
            data={"title": "bench"},
            files={"file": (clip.name, body, "video/mp4")},
        )
    reply.raise_for_status()
    video_id = reply.json()["video_id"]
    while True:
        status = (await http.get(f"/api/v1/reels/{video_id}/status", headers=headers)).json()
        if status["status"] == "VIDEO_STATUS_PUBLISHED":
            return time.monotonic() - started
        if status["status"] == "VIDEO_STATUS_FAILED":
            raise RuntimeError(f"{video_id} failed: {status.get('failure_reason')}")
        await asyncio.sleep(0.25)


async def latency_run(clip: Path, uploads: int, concurrency: int) -> list[float]:
    # Each run uses a fresh user: the daily upload limit (100) is per user.
    headers = {"authorization": f"Bearer {token(f'bench-{concurrency}-{time.time_ns()}')}"}
    limit = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(base_url=GATEWAY, timeout=600) as http:

        async def one() -> float:
            async with limit:
                return await upload_and_wait(http, clip, headers)

        return await asyncio.gather(*(one() for _ in range(uploads)))


def media_svc_pid() -> int:
    out = subprocess.run(
        [
            str(REPO / ".venv/bin/supervisorctl"),
            "-c",
            str(REPO / "var/run/supervisord.conf"),
            "pid",
            "media_svc",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    return int(out)


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def big_upload_memory(size_mb: int, scratch: Path) -> tuple[float, float, int]:
    """Streams a `size_mb` file through Envoy while sampling media_svc's RSS.

    The file is an MP4 header followed by filler, so media_svc receives every byte and
    then refuses it at validation: the memory of receiving is what is measured.
    """
    big = scratch / "big.mp4"
    with big.open("wb") as out:
        out.write(b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom")
        block = os.urandom(1 << 20)
        for _ in range(size_mb):
            out.write(block)
    pid = media_svc_pid()
    before = rss_mib(pid)
    peak = before
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, rss_mib(pid))
            time.sleep(0.05)

    sampler = threading.Thread(target=sample)
    sampler.start()
    headers = {"authorization": f"Bearer {token('bench-big')}"}
    try:
        with big.open("rb") as body:
            reply = httpx.post(
                f"{GATEWAY}/api/v1/reels/upload",
                headers=headers,
                data={"title": "big"},
                files={"file": ("big.mp4", body, "video/mp4")},
                timeout=600,
            )
    finally:
        done.set()
        sampler.join()
        big.unlink()
    return before, peak, reply.status_code


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--uploads", type=int, default=20)
    parser.add_argument("--big-mb", type=int, default=500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="reels-bench-") as tmp:
        scratch = Path(tmp)
        clip = make_clip(scratch / "clip_1080x1920_15s.mp4", 1080, 1920, 15.0)
        print(f"clip: 1080x1920, 15 s, {clip.stat().st_size / 1e6:.1f} MB; gateway {GATEWAY}")
        for concurrency in (1, 4):
            latencies = asyncio.run(latency_run(clip, args.uploads, concurrency))
            print(
                f"upload→published, {args.uploads} uploads, {concurrency} at a time: "
                f"p50 {statistics.median(latencies):.1f} s  p95 {percentile(latencies, 0.95):.1f} s"
                f"  max {max(latencies):.1f} s  (SLA 300 s: "
                f"{'all within' if max(latencies) <= 300 else 'MISSED'})"
            )
        before, peak, code = big_upload_memory(args.big_mb, scratch)
        print(
            f"media_svc RSS during a {args.big_mb} MB upload through Envoy: {before:.0f} MiB "
            f"before, {peak:.0f} MiB peak (+{peak - before:.0f} MiB); the upload answered {code}"
        )


if __name__ == "__main__":
    main()
