"""embed_svc's Prometheus metrics (default registry, served on METRICS_PORT)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

_MS_BUCKETS = (1, 2, 5, 10, 15, 20, 30, 50, 75, 100, 150, 200, 300, 500, 1000, 2500, 5000)

INFERENCE_MS = Histogram(
    "deep_model_inference_ms",
    "Predict round trips to the model server, in milliseconds, by model and outcome.",
    ["model", "outcome"],
    buckets=_MS_BUCKETS,
)
GENERATIONS = Counter(
    "embedding_generations_total",
    "Video embeddings generated (EmbedVideo), by outcome.",
    ["outcome"],
)
SEARCH_MS = Histogram(
    "milvus_search_latency_ms",
    "Milvus search calls, in milliseconds, by collection (one call may carry many queries).",
    ["collection"],
    buckets=_MS_BUCKETS,
)
SEARCH_QUERIES = Histogram(
    "milvus_search_queries_per_call",
    "Query vectors carried by one Milvus search call (the coalescer batches recalls).",
    buckets=(1, 2, 4, 8, 16, 32, 64),
)
QUEUE_DEPTH = Gauge(
    "embedding_queue_depth",
    "Work waiting in embed_svc's queues: vectors to mirror, users to refresh.",
    ["queue"],
)
RECALL_SOURCE = Counter(
    "embed_recall_total",
    "RecallForUser answers by source (precomputed, computed, cold_start).",
    ["source"],
)
