"""media_svc's own settings, read once from the environment into a frozen dataclass."""

from __future__ import annotations

import dataclasses
import os
import re
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from media_svc.domain.metadata import ModerationMode
from reels_runtime.config import Config, ConfigError

# Defaults; .env.example lists the same variables with a comment each.
DEFAULTS: Mapping[str, str] = {
    "VIDEO_DAILY_UPLOAD_LIMIT": "100",
    "MODERATION_BLOCKLIST": "",
    "MODERATION_BLOCKLIST_PATH": "",
    "MODERATION_MODE": "refuse",
    "UPLOAD_SESSION_TTL_SECONDS": "900",
    "UPLOAD_PART_SIZE_MB": "8",
    "UPLOAD_SPOOL_DIR": "",
    "S3_PUBLIC_ENDPOINT_URL": "",
    "VIDEO_PUBLIC_BASE_URL": "",
    "TRANSCODE_WORKER_CONCURRENCY": "2",
    "TRANSCODE_HEVC": "false",
    "TRANSCODE_RETRY_BACKOFF_SECONDS": "5",
    "TRANSCODE_CLAIM_IDLE_MS": "60000",
    "EMBEDDING_RETRY_INTERVAL_SECONDS": "30",
    "VIDEO_PURGE_GRACE_SECONDS": "86400",
    "VIDEO_PURGE_INTERVAL_SECONDS": "300",
    "MEDIA_MANAGE_BUCKET_ACCESS": "true",
    "TRANSCODE_PROGRESS_INTERVAL_SECONDS": "0.5",
    "UPLOAD_MALWARE_SCANNER": "",
    "UPLOAD_MALWARE_SCAN_TIMEOUT_SECONDS": "120",
}

# S3 refuses parts under 5 MiB (except the last) and over 5 GiB.
_MIN_PART_MB, _MAX_PART_MB = 5, 5 * 1024
# S3 signs URLs for at most 7 days; "minutes" is the point, but the bound is S3's.
_MIN_TTL_S, _MAX_TTL_S = 60, 7 * 24 * 3600
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")
# A blocklist file line that is only "#", or starts with "# ", is a comment; "#tag" is a term.
_COMMENT = re.compile(r"^#(\s|$)")


@dataclass(frozen=True)
class MediaSettings:
    """Everything media_svc and its transcode worker read beyond the shared Config."""

    daily_upload_limit: int = 100
    # Raw terms as configured ("spam", "#scam", "buy followers"); metadata.Blocklist
    # normalises them.
    moderation_blocklist: tuple[str, ...] = ()
    moderation_mode: ModerationMode = ModerationMode.REFUSE
    upload_session_ttl_s: int = 900
    upload_part_size_bytes: int = 8 * 1024 * 1024
    # Where uploads are spooled while they are validated; None is the system temp dir.
    upload_spool_dir: Path | None = None
    # The object-store URL clients reach for presigned uploads; None is S3_ENDPOINT_URL.
    s3_public_endpoint_url: str | None = None
    # Thumbnail / preview / playlist URLs are this plus "/" plus the object key.
    public_base_url: str = "http://127.0.0.1:8334/videos"
    worker_concurrency: int = 2
    include_hevc: bool = False
    retry_backoff_s: float = 5.0
    claim_idle_ms: int = 60_000
    embedding_retry_interval_s: float = 30.0
    purge_grace_s: float = 86_400.0
    purge_interval_s: float = 300.0
    # Local stacks let media_svc set the bucket's public-read policy and CORS rules itself.
    manage_bucket_access: bool = True
    # How often a running job writes its progress to the catalogue.
    progress_interval_s: float = 0.5
    # clamd that scans every upload (clamd://host:port or clamd:///socket); None is off.
    malware_scanner_url: str | None = None
    malware_scan_timeout_s: float = 120.0

    def public_url(self, key: str) -> str:
        """The URL players and clients fetch an object from (the CDN in front of the store)."""
        return f"{self.public_base_url.rstrip('/')}/{key.lstrip('/')}"

    def replace(self, **changes: object) -> MediaSettings:
        """A copy with some fields changed (tests start dedicated servers this way)."""
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]

    @classmethod
    def from_env(cls, config: Config, environ: Mapping[str, str] | None = None) -> MediaSettings:
        """Reads and validates every variable; the first bad one raises ConfigError."""
        env = _Env(os.environ if environ is None else environ)
        return cls(
            daily_upload_limit=env.integer("VIDEO_DAILY_UPLOAD_LIMIT", 1, 1_000_000),
            moderation_blocklist=_blocklist(env),
            moderation_mode=ModerationMode(
                env.choice("MODERATION_MODE", tuple(mode.value for mode in ModerationMode))
            ),
            upload_session_ttl_s=env.integer("UPLOAD_SESSION_TTL_SECONDS", _MIN_TTL_S, _MAX_TTL_S),
            upload_part_size_bytes=env.integer("UPLOAD_PART_SIZE_MB", _MIN_PART_MB, _MAX_PART_MB)
            * 1024
            * 1024,
            upload_spool_dir=_directory(env, "UPLOAD_SPOOL_DIR"),
            s3_public_endpoint_url=env.url("S3_PUBLIC_ENDPOINT_URL") or None,
            public_base_url=env.url("VIDEO_PUBLIC_BASE_URL")
            or f"{config.cdn_url.rstrip('/')}/{config.s3_bucket_video}",
            worker_concurrency=env.integer("TRANSCODE_WORKER_CONCURRENCY", 1, 64),
            include_hevc=env.boolean("TRANSCODE_HEVC"),
            retry_backoff_s=env.number("TRANSCODE_RETRY_BACKOFF_SECONDS", 0.0, 3600.0),
            claim_idle_ms=env.integer("TRANSCODE_CLAIM_IDLE_MS", 1000, 3_600_000),
            embedding_retry_interval_s=env.number("EMBEDDING_RETRY_INTERVAL_SECONDS", 0.1, 86400),
            purge_grace_s=env.number("VIDEO_PURGE_GRACE_SECONDS", 0.0, 90 * 86400.0),
            purge_interval_s=env.number("VIDEO_PURGE_INTERVAL_SECONDS", 0.1, 86400.0),
            manage_bucket_access=env.boolean("MEDIA_MANAGE_BUCKET_ACCESS"),
            progress_interval_s=env.number("TRANSCODE_PROGRESS_INTERVAL_SECONDS", 0.05, 60.0),
            malware_scanner_url=_scanner_url(env),
            malware_scan_timeout_s=env.number("UPLOAD_MALWARE_SCAN_TIMEOUT_SECONDS", 1.0, 3600.0),
        )


