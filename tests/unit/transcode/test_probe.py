"""probe() on real files: what it accepts, what it refuses and how it says so."""

from __future__ import annotations

import shutil
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import av
import av.error
import pytest

from media_svc.transcode import InvalidMedia, probe
from media_svc.transcode.probe import _OPEN_OPTIONS
from tests.support.clips import (
    make_audio_only,
    make_clip,
    make_concat_playlist,
    make_corrupt,
    make_hls_playlist,
    make_image,
    make_single_frame_video,
    make_truncated,
)


def test_portrait_clip_is_described(clip: Callable[..., Path]) -> None:
    path = clip("portrait.mp4", 360, 640, 4.0)
    info = probe(path, declared_content_type="video/mp4", file_name="My Clip.MP4")
    assert (info.container, info.video_codec, info.audio_codec) == ("mp4", "h264", "aac")
    assert (info.width, info.height, info.rotation) == (360, 640, 0)
    assert info.frame_rate == pytest.approx(30.0)
    assert info.duration_seconds == pytest.approx(4.0, abs=0.05)
    assert info.has_audio and info.size_bytes == path.stat().st_size


@pytest.mark.parametrize(
    ("name", "codec", "container", "family"),
    [
        ("vp9.webm", "vp9", "webm", "webm"),
        ("hevc.mp4", "hevc", "mp4", "mp4"),
        ("vp8.webm", "vp8", "webm", "webm"),
        ("mpeg4.avi", "mpeg4", "avi", "avi"),
        ("h264.mov", "h264", "mov", "mov"),
        ("h264.mkv", "h264", "mkv", "matroska"),
    ],
)
def test_supported_codecs_and_containers(
    clip_dir: Path, name: str, codec: str, container: str, family: str
) -> None:
    path = make_clip(clip_dir / name, 320, 240, 1.0, codec=codec, container=container)
    info = probe(path, file_name=name)
    assert (info.video_codec, info.container) == (codec, family)
    assert info.duration_seconds == pytest.approx(1.0, abs=0.1)


def test_phone_rotation_is_applied_to_the_size(clip_dir: Path) -> None:
    path = make_clip(clip_dir / "rotated.mp4", 640, 360, 1.0, rotation=90)
    info = probe(path)
    assert (info.width, info.height) == (360, 640)
    assert info.rotation == 270  # stored turned 90 degrees counterclockwise


def _refused(path: Path, *words: str, **kwargs: object) -> str:
    with pytest.raises(InvalidMedia) as raised:
        probe(path, **kwargs)  # type: ignore[arg-type]
    message = str(raised.value)
    for word in words:
        assert word.lower() in message.lower(), message
    assert message.endswith(".") and message[0].isupper()  # a sentence for the creator
    return message


def test_audio_only_is_refused(tmp_path: Path) -> None:
    _refused(make_audio_only(tmp_path / "song.mp4"), "no video track", "aac")


def test_image_is_refused_even_renamed(tmp_path: Path) -> None:
    image = make_image(tmp_path / "picture.png")
    _refused(image, "PNG image")
    renamed = tmp_path / "picture.mp4"
    shutil.copy(image, renamed)
    _refused(renamed, "PNG image", file_name="picture.mp4", declared_content_type="video/mp4")


def test_single_frame_video_is_a_still_picture(tmp_path: Path) -> None:
    _refused(make_single_frame_video(tmp_path / "still.mp4"), "single still picture")


def test_still_picture_codec_is_refused(tmp_path: Path) -> None:
    path = make_clip(tmp_path / "mjpeg.mov", 320, 240, 1.0, codec="mjpeg", container="mov")
    _refused(path, "mjpeg is not supported", "H.264")


@pytest.mark.parametrize("faststart", [True, False], ids=["index-first", "index-last"])
def test_truncated_clip_is_refused(tmp_path: Path, faststart: bool) -> None:
    _refused(make_truncated(tmp_path / "cut.mp4", faststart=faststart), "damaged or incomplete")


def test_corrupt_clip_is_refused(tmp_path: Path) -> None:
    _refused(make_corrupt(tmp_path / "corrupt.mp4"), "damaged or incomplete")


def test_garbage_after_a_real_header_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "fake.mp4"
    path.write_bytes(b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + bytes(range(256)) * 64)
    _refused(path, "damaged or incomplete")


