"""ranking_svc's Prometheus metrics."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

# Counters get the `_total` suffix from prometheus_client: ranking_requests_total{algo}.
RANKING_REQUESTS = Counter(
    "ranking_requests", "Feed pages asked for, by ranking (ch, trending).", ["algo"]
)
FEED_CACHE_HITS = Counter("feed_cache_hits", "Feed pages served from the 60 s page cache.")
FEED_CACHE_MISSES = Counter("feed_cache_misses", "Feed pages that had to be built.")
FEED_FALLBACKS = Counter(
    "feed_fallbacks",
    "Dependencies a feed page did without, by reason (dependency and status).",
    ["reason"],
)
FEED_LATENCY_MS = Histogram(
    "feed_latency_ms",
    "Time to answer a feed page, in milliseconds, by whether it came from the cache.",
    ["cache"],
    buckets=(1, 2, 5, 10, 15, 25, 50, 75, 100, 150, 200, 300, 500, 800, 1500),
)
FEED_PREFETCHES = Counter(
    "feed_prefetches",
    "Next pages prefetched after a page was served, by outcome (built, cached already, "
    "shed under load, failed).",
    ["outcome"],
)
RANKING_BACKGROUND = Gauge(
    "ranking_background_tasks",
    "Background work in flight (prefetches, profile and seen-filter writes).",
)
