"""Every Redis key media_svc uses, inside the deployment's namespace (REDIS_NAMESPACE)."""

from __future__ import annotations

from dataclasses import dataclass

from reels_runtime.config import Config


@dataclass(frozen=True)
class MediaKeys:
    namespace: str

    @classmethod
    def from_config(cls, config: Config) -> MediaKeys:
        return cls(config.redis_key("media"))

    @property
    def worker_heartbeat_prefix(self) -> str:
        """Workers refresh `<prefix><name>` with a TTL while they run."""
        return f"{self.namespace}:workers:"

    @property
    def worker_stats(self) -> str:
        """A hash of published/failed counts and publishing seconds, summed by all workers."""
        return f"{self.namespace}:worker-stats"

    @property
    def upload_quota_prefix(self) -> str:
        return f"{self.namespace}:upload-quota:"
