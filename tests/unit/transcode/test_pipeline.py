"""transcode() on real clips: layout, playlists, MPD, renditions, stills, progress, cancel."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import av
import m3u8
import numpy as np
import pytest
from mpegdash.parser import MPEGDASHParser

from media_svc.transcode import (
    InvalidMedia,
    Rung,
    TranscodeCancelled,
    TranscodeError,
    pipeline,
    plan_ladder,
    probe,
    transcode,
    validate_outputs,
)
from media_svc.transcode.images import fit_within
from tests.support.clips import _Frames, make_clip, make_hls_playlist
from tests.unit.transcode.transcoded import Transcoded, transcode_clip


def _coarse_difference(frame: av.VideoFrame, rgb: np.ndarray) -> float:
    """Mean |luma difference| of two pictures shrunk to 18x32 (scalers and JPEG blur away)."""
    size = (18, 32) if frame.height > frame.width else (32, 18)
    ours = frame.reformat(*size, "gray", interpolation="AREA").to_ndarray().astype(int)
    theirs = av.VideoFrame.from_ndarray(rgb, format="rgb24")
    expected = theirs.reformat(*size, "gray", interpolation="AREA").to_ndarray()
    return float(np.abs(ours - expected).mean())


def _decode_video(path: Path) -> list[av.VideoFrame]:
    with av.open(str(path)) as container:
        return list(container.decode(video=0))


def _joined(out: Path, init: str, segments: list[str], target: Path) -> Path:
    target.write_bytes(b"".join((out / part).read_bytes() for part in [init, *segments]))
    return target


def test_layout_lists_every_file(portrait: Transcoded) -> None:
    result, out = portrait.result, portrait.out
    files = result.files()
    assert len(files) == len(set(files))
    assert {"master.m3u8", "manifest.mpd", "thumbnail.jpg", "preview.gif"} <= set(files)
    assert {"360p/init.mp4", "360p/playlist.m3u8", "360p/seg_00001.m4s"} <= set(files)
    assert {"audio/init.mp4", "audio/playlist.m3u8", "audio/seg_00001.m4s"} <= set(files)
    on_disk = {str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()}
    assert on_disk == set(files)  # nothing left behind, nothing missing


def test_a_clip_below_480p_gets_no_upscaled_rung(portrait: Transcoded) -> None:
    assert [(r.name, r.width, r.height) for r in portrait.result.renditions] == [("360p", 360, 640)]


def test_master_playlist_parses_with_every_variant_attribute(landscape: Transcoded) -> None:
    master = m3u8.load(str(landscape.out / "master.m3u8"))
    assert master.is_variant
    assert [p.uri for p in master.playlists] == ["480p/playlist.m3u8", "360p/playlist.m3u8"]
    resolutions = []
    for variant in master.playlists:
        info = variant.stream_info
        assert info.bandwidth > info.average_bandwidth > 100_000
        assert info.codecs.startswith("avc1.64") and info.codecs.endswith(",mp4a.40.2")
        assert info.frame_rate == pytest.approx(30.0)
        assert info.audio == "audio"
        resolutions.append(info.resolution)
    assert resolutions == [(854, 480), (640, 360)]
    (audio,) = master.media
    assert (audio.type, audio.group_id, audio.uri) == ("AUDIO", "audio", "audio/playlist.m3u8")


def test_codecs_string_comes_from_the_encoded_sps(landscape: Transcoded) -> None:
    for rendition in landscape.result.renditions:
        with av.open(str(landscape.out / rendition.init)) as container:
            extradata = container.streams.video[0].codec_context.extradata
        assert extradata is not None
        profile, compat, level = extradata[1:4]  # avcC: the SPS's profile/flags/level
        assert rendition.codecs == f"avc1.{profile:02x}{compat:02x}{level:02x}"


def test_media_playlists_have_two_second_segments(landscape: Transcoded) -> None:
    for track in [*landscape.result.renditions, landscape.result.audio]:
        assert track is not None
        playlist = m3u8.load(str(landscape.out / track.playlist))
        assert playlist.version == 7 and playlist.is_endlist and playlist.is_independent_segments
        assert playlist.playlist_type == "vod"
        assert playlist.target_duration == 2
        durations = [segment.duration for segment in playlist.segments]
        assert all(d == pytest.approx(2.0, abs=0.05) for d in durations[:-1]), durations
        assert 0 < durations[-1] <= 2.05
        assert sum(durations) == pytest.approx(5.0, abs=0.1)
        assert {segment.init_section.uri for segment in playlist.segments} == {"init.mp4"}
        for segment in playlist.segments:
            assert (landscape.out / Path(track.playlist).parent / segment.uri).is_file()


def test_every_segment_starts_with_a_keyframe_at_aligned_times(
    landscape: Transcoded, tmp_path: Path
) -> None:
    starts = {}
    for rendition in landscape.result.renditions:
        times = []
        for index, segment in enumerate(rendition.segments):
            joined = _joined(
                landscape.out, rendition.init, [segment.path], tmp_path / f"{index}.mp4"
            )
            frames = _decode_video(joined)
            assert frames[0].key_frame, f"{segment.path} does not start with a keyframe"
            assert sum(frame.key_frame for frame in frames) == 1  # no scene-cut keyframes
            times.append(round(frames[0].time, 3))
        starts[rendition.name] = times
    assert starts["480p"] == starts["360p"]
    assert np.diff(starts["480p"]) == pytest.approx([2.0, 2.0])


def test_mpd_parses_and_names_existing_files(landscape: Transcoded) -> None:
    mpd = MPEGDASHParser.parse(str(landscape.out / "manifest.mpd"))
    assert mpd.type == "static"
    video, audio = mpd.periods[0].adaptation_sets
    assert (video.content_type, video.mime_type) == ("video", "video/mp4")
    assert (audio.content_type, audio.mime_type) == ("audio", "audio/mp4")
    assert [(r.id, r.width, r.height) for r in video.representations] == [
        ("480p", 854, 480),
        ("360p", 640, 360),
    ]
    assert audio.representations[0].codecs == "mp4a.40.2"
    for adaptation in (video, audio):
        for representation in adaptation.representations:
            assert representation.bandwidth > 0 and representation.codecs
            segment_list = representation.segment_lists[0]
            urls = [url.media for url in segment_list.segment_urls]
            timeline = segment_list.segment_timelines[0].Ss
            assert sum((s.r or 0) + 1 for s in timeline) == len(urls)
            for name in [segment_list.initializations[0].source_url, *urls]:
                assert (landscape.out / name).is_file(), name
    hls_segments = [s.path for s in landscape.result.renditions[0].segments]
    assert [u.media for u in video.representations[0].segment_lists[0].segment_urls] == (
        hls_segments  # one set of files serves HLS and DASH
    )


def test_renditions_reopen_with_pyav(landscape: Transcoded, tmp_path: Path) -> None:
    for rendition in landscape.result.renditions:
        joined = _joined(
            landscape.out,
            rendition.init,
            [s.path for s in rendition.segments],
            tmp_path / f"{rendition.name}.mp4",
        )
        with av.open(str(joined)) as container:
            stream = container.streams.video[0]
            assert stream.codec_context.name == "h264"
            assert stream.codec_context.profile == "High"
            assert (stream.codec_context.width, stream.codec_context.height) == (
                rendition.width,
                rendition.height,
            )
            frames = list(container.decode(stream))
        duration = frames[-1].time + float(frames[-1].duration * frames[-1].time_base)
        duration -= frames[0].time
        assert duration == pytest.approx(landscape.info.duration_seconds, abs=0.1)
        assert len(frames) == 150
    audio = landscape.result.audio
    assert audio is not None and (audio.sample_rate, audio.channels) == (48000, 2)


def test_audio_and_video_start_together(landscape: Transcoded, tmp_path: Path) -> None:
    # Separate files, one timeline: players line tracks up by their timestamps.
    video, audio = landscape.result.renditions[0], landscape.result.audio
    assert audio is not None
    video_file = _joined(landscape.out, video.init, [video.segments[0].path], tmp_path / "v.mp4")
    first_picture = _decode_video(video_file)[0].time
    audio_file = _joined(landscape.out, audio.init, [audio.segments[0].path], tmp_path / "a.mp4")
    with av.open(str(audio_file)) as container:
        first_packet = next(p for p in container.demux(audio=0) if p.pts is not None)
        first_sound = float(first_packet.pts * first_packet.time_base)
    priming = 1024 / 48000  # the AAC encoder's lead-in before the first real sample
    assert first_sound + priming == pytest.approx(first_picture, abs=0.001)


def test_validate_outputs_accepts_a_goodtranscode_clip(landscape: Transcoded) -> None:
    validate_outputs(landscape.out, landscape.result, landscape.info, landscape.ladder)


def test_progress_rises_through_many_values(portrait: Transcoded) -> None:
    values = portrait.progress
    inside = [value for value in values if 0 < value < 1]
    assert len(set(inside)) >= 20
    assert values == sorted(values) and len(set(values)) == len(values)
    assert values[-1] == 1.0


def test_thumbnail_fits_the_box_and_keeps_the_aspect(portrait: Transcoded) -> None:
    (frame,) = _decode_video(portrait.out / "thumbnail.jpg")
    assert frame.width <= 320 and frame.height <= 240
    assert (frame.width, frame.height) == fit_within(360, 640, (320, 240)) == (135, 240)


def test_thumbnail_is_the_first_frame(portrait: Transcoded) -> None:
    (frame,) = _decode_video(portrait.out / "thumbnail.jpg")
    frames = _Frames(360, 640, 30, "moving", 1)
    assert _coarse_difference(frame, frames.frame(0)) < 3
    assert _coarse_difference(frame, frames.frame(60)) > 8  # not just any frame


def test_preview_is_a_looping_three_frame_gif(portrait: Transcoded) -> None:
    data = (portrait.out / "preview.gif").read_bytes()
    assert data.startswith(b"GIF8") and b"NETSCAPE2.0" in data  # the loop extension
    frames = _decode_video(portrait.out / "preview.gif")
    assert len(frames) == 3
    assert max(frames[0].width, frames[0].height) <= 240
    pictures = [f.to_ndarray(format="rgb24").astype(int) for f in frames]
    assert np.abs(pictures[0] - pictures[1]).mean() > 5  # spread over the clip, not one frame


def test_frames_are_sampled_evenly_for_embeddings(portrait: Transcoded) -> None:
    samples = portrait.result.sampled_frames
    assert len(samples) == 10
    times = [sample.time_seconds for sample in samples]
    assert times == sorted(times) and times[0] < 0.5 and times[-1] > 3.5
    for sample in samples:
        assert (sample.width, sample.height) == (224, 224)
        assert sample.rgb.shape == (224, 224, 3) and sample.rgb.dtype == np.uint8
    assert samples[0].jpeg().startswith(b"\xff\xd8\xff")


def test_clean_moving_clip_has_no_picture_warnings(portrait: Transcoded) -> None:
    kinds = {warning.kind for warning in portrait.result.warnings}
    assert not kinds & {"blur", "black_frames", "frozen_frames", "frequent_scene_changes"}
    assert "low_resolution" not in kinds and "no_audio" not in kinds


def test_clip_without_audio(clip: Callable[..., Path], tmp_path: Path) -> None:
    source = clip("silent.mp4", 360, 640, 2.0, audio=False)
    done = transcode_clip(source, tmp_path)
    assert done.result.audio is None
    master = m3u8.load(str(tmp_path / "master.m3u8"))
    assert not master.media and master.playlists[0].stream_info.codecs.startswith("avc1")
    assert "mp4a" not in master.playlists[0].stream_info.codecs
    mpd = MPEGDASHParser.parse(str(tmp_path / "manifest.mpd"))
    assert [a.content_type for a in mpd.periods[0].adaptation_sets] == ["video"]
    assert "no_audio" in {warning.kind for warning in done.result.warnings}
    validate_outputs(tmp_path, done.result, done.info, done.ladder)


def test_small_low_frame_rate_clip_keeps_its_size(clip_dir: Path, tmp_path: Path) -> None:
    source = make_clip(clip_dir / "tiny.mp4", 256, 144, 3.0, fps=10)
    done = transcode_clip(source, tmp_path)
    assert [(r.width, r.height) for r in done.result.renditions] == [(256, 144)]
    kinds = {warning.kind for warning in done.result.warnings}
    assert {"low_resolution", "low_frame_rate"} <= kinds
    assert done.result.renditions[0].frame_rate == pytest.approx(10.0)
    validate_outputs(tmp_path, done.result, done.info, done.ladder)


def test_rotated_phone_clip_comes_out_upright(clip_dir: Path, tmp_path: Path) -> None:
    source = make_clip(clip_dir / "sideways.mp4", 640, 360, 1.0, rotation=90, audio=False)
    done = transcode_clip(source, tmp_path)
    assert [(r.width, r.height) for r in done.result.renditions] == [(360, 640)]
    (thumbnail,) = _decode_video(tmp_path / "thumbnail.jpg")
    stored = _Frames(640, 360, 30, "moving", 1).frame(0)
    # The tag says "turned 90 degrees counterclockwise"; the other way round is wrong.
    assert _coarse_difference(thumbnail, np.ascontiguousarray(np.rot90(stored, 1))) < 3
    assert _coarse_difference(thumbnail, np.ascontiguousarray(np.rot90(stored, -1))) > 8


def test_hevc_rung_and_other_source_codecs(clip_dir: Path, tmp_path: Path) -> None:
    source = make_clip(clip_dir / "vp9.webm", 360, 640, 2.0, codec="vp9", container="webm")
    done = transcode_clip(source, tmp_path, include_hevc=True)
    hevc, h264 = done.result.renditions
    assert hevc.codec == "hevc" and hevc.codecs.startswith("hvc1.1.")
    assert h264.codec == "h264" and (hevc.width, hevc.height) == (h264.width, h264.height)
    master = m3u8.load(str(tmp_path / "master.m3u8"))
    assert master.playlists[0].stream_info.codecs.startswith("hvc1.")
    mpd = MPEGDASHParser.parse(str(tmp_path / "manifest.mpd"))
    assert len(mpd.periods[0].adaptation_sets) == 3  # HEVC, H.264 and audio apart
    validate_outputs(tmp_path, done.result, done.info, done.ladder)


_SMALL = [Rung("180p", 180, 320, 300, 450)]


@pytest.mark.parametrize(
    ("pattern", "kind", "start", "end"),
    [
        ("blur", "blur", None, None),
        ("frozen_middle", "frozen_frames", 1.0, 3.5),
        ("black_then_content", "black_frames", 0.0, 1.5),
        ("noise", "frequent_scene_changes", None, None),
    ],
)
def test_frame_analysis_flags_what_it_sees(
    clip_dir: Path,
    tmp_path: Path,
    pattern: str,
    kind: str,
    start: float | None,
    end: float | None,
) -> None:
    source = make_clip(clip_dir / f"{pattern}.mp4", 360, 640, 5.0, pattern=pattern, audio=False)
    result = transcode(source, tmp_path, _SMALL)
    found = [warning for warning in result.warnings if warning.kind == kind]
    assert len(found) == 1, result.warnings
    warning = found[0]
    assert warning.message and warning.value is not None
    if start is not None:
        assert warning.start_seconds == pytest.approx(start, abs=0.15)
        assert warning.end_seconds == pytest.approx(end, abs=0.15)
    others = {w.kind for w in result.warnings} - {kind, "no_audio"}
    assert not others & {"blur", "black_frames", "frozen_frames"}, result.warnings


@pytest.mark.security
def test_transcode_also_refuses_what_probe_refuses(tmp_path: Path) -> None:
    playlist = make_hls_playlist(tmp_path / "list.mp4", "http://127.0.0.1:9/segment.ts")
    with pytest.raises(InvalidMedia, match="HLS playlist"):
        transcode(playlist, tmp_path / "out", _SMALL)


def test_cancel_stops_promptly(clip: Callable[..., Path], tmp_path: Path) -> None:
    source = clip("long-portrait.mp4", 360, 640, 10.0)
    ladder = plan_ladder(probe(source))
    cancel = threading.Event()
    seen: list[float] = []
    cancelled_at: list[float] = []

    def progress(fraction: float) -> None:
        seen.append(fraction)
        if fraction > 0.05 and not cancel.is_set():
            cancel.set()
            cancelled_at.append(time.monotonic())

    threads_before = threading.active_count()
    with pytest.raises(TranscodeCancelled):
        transcode(source, tmp_path, ladder, progress=progress, cancel=cancel)
    assert time.monotonic() - cancelled_at[0] < 1.0
    assert max(seen) < 0.5  # it did not run on to the end
    assert threading.active_count() == threads_before  # the encoder threads are gone


def test_a_failed_preview_fails_the_transcode(
    clip: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The thumbnail and GIF are written on a thread of their own: its failure must still
    # reach the caller (and retry the job), and the thread must be gone afterwards.
    source = clip("silent.mp4", 360, 640, 2.0, audio=False)

    def broken(*_: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(pipeline.images, "write_gif", broken)
    threads_before = threading.active_count()
    with pytest.raises(TranscodeError, match="preview failed: disk full"):
        transcode(source, tmp_path, plan_ladder(probe(source)))
    assert threading.active_count() == threads_before
