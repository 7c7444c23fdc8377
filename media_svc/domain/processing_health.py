"""Turns the pipeline's probes into healthy / degraded / unhealthy with reasons."""

from __future__ import annotations

import enum
from dataclasses import dataclass

# Past this many waiting uploads the pipeline still works but falls behind (issue: queue
# deeper than 1000 is the worker's warning threshold).
QUEUE_DEPTH_WARNING = 1000


class HealthState(enum.StrEnum):
    HEALTHY = "healthy"
    DEGRADED = "degraded"
    UNHEALTHY = "unhealthy"


@dataclass(frozen=True)
class PipelineProbes:
    """What was measured just now; each probe is answered by the real component."""

    queue_depth: int
    live_workers: int
    object_store_reachable: bool
    object_store_detail: str
    cdn_reachable: bool
    cdn_detail: str
    processed_count: int = 0
    failed_count: int = 0
    processing_seconds: float = 0.0

    @property
    def failure_rate(self) -> float:
        finished = self.processed_count + self.failed_count
        return self.failed_count / finished if finished else 0.0

    @property
    def average_processing_seconds(self) -> float:
        return self.processing_seconds / self.processed_count if self.processed_count else 0.0


@dataclass(frozen=True)
class PipelineHealth:
    state: HealthState
    reasons: tuple[str, ...]
    probes: PipelineProbes


def assess(probes: PipelineProbes) -> PipelineHealth:
    """Unhealthy when nothing can be processed; degraded when it is slow or CDN-less."""
    fatal: list[str] = []
    degraded: list[str] = []
    if not probes.object_store_reachable:
        fatal.append(probes.object_store_detail or "object store unreachable")
    if probes.live_workers == 0:
        fatal.append("no transcode worker is running")
    if probes.queue_depth > QUEUE_DEPTH_WARNING:
        degraded.append(f"queue depth {probes.queue_depth} exceeds {QUEUE_DEPTH_WARNING}")
    if not probes.cdn_reachable:
        degraded.append(probes.cdn_detail or "CDN unreachable: segments are served from origin")
    if fatal:
        state = HealthState.UNHEALTHY
    elif degraded:
        state = HealthState.DEGRADED
    else:
        state = HealthState.HEALTHY
    return PipelineHealth(state, tuple(fatal + degraded), probes)
