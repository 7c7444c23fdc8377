"""How the rung threads scale a smaller rung from the top rung's frame."""

from __future__ import annotations

import pytest
from av.video.reformatter import Interpolation

from media_svc.transcode.encoders import SCALER, rung_interpolation


@pytest.mark.parametrize(
    ("source", "size"),
    [((720, 1280), (360, 640)), ((1280, 720), (640, 360)), ((480, 854), (240, 427))],
)
def test_an_exact_halving_is_box_filtered(source, size) -> None:
    assert rung_interpolation(source, size) is Interpolation.AREA


@pytest.mark.parametrize(
    ("source", "size"),
    [
        ((720, 1280), (480, 854)),  # 1.5:1
        ((854, 480), (640, 360)),  # a 480p source's 360p rung
        ((720, 1280), (360, 641)),  # nearly half is not half
        ((1080, 1920), (360, 640)),  # a third
    ],
)
def test_every_other_downscale_is_lanczos(source, size) -> None:
    assert rung_interpolation(source, size) is Interpolation.LANCZOS


def test_the_top_rung_is_scaled_from_the_source_as_the_cli_does() -> None:
    assert SCALER is Interpolation.BICUBIC
