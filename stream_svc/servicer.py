"""StreamService over gRPC: one servicer composed of its two halves.

Playback (manifests, segment redirects, bandwidth) and engagement (events, likes, shares,
comments, analytics, the facts other services read) share nothing but the service name,
so each half lives in its own module with its own dependencies.
"""

from __future__ import annotations

from stream_svc.engagement_rpcs import EngagementRpcs
from stream_svc.playback_rpcs import PlaybackRpcs


class StreamServicer(PlaybackRpcs, EngagementRpcs):
    """Every StreamService RPC; an RPC neither half implements answers UNIMPLEMENTED."""
