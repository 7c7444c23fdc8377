"""Encoders: one thread per video rung (own reformatter, own muxer) and the one AAC track."""

from __future__ import annotations

import queue
import threading
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import av.audio.resampler
import av.container
import av.error
import av.stream
from av.video.reformatter import Interpolation, VideoReformatter

from media_svc.transcode.ladder import Rung
from media_svc.transcode.result import TranscodeError

DEFAULT_PRESET = "veryfast"  # x264/x265 preset, the same one the benchmark gives the CLI
AUDIO_RATE = 48000
AUDIO_PRIMING_SAMPLES = 1024  # what FFmpeg's AAC encoder puts before the first sample
# Bicubic from the source to the top rung, the same as the benchmark asks of the ffmpeg
# CLI; the smaller rungs, scaled from the top rung's frame, see rung_interpolation.
SCALER = Interpolation.BICUBIC
QUEUE_FRAMES = 8  # per rung: enough to ride out jitter, little memory (frames are shared)
# frag_keyframe starts a fragment (= a segment) at every keyframe, and the keyframes are
# exactly the segment boundaries. frag_discont + avoid_negative_ts=disabled + no edit list
# keep our own decode timestamps in tfdt (the muxer would otherwise restart each file at
# zero, or at the first pts, and video and audio live in different files).
# default_base_moof makes each fragment self-contained.
_VIDEO_MUXER = {
    "movflags": "frag_keyframe+empty_moov+default_base_moof+frag_discont",
    "avoid_negative_ts": "disabled",
    "use_editlist": "0",
}


def _audio_muxer(segment_seconds: float) -> dict[str, str]:
    # Every AAC packet is a keyframe, so audio fragments are cut by duration instead.
    return {
        "movflags": "empty_moov+default_base_moof+frag_discont",
        "frag_duration": str(round(segment_seconds * 1_000_000)),
        "avoid_negative_ts": "disabled",
        "use_editlist": "0",
    }


@dataclass(frozen=True)
class VideoJob:
    """One frame for every rung: already at the top rung's size and carrying its output
    timing (pts, duration, forced keyframe) in the encoders' time base. Shared by all rung
    threads, so nobody modifies it: encoding it leaves it untouched when the time base is
    the encoder's, and smaller rungs scale it into frames of their own."""

    frame: av.VideoFrame


class _Stopped(Exception):
    pass


def rung_interpolation(source: tuple[int, int], size: tuple[int, int]) -> Interpolation:
    """How a smaller rung is scaled from the top rung's (already bicubic-scaled) frame.

    A second bicubic step blurs twice; measured on the benchmark's clip (SSIM against a
    Lanczos downscale of the source; the CLI scales each rung from the source in one
    bicubic step): an exact halving (360p from 720p) gets a box filter averaging each 2x2
    block, 0.8281 against 0.8180 bicubic (CLI 0.8282), at a third to a half of the scaling
    CPU; any other ratio (480p from 720p) gets Lanczos, 0.8603 against 0.8450 bicubic
    (CLI 0.8513) for ~0.15 ms more a frame; the box filter there gave 0.8031.
    """
    if source == (size[0] * 2, size[1] * 2):
        return Interpolation.AREA
    return Interpolation.LANCZOS


def _video_options(rung: Rung, gop: int, preset: str) -> tuple[str, dict[str, str]]:
    bufsize = rung.max_bitrate_kbps * 2
    gop_params = f"keyint={gop}:min-keyint={gop}:scenecut=0:open-gop=0"
    if rung.codec == "hevc":
        params = f"{gop_params}:vbv-maxrate={rung.max_bitrate_kbps}:vbv-bufsize={bufsize}"
        return "libx265", {
            "preset": preset,
            "profile": "main",
            "forced-idr": "1",
            "x265-params": f"{params}:log-level=error",
        }
    return "libx264", {
        "preset": preset,
        "profile": "high",
        "forced-idr": "1",
        "x264-params": gop_params,
        "maxrate": f"{rung.max_bitrate_kbps}k",
        "bufsize": f"{bufsize}k",
    }


