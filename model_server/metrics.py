"""The model server's Prometheus metrics, in a registry of its own.

The model server is its own process (a stand-in for TensorFlow Serving). Its
`deep_model_inference_ms` is the time TensorFlow ran, while embed_svc exports the same name
for the round trip it waited, with an outcome label. A registry of its own keeps the two
apart wherever both are imported into one process (tests, tools).
"""

from __future__ import annotations

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
)

METRICS = CollectorRegistry()
ProcessCollector(registry=METRICS)
PlatformCollector(registry=METRICS)

INFERENCE_MS = Histogram(
    "deep_model_inference_ms",
    "Time TensorFlow spent running one Predict request, in milliseconds.",
    ["model"],
    buckets=(1, 2, 5, 10, 20, 35, 50, 75, 100, 150, 200, 300, 500, 1000, 2500, 5000),
    registry=METRICS,
)
REQUESTS = Counter(
    "deep_model_requests",
    "Model server requests by model, method and status code.",
    ["model", "method", "code"],
    registry=METRICS,
)

PENDING = Gauge(
    "deep_model_inference_pending",
    "Predict requests running or queued for an inference thread.",
    registry=METRICS,
)
