"""Box parsing, RFC 6381 codec strings and the bandwidth arithmetic of the manifests."""

from __future__ import annotations

import math
import struct
from pathlib import Path

import pytest

from media_svc.transcode import Segment, fmp4
from media_svc.transcode.manifests import average_bandwidth, peak_bandwidth, target_duration
from tests.unit.transcode.transcoded import Transcoded


def test_avc_codecs_string() -> None:
    assert fmp4._avc_codecs("avc1", bytes([1, 0x64, 0x00, 0x1F, 0xFF])) == "avc1.64001f"
    assert fmp4._avc_codecs("avc1", bytes([1, 0x42, 0xC0, 0x1E, 0xFF])) == "avc1.42c01e"


def test_hevc_codecs_string() -> None:
    # Main profile, compatible with Main and Main 10, main tier, level 3.1 (93).
    hvcc = bytes([1, 0x01]) + struct.pack(">I", 0x60000000) + bytes([0x90, 0, 0, 0, 0, 0, 93])
    assert fmp4._hevc_codecs("hvc1", hvcc) == "hvc1.1.6.L93.90"
    high_tier = bytes([1, 0x22]) + struct.pack(">I", 0x20000000) + bytes([0xB0, 0, 0, 0, 0, 0, 120])
    assert fmp4._hevc_codecs("hev1", high_tier) == "hev1.2.4.H120.B0"


def test_init_segments_describe_their_track(portrait: Transcoded) -> None:
    video = fmp4.parse_init((portrait.out / "360p/init.mp4").read_bytes())
    assert (video.sample_entry, video.width, video.height) == ("avc1", 360, 640)
    assert video.codecs.startswith("avc1.64")
    audio = fmp4.parse_init((portrait.out / "audio/init.mp4").read_bytes())
    assert (audio.codecs, audio.channels, audio.sample_rate) == ("mp4a.40.2", 2, 48000)
    assert audio.timescale == 48000


def test_segments_start_on_sync_samples_and_follow_each_other(portrait: Transcoded) -> None:
    rendition = portrait.result.renditions[0]
    track = fmp4.parse_init((portrait.out / rendition.init).read_bytes())
    end = None
    for segment in rendition.segments:
        info = fmp4.read_segment_info(portrait.out / segment.path, track)
        assert info.starts_with_sync_sample and info.sample_count == 60
        assert end is None or info.base_decode_time == end
        end = info.base_decode_time + info.duration


def test_a_cut_box_is_an_error(portrait: Transcoded, tmp_path: Path) -> None:
    data = (portrait.out / portrait.result.renditions[0].segments[0].path).read_bytes()
    with pytest.raises(fmp4.BoxError, match="past the end"):
        list(fmp4.iter_boxes(data[:-10]))
    cut = tmp_path / "cut.m4s"
    cut.write_bytes(data[:100])
    track = fmp4.parse_init((portrait.out / portrait.result.renditions[0].init).read_bytes())
    with pytest.raises(fmp4.BoxError):
        fmp4.read_segment_info(cut, track)


def _segments(*pairs: tuple[float, int]) -> list[Segment]:
    return [Segment(f"s{i}", seconds, size, 0, 0) for i, (seconds, size) in enumerate(pairs)]


def test_peak_bandwidth_ignores_a_short_last_segment() -> None:
    segments = _segments((2.0, 250_000), (2.0, 500_000), (0.1, 100_000))
    # 100 kB in 0.1 s (8 Mbit/s) is too short a run to count on its own; the busiest run
    # of 1 to 3 seconds is the last two segments: 600 kB in 2.1 s.
    assert peak_bandwidth(segments, 2.0) == math.ceil(600_000 * 8 / 2.1)
    assert average_bandwidth(segments) == math.ceil(850_000 * 8 / 4.1)


def test_peak_bandwidth_of_a_clip_shorter_than_a_segment() -> None:
    assert peak_bandwidth(_segments((0.5, 50_000)), 2.0) == 800_000


def test_target_duration_rounds_to_nearest() -> None:
    assert target_duration(_segments((2.005, 1), (2.0, 1))) == 2
    assert target_duration(_segments((2.6, 1))) == 3
    assert target_duration(_segments((0.3, 1))) == 1
