"""stream_svc's `video_events` consumer: the bus's batch consumer
(`reels_runtime.batch_consumer`), observing the ingestion lag of what it acknowledges."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from reels_runtime.batch_consumer import BatchConsumer as _BatchConsumer
from reels_runtime.batch_consumer import BatchHandler, Delivered, ensure_groups
from stream_svc.metrics import ingestion_lag

__all__ = ["BatchConsumer", "BatchHandler", "Delivered", "ensure_groups", "observe_lag"]


def observe_lag(topic: str, batch: Sequence[Delivered]) -> None:
    """Each acknowledged event's lag from its entry's append time (an entry carrying a
    request batch counts once per event)."""
    ingestion_lag(topic, [d.stream_id for d in batch], [d.size for d in batch])


class BatchConsumer(_BatchConsumer):
    def __init__(self, *args: Any, **options: Any) -> None:
        options.setdefault("on_acked", observe_lag)
        super().__init__(*args, **options)
