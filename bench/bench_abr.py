"""Adaptive bitrate in a real player: hls.js in headless Chromium through the whole stack.

Needs `make up` first. Uploads a clip through the gateway (or takes --video-id), serves a
player page from another origin (so CORS is exercised on the gateway, the CDN stand-in and
any origin fallback), and lets hls.js play the HLS master playlist while the DevTools
protocol throttles the network: unthrottled, then a bandwidth drop, then the link restored.
Prints:
  * the share of playback time at >= 720p on the unthrottled link;
  * after the drop: the time to hls.js's decision to switch down, to its first request of a
    lower rung, and how long after the next segment boundary (the player's first segment
    request after the decision) that request came (the product gate is 500 ms);
  * after the restore: the same for the switch back up to the top rung;
for hls.js as shipped and with a faster bandwidth estimate.

Chromium is Debian's (`scripts/ensure_system_packages.sh` installs it); playwright-core and
hls.js are the versions the browser tests pin (tests/browser/package-lock.json), installed
by `npm ci` into var/browser on first use.

    .venv/bin/python bench/bench_abr.py [--seconds 75] [--video-id ID] [--drop-kbps N]
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import http.server
import itertools
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.support.browser import ensure_node_modules  # noqa: E402
from tests.support.clips import make_clip  # noqa: E402

GATEWAY = os.environ.get("GATEWAY_URL", "http://127.0.0.1:8080")
HD_SHORT_SIDE = 720


def _auth(*args: str) -> str:
    return subprocess.run(
        [sys.executable, "-m", "reels_runtime.auth", "token", "--keys", "var/keys", *args],
        check=True,
        capture_output=True,
        text=True,
        cwd=REPO,
    ).stdout.strip()


async def publish(seconds: float) -> str:
    headers = {"authorization": f"Bearer {_auth('--user', f'bench-abr-{uuid.uuid4().hex[:8]}')}"}
    with tempfile.TemporaryDirectory() as directory:
        clip = make_clip(Path(directory) / "abr.mp4", 720, 1280, seconds)
        started = time.monotonic()
        async with httpx.AsyncClient(base_url=GATEWAY, timeout=600) as http:
            with clip.open("rb") as body:
                reply = await http.post(
                    "/api/v1/reels/upload",
                    headers=headers,
                    data={"title": "abr bench"},
                    files={"file": (clip.name, body, "video/mp4")},
                )
            reply.raise_for_status()
            video_id = reply.json()["video_id"]
            while True:
                status = (
                    await http.get(f"/api/v1/reels/{video_id}/status", headers=headers)
                ).json()
                if status["status"] == "VIDEO_STATUS_PUBLISHED":
                    break
                if status["status"] == "VIDEO_STATUS_FAILED":
                    raise RuntimeError(f"{video_id} failed: {status.get('failure_reason')}")
                await asyncio.sleep(0.5)
    print(f"published {video_id} ({seconds:.0f} s clip) in {time.monotonic() - started:.1f} s")
    return video_id


async def master_playlist(video_id: str, token: str) -> str:
    url = f"{GATEWAY}/api/v1/reels/{video_id}/manifest.m3u8"
    async with httpx.AsyncClient(timeout=10) as http:
        for _ in range(100):  # stream_svc learns the video from the event bus
            response = await http.get(url, params={"token": token})
            if response.status_code == 200:
                return response.text
            await asyncio.sleep(0.2)
    raise RuntimeError(f"manifest of {video_id} never became available: {response.text}")


def serve_page(modules: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    """The player page on `localhost:<port>`: another origin than the gateway's."""
    root = Path(tempfile.mkdtemp(prefix="reels-abr-page-"))
    shutil.copy(REPO / "bench" / "abr_player.html", root / "index.html")
    shutil.copy(modules / "hls.js" / "dist" / "hls.min.js", root / "hls.min.js")
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://localhost:{server.server_address[1]}/index.html"


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def play(modules: Path, options: dict) -> dict:
    result = subprocess.run(
        ["node", str(REPO / "bench" / "abr_player.cjs"), str(modules), json.dumps(options)],
        capture_output=True,
        text=True,
        timeout=(options["warmupMs"] + options["throttledMs"] + options["recoveryMs"]) / 1000 + 120,
    )
    if result.returncode != 0:
        raise RuntimeError(f"player failed: {result.stderr[-3000:]}")
    return json.loads(result.stdout)


def _short_side(level: dict) -> int:
    return min(level["width"], level["height"]) if level.get("width") else level["height"]


