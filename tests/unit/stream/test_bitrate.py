"""Bitrate choice: the starting tier from client hints or the last report, and the rung to
play next from a bandwidth report."""

from __future__ import annotations

import math

import pytest

from stream_svc.domain.bitrate import (
    BandwidthReport,
    HintError,
    Hints,
    ReportError,
    Rung,
    Tier,
    hints_from_headers,
    pick_rung,
    recommend,
    start_tier,
    tier_for_mbps,
    validated_hints,
)

LADDER = [
    Rung("720p", 720, 1280, 3_750_000),
    Rung("480p", 480, 854, 1_800_000),
    Rung("360p", 360, 640, 1_050_000),
]


@pytest.mark.parametrize(
    ("mbps", "tier"),
    [
        (0.0, Tier.P360),
        (2.0, Tier.P360),
        (2.01, Tier.P480),
        (5.0, Tier.P480),
        (5.01, Tier.P720),
        (100.0, Tier.P720),
    ],
)
def test_thresholds_are_above_5_and_above_2_mbps(mbps: float, tier: Tier) -> None:
    assert tier_for_mbps(mbps) is tier


@pytest.mark.parametrize(
    ("hints", "last_report", "tier"),
    [
        # No hints at all: 480p, or what the last report said.
        (Hints(), None, Tier.P480),
        (Hints(), 12.0, Tier.P720),
        (Hints(), 0.8, Tier.P360),
        # The downlink estimate decides.
        (Hints(downlink_mbps=10), None, Tier.P720),
        (Hints(downlink_mbps=3.5), 12.0, Tier.P480),
        (Hints(downlink_mbps=0.4), None, Tier.P360),
        # Slow connection types set or cap the tier; "4g" alone says fast, not how fast.
        (Hints(effective_type="4g"), None, Tier.P480),
        (Hints(effective_type="4g"), 20.0, Tier.P480),
        (Hints(effective_type="3g"), None, Tier.P360),
        (Hints(effective_type="slow-2g"), None, Tier.P360),
        (Hints(downlink_mbps=10, effective_type="2g"), None, Tier.P360),
        (Hints(downlink_mbps=10, effective_type="4g"), None, Tier.P720),
        # Long round trips cap it.
        (Hints(downlink_mbps=10, rtt_ms=450), None, Tier.P480),
        (Hints(downlink_mbps=10, rtt_ms=1200), None, Tier.P360),
        (Hints(downlink_mbps=10, rtt_ms=100), None, Tier.P720),
        (Hints(rtt_ms=50), None, Tier.P480),
        (Hints(rtt_ms=50), 9.0, Tier.P720),
        # Save-Data caps at 360p whatever else is known.
        (Hints(save_data=True), None, Tier.P360),
        (Hints(save_data=True), 50.0, Tier.P360),
        (Hints(downlink_mbps=50, save_data=True), None, Tier.P360),
        (Hints(downlink_mbps=50, save_data=False), None, Tier.P720),
        # Save-Data explicitly off is no hint at all.
        (Hints(save_data=False), None, Tier.P480),
    ],
)
def test_start_tier(hints: Hints, last_report: float | None, tier: Tier) -> None:
    assert start_tier(hints, last_report) is tier


def test_request_fields_win_over_headers_one_by_one() -> None:
    fields = Hints(downlink_mbps=1.0)
    headers = Hints(downlink_mbps=9.0, effective_type="4g", save_data=True)
    merged = fields.merged_over(headers)
    assert merged == Hints(downlink_mbps=1.0, effective_type="4g", save_data=True)


def test_headers_are_read_leniently() -> None:
    assert hints_from_headers(
        {"downlink": "7.5", "ect": "4G", "rtt": "150", "save-data": "on"}
    ) == Hints(7.5, "4g", 150, True)
    assert (
        hints_from_headers({"downlink": "fast", "ect": "5g", "rtt": "-3", "save-data": "off"})
        == Hints()
    )
    assert hints_from_headers({"downlink": "nan", "rtt": "inf"}) == Hints()
    assert hints_from_headers({}).empty


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ((-1.0, None, None, None), "downlink_mbps"),
        ((math.nan, None, None, None), "downlink_mbps"),
        ((1e9, None, None, None), "downlink_mbps"),
        ((None, "5g", None, None), "ect"),
        ((None, None, -1, None), "rtt_ms"),
        ((None, None, 120_000, None), "rtt_ms"),
    ],
)
def test_out_of_range_request_hints_are_refused(arguments: tuple, message: str) -> None:
    with pytest.raises(HintError, match=message):
        validated_hints(*arguments)


def test_valid_request_hints_are_normalised() -> None:
    assert validated_hints(2.5, " 3G ", 80, True) == Hints(2.5, "3g", 80, True)


@pytest.mark.parametrize(
    ("tier", "name"), [(Tier.P720, "720p"), (Tier.P480, "480p"), (Tier.P360, "360p")]
)
def test_pick_rung_takes_the_best_rung_at_or_below_the_tier(tier: Tier, name: str) -> None:
    assert pick_rung(LADDER, tier).name == name


def test_pick_rung_on_a_short_ladder() -> None:
    small = [Rung("480p", 480, 854, 1_800_000), Rung("360p", 360, 640, 1_050_000)]
    assert pick_rung(small, Tier.P720).name == "480p"
    tiny = [Rung("240p", 240, 426, 400_000)]
    assert pick_rung(tiny, Tier.P360).name == "240p"
    only_hd = [Rung("720p", 720, 1280, 3_750_000)]
    assert pick_rung(only_hd, Tier.P360).name == "720p"  # nothing smaller exists
    with pytest.raises(ValueError):
        pick_rung([], Tier.P480)


@pytest.mark.parametrize(
    ("report", "name"),
    [
        (BandwidthReport(9000), "720p"),
        (BandwidthReport(4000), "480p"),
        (BandwidthReport(1500), "360p"),
        # Packet loss eats usable throughput: 4 % loss costs a fifth.
        (BandwidthReport(6000, packet_loss_ratio=0.04), "480p"),
        (BandwidthReport(9000, packet_loss_ratio=0.2), "360p"),
        # Down at once when the link got worse...
        (BandwidthReport(3000, current_bitrate_kbps=3750), "480p"),
        # ...but up only with headroom: 5.5 Mbps is not enough to leave 480p for 720p,
        (BandwidthReport(5500, current_bitrate_kbps=1800), "480p"),
        # while 6 Mbps is, and from nothing playing 5.5 Mbps is 720p straight away.
        (BandwidthReport(6000, current_bitrate_kbps=1800), "720p"),
        (BandwidthReport(5500), "720p"),
        (BandwidthReport(5500, current_bitrate_kbps=3750), "720p"),
    ],
)
def test_recommend(report: BandwidthReport, name: str) -> None:
    report.validate()
    assert recommend(report, LADDER).name == name


@pytest.mark.parametrize(
    "report",
    [
        BandwidthReport(-1),
        BandwidthReport(math.inf),
        BandwidthReport(100, packet_loss_ratio=-0.1),
        BandwidthReport(100, packet_loss_ratio=1.5),
        BandwidthReport(100, rtt_ms=-1),
        BandwidthReport(100, current_bitrate_kbps=-5),
    ],
)
def test_bad_reports_are_refused(report: BandwidthReport) -> None:
    with pytest.raises(ReportError):
        report.validate()
