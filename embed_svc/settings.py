"""embed_svc's own settings, read once from the environment into a frozen dataclass."""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

from reels_runtime.config import ConfigError

# Defaults; .env.example lists the same variables with a comment each.
DEFAULTS: Mapping[str, str] = {
    "EMBED_DIMENSION": "256",
    "EMBED_ENCODER_MODEL": "video_encoder",
    "EMBED_RANKING_MODEL": "ranking_model",
    "EMBED_COLLECTION": "video_embeddings",
    "EMBED_CREATOR_COLLECTION": "creator_centroids",
    "EMBED_CACHE_TTL_SECONDS": "86400",
    "EMBED_INFERENCE_BUDGET_SECONDS": "5",
    "EMBED_USER_HALF_LIFE_HOURS": "72",
    "EMBED_HISTORY_LIMIT": "200",
    "EMBED_RECALL_CANDIDATES": "300",
    "EMBED_RECALL_STALE_SECONDS": "300",
    "EMBED_USER_REFRESH_DELAY_SECONDS": "2",
    "EMBED_MIRROR_INTERVAL_SECONDS": "1",
    "EMBED_CONSUMERS": "true",
}
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


@dataclass(frozen=True)
class EmbedSettings:
    """Everything embed_svc reads beyond the shared Config."""

    # The encoder's output size; the Milvus collection is created with it (256 or 512).
    dimension: int = 256
    encoder_model: str = "video_encoder"
    ranking_model: str = "ranking_model"
    collection: str = "video_embeddings"
    creator_collection: str = "creator_centroids"
    # Redis cache of video embeddings (and of user embeddings).
    cache_ttl_s: int = 86400
    # The most one Predict call may take, before the caller's own deadline caps it.
    inference_budget_s: float = 5.0
    # A watch loses half its weight in the user embedding after this long.
    user_half_life_h: float = 72.0
    history_limit: int = 200
    # Recall candidates kept precomputed per user in Redis (the feed reads these).
    recall_candidates: int = 300
    # Precomputed candidates older than this are served, then refreshed in the background.
    recall_stale_s: float = 300.0
    # A watch event schedules its user's refresh this much later, so stream_svc has
    # written the watch into its history first and a burst of events is one refresh.
    user_refresh_delay_s: float = 2.0
    mirror_interval_s: float = 1.0
    # False for replicas that only serve RPCs while the consumers run elsewhere (possible
    # against a Milvus server; Milvus Lite needs them in this process).
    run_consumers: bool = True

    def replace(self, **changes: object) -> EmbedSettings:
        """A copy with some fields changed (tests start dedicated servers this way)."""
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> EmbedSettings:
        """Reads and validates every variable; the first bad one raises ConfigError."""
        source = os.environ if environ is None else environ

        def get(name: str) -> str:
            return (source.get(name) or "").strip() or DEFAULTS[name]

        def number(name: str, minimum: float, maximum: float) -> float:
            raw = get(name)
            try:
                value = float(raw)
            except ValueError:
                raise ConfigError(name, f"must be a number, got {raw!r}") from None
            if not minimum <= value <= maximum:
                raise ConfigError(name, f"must be between {minimum} and {maximum}, got {value}")
            return value

        def integer(name: str, minimum: int, maximum: int) -> int:
            value = number(name, minimum, maximum)
            if value != int(value):
                raise ConfigError(name, f"must be an integer, got {get(name)!r}")
            return int(value)

        def name(variable: str) -> str:
            value = get(variable)
            if not _NAME.match(value):
                raise ConfigError(variable, f"must be a plain identifier, got {value!r}")
            return value

        dimension = integer("EMBED_DIMENSION", 1, 4096)
        if dimension not in (256, 512):
            raise ConfigError("EMBED_DIMENSION", f"must be 256 or 512, got {dimension}")
        flag = get("EMBED_CONSUMERS").lower()
        if flag not in _TRUE + _FALSE:
            raise ConfigError("EMBED_CONSUMERS", f"must be true or false, got {flag!r}")
        return cls(
            dimension=dimension,
            encoder_model=name("EMBED_ENCODER_MODEL"),
            ranking_model=name("EMBED_RANKING_MODEL"),
            collection=name("EMBED_COLLECTION"),
            creator_collection=name("EMBED_CREATOR_COLLECTION"),
            cache_ttl_s=integer("EMBED_CACHE_TTL_SECONDS", 60, 30 * 86400),
            inference_budget_s=number("EMBED_INFERENCE_BUDGET_SECONDS", 0.05, 300),
            user_half_life_h=number("EMBED_USER_HALF_LIFE_HOURS", 0.1, 24 * 365),
            history_limit=integer("EMBED_HISTORY_LIMIT", 1, 1000),
            recall_candidates=integer("EMBED_RECALL_CANDIDATES", 10, 2000),
            recall_stale_s=number("EMBED_RECALL_STALE_SECONDS", 1, 86400),
            user_refresh_delay_s=number("EMBED_USER_REFRESH_DELAY_SECONDS", 0, 3600),
            mirror_interval_s=number("EMBED_MIRROR_INTERVAL_SECONDS", 0.05, 3600),
            run_consumers=flag in _TRUE,
        )
