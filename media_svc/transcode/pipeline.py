"""Decode once, encode every rung in parallel, package CMAF segments for HLS and DASH."""

from __future__ import annotations

import math
import os
import queue
import threading
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import av
import av.audio.stream
import av.container
import av.error
import av.filter
import av.video.stream
import numpy as np
from av.video.frame import PictureType
from av.video.reformatter import ColorPrimaries, ColorTrc, Interpolation, VideoReformatter

from media_svc.transcode import fmp4, images, manifests
from media_svc.transcode.analysis import FrameAnalyzer, analysis_size, source_warnings
from media_svc.transcode.encoders import (
    AUDIO_PRIMING_SAMPLES,
    AUDIO_RATE,
    DEFAULT_PRESET,
    SCALER,
    AudioEncoder,
    RungEncoder,
    VideoJob,
)
from media_svc.transcode.ladder import Rung
from media_svc.transcode.probe import open_input
from media_svc.transcode.result import (
    AudioRendition,
    Rendition,
    SampledFrame,
    Segment,
    TranscodeCancelled,
    TranscodeError,
    TranscodeResult,
)

Progress = Callable[[float], None]
ENCODE_SHARE = 0.97  # of the progress scale; packaging and images take the rest
MAX_DECODE_ERRORS = 10
MASTER_PLAYLIST = "master.m3u8"
DASH_MANIFEST = "manifest.mpd"
THUMBNAIL = "thumbnail.jpg"
PREVIEW = "preview.gif"
AUDIO_DIR = "audio"
_MUXED = "stream.mp4"  # each track's fragmented file, split into segments afterwards
_SDR_PRIMARIES = {1, 5, 6}  # BT.709, BT.601 PAL/NTSC: tags worth copying to the output
# x264/x265 with B-pyramids hold two frames back: the first decode timestamp lies two frame
# times before the first picture, so every track is shifted by at least that much.
_REORDER_FRAMES = 2


def transcode(
    source: Path,
    out_dir: Path,
    ladder: list[Rung],
    *,
    progress: Progress | None = None,
    sample_frames: int = 10,
    segment_seconds: float = 2.0,
    cancel: threading.Event | None = None,
    preset: str = DEFAULT_PRESET,
    encoder_threads: int = 0,
) -> TranscodeResult:
    """Transcodes `source` into `ladder` under `out_dir` (see TranscodeResult for the layout).

    The source is decoded once; each rung is scaled and encoded by its own thread; audio is
    encoded once. `progress` is called from this thread with a rising fraction as frames
    are encoded. Setting `cancel` raises TranscodeCancelled within a frame or two; files
    already written under out_dir are left to the caller.
    """
    if not ladder:
        raise ValueError("the ladder has no rungs")
    if len({rung.name for rung in ladder}) != len(ladder):
        raise ValueError("rung names must be unique (they name directories)")
    out_dir.mkdir(parents=True, exist_ok=True)
    run = _Transcode(
        source,
        out_dir,
        ladder,
        progress,
        sample_frames,
        segment_seconds,
        cancel or threading.Event(),
        preset,
        encoder_threads,
    )
    return run.execute()


def split_encoder_threads(ladder: list[Rung], requested: int) -> dict[str, int]:
    """Encoder threads per rung: `requested` each, or (0) the CPUs shared by pixel count.

    x264's own default (1.5 threads per CPU for every encoder) oversubscribes a small
    machine three times over when three rungs run at once; measured here, a split by
    pixels (2/1/1 for 720p/480p/360p on 2 CPUs) was about 10% faster.
    """
    if requested > 0:
        return {rung.name: requested for rung in ladder}
    budget = len(os.sched_getaffinity(0)) + 1  # the CPUs this process may really use
    pixels = sum(rung.width * rung.height for rung in ladder)
    return {rung.name: max(1, round(budget * rung.width * rung.height / pixels)) for rung in ladder}


def _times(count: int, duration: float) -> list[float]:
    """`count` instants spread evenly over `duration` (the middles of equal slices)."""
    return [(index + 0.5) * duration / count for index in range(count)]