def analyse(run: dict) -> dict:
    log, phases = run["log"], run["phases"]
    levels = log["levels"]
    events = log["events"]
    sides = [_short_side(level) for level in levels]
    top = max(range(len(levels)), key=lambda i: sides[i])

    def first(kind: str, after: float, where=lambda e: True) -> dict | None:
        return next((e for e in events if e["type"] == kind and e["t"] >= after and where(e)), None)

    def level_at(moment: float) -> int:
        loading = [e for e in events if e["type"] == "loading" and e["t"] <= moment]
        return loading[-1]["level"] if loading else top

    figures: dict = {"levels": [sides[i] for i in range(len(levels))]}
    manifest = next(e for e in events if e["type"] == "manifest")
    figures["start_level"] = sides[manifest["firstLevel"]]
    unthrottled = [s for s in log["samples"] if phases["playing"] <= s["t"] < phases["drop"]]
    playing = [s for s in unthrottled if s["advancing"] and s["level"] >= 0]
    figures["hd_share"] = (
        sum(1 for s in playing if sides[s["level"]] >= HD_SHORT_SIDE) / len(playing)
        if playing
        else 0.0
    )

    def transition(start: float, better: bool) -> dict:
        before = level_at(start)
        target = top if better else None

        def moved(event: dict) -> bool:
            side = sides[event["level"]]
            if target is not None:
                return event["level"] == target
            return side < sides[before]

        decided = first("switching", start, moved)
        requested = first("loading", start, moved)
        shown = first("playing", start, moved)
        # The segment boundary after the decision: the player's next segment request, at
        # whatever rung. 0 ms means the switch took effect at that very boundary.
        boundary = first("loading", decided["t"]) if decided else None
        return {
            "from": sides[before],
            "to": sides[requested["level"]] if requested else None,
            "decision_ms": decided["t"] - start if decided else None,
            "request_ms": requested["t"] - start if requested else None,
            "after_boundary_ms": (
                requested["t"] - boundary["t"] if requested and boundary else None
            ),
            "on_screen_ms": shown["t"] - start if shown else None,
        }

    figures["down"] = transition(phases["drop"], better=False)
    figures["up"] = transition(phases["restore"], better=True)
    throttled = [e for e in events if e["type"] == "loading"]
    throttled = [e for e in throttled if phases["drop"] <= e["t"] < phases["restore"]]
    figures["lowest_throttled"] = min((sides[e["level"]] for e in throttled), default=None)
    figures["errors"] = [e for e in events if e["type"] == "error"]
    loaded = [e["t"] for e in events if e["type"] == "loaded"]
    segment_gaps = [b - a for a, b in itertools.pairwise(loaded)]
    figures["median_segment_interval_ms"] = statistics.median(segment_gaps) if segment_gaps else 0
    return figures


def _ms(value: float | None) -> str:
    return "never" if value is None else f"{value:7.0f} ms"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=75.0, help="clip length to upload")
    parser.add_argument("--video-id", help="play this published video instead of uploading")
    parser.add_argument("--drop-kbps", type=int, help="throttled bandwidth (default: between "
                        "the two lowest rungs, so only the lowest is sustainable)")  # fmt: skip
    parser.add_argument("--latency-ms", type=int, default=40)
    parser.add_argument("--phase-seconds", type=float, default=20.0)
    args = parser.parse_args()
    if shutil.which("node") is None or shutil.which("chromium") is None:
        sys.exit("needs node and Debian's chromium (apt-get install chromium)")
    modules = ensure_node_modules()
    video_id = args.video_id or await publish(args.seconds)
    viewer = f"abr-viewer-{uuid.uuid4().hex[:8]}"
    master = await master_playlist(video_id, _auth("--user", viewer, "--video", video_id))
    # Peak BANDWIDTH of each variant (not AVERAGE-BANDWIDTH).
    bandwidths = sorted(int(b) for b in re.findall(r"[:,]BANDWIDTH=(\d+)", master))
    drop = args.drop_kbps or round((bandwidths[0] + bandwidths[1]) / 2 / 1000)
    server, page = serve_page(modules)
    phase_ms = round(args.phase_seconds * 1000)
    print(f"page origin {page.rsplit('/', 1)[0]}, gateway {GATEWAY}, video {video_id}")
    peaks = [round(b / 1000) for b in bandwidths]
    print(f"variant peaks (kbps): {peaks}; throttle {drop} kbps, {args.latency_ms} ms latency; "
          f"phases of {args.phase_seconds:.0f} s")  # fmt: skip
    try:
        for name, config in PLAYER_CONFIGS.items():
            token = _auth("--user", viewer, "--video", video_id)
            run = play(
                modules,
                {
                    "pageUrl": f"{page}?config={urllib.parse.quote(json.dumps(config))}",
                    "manifestUrl": f"{GATEWAY}/api/v1/reels/{video_id}/manifest.m3u8?token={token}",
                    "warmupMs": phase_ms,
                    "throttledMs": phase_ms,
                    "recoveryMs": phase_ms,
                    "dropKbps": drop,
                    "latencyMs": args.latency_ms,
                },
            )
            report(name, config, analyse(run), args.phase_seconds)
    finally:
        server.shutdown()


# hls.js as shipped, and tuned the way a short-video player would be: a faster bandwidth
# estimate (EWMA half-lives of 1 s and 3 s instead of 3 s and 9 s).
PLAYER_CONFIGS: dict[str, dict] = {
    "hls.js defaults": {},
    "hls.js, fast estimate": {"abrEwmaFastVoD": 1.0, "abrEwmaSlowVoD": 3.0},
}


def report(name: str, config: dict, figures: dict, phase_seconds: float) -> None:
    print(f"== {name} {json.dumps(config) if config else ''}")
    print(f"  rungs {figures['levels']}; start level (stream_svc's first variant): "
          f"{figures['start_level']}p; median segment download interval "
          f"{figures['median_segment_interval_ms']:.0f} ms")  # fmt: skip
    print(f"  unthrottled {phase_seconds:.0f} s: playback at >=720p "
          f"{figures['hd_share'] * 100:5.1f} % of the time")  # fmt: skip
    print(f"  lowest rung while throttled: {figures['lowest_throttled']}p")
    for key, label in (("down", "bandwidth drop"), ("up", "link restored, to the top rung")):
        t = figures[key]
        print(f"  {label}: {t['from']}p -> {t['to']}p")
        print(f"    decision to switch          {_ms(t['decision_ms'])}")
        print(f"    first request at new rung   {_ms(t['request_ms'])}")
        print(f"    ...after the next boundary  {_ms(t['after_boundary_ms'])}   (gate: 500 ms)")
        print(f"    new rung on screen          {_ms(t['on_screen_ms'])}")
    if figures["errors"]:
        print(f"  player errors: {[e['details'] for e in figures['errors']][:5]}")


if __name__ == "__main__":
    asyncio.run(main())
