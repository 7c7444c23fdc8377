"""Which rendition a player should start with, or switch to, from what it knows of its network."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import TypeVar

# Client-hint vocabulary (https://wicg.github.io/netinfo/): effective connection types.
EFFECTIVE_TYPES = ("slow-2g", "2g", "3g", "4g")
MAX_DOWNLINK_MBPS = 10_000.0
MAX_RTT_MS = 60_000
MAX_THROUGHPUT_KBPS = 10_000_000.0

# Above these link speeds (Mbps) a tier is recommended: 720p above 5, 480p above 2.
_HD_ABOVE_MBPS = 5.0
_SD_ABOVE_MBPS = 2.0
# Round trips this slow starve a player's buffer whatever the bandwidth claims.
_RTT_CAP_480_MS = 400
_RTT_CAP_360_MS = 1000
# Switching up needs this much headroom over the threshold; down happens at once. The
# asymmetry stops a player from flapping between two rungs around a threshold.
_UP_SWITCH_HEADROOM = 1.15
# Each percent of packet loss costs about 5 % of the usable throughput (TCP backs off).
_LOSS_PENALTY = 5.0
_MIN_LOSS_FACTOR = 0.2


class Tier(IntEnum):
    """A rung of the ladder by the frame's short side."""

    P360 = 360
    P480 = 480
    P720 = 720


DEFAULT_TIER = Tier.P480
SAVE_DATA_CAP = Tier.P360

_T = TypeVar("_T")


class HintError(ValueError):
    """A hint sent as a request field is out of range (headers are only ever ignored)."""


@dataclass(frozen=True)
class Hints:
    """The client hints of one request; None means the client did not say."""

    downlink_mbps: float | None = None
    effective_type: str | None = None
    rtt_ms: int | None = None
    save_data: bool | None = None

    @property
    def empty(self) -> bool:
        return (
            self.downlink_mbps is None
            and self.effective_type is None
            and self.rtt_ms is None
            and not self.save_data
        )

    def merged_over(self, fallback: Hints) -> Hints:
        """These hints, each missing one taken from `fallback` (fields win over headers)."""
        return Hints(
            downlink_mbps=_first(self.downlink_mbps, fallback.downlink_mbps),
            effective_type=_first(self.effective_type, fallback.effective_type),
            rtt_ms=_first(self.rtt_ms, fallback.rtt_ms),
            save_data=_first(self.save_data, fallback.save_data),
        )


def _first(value: _T | None, fallback: _T | None) -> _T | None:
    return value if value is not None else fallback


def validated_hints(
    downlink_mbps: float | None,
    effective_type: str | None,
    rtt_ms: int | None,
    save_data: bool | None,
) -> Hints:
    """Hints from request fields; raises HintError naming the first bad one."""
    if downlink_mbps is not None and not (
        math.isfinite(downlink_mbps) and 0 <= downlink_mbps <= MAX_DOWNLINK_MBPS
    ):
        raise HintError(f"downlink_mbps must be between 0 and {MAX_DOWNLINK_MBPS:g}")
    ect = None
    if effective_type is not None:
        ect = effective_type.strip().lower()
        if ect not in EFFECTIVE_TYPES:
            raise HintError(f"ect must be one of {', '.join(EFFECTIVE_TYPES)}")
    if rtt_ms is not None and not 0 <= rtt_ms <= MAX_RTT_MS:
        raise HintError(f"rtt_ms must be between 0 and {MAX_RTT_MS}")
    return Hints(downlink_mbps, ect, rtt_ms, save_data)


def hints_from_headers(headers: Mapping[str, str]) -> Hints:
    """The `Downlink`, `ECT`, `RTT` and `Save-Data` client hints (lower-case keys).

    Browsers send these on their own; a malformed one is ignored rather than refused, so a
    proxy that mangles a header never breaks playback.
    """
    downlink = _number(headers.get("downlink"))
    if downlink is not None and not 0 <= downlink <= MAX_DOWNLINK_MBPS:
        downlink = None
    ect = (headers.get("ect") or "").strip().lower() or None
    if ect not in EFFECTIVE_TYPES:
        ect = None
    rtt = _number(headers.get("rtt"))
    rtt_ms = round(rtt) if rtt is not None and 0 <= rtt <= MAX_RTT_MS else None
    save = (headers.get("save-data") or "").strip().lower()
    return Hints(downlink, ect, rtt_ms, True if save == "on" else None)


def _number(raw: str | None) -> float | None:
    if raw is None:
        return None
    try:
        value = float(raw.strip())
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def tier_for_mbps(mbps: float) -> Tier:
    """720p above 5 Mbps, 480p above 2 Mbps, 360p otherwise."""
    if mbps > _HD_ABOVE_MBPS:
        return Tier.P720
    if mbps > _SD_ABOVE_MBPS:
        return Tier.P480
    return Tier.P360