class _Transcode:
    """The state of one transcode, driven from the caller's thread."""

    def __init__(
        self,
        source: Path,
        out_dir: Path,
        ladder: list[Rung],
        progress: Progress | None,
        sample_frames: int,
        segment_seconds: float,
        cancel: threading.Event,
        preset: str,
        encoder_threads: int,
    ) -> None:
        self.source, self.out_dir, self.ladder = source, out_dir, ladder
        self.progress, self.cancel = progress, cancel
        self.sample_count, self.segment_seconds = sample_frames, segment_seconds
        self.preset, self.encoder_threads = preset, encoder_threads
        self.stop = threading.Event()  # tells the encoder threads to give up
        self.encoders: list[RungEncoder] = []
        self.audio: AudioEncoder | None = None
        # This thread's own reformatters (one per kind of job: each keeps its set-up).
        self.scaler = VideoReformatter()
        self.grey = VideoReformatter()
        self.reformatter = VideoReformatter()
        self.analyzer = FrameAnalyzer()
        self.reported = 0.0
        self.decode_errors = 0
        # Timing, fixed by the first frames.
        self.pending_video: list[av.VideoFrame] = []
        self.pending_audio: list[av.AudioFrame] = []
        self.offset_ticks: int | None = None
        self.first_time: float | None = None
        self.last_time: float | None = None
        self.last_end = 0.0
        self.boundary_index = 1
        self.frames_in = 0
        # Stills picked on the way.
        self.thumbnail: np.ndarray | None = None
        self.preview: list[np.ndarray] = []
        self.samples: list[SampledFrame] = []
        self.last_frame: av.VideoFrame | None = None
        # The thumbnail and the GIF are written by a thread of their own as soon as the
        # preview frames are in: off the tail, where one CPU would otherwise sit idle
        # while the encoders flush (the GIF's palette alone takes ~0.15 s).
        self.images: threading.Thread | None = None
        self.images_error: BaseException | None = None

    # --- setup -------------------------------------------------------------------------

    def execute(self) -> TranscodeResult:
        try:
            with open_input(self.source) as container:
                self._setup(container)
                self._decode(container)
            self._finish_encoding()
            return self._package()
        finally:
            self.stop.set()
            for encoder in self.encoders:
                encoder.join()
            if self.images is not None:
                self.images.join()  # nothing may write under out_dir once we return
            if self.audio is not None and not self.audio.closed:
                self.audio.abort()

    def _setup(self, container: av.container.InputContainer) -> None:
        if not container.streams.video:
            raise TranscodeError("the source has no video track")
        self.video: av.video.stream.VideoStream = container.streams.video[0]
        # One decoding thread: the encoders' threads already cover every CPU (see
        # split_encoder_threads), so frame threads would only add their own overhead,
        # measured here at +40 % decode CPU (~0.5 s of a 15 s 1080p clip) for no speed.
        self.video.thread_type = "SLICE"
        self.video.thread_count = 1
        audio = container.streams.audio
        self.audio_stream: av.audio.stream.AudioStream | None = audio[0] if audio else None
        self.time_base: Fraction = self.video.time_base or Fraction(1, 90000)
        rate = self.video.average_rate or self.video.guessed_rate or Fraction(30)
        self.frame_rate = Fraction(rate).limit_denominator(1001)
        self.fps = float(self.frame_rate)
        self.gop = max(1, round(self.segment_seconds * self.fps))
        self.nominal_duration = self._nominal_duration(container)
        self.expected_frames = self.video.frames or max(1, round(self.nominal_duration * self.fps))
        self.start_seconds = self._start_seconds()
        self.start_ticks = round(self.start_seconds / self.time_base)
        codec = self.video.codec_context
        width, height = codec.width, codec.height
        sar = self.video.sample_aspect_ratio
        if sar and sar > 0 and sar != 1:
            width = round(width * sar)
        self.rotation = 0
        self.rotation_known = False
        self.graph: av.filter.Graph | None = None
        self.display = (width, height)  # corrected for rotation at the first frame
        self.preview_times = _times(images.PREVIEW_FRAMES, self.nominal_duration)
        self.sample_times = _times(self.sample_count, self.nominal_duration)
        top = max(self.ladder, key=lambda rung: rung.width * rung.height)
        self.top_size = (top.width, top.height)
        color = {}
        if codec.color_primaries in _SDR_PRIMARIES:
            color = {"color_primaries": codec.color_primaries, "colorspace": codec.colorspace}
        threads = split_encoder_threads(self.ladder, self.encoder_threads)
        for rung in self.ladder:
            directory = self.out_dir / rung.name
            directory.mkdir(exist_ok=True)
            encoder = RungEncoder(
                rung,
                directory / _MUXED,
                self.time_base,
                self.frame_rate,
                self.gop,
                self.stop,
                preset=self.preset,
                color=color,
                threads=threads[rung.name],
            )
            self.encoders.append(encoder)
            encoder.start()

    def _nominal_duration(self, container: av.container.InputContainer) -> float:
        if self.video.duration and self.video.time_base:
            return float(self.video.duration * self.video.time_base)
        if container.duration:
            return container.duration / av.time_base
        raise TranscodeError("the source does not say how long it is")

    def _start_seconds(self) -> float:
        starts = []
        for stream in (self.video, self.audio_stream):
            if stream is not None and stream.start_time is not None and stream.time_base:
                starts.append(float(stream.start_time * stream.time_base))
        return min(starts) if starts else 0.0

    # --- decoding ------------------------------------------------------------------------

    def _decode(self, container: av.container.InputContainer) -> None:
        streams = [self.video] + ([self.audio_stream] if self.audio_stream else [])
        for packet in container.demux(*streams):
            self._check()
            try:
                frames = packet.decode()
            except av.error.InvalidDataError as error:
                # Like the ffmpeg CLI, live with a damaged packet or two, not with many.
                self.decode_errors += 1
                if self.decode_errors > MAX_DECODE_ERRORS:
                    raise TranscodeError(
                        f"the source has too many damaged frames: {error}"
                    ) from error
                continue
            for frame in frames:
                if isinstance(frame, av.VideoFrame):
                    for upright in self._upright(frame):
                        self._on_video(upright)
                elif isinstance(frame, av.AudioFrame):
                    self._on_audio(frame)
        for upright in self._upright(None):
            self._on_video(upright)
        if self.offset_ticks is None:
            self._start_timeline()
        if self.frames_in == 0:
            raise TranscodeError("no frame of the source's video could be decoded")

    def _check(self) -> None:
        if self.cancel.is_set():
            raise TranscodeCancelled("the transcode was cancelled")
        for encoder in self.encoders:
            if encoder.error is not None:
                raise TranscodeError(f"encoding {encoder.rung.name} failed: {encoder.error}")

    def _upright(self, frame: av.VideoFrame | None) -> list[av.VideoFrame]:
        """Applies the display rotation (phones store portrait video turned sideways)."""
        if frame is not None and not self.rotation_known:
            self.rotation_known = True
            self.rotation = (-round(frame.rotation / 90) * 90) % 360
            if self.rotation in (90, 270):
                self.display = (self.display[1], self.display[0])
            if self.rotation:
                self.graph = self._rotation_graph(frame)
        if self.graph is None:
            return [] if frame is None else [frame]
        self.graph.push(frame)
        out = []
        while True:
            try:
                out.append(self.graph.pull())
            except (av.error.BlockingIOError, av.error.EOFError):
                return out

    def _rotation_graph(self, frame: av.VideoFrame) -> av.filter.Graph:
        graph = av.filter.Graph()
        node = graph.add_buffer(
            width=frame.width,
            height=frame.height,
            format=frame.format.name,
            time_base=self.time_base,
        )
        steps = {90: [("transpose", "clock")], 270: [("transpose", "cclock")]}
        for name, argument in steps.get(self.rotation, [("hflip", ""), ("vflip", "")]):
            following = graph.add(name, argument) if argument else graph.add(name)
            node.link_to(following)
            node = following
        node.link_to(graph.add("buffersink"))
        graph.configure()
        return graph

    def _on_audio(self, frame: av.AudioFrame) -> None:
        if self.audio is None:
            self.pending_audio.append(frame)
        else:
            self.audio.add(frame, self.start_seconds)

    def _on_video(self, frame: av.VideoFrame) -> None:
        if frame.pts is None:
            return
        time = float(frame.pts * self.time_base)
        if self.last_time is not None and time <= self.last_time:
            return  # a repeated or out-of-order timestamp: the encoder would refuse it
        self.last_time = time
        if self.offset_ticks is None:
            self.pending_video.append(frame)
            if len(self.pending_video) > _REORDER_FRAMES:
                self._start_timeline()
            return
        self._dispatch(frame)

    def _start_timeline(self) -> None:
        """Fixes the shift every output track gets so no decode timestamp is negative.

        Video and audio live in separate files, so the muxer must not shift each on its own
        (that would put them out of sync): both are shifted by the larger of the video's
        reorder delay and the AAC priming, and players line them up by timestamp.
        """
        times = [float(frame.pts * self.time_base) for frame in self.pending_video]
        delay = times[min(_REORDER_FRAMES, len(times) - 1)] - times[0] if times else 0.0
        offset = max(delay, AUDIO_PRIMING_SAMPLES / AUDIO_RATE)
        self.offset_ticks = math.ceil(offset / self.time_base)
        offset_seconds = float(self.offset_ticks * self.time_base)
        if self.audio_stream is not None:
            channels = self.audio_stream.codec_context.channels
            (self.out_dir / AUDIO_DIR).mkdir(exist_ok=True)
            self.audio = AudioEncoder(
                self.out_dir / AUDIO_DIR / _MUXED,
                channels,
                math.ceil(offset_seconds * AUDIO_RATE),
                self.segment_seconds,
            )
        for frame in self.pending_video:
            self._dispatch(frame)
        self.pending_video = []
        for audio_frame in self.pending_audio:
            self._on_audio(audio_frame)
        self.pending_audio = []

    def _dispatch(self, frame: av.VideoFrame) -> None:
        assert self.offset_ticks is not None
        time = float(frame.pts * self.time_base)
        relative = time - self.start_seconds
        duration = frame.duration or max(1, round(1 / (self.fps * self.time_base)))
        frame_seconds = float(duration * self.time_base)
        keyframe = self.first_time is None
        if self.first_time is None:
            self.first_time = time
        else:
            # Segment k starts at the first frame at or after k * segment_seconds (half a
            # frame early counts: 29.97 fps must not slip a whole frame every boundary).
            elapsed = time - self.first_time + frame_seconds / 2
            while elapsed >= self.boundary_index * self.segment_seconds:
                keyframe = True
                self.boundary_index += 1
        self.last_end = time + frame_seconds
        # Scaled once to the top rung; smaller rungs scale from this in their own threads.
        top = self.scaler.reformat(
            frame,
            *self.top_size,
            "yuv420p",
            interpolation=SCALER,
            dst_color_range="MPEG",
            threads=1,
        )
        top.pts = frame.pts - self.start_ticks + self.offset_ticks
        top.time_base, top.duration = self.time_base, duration
        # Decoders leave I/P/B here, which libx264 would obey: only segment starts are
        # forced, everything else is the encoder's choice.
        top.pict_type = PictureType.I if keyframe else PictureType.NONE
        # The rung threads read this frame concurrently; PyAV's reformat briefly rewrites
        # a source's colour tags, so make them already hold what it writes.
        top.color_trc = ColorTrc.UNSPECIFIED
        top.color_primaries = ColorPrimaries.UNSPECIFIED
        if self.thumbnail is None:
            self._first_frame(top)
        self._stills(top, relative)
        job = VideoJob(top)
        for encoder in self.encoders:
            self._put(encoder, job)
        self.frames_in += 1
        self.last_frame = top
        self._report()

    def _put(self, encoder: RungEncoder, job: VideoJob | None) -> None:
        while True:
            self._check()
            try:
                encoder.jobs.put(job, timeout=0.1)
                return
            except queue.Full:
                self._report()

    # --- stills and analysis ---------------------------------------------------------------

    def _rgb(self, frame: av.VideoFrame, size: tuple[int, int]) -> np.ndarray:
        return self.reformatter.reformat(
            frame,
            size[0],
            size[1],
            "rgb24",
            interpolation=Interpolation.AREA,
        ).to_ndarray()

    def _first_frame(self, frame: av.VideoFrame) -> None:
        self.analysis_size = analysis_size(*self.display)
        self.thumbnail = self._rgb(frame, images.fit_within(*self.display, images.THUMBNAIL_BOX))

    def _stills(self, frame: av.VideoFrame, relative: float) -> None:
        if self.analyzer.wants(relative):
            grey = self.grey.reformat(
                frame, *self.analysis_size, "gray", interpolation=Interpolation.AREA
            )
            self.analyzer.add(relative, grey.to_ndarray())
        while len(self.preview) < len(self.preview_times) and (
            relative >= self.preview_times[len(self.preview)]
        ):
            self.preview.append(self._preview_image(frame))
            if len(self.preview) == len(self.preview_times):
                self._start_images()
        while len(self.samples) < len(self.sample_times) and (
            relative >= self.sample_times[len(self.samples)]
        ):
            self.samples.append(self._sample(frame, relative))

    def _preview_image(self, frame: av.VideoFrame) -> np.ndarray:
        return self._rgb(frame, images.fit_within(*self.display, images.PREVIEW_BOX))

    def _sample(self, frame: av.VideoFrame, relative: float) -> SampledFrame:
        side = images.EMBED_SIZE
        rgb = images.centre_crop(self._rgb(frame, images.cover_size(*self.display, side)), side)
        return SampledFrame(round(relative, 3), side, side, rgb)

    def _start_images(self) -> None:
        self.images = threading.Thread(target=self._write_images, name="stills", daemon=True)
        self.images.start()

    def _write_images(self) -> None:
        try:
            assert self.thumbnail is not None
            (self.out_dir / THUMBNAIL).write_bytes(images.encode_jpeg(self.thumbnail, 90))
            images.write_gif(self.out_dir / PREVIEW, self.preview, images.PREVIEW_FRAME_SECONDS)
        except BaseException as error:  # handed to the main thread, which raises it
            self.images_error = error

    def _join_images(self) -> None:
        assert self.images is not None  # _finish_encoding started it at the latest
        self.images.join()
        if self.images_error is not None:
            raise TranscodeError(f"writing the thumbnail and preview failed: {self.images_error}")

    # --- finishing -----------------------------------------------------------------------

    def _report(self) -> None:
        if self.progress is None or not self.encoders:
            return
        done = min(encoder.encoded for encoder in self.encoders)
        fraction = ENCODE_SHARE * min(1.0, done / max(self.expected_frames, 1))
        # Throttled to ~1000 calls a transcode; never repeats or goes back.
        if fraction >= self.reported + 0.001 and fraction < ENCODE_SHARE:
            self.reported = fraction
            self.progress(fraction)

    def _finish_encoding(self) -> None:
        for encoder in self.encoders:
            self._put(encoder, None)  # end of stream
        # Frames the duration promised but the file did not hold: use what was decoded.
        if self.last_frame is not None:
            while len(self.preview) < len(self.preview_times):
                self.preview.append(self._preview_image(self.last_frame))
            while len(self.samples) < len(self.sample_times):
                self.samples.append(self._sample(self.last_frame, self.last_end))
        if self.images is None:
            self._start_images()  # while the encoders flush
        while any(encoder.is_alive() for encoder in self.encoders):
            self._check()
            for encoder in self.encoders:
                encoder.join(timeout=0.05)
            self._report()
        self._check()
        if self.audio is not None:
            self.audio.close()

    def _package(self) -> TranscodeResult:
        assert self.first_time is not None and self.offset_ticks is not None
        renditions = tuple(self._video_rendition(encoder) for encoder in self.encoders)
        audio = self._audio_rendition()
        for track in [*renditions, *([audio] if audio else [])]:
            (self.out_dir / track.playlist).write_text(manifests.media_playlist(track))
        duration = self.last_end - self.first_time
        (self.out_dir / MASTER_PLAYLIST).write_text(manifests.master_playlist(renditions, audio))
        (self.out_dir / DASH_MANIFEST).write_text(
            manifests.dash_manifest(
                renditions, audio, duration, self.frame_rate, self.segment_seconds
            )
        )
        self._join_images()
        warnings = self.analyzer.warnings(duration) + source_warnings(
            *self.display, self.fps, self.audio_stream is not None
        )
        result = TranscodeResult(
            duration_seconds=round(duration, 6),
            frame_rate=self.frame_rate,
            renditions=renditions,
            audio=audio,
            master_playlist=MASTER_PLAYLIST,
            dash_manifest=DASH_MANIFEST,
            thumbnail=THUMBNAIL,
            preview=PREVIEW,
            sampled_frames=tuple(self.samples),
            warnings=tuple(warnings),
            scene_changes=self.analyzer.scene_changes,
        )
        if self.progress is not None:
            self.progress(1.0)
        return result

    def _split(self, directory: str) -> tuple[fmp4.SplitTrack, tuple[Segment, ...]]:
        muxed = self.out_dir / directory / _MUXED
        try:
            track = fmp4.split_fragmented(
                muxed,
                self.out_dir / directory / "init.mp4",
                str(self.out_dir / directory / "seg_{:05d}.m4s"),
            )
        except fmp4.BoxError as error:
            raise TranscodeError(f"{directory}: the muxed file is malformed: {error}") from error
        muxed.unlink()
        if not track.segments:
            raise TranscodeError(f"{directory}: the encoder produced no segments")
        segments = tuple(
            Segment(
                path=f"{directory}/{part.path.name}",
                duration_seconds=round(part.info.duration / track.track.timescale, 6),
                size_bytes=part.size_bytes,
                start_ticks=part.info.base_decode_time,
                duration_ticks=part.info.duration,
            )
            for part in track.segments
        )
        return track, segments

    def _offset_in(self, timescale: int) -> int:
        assert self.offset_ticks is not None
        return round(self.offset_ticks * self.time_base * timescale)

    def _video_rendition(self, encoder: RungEncoder) -> Rendition:
        rung = encoder.rung
        track, segments = self._split(rung.name)
        for segment, part in zip(segments, track.segments, strict=True):
            if not part.info.starts_with_sync_sample:
                raise TranscodeError(f"{segment.path} does not start with a keyframe")
        return Rendition(
            name=rung.name,
            width=rung.width,
            height=rung.height,
            codec=rung.codec,
            codecs=track.track.codecs,
            bandwidth=manifests.peak_bandwidth(segments, self.segment_seconds),
            average_bandwidth=manifests.average_bandwidth(segments),
            frame_rate=round(self.fps, 3),
            playlist=f"{rung.name}/playlist.m3u8",
            init=f"{rung.name}/init.mp4",
            segments=segments,
            timescale=track.track.timescale,
            presentation_offset_ticks=self._offset_in(track.track.timescale),
        )

    def _audio_rendition(self) -> AudioRendition | None:
        if self.audio is None:
            return None
        if self.audio.samples_encoded == 0:
            (self.out_dir / AUDIO_DIR / _MUXED).unlink(missing_ok=True)
            return None  # an audio track without a single decodable frame: treat as silent
        track, segments = self._split(AUDIO_DIR)
        return AudioRendition(
            name=AUDIO_DIR,
            codecs=track.track.codecs,
            bandwidth=manifests.peak_bandwidth(segments, self.segment_seconds),
            average_bandwidth=manifests.average_bandwidth(segments),
            sample_rate=track.track.sample_rate or AUDIO_RATE,
            channels=track.track.channels or self.audio.channels,
            playlist=f"{AUDIO_DIR}/playlist.m3u8",
            init=f"{AUDIO_DIR}/init.mp4",
            segments=segments,
            timescale=track.track.timescale,
            presentation_offset_ticks=self._offset_in(track.track.timescale),
        )