def _scanner_url(env: _Env) -> str | None:
    raw = env.get("UPLOAD_MALWARE_SCANNER")
    if not raw:
        return None
    parts = urllib.parse.urlsplit(raw)
    if parts.scheme != "clamd" or not (parts.hostname or parts.path):
        raise ConfigError(
            "UPLOAD_MALWARE_SCANNER",
            f"must be clamd://host:port or clamd:///path/to/clamd.socket, got {raw!r}",
        )
    return raw


class _Env:
    """Typed reads of one environment mapping; every error names its variable."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ

    def get(self, name: str) -> str:
        value = self._environ.get(name, "").strip()
        return value if value else DEFAULTS.get(name, "")

    def integer(self, name: str, minimum: int, maximum: int) -> int:
        raw = self.get(name)
        try:
            value = int(raw)
        except ValueError:
            raise ConfigError(name, f"must be an integer, got {raw!r}") from None
        if not minimum <= value <= maximum:
            raise ConfigError(name, f"must be between {minimum} and {maximum}, got {value}")
        return value

    def number(self, name: str, minimum: float, maximum: float) -> float:
        raw = self.get(name)
        try:
            value = float(raw)
        except ValueError:
            raise ConfigError(name, f"must be a number, got {raw!r}") from None
        if not minimum <= value <= maximum:
            raise ConfigError(name, f"must be between {minimum:g} and {maximum:g}, got {raw}")
        return value

    def boolean(self, name: str) -> bool:
        raw = self.get(name).lower()
        if raw in _TRUE:
            return True
        if raw in _FALSE:
            return False
        raise ConfigError(name, f"must be true or false, got {raw!r}")

    def choice(self, name: str, choices: tuple[str, ...]) -> str:
        value = self.get(name).lower()
        if value not in choices:
            raise ConfigError(name, f"must be one of {', '.join(choices)}, got {value!r}")
        return value

    def url(self, name: str) -> str:
        value = self.get(name)
        if not value:
            return ""
        try:
            parts = urlsplit(value)
            parts.port  # noqa: B018 - raises ValueError on a malformed port
        except ValueError as error:
            raise ConfigError(name, f"is not a valid URL ({error}): {value!r}") from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(name, f"must be an http:// or https:// URL, got {value!r}")
        return value.rstrip("/")


def _directory(env: _Env, name: str) -> Path | None:
    raw = env.get(name)
    if not raw:
        return None
    path = Path(raw)
    if not path.is_dir():
        raise ConfigError(name, f"must be an existing directory, got {raw!r}")
    return path


def _split_terms(text: str) -> list[str]:
    return [term.strip() for term in text.split(",") if term.strip()]


def _blocklist(env: _Env) -> tuple[str, ...]:
    """MODERATION_BLOCKLIST (comma-separated) plus the terms of MODERATION_BLOCKLIST_PATH."""
    terms = _split_terms(env.get("MODERATION_BLOCKLIST"))
    path = env.get("MODERATION_BLOCKLIST_PATH")
    if path:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise ConfigError(
                "MODERATION_BLOCKLIST_PATH", f"cannot read {path!r}: {error}"
            ) from None
        for line in text.splitlines():
            if not _COMMENT.match(line.strip()):
                terms.extend(_split_terms(line))
    for term in terms:
        # A term needs a letter or digit: "#" alone or "--" would match nothing useful.
        if not re.search(r"\w", term):
            variable = (
                "MODERATION_BLOCKLIST"
                if term in _split_terms(env.get("MODERATION_BLOCKLIST"))
                else "MODERATION_BLOCKLIST_PATH"
            )
            raise ConfigError(variable, f"term {term!r} has no letter or digit")
    return tuple(dict.fromkeys(terms))
