"""Builds the engagement half of stream_svc."""

from __future__ import annotations

from reels_runtime.config import Config
from stream_svc.wiring import Part, Shared


async def build_engagement(config: Config, shared: Shared) -> Part:
    return Part(deps=None)
