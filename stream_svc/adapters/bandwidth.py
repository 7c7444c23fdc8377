"""Bandwidth reports: logged in PostgreSQL for analysis, the latest kept in Redis."""

from __future__ import annotations

from psycopg_pool import AsyncConnectionPool

from stream_svc.adapters.playback_cache import RedisBandwidthMemory
from stream_svc.domain.bitrate import BandwidthReport, Rung


class BandwidthReports:
    """`stream.bandwidth_reports` plus the viewer's latest hint for their next manifest."""

    def __init__(self, pool: AsyncConnectionPool, memory: RedisBandwidthMemory) -> None:
        self._pool = pool
        self._memory = memory

    async def latest_mbps(self, user_id: str) -> float | None:
        return await self._memory.latest_mbps(user_id)

    async def record(
        self,
        user_id: str,
        video_id: str,
        session_id: str | None,
        report: BandwidthReport,
        recommended: Rung,
    ) -> None:
        async with self._pool.connection() as conn:
            await conn.execute(
                """
                INSERT INTO stream.bandwidth_reports (
                    user_id, video_id, session_id, measured_kbps, packet_loss, rtt_ms,
                    recommended_kbps, recommended_rendition)
                VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
                """,
                (
                    user_id,
                    video_id,
                    session_id,
                    round(report.throughput_kbps),
                    report.packet_loss_ratio,
                    report.rtt_ms or None,
                    round(recommended.bandwidth_bps / 1000),
                    recommended.name,
                ),
            )
        await self._memory.remember(user_id, report.effective_mbps)