class RungEncoder(threading.Thread):
    """Encodes the shared frames, scaled to its rung if need be, into one fragmented MP4."""

    def __init__(
        self,
        rung: Rung,
        path: Path,
        time_base: Fraction,
        frame_rate: Fraction,
        gop: int,
        stop: threading.Event,
        *,
        preset: str = DEFAULT_PRESET,
        color: dict[str, int] | None = None,
        threads: int = 0,
    ) -> None:
        super().__init__(name=f"encode-{rung.name}", daemon=True)
        self.rung, self.path, self.time_base, self.frame_rate = rung, path, time_base, frame_rate
        self.gop, self.stop, self.preset, self.color = gop, stop, preset, color or {}
        self.threads = threads
        self.jobs: queue.Queue[VideoJob | None] = queue.Queue(QUEUE_FRAMES)
        self.encoded = 0  # frames through the encoder; the main thread reads it for progress
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self._encode()
        except _Stopped:
            pass
        except BaseException as error:  # handed to the main thread, which raises it
            self.error = error
            self.stop.set()

    def _next(self) -> VideoJob | None:
        while True:
            if self.stop.is_set():
                raise _Stopped
            try:
                return self.jobs.get(timeout=0.1)
            except queue.Empty:
                continue

    def _encode(self) -> None:
        encoder, options = _video_options(self.rung, self.gop, self.preset)
        with av.open(str(self.path), "w", format="mp4", options=dict(_VIDEO_MUXER)) as out:
            stream = out.add_stream(encoder, rate=self.frame_rate, options=options)
            codec = stream.codec_context
            codec.width, codec.height, codec.pix_fmt = self.rung.width, self.rung.height, "yuv420p"
            codec.time_base = stream.time_base = self.time_base
            codec.bit_rate = self.rung.video_bitrate_kbps * 1000
            codec.thread_count = self.threads
            # PyAV defaults to SLICE, which FFmpeg's libx264 wrapper turns into x264's
            # sliced threads: lower latency, less efficient. Frame threads are x264's (and
            # the ffmpeg CLI's) default.
            codec.thread_type = "FRAME"
            for name, value in self.color.items():
                setattr(codec, name, value)
            if self.rung.codec == "hevc":
                codec.codec_tag = "hvc1"  # what Apple players require for HEVC in fMP4
            reformatter = VideoReformatter()  # this thread's own: sharing one segfaults
            size = (self.rung.width, self.rung.height)
            while (job := self._next()) is not None:
                frame = job.frame
                if (frame.width, frame.height) != size:
                    # A smaller rung, scaled from the top rung's frame (cheaper than from
                    # the source); the new frame keeps the job's timing.
                    interpolation = rung_interpolation((frame.width, frame.height), size)
                    frame = reformatter.reformat(
                        frame, *size, "yuv420p", interpolation=interpolation, threads=1
                    )
                elif frame.time_base != self.time_base:
                    raise TranscodeError(f"{self.rung.name}: a frame in a foreign time base")
                self._mux(out, stream.encode(frame))
                self.encoded += 1
            self._mux(out, stream.encode(None))

    def _mux(self, out: av.container.OutputContainer, packets: list[av.Packet]) -> None:
        for packet in packets:
            if packet.dts is not None and packet.dts < 0:
                raise TranscodeError(
                    f"{self.rung.name}: the encoder's decode timestamps start before zero"
                )
            out.mux(packet)


class AudioEncoder:
    """Resamples to 48 kHz and encodes AAC-LC into one fragmented MP4 (main thread)."""

    def __init__(
        self, path: Path, channels: int, offset_samples: int, segment_seconds: float
    ) -> None:
        self.channels = 1 if channels == 1 else 2
        layout = "mono" if self.channels == 1 else "stereo"
        self._out = av.open(str(path), "w", format="mp4", options=_audio_muxer(segment_seconds))
        self._stream = self._out.add_stream("aac", rate=AUDIO_RATE)
        self._stream.layout = layout
        self._stream.codec_context.bit_rate = 64_000 * self.channels
        self._stream.codec_context.time_base = Fraction(1, AUDIO_RATE)
        self._resampler = av.audio.resampler.AudioResampler("fltp", layout, AUDIO_RATE)
        self._offset = offset_samples
        self._next_pts: int | None = None
        self.samples_encoded = 0
        self.closed = False

    def add(self, frame: av.AudioFrame | None, start_seconds: float) -> None:
        """Encodes a decoded frame (None flushes); timing continues sample by sample."""
        if frame is not None and self._next_pts is None:
            first = max(0, round(((frame.time or 0.0) - start_seconds) * AUDIO_RATE))
            self._next_pts = first + self._offset
        for resampled in self._resampler.resample(frame):
            resampled.pts = self._next_pts
            resampled.time_base = Fraction(1, AUDIO_RATE)
            self._next_pts = (self._next_pts or 0) + resampled.samples
            self.samples_encoded += resampled.samples
            self._mux(self._stream.encode(resampled))

    def close(self) -> None:
        if self._next_pts is not None:
            self.add(None, 0.0)
            self._mux(self._stream.encode(None))
        self.closed = True
        self._out.close()

    def abort(self) -> None:
        self.closed = True
        try:
            self._out.close()
        except av.error.FFmpegError:
            pass  # a half-written file is thrown away anyway

    def _mux(self, packets: list[av.Packet]) -> None:
        for packet in packets:
            if packet.dts is not None and packet.dts < 0:
                raise TranscodeError("audio: the encoder's timestamps start before zero")
            self._out.mux(packet)