def _capped(tier: Tier, cap: Tier | None) -> Tier:
    return tier if cap is None else min(tier, cap)


def start_tier(hints: Hints, last_report_mbps: float | None = None) -> Tier:
    """The tier to start playback at.

    The request's hints decide when there are any; otherwise the user's last bandwidth
    report; with neither, 480p. The downlink estimate sets the tier; a slow connection
    type or round trip caps it; Save-Data caps it at 360p.
    """
    if hints.empty:
        if last_report_mbps is not None:
            return tier_for_mbps(last_report_mbps)
        return DEFAULT_TIER
    if hints.downlink_mbps is not None:
        tier = tier_for_mbps(hints.downlink_mbps)
    elif hints.effective_type is not None and hints.effective_type != "4g":
        tier = Tier.P360
    elif last_report_mbps is not None and hints.effective_type is None:
        # Only RTT or Save-Data arrived: the measured report still says more than a guess.
        tier = tier_for_mbps(last_report_mbps)
    else:
        tier = DEFAULT_TIER  # "4g" says fast enough, not how fast
    if hints.effective_type in ("slow-2g", "2g", "3g"):
        tier = _capped(tier, Tier.P360)
    if hints.rtt_ms is not None:
        if hints.rtt_ms > _RTT_CAP_360_MS:
            tier = _capped(tier, Tier.P360)
        elif hints.rtt_ms > _RTT_CAP_480_MS:
            tier = _capped(tier, Tier.P480)
    if hints.save_data:
        tier = _capped(tier, SAVE_DATA_CAP)
    return tier


@dataclass(frozen=True)
class Rung:
    """A video rendition as bitrate choice sees it."""

    name: str
    width: int
    height: int
    bandwidth_bps: int

    @property
    def short_side(self) -> int:
        return min(self.width, self.height)


def pick_rung(rungs: Sequence[Rung], tier: Tier) -> Rung:
    """The best rung at or below `tier`; the smallest rung when all are above it."""
    if not rungs:
        raise ValueError("a video without video renditions has nothing to pick")
    fitting = [rung for rung in rungs if rung.short_side <= tier]
    if fitting:
        return max(fitting, key=lambda rung: (rung.short_side, rung.bandwidth_bps))
    return min(rungs, key=lambda rung: (rung.short_side, rung.bandwidth_bps))


class ReportError(ValueError):
    """A bandwidth report with a negative or out-of-range measurement."""


@dataclass(frozen=True)
class BandwidthReport:
    """A player's measurement of its network."""

    throughput_kbps: float
    packet_loss_ratio: float = 0.0
    rtt_ms: int = 0
    current_bitrate_kbps: int = 0

    def validate(self) -> None:
        if not (
            math.isfinite(self.throughput_kbps) and 0 <= self.throughput_kbps <= MAX_THROUGHPUT_KBPS
        ):
            raise ReportError(f"throughput_kbps must be between 0 and {MAX_THROUGHPUT_KBPS:g}")
        if not (math.isfinite(self.packet_loss_ratio) and 0 <= self.packet_loss_ratio <= 1):
            raise ReportError("packet_loss_ratio must be between 0 and 1")
        if not 0 <= self.rtt_ms <= MAX_RTT_MS:
            raise ReportError(f"rtt_ms must be between 0 and {MAX_RTT_MS}")
        if not 0 <= self.current_bitrate_kbps <= MAX_THROUGHPUT_KBPS:
            raise ReportError("current_bitrate_kbps must not be negative")

    @property
    def effective_mbps(self) -> float:
        """The throughput a player can count on once packet loss is paid for."""
        factor = max(_MIN_LOSS_FACTOR, 1.0 - _LOSS_PENALTY * self.packet_loss_ratio)
        return self.throughput_kbps * factor / 1000.0


def _tier_of_bitrate(rungs: Sequence[Rung], bitrate_kbps: int) -> Tier | None:
    """The tier of the rung playing at `bitrate_kbps` (nearest bandwidth), if any."""
    if bitrate_kbps <= 0 or not rungs:
        return None
    nearest = min(rungs, key=lambda rung: abs(rung.bandwidth_bps / 1000 - bitrate_kbps))
    for tier in sorted(Tier, reverse=True):
        if nearest.short_side >= tier:
            return tier
    return Tier.P360


def recommend(report: BandwidthReport, rungs: Sequence[Rung]) -> Rung:
    """The rung to play next: down at once when the link got worse, up only with headroom."""
    tier = tier_for_mbps(report.effective_mbps)
    current = _tier_of_bitrate(rungs, report.current_bitrate_kbps)
    if current is not None and tier > current:
        tier = max(current, tier_for_mbps(report.effective_mbps / _UP_SWITCH_HEADROOM))
    return pick_rung(rungs, tier)
