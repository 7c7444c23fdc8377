"""ranking_svc settings for tests that run the feed on a shared, sometimes stalling machine."""

from __future__ import annotations

import dataclasses

from ranking_svc.settings import RankingSettings

# Far beyond what PostgreSQL and the test's in-process stream_svc take to answer: a CI
# machine that stalls the test's event loop for half a second must not make these sources
# miss (the page would be `trending_only`, which no test that uses this is about). The
# embed_svc deadlines, which the fallback tests fault, keep their own values.
UNFAULTED_SOURCE_TIMEOUT_S = 2.0


def with_generous_unfaulted_sources(settings: RankingSettings) -> RankingSettings:
    """`settings` with the PostgreSQL and stream_svc sources' deadlines made generous."""
    feed = dataclasses.replace(
        settings.feed,
        following_timeout_s=UNFAULTED_SOURCE_TIMEOUT_S,
        trending_timeout_s=UNFAULTED_SOURCE_TIMEOUT_S,
        affinity_timeout_s=UNFAULTED_SOURCE_TIMEOUT_S,
        engagement_timeout_s=UNFAULTED_SOURCE_TIMEOUT_S,
    )
    return dataclasses.replace(settings, feed=feed)
