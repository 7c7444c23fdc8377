"""Clips generated once per session and the transcodes several tests read."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.clips import make_clip
from tests.unit.transcode.transcoded import Transcoded, transcode_clip


@pytest.fixture(scope="session")
def clip_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("clips")


@pytest.fixture(scope="session")
def clip(clip_dir: Path) -> Callable[..., Path]:
    """make_clip, cached by file name for the session."""
    cache: dict[str, Path] = {}

    def make(name: str, *args: object, **kwargs: object) -> Path:
        if name not in cache:
            cache[name] = make_clip(clip_dir / name, *args, **kwargs)  # type: ignore[arg-type]
        return cache[name]

    return make


@pytest.fixture(scope="session")
def portrait(clip: Callable[..., Path], tmp_path_factory: pytest.TempPathFactory) -> Transcoded:
    """9:16 360x640, 4 s, with sound: the usual upload, below 480p so one rung."""
    source = clip("portrait.mp4", 360, 640, 4.0)
    return transcode_clip(source, tmp_path_factory.mktemp("portrait"))


@pytest.fixture(scope="session")
def landscape(clip: Callable[..., Path], tmp_path_factory: pytest.TempPathFactory) -> Transcoded:
    """16:9 854x480, 5 s, with sound: two rungs (480p and 360p) whose segments must align."""
    source = clip("landscape.mp4", 854, 480, 5.0)
    return transcode_clip(source, tmp_path_factory.mktemp("landscape"))
