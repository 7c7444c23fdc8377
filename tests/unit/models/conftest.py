"""The encoder and ranking model built in-process (the same graphs the export saves)."""

from __future__ import annotations

import pytest

from embed_models.export import configure_tensorflow

# Two threads, as `python -m embed_models.export` runs (before anything runs): the
# calibration, computed once per process, must match a CLI export's bit for bit.
configure_tensorflow()

from embed_models.ranking_model import RankingModel  # noqa: E402
from embed_models.video_encoder import VideoEncoder, build_video_encoder  # noqa: E402


@pytest.fixture(scope="session")
def encoder() -> VideoEncoder:
    """The default encoder (256-d); building it calibrates once per test process."""
    return build_video_encoder()


@pytest.fixture(scope="session")
def ranking() -> RankingModel:
    return RankingModel()
