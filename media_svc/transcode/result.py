"""What a transcode produced: renditions, segments, manifests, images, frames and warnings."""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from media_svc.transcode.analysis import QualityWarning
from media_svc.transcode.images import encode_jpeg


class TranscodeError(Exception):
    """The transcode could not finish; the message says why (the job may be retried)."""


class TranscodeCancelled(TranscodeError):
    """The caller's cancel event was set; work stopped early."""


@dataclass(frozen=True)
class Segment:
    path: str  # relative to out_dir, "/"-separated
    duration_seconds: float
    size_bytes: int
    start_ticks: int  # decode time of the fragment (tfdt), in the track timescale
    duration_ticks: int


@dataclass(frozen=True)
class Rendition:
    name: str  # "720p"
    width: int
    height: int
    codec: str  # "h264" | "hevc"
    codecs: str  # RFC 6381 string from the encoded parameter sets, e.g. "avc1.64001f"
    bandwidth: int  # peak segment bit rate, bits/s (the HLS definition)
    average_bandwidth: int  # bits/s over the whole rendition
    frame_rate: float
    playlist: str
    init: str
    segments: tuple[Segment, ...]
    timescale: int
    presentation_offset_ticks: int  # media time that presents at 0 (DASH presentationTimeOffset)


@dataclass(frozen=True)
class AudioRendition:
    name: str
    codecs: str  # "mp4a.40.2"
    bandwidth: int
    average_bandwidth: int
    sample_rate: int
    channels: int
    playlist: str
    init: str
    segments: tuple[Segment, ...]
    timescale: int
    presentation_offset_ticks: int


@dataclass(frozen=True)
class SampledFrame:
    """A frame sampled for embeddings: RGB, uint8, shape (height, width, 3)."""

    time_seconds: float
    width: int
    height: int
    rgb: np.ndarray = field(repr=False)

    def jpeg(self, quality: int = 90) -> bytes:
        return encode_jpeg(self.rgb, quality)


@dataclass(frozen=True)
class TranscodeResult:
    duration_seconds: float  # of the video, as decoded
    frame_rate: Fraction
    renditions: tuple[Rendition, ...]
    audio: AudioRendition | None
    master_playlist: str
    dash_manifest: str
    thumbnail: str
    preview: str
    sampled_frames: tuple[SampledFrame, ...]
    warnings: tuple[QualityWarning, ...]
    scene_changes: int

    def files(self) -> list[str]:
        """Every output file, relative to out_dir (what the worker uploads)."""
        paths = [self.master_playlist, self.dash_manifest, self.thumbnail, self.preview]
        tracks: list[Rendition | AudioRendition] = [*self.renditions]
        if self.audio is not None:
            tracks.append(self.audio)
        for track in tracks:
            paths += [track.playlist, track.init, *(segment.path for segment in track.segments)]
        return paths
