"""Scrapes every `make up` component's /metrics and checks the platform's metrics are there.

    .venv/bin/python scripts/check_metrics.py [--require-activity]

Run after an upload, some playback and a feed request (scripts/smoke.sh does): with
--require-activity, each metric those produce must show it (a counter or histogram count
above zero), not only exist. Exits 1 naming every metric that is missing or idle.
"""

from __future__ import annotations

import argparse
import sys
import urllib.request
from collections import defaultdict

from prometheus_client.parser import text_string_to_metric_families

# Run as a script, scripts/ is on the path: stack.py knows each component's metrics port.
from stack import MODEL_SERVER_METRICS_PORT, SERVICES, WORKER_METRICS_PORT

# Family name (as the parser reports it: counters without _total) -> must it have moved
# after an upload, playback events and a feed request? Gauges may rightly read 0.
EXPECTED: dict[str, bool] = {
    # media pipeline
    "video_upload_duration_seconds": True,
    "video_transcoding_duration_seconds": True,
    "videos_uploaded": True,
    "videos_in_processing_queue": False,
    # streaming
    "video_streaming_latency_ms": True,
    "video_segments_served": False,
    "active_video_streams": False,
    "bitrate_switch_count": False,
    "video_segment_errors": False,
    "cdn_probe_latency_ms": False,
    "cdn_probe_errors": False,
    "video_sessions_hd_share": False,
    "event_ingestion_lag_seconds": False,
    # embeddings and ranking
    "deep_model_inference_ms": True,
    "embedding_generations": True,
    "milvus_search_latency_ms": False,
    "embedding_queue_depth": False,
    "ranking_requests": True,
    "feed_cache_hits": False,
    "feed_cache_misses": True,
    "feed_fallbacks": False,
    # engagement
    "video_likes": True,
    "video_shares": False,
    "video_comments": False,
    "average_completion_rate": False,
}


def endpoints() -> dict[str, str]:
    ports = {name: port for name, _, port in SERVICES}
    ports["media_worker"] = WORKER_METRICS_PORT
    ports["model_server"] = MODEL_SERVER_METRICS_PORT
    return {name: f"http://127.0.0.1:{port}/metrics" for name, port in ports.items()}


def activity(family) -> float:  # type: ignore[no-untyped-def]
    """A counter's total, a histogram's or summary's observation count, a gauge's value."""
    total = 0.0
    for sample in family.samples:
        if family.type in ("histogram", "summary"):
            if sample.name.endswith("_count"):
                total += sample.value
        elif family.type == "counter":
            if sample.name.endswith("_total"):
                total += sample.value
        else:
            total += abs(sample.value)
    return total


def scrape() -> tuple[dict[str, float], dict[str, set[str]], list[str]]:
    seen: dict[str, float] = defaultdict(float)
    where: dict[str, set[str]] = defaultdict(set)
    errors = []
    for component, url in endpoints().items():
        try:
            with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback
                text = response.read().decode()
        except OSError as exc:
            errors.append(f"{component}: {url} unreachable ({exc})")
            continue
        for family in text_string_to_metric_families(text):
            seen[family.name] += activity(family)
            where[family.name].add(component)
    return seen, where, errors


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--require-activity", action="store_true")
    args = parser.parse_args()
    seen, where, errors = scrape()
    problems = list(errors)
    for name, must_move in EXPECTED.items():
        if name not in seen:
            problems.append(f"{name}: exported by no component")
        elif args.require_activity and must_move and seen[name] <= 0:
            problems.append(f"{name}: exported by {sorted(where[name])} but never moved")
        else:
            print(f"ok    {name} = {seen[name]:g} ({', '.join(sorted(where[name]))})")
    for problem in problems:
        print(f"FAIL  {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
