"""validate_outputs() on a real transcode, then on copies broken in the ways storage breaks."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest

from media_svc.transcode import OutputInvalid, Rung, validate_outputs
from tests.unit.transcode.transcoded import Transcoded


@pytest.fixture
def copy(landscape: Transcoded, tmp_path: Path) -> Transcoded:
    """A private copy of the landscape transcode, free to break."""
    out = tmp_path / "out"
    shutil.copytree(landscape.out, out)
    return dataclasses.replace(landscape, out=out)


def _invalid(done: Transcoded, *words: str, ladder: list[Rung] | None = None) -> None:
    with pytest.raises(OutputInvalid) as raised:
        validate_outputs(done.out, done.result, done.info, ladder or done.ladder)
    for word in words:
        assert word in str(raised.value), str(raised.value)


def test_the_copy_is_valid(copy: Transcoded) -> None:
    validate_outputs(copy.out, copy.result, copy.info, copy.ladder)


def test_a_deleted_segment_is_caught(copy: Transcoded) -> None:
    segment = copy.result.renditions[1].segments[1].path
    (copy.out / segment).unlink()
    _invalid(copy, segment, "missing")


def test_a_truncated_segment_is_caught(copy: Transcoded) -> None:
    segment = copy.result.renditions[0].segments[0].path
    path = copy.out / segment
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    _invalid(copy, segment, "truncated")


def test_a_deleted_audio_segment_is_caught(copy: Transcoded) -> None:
    assert copy.result.audio is not None
    segment = copy.result.audio.segments[-1].path
    (copy.out / segment).unlink()
    _invalid(copy, segment, "missing")


def test_a_segment_swapped_for_another_is_caught(copy: Transcoded) -> None:
    first, second = copy.result.renditions[0].segments[:2]
    shutil.copy(copy.out / second.path, copy.out / first.path)
    _invalid(copy, "does not follow the segment before it")


def test_a_lying_extinf_is_caught(copy: Transcoded) -> None:
    playlist = copy.out / copy.result.renditions[0].playlist
    playlist.write_text(playlist.read_text().replace("#EXTINF:2.000000,", "#EXTINF:2.500000,", 1))
    _invalid(copy, "playlist says 2.500")


def test_an_mpd_naming_a_missing_file_is_caught(copy: Transcoded) -> None:
    mpd = copy.out / "manifest.mpd"
    mpd.write_text(mpd.read_text().replace("360p/seg_00002.m4s", "360p/seg_00099.m4s"))
    _invalid(copy, "seg_00099.m4s", "missing")


def test_an_mpd_escaping_the_directory_is_caught(copy: Transcoded) -> None:
    mpd = copy.out / "manifest.mpd"
    mpd.write_text(mpd.read_text().replace('sourceURL="480p/init.mp4"', 'sourceURL="../x.mp4"'))
    _invalid(copy, "outside")


def test_a_rendition_other_than_asked_is_caught(copy: Transcoded) -> None:
    wrong = [dataclasses.replace(copy.ladder[0], width=856), *copy.ladder[1:]]
    _invalid(copy, "not the ladder", ladder=wrong)


def test_a_rendition_of_the_wrong_length_is_caught(copy: Transcoded) -> None:
    longer = dataclasses.replace(copy.info, duration_seconds=copy.info.duration_seconds + 0.5)
    with pytest.raises(OutputInvalid, match="lasts"):
        validate_outputs(copy.out, copy.result, longer, copy.ladder)
