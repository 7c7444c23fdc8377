"""plan_ladder(): rungs by the short side, exact aspect up to even rounding, no upscaling."""

from __future__ import annotations

import pytest

from media_svc.transcode import MediaInfo, Rung, plan_ladder


def _info(width: int, height: int, frame_rate: float = 30.0) -> MediaInfo:
    return MediaInfo("mp4", "h264", width, height, frame_rate, 10.0, True, "aac", 1000)


def _sizes(rungs: list[Rung]) -> list[tuple[str, int, int]]:
    return [(rung.name, rung.width, rung.height) for rung in rungs]


def test_portrait_1080p_gets_three_rungs() -> None:
    rungs = plan_ladder(_info(1080, 1920))
    assert _sizes(rungs) == [("720p", 720, 1280), ("480p", 480, 854), ("360p", 360, 640)]
    assert all(rung.codec == "h264" for rung in rungs)
    bitrates = [rung.video_bitrate_kbps for rung in rungs]
    assert bitrates == sorted(bitrates, reverse=True)
    assert all(rung.max_bitrate_kbps > rung.video_bitrate_kbps for rung in rungs)


def test_landscape_1080p_gets_three_rungs() -> None:
    rungs = plan_ladder(_info(1920, 1080))
    assert _sizes(rungs) == [("720p", 1280, 720), ("480p", 854, 480), ("360p", 640, 360)]


def test_a_480p_source_is_never_upscaled() -> None:
    assert _sizes(plan_ladder(_info(480, 854))) == [("480p", 480, 854), ("360p", 360, 640)]
    assert _sizes(plan_ladder(_info(540, 960))) == [("480p", 480, 854), ("360p", 360, 640)]


def test_a_source_below_360p_keeps_its_own_size() -> None:
    assert _sizes(plan_ladder(_info(320, 180))) == [("180p", 320, 180)]
    (rung,) = plan_ladder(_info(241, 427))
    assert (rung.width, rung.height) == (240, 426)  # down to even for 4:2:0
    assert rung.video_bitrate_kbps < plan_ladder(_info(360, 640))[0].video_bitrate_kbps


def test_hevc_is_an_extra_top_rung_by_flag() -> None:
    rungs = plan_ladder(_info(1080, 1920), include_hevc=True)
    assert [rung.codec for rung in rungs] == ["hevc", "h264", "h264", "h264"]
    assert (rungs[0].width, rungs[0].height) == (720, 1280)
    assert rungs[0].video_bitrate_kbps < rungs[1].video_bitrate_kbps
    assert len({rung.name for rung in rungs}) == len(rungs)


def test_high_frame_rate_gets_more_bits() -> None:
    assert plan_ladder(_info(1080, 1920, 60))[0].video_bitrate_kbps > (
        plan_ladder(_info(1080, 1920, 30))[0].video_bitrate_kbps
    )


@pytest.mark.parametrize("width", range(200, 2200, 37))
@pytest.mark.parametrize("aspect", [9 / 16, 3 / 4, 1.0, 4 / 3, 16 / 9, 9 / 19.5])
def test_even_sizes_exact_aspect_and_no_upscaling(width: int, aspect: float) -> None:
    height = round(width / aspect)
    for rung in plan_ladder(_info(width, height)):
        assert rung.width % 2 == 0 and rung.height % 2 == 0
        assert rung.width <= width + 1 and rung.height <= height + 1  # + even rounding
        # The aspect ratio is the source's up to rounding each side to an even number.
        exact_width = rung.height * width / height
        assert abs(rung.width - exact_width) <= 1 + max(1.0, width / height)