def test_empty_and_text_files_are_refused(tmp_path: Path) -> None:
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    _refused(empty, "empty")
    text = tmp_path / "notes.mp4"
    text.write_text("hello, this is not a video\n" * 20)
    _refused(text, "text file")


def test_too_long_is_refused(clip: Callable[..., Path]) -> None:
    path = clip("portrait.mp4", 360, 640, 4.0)
    _refused(path, "4.0 seconds", "limit is 3 seconds", max_duration_s=3)


def test_too_large_dimensions_are_refused(clip: Callable[..., Path]) -> None:
    path = clip("portrait.mp4", 360, 640, 4.0)
    _refused(path, "360x640", "320x320", max_width=320, max_height=320)


def test_absurdly_small_dimensions_are_refused(tmp_path: Path) -> None:
    _refused(make_clip(tmp_path / "tiny.mp4", 16, 16, 1.0, audio=False), "16x16", "too small")


def test_absurd_frame_rate_is_refused(tmp_path: Path) -> None:
    path = make_clip(tmp_path / "fast.mp4", 64, 64, 0.5, fps=240, audio=False)
    _refused(path, "240 frames per second", "1 to 120")


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"file_name": "clip.webm"}, [".webm", "MP4 video"]),
        ({"file_name": "clip.png"}, [".png", "not a video file type", "MP4 video"]),
        ({"declared_content_type": "image/png"}, ["image/png", "MP4 video"]),
        ({"declared_content_type": "video/webm"}, ["video/webm", "MP4 video"]),
        ({"declared_content_type": "application/vnd.apple.mpegurl"}, ["mpegurl"]),
    ],
)
def test_declared_type_or_name_that_lies_is_refused(
    clip: Callable[..., Path], kwargs: dict[str, str], words: list[str]
) -> None:
    _refused(clip("portrait.mp4", 360, 640, 4.0), *words, **kwargs)


def test_honest_declarations_pass(clip_dir: Path) -> None:
    webm = make_clip(clip_dir / "honest.webm", 320, 240, 1.0, codec="vp9", container="webm")
    probe(webm, declared_content_type="video/webm; codecs=vp9", file_name="x.webm")
    probe(webm, declared_content_type="application/octet-stream", file_name="x.mkv")


class _Listener:
    """A loopback TCP port that records every connection made to it."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            connection.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.sock.close()


@pytest.fixture
def listener() -> Iterator[_Listener]:
    server = _Listener()
    yield server
    server.close()


@pytest.mark.security
@pytest.mark.parametrize("name", ["playlist.mp4", "playlist.m3u8", "playlist"])
def test_hls_playlist_upload_is_refused_without_a_connection(
    tmp_path: Path, listener: _Listener, name: str
) -> None:
    url = f"http://127.0.0.1:{listener.port}/segment.ts"
    path = make_hls_playlist(tmp_path / name, url)
    _refused(path, "HLS playlist", file_name=name if "." in name else None)
    # Past our sniffer, FFmpeg itself with our options must not fetch the URL either.
    with pytest.raises(av.error.FFmpegError):
        av.open(str(path), container_options=dict(_OPEN_OPTIONS)).close()
    assert listener.connections == 0


@pytest.mark.security
def test_concat_playlist_upload_is_refused_without_a_connection(
    tmp_path: Path, listener: _Listener
) -> None:
    path = make_concat_playlist(tmp_path / "list.mp4", f"http://127.0.0.1:{listener.port}/a.mp4")
    _refused(path, "playlist")
    with pytest.raises(av.error.FFmpegError):
        av.open(str(path), container_options=dict(_OPEN_OPTIONS)).close()
    assert listener.connections == 0


@pytest.mark.security
def test_playlist_behind_an_mp4_header_is_refused_without_a_connection(
    tmp_path: Path, listener: _Listener
) -> None:
    # Passes the sniffer as MP4; the forced mov demuxer finds no media and gives up.
    body = make_hls_playlist(tmp_path / "p.m3u8", f"http://127.0.0.1:{listener.port}/s.ts")
    path = tmp_path / "disguised.mp4"
    path.write_bytes(b"\x00\x00\x00\x10ftypisom\x00\x00\x02\x00" + body.read_bytes())
    _refused(path, "damaged or incomplete")
    assert listener.connections == 0
