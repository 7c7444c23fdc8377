"""What stream_svc keeps of a published video to play it: tracks, segments, object layout."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from stream_svc.domain.bitrate import Rung

# Object names inside a rendition's directory: a single path segment, never "." or "..".
_OBJECT_NAME = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$")
# Rendition names ("720p", "720p-hevc", "audio") double as URL path segments.
_RENDITION_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")
_SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")

VIDEO = "video"
AUDIO = "audio"


class PlaybackError(Exception):
    """Base of playback failures; the message is safe to show the caller."""


class InvalidArgument(PlaybackError):
    """Malformed input (INVALID_ARGUMENT)."""


class NotFound(PlaybackError):
    """Unknown, unpublished or deleted video, rendition or segment (NOT_FOUND)."""


class Unavailable(PlaybackError):
    """Neither the CDN nor the origin can serve segments right now (UNAVAILABLE)."""


class CatalogueError(ValueError):
    """Media's published objects do not have the shape playback relies on."""


def parse_video_id(raw: str) -> str:
    """The canonical (lower-case) form of a UUID video id; InvalidArgument otherwise."""
    try:
        return str(uuid.UUID(raw.strip()))
    except (ValueError, AttributeError):
        raise InvalidArgument("video_id must be a UUID") from None


def valid_session_id(raw: str | None) -> str | None:
    """A player session id as URLs carry it, or None when absent or malformed."""
    if raw and _SESSION_ID.match(raw):
        return raw
    return None


def is_object_name(name: str) -> bool:
    return bool(_OBJECT_NAME.match(name))


def is_rendition_name(name: str) -> bool:
    return bool(_RENDITION_NAME.match(name))


@dataclass(frozen=True)
class Segment:
    name: str  # "seg_00001.m4s", within the rendition's directory
    duration_s: float


@dataclass(frozen=True)
class Track:
    """One rendition: a video rung or the audio track, its init and media segments."""

    name: str
    kind: str  # VIDEO or AUDIO
    width: int
    height: int
    bandwidth_bps: int
    average_bandwidth_bps: int
    codecs: str
    frame_rate: float
    channels: int
    init: str
    target_duration_s: int
    segments: tuple[Segment, ...]

    @property
    def bitrate_kbps(self) -> int:
        return round(self.bandwidth_bps / 1000)

    @property
    def directory(self) -> str:
        """Its objects' directory below the video's prefix (media names it after the track)."""
        return f"{self.name}/"

    def has_object(self, name: str) -> bool:
        return name == self.init or any(segment.name == name for segment in self.segments)

    def position_s(self, name: str) -> float:
        """Where segment `name` starts in the presentation (0 for the init segment)."""
        elapsed = 0.0
        for segment in self.segments:
            if segment.name == name:
                return elapsed
            elapsed += segment.duration_s
        return 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "width": self.width,
            "height": self.height,
            "bandwidth_bps": self.bandwidth_bps,
            "average_bandwidth_bps": self.average_bandwidth_bps,
            "codecs": self.codecs,
            "frame_rate": self.frame_rate,
            "channels": self.channels,
            "init": self.init,
            "target_duration_s": self.target_duration_s,
            "segments": [[segment.name, segment.duration_s] for segment in self.segments],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Track:
        return cls(
            name=data["name"],
            kind=data["kind"],
            width=int(data["width"]),
            height=int(data["height"]),
            bandwidth_bps=int(data["bandwidth_bps"]),
            average_bandwidth_bps=int(data["average_bandwidth_bps"]),
            codecs=data["codecs"],
            frame_rate=float(data["frame_rate"]),
            channels=int(data["channels"]),
            init=data["init"],
            target_duration_s=int(data["target_duration_s"]),
            segments=tuple(Segment(name, float(seconds)) for name, seconds in data["segments"]),
        )


@dataclass(frozen=True)
class PlaybackVideo:
    """A playable video: everything manifests and redirects need, without media_svc."""

    video_id: str
    creator_id: str
    object_prefix: str  # "videos/{id}/"
    version: int  # bumped by every re-transcode; part of CDN URLs, so it invalidates them
    duration_s: float
    tracks: tuple[Track, ...]
    mpd: str  # media's MPD; its segment URLs are relative to object_prefix

    @property
    def video_tracks(self) -> list[Track]:
        """Video rungs, highest bandwidth first."""
        return sorted(
            (track for track in self.tracks if track.kind == VIDEO),
            key=lambda track: track.bandwidth_bps,
            reverse=True,
        )

    @property
    def audio_track(self) -> Track | None:
        return next((track for track in self.tracks if track.kind == AUDIO), None)

    def track(self, name: str) -> Track:
        for track in self.tracks:
            if track.name == name:
                return track
        raise NotFound(f"video {self.video_id} has no rendition {name!r}")

    def object_key(self, track: Track, name: str) -> str:
        return f"{self.object_prefix}{track.directory}{name}"

    def rungs(self) -> list[Rung]:
        """The H.264 video rungs bitrate choice picks from (every player decodes them)."""
        tracks = [t for t in self.video_tracks if t.codecs.startswith("avc1")]
        return [
            Rung(t.name, t.width, t.height, t.bandwidth_bps) for t in tracks or self.video_tracks
        ]

    def to_json(self) -> dict[str, Any]:
        return {
            "video_id": self.video_id,
            "creator_id": self.creator_id,
            "object_prefix": self.object_prefix,
            "version": self.version,
            "duration_s": self.duration_s,
            "tracks": [track.to_json() for track in self.tracks],
            "mpd": self.mpd,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PlaybackVideo:
        return cls(
            video_id=data["video_id"],
            creator_id=data["creator_id"],
            object_prefix=data["object_prefix"],
            version=int(data["version"]),
            duration_s=float(data["duration_s"]),
            tracks=tuple(Track.from_json(track) for track in data["tracks"]),
            mpd=data["mpd"],
        )


def tracks_to_json(tracks: Sequence[Track]) -> list[dict[str, Any]]:
    return [track.to_json() for track in tracks]
