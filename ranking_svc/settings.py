"""ranking_svc's own settings, read once from the environment into a frozen dataclass."""

from __future__ import annotations

import dataclasses
import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ranking_svc.domain.feed import FeedSettings
from ranking_svc.domain.scoring import Freshness, Weights
from reels_runtime.config import Config, ConfigError

# Defaults; .env.example lists the same variables with a comment each.
DEFAULTS: Mapping[str, str] = {
    "RANKING_WEIGHT_COMPLETION": "0.40",
    "RANKING_WEIGHT_ENGAGEMENT": "0.30",
    "RANKING_WEIGHT_AFFINITY": "0.20",
    "RANKING_WEIGHT_DEEP": "0.10",
    "RANKING_FRESHNESS_HALF_LIFE_HOURS": "48",
    "RANKING_FRESHNESS_FLOOR": "0.6",
    "RANKING_FOLLOWING_TIMEOUT_MS": "250",
    "RANKING_TRENDING_TIMEOUT_MS": "150",
    "RANKING_AFFINITY_TIMEOUT_MS": "150",
    "RANKING_RECALL_TIMEOUT_MS": "80",
    "RANKING_SCORE_TIMEOUT_MS": "80",
    "RANKING_ENGAGEMENT_TIMEOUT_MS": "120",
    "RANKING_FEED_CACHE_TTL_SECONDS": "60",
    "RANKING_HOT_CACHE_TTL_SECONDS": "60",
    "RANKING_SEEN_TTL_SECONDS": "604800",
    "RANKING_CURSOR_TTL_SECONDS": "1800",
    "RANKING_CURSOR_SECRET": "",
    "RANKING_SESSION_ITEMS": "300",
    "RANKING_PREFETCH_NEXT_PAGE": "true",
    "RANKING_PREFETCH_CONCURRENCY": "4",
    "RANKING_SHARED_FACTS_TTL_MS": "5000",
    "PLAYBACK_PUBLIC_BASE_URL": "",
    "PLAYBACK_TOKEN_TTL_SECONDS": "900",
}


def _flag(name: str, raw: str) -> bool:
    value = raw.lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ConfigError(name, f"must be true or false, got {raw!r}")


@dataclass(frozen=True)
class RankingSettings:
    """Everything ranking_svc reads beyond the shared Config."""

    feed: FeedSettings = dataclasses.field(default_factory=FeedSettings)
    page_cache_ttl_s: int = 60
    hot_cache_ttl_s: int = 60
    seen_ttl_s: int = 7 * 24 * 3600
    cursor_ttl_s: int = 1800
    # HMAC key of the page cursors; empty derives one from the JWT signing key, which
    # every replica already shares.
    cursor_secret: bytes = b""
    # Playback URLs: the gateway's public URL ("" gives root-relative URLs) and how long
    # their signed tokens live.
    playback_base_url: str = ""
    playback_token_ttl_s: int = 900
    # Whether building a page also caches the session's next page.
    prefetch_next_page: bool = True
    # At most this many next-page prefetches at once (more are skipped under load).
    prefetch_concurrency: int = 4

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> RankingSettings:
        def get(name: str) -> str:
            return (environ.get(name) or "").strip() or DEFAULTS[name]

        def number(name: str, minimum: float, maximum: float | None = None) -> float:
            raw = get(name)
            try:
                value = float(raw)
            except ValueError:
                raise ConfigError(name, f"must be a number, got {raw!r}") from None
            if value < minimum or (maximum is not None and value > maximum):
                raise ConfigError(name, f"must be between {minimum} and {maximum}, got {raw}")
            return value

        def ms(name: str) -> float:
            return number(name, 1, 60_000) / 1000.0

        try:
            weights = Weights(
                completion=number("RANKING_WEIGHT_COMPLETION", 0, 1),
                engagement=number("RANKING_WEIGHT_ENGAGEMENT", 0, 1),
                affinity=number("RANKING_WEIGHT_AFFINITY", 0, 1),
                deep=number("RANKING_WEIGHT_DEEP", 0, 1),
            )
        except ValueError as error:
            raise ConfigError("RANKING_WEIGHT_COMPLETION", str(error)) from None
        secret = get("RANKING_CURSOR_SECRET") if environ.get("RANKING_CURSOR_SECRET") else ""
        if secret and len(secret) < 16:
            raise ConfigError("RANKING_CURSOR_SECRET", "must be at least 16 characters")
        return cls(
            feed=FeedSettings(
                weights=weights,
                freshness=Freshness(
                    half_life_hours=number("RANKING_FRESHNESS_HALF_LIFE_HOURS", 0.1),
                    floor=number("RANKING_FRESHNESS_FLOOR", 0, 1),
                ),
                following_timeout_s=ms("RANKING_FOLLOWING_TIMEOUT_MS"),
                trending_timeout_s=ms("RANKING_TRENDING_TIMEOUT_MS"),
                affinity_timeout_s=ms("RANKING_AFFINITY_TIMEOUT_MS"),
                recall_timeout_s=ms("RANKING_RECALL_TIMEOUT_MS"),
                score_timeout_s=ms("RANKING_SCORE_TIMEOUT_MS"),
                engagement_timeout_s=ms("RANKING_ENGAGEMENT_TIMEOUT_MS"),
                session_items=int(number("RANKING_SESSION_ITEMS", 50, 5000)),
                shared_facts_ttl_s=number("RANKING_SHARED_FACTS_TTL_MS", 0, 60_000) / 1000.0,
            ),
            page_cache_ttl_s=int(number("RANKING_FEED_CACHE_TTL_SECONDS", 1, 3600)),
            hot_cache_ttl_s=int(number("RANKING_HOT_CACHE_TTL_SECONDS", 1, 3600)),
            seen_ttl_s=int(number("RANKING_SEEN_TTL_SECONDS", 60)),
            cursor_ttl_s=int(number("RANKING_CURSOR_TTL_SECONDS", 60, 7 * 24 * 3600)),
            cursor_secret=secret.encode(),
            playback_base_url=get("PLAYBACK_PUBLIC_BASE_URL").rstrip("/")
            if environ.get("PLAYBACK_PUBLIC_BASE_URL")
            else "",
            playback_token_ttl_s=int(number("PLAYBACK_TOKEN_TTL_SECONDS", 60, 86_400)),
            prefetch_next_page=_flag(
                "RANKING_PREFETCH_NEXT_PAGE", get("RANKING_PREFETCH_NEXT_PAGE")
            ),
            prefetch_concurrency=int(number("RANKING_PREFETCH_CONCURRENCY", 1, 1000)),
        )

    def cursor_key(self, config: Config) -> bytes:
        """The cursor HMAC key: RANKING_CURSOR_SECRET, else derived from the JWT key."""
        if self.cursor_secret:
            return self.cursor_secret
        try:
            material = Path(config.jwt_private_key_path).read_bytes()
        except OSError as error:
            raise ConfigError(
                "RANKING_CURSOR_SECRET", f"unset, and the JWT key is unreadable: {error}"
            ) from None
        return hashlib.sha256(b"reels-ranking-cursor\0" + material).digest()

    def total_budget_s(self) -> float:
        """The longest a fresh feed page takes when every dependency uses its deadline."""
        f = self.feed
        gather = max(f.following_timeout_s, f.trending_timeout_s, f.affinity_timeout_s)
        gather = max(gather, f.recall_timeout_s)
        return 0.05 + gather + max(f.engagement_timeout_s, f.score_timeout_s) + 0.1
