"""Fragmented MP4 (CMAF) boxes: split a muxed file into init + segments, read timing and codecs."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

# Boxes whose payload is a plain list of child boxes (the ones this module walks into).
_CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl", b"moof", b"traf", b"mvex", b"dinf"}
_NON_SYNC_SAMPLE = 0x00010000  # sample_is_non_sync_sample in the ISO-BMFF sample flags
_COPY_CHUNK = 1 << 20


class BoxError(ValueError):
    """The bytes are not the ISO-BMFF structure they claim to be (e.g. a cut-off box)."""


@dataclass(frozen=True)
class Box:
    kind: bytes
    offset: int  # of the box header, within the buffer or file that was walked
    size: int  # header included
    header: int

    @property
    def payload(self) -> int:
        return self.offset + self.header

    @property
    def end(self) -> int:
        return self.offset + self.size


def iter_boxes(data: bytes | memoryview, start: int = 0, end: int | None = None) -> Iterator[Box]:
    """The boxes laid end to end in data[start:end]; a box running past `end` is an error."""
    end = len(data) if end is None else end
    offset = start
    while offset < end:
        if offset + 8 > end:
            raise BoxError(f"{end - offset} stray bytes at offset {offset}")
        size, kind = struct.unpack_from(">I4s", data, offset)
        header = 8
        if size == 1:
            if offset + 16 > end:
                raise BoxError(f"cut-off large box header at offset {offset}")
            size = struct.unpack_from(">Q", data, offset + 8)[0]
            header = 16
        elif size == 0:
            size = end - offset
        if size < header or offset + size > end:
            raise BoxError(f"box {kind!r} at offset {offset} claims {size} bytes past the end")
        yield Box(kind, offset, size, header)
        offset += size


def find(
    data: bytes | memoryview, path: list[bytes], start: int = 0, end: int | None = None
) -> Box:
    """The first box along `path` (e.g. [b"moov", b"trak", b"mdia", b"mdhd"])."""
    for box in iter_boxes(data, start, end):
        if box.kind == path[0]:
            if len(path) == 1:
                return box
            return find(data, path[1:], box.payload, box.end)
    raise BoxError(f"no {b'/'.join(path).decode(errors='replace')} box")


def _read_top_level(stream: BinaryIO) -> Iterator[tuple[bytes, int]]:
    """(type, size) of each top-level box of a file, leaving the stream at the box's start."""
    while True:
        start = stream.tell()
        header = stream.read(16)
        if not header:
            return
        if len(header) < 8:
            raise BoxError(f"{len(header)} stray bytes at the end")
        size, kind = struct.unpack_from(">I4s", header)
        if size == 1:
            size = struct.unpack_from(">Q", header, 8)[0]
        elif size == 0:
            size = stream.seek(0, 2) - start
        stream.seek(start)
        yield kind, size
        stream.seek(start + size)


def _copy(stream: BinaryIO, size: int, out: BinaryIO) -> None:
    remaining = size
    while remaining:
        chunk = stream.read(min(remaining, _COPY_CHUNK))
        if not chunk:
            raise BoxError("the file ends inside a box")
        out.write(chunk)
        remaining -= len(chunk)


@dataclass(frozen=True)
class TrackInfo:
    """What the init segment says about its single track."""

    track_id: int
    timescale: int
    sample_entry: str  # "avc1", "hvc1", "mp4a", ...
    codecs: str  # RFC 6381, e.g. "avc1.64001f"
    width: int
    height: int
    channels: int
    sample_rate: int
    default_sample_duration: int
    default_sample_flags: int


@dataclass(frozen=True)
class FragmentInfo:
    """Timing of one moof+mdat fragment, read from its own boxes."""

    base_decode_time: int  # tfdt, in the track timescale
    duration: int  # sum of the sample durations, in the track timescale
    sample_count: int
    starts_with_sync_sample: bool


@dataclass(frozen=True)
class SplitSegment:
    path: Path
    size_bytes: int
    info: FragmentInfo


@dataclass(frozen=True)
class SplitTrack:
    init: Path
    track: TrackInfo
    segments: list[SplitSegment]


def split_fragmented(source: Path, init_path: Path, segment_path: str) -> SplitTrack:
    """Writes ftyp+moov as `init_path` and each moof+mdat as its own segment file.

    `segment_path` is a format string taking the 1-based segment number. The source must be
    a fragmented MP4 of one track; an mfra/sidx index at the end is dropped (playlists and
    the MPD carry the timing).
    """
    written: list[tuple[Path, int, bytes]] = []
    init_bytes = bytearray()
    with source.open("rb") as stream:
        layout = list(_read_top_level(stream))
        stream.seek(0)
        index = 0
        while index < len(layout):
            kind, size = layout[index]
            if kind in (b"ftyp", b"moov"):
                init_bytes += stream.read(size)
            elif kind == b"moof":
                if index + 1 >= len(layout) or layout[index + 1][0] != b"mdat":
                    raise BoxError("a moof box without its mdat")
                moof = stream.read(size)
                mdat_size = layout[index + 1][1]
                target = Path(segment_path.format(len(written) + 1))
                with target.open("wb") as out:
                    out.write(moof)
                    _copy(stream, mdat_size, out)
                written.append((target, size + mdat_size, moof))
                index += 1
            else:
                stream.seek(size, 1)  # free, mfra, sidx: not part of the CMAF track
            index += 1
    if b"moov" not in {kind for kind, _ in layout}:
        raise BoxError("no moov box: not an MP4")
    init_path.write_bytes(bytes(init_bytes))
    track = parse_init(bytes(init_bytes))
    segments = [SplitSegment(p, size, parse_fragment(moof, track)) for p, size, moof in written]
    return SplitTrack(init_path, track, segments)


def _full_box(data: bytes | memoryview, box: Box) -> tuple[int, int, int]:
    """(version, flags, payload offset after them) of a FullBox."""
    version_flags = struct.unpack_from(">I", data, box.payload)[0]
    return version_flags >> 24, version_flags & 0xFFFFFF, box.payload + 4


def parse_init(data: bytes) -> TrackInfo:
    """Reads the single track of an init segment (ftyp + moov)."""
    trak = find(data, [b"moov", b"trak"])
    tkhd = find(data, [b"tkhd"], trak.payload, trak.end)
    version, _, at = _full_box(data, tkhd)
    track_id = struct.unpack_from(">I", data, at + (16 if version == 1 else 8))[0]
    mdhd = find(data, [b"mdia", b"mdhd"], trak.payload, trak.end)
    version, _, at = _full_box(data, mdhd)
    timescale = struct.unpack_from(">I", data, at + (16 if version == 1 else 8))[0]
    stsd = find(data, [b"mdia", b"minf", b"stbl", b"stsd"], trak.payload, trak.end)
    entry = next(iter_boxes(data, stsd.payload + 8, stsd.end))
    kind = entry.kind.decode("latin-1")
    width = height = channels = sample_rate = 0
    if kind in ("avc1", "avc3", "hvc1", "hev1"):
        width, height = struct.unpack_from(">HH", data, entry.payload + 24)
        children = entry.payload + 78
        config_kind = b"avcC" if kind.startswith("avc") else b"hvcC"
        config = find(data, [config_kind], children, entry.end)
        body = bytes(data[config.payload : config.end])
        codecs = _avc_codecs(kind, body) if config_kind == b"avcC" else _hevc_codecs(kind, body)
    elif kind == "mp4a":
        channels = struct.unpack_from(">H", data, entry.payload + 16)[0]
        sample_rate = struct.unpack_from(">I", data, entry.payload + 24)[0] >> 16
        esds = find(data, [b"esds"], entry.payload + 28, entry.end)
        codecs = _mp4a_codecs(bytes(data[esds.payload + 4 : esds.end]))
    else:
        codecs = kind
    default_duration = default_flags = 0
    try:
        trex = find(data, [b"moov", b"mvex", b"trex"])
        _, _, at = _full_box(data, trex)
        _, _, default_duration, _, default_flags = struct.unpack_from(">IIIII", data, at)
    except BoxError:
        pass
    return TrackInfo(
        track_id,
        timescale,
        kind,
        codecs,
        width,
        height,
        channels,
        sample_rate,
        default_duration,
        default_flags,
    )


def _avc_codecs(kind: str, avcc: bytes) -> str:
    # AVCDecoderConfigurationRecord: version, profile_idc, constraint flags, level_idc
    # (copied from the SPS by the muxer).
    return f"{kind}.{avcc[1]:02x}{avcc[2]:02x}{avcc[3]:02x}"


def _hevc_codecs(kind: str, hvcc: bytes) -> str:
    # ISO/IEC 14496-15 annex E: profile space, profile idc, reversed compatibility flags,
    # tier + level, then the constraint bytes without trailing zeros.
    space = hvcc[1] >> 6
    tier = (hvcc[1] >> 5) & 1
    profile = hvcc[1] & 0x1F
    compat = struct.unpack_from(">I", hvcc, 2)[0]
    reversed_compat = int(f"{compat:032b}"[::-1], 2)
    constraints = list(hvcc[6:12])
    while constraints and constraints[-1] == 0:
        constraints.pop()
    level = hvcc[12]
    parts = [
        kind,
        f"{'' if space == 0 else 'ABC'[space - 1]}{profile}",
        f"{reversed_compat:X}",
        f"{'H' if tier else 'L'}{level}",
        *(f"{byte:X}" for byte in constraints),
    ]
    return ".".join(parts)


def _descriptors(data: bytes, offset: int = 0) -> Iterator[tuple[int, int, int]]:
    """MPEG-4 descriptors as (tag, payload offset, payload length)."""
    while offset + 2 <= len(data):
        tag = data[offset]
        offset += 1
        length = 0
        for _ in range(4):
            byte = data[offset]
            offset += 1
            length = (length << 7) | (byte & 0x7F)
            if not byte & 0x80:
                break
        yield tag, offset, length
        offset += length


def _mp4a_codecs(esds: bytes) -> str:
    """'mp4a.40.<audio object type>' from the esds descriptors."""
    for tag, at, _ in _descriptors(esds):
        if tag != 0x03:  # ES_Descriptor
            continue
        flags = esds[at + 2]
        inner = at + 3
        if flags & 0x80:
            inner += 2
        if flags & 0x40:
            inner += 1 + esds[inner]
        if flags & 0x20:
            inner += 2
        for config_tag, config_at, _ in _descriptors(esds, inner):
            if config_tag != 0x04:  # DecoderConfigDescriptor
                continue
            object_type = esds[config_at]
            for info_tag, info_at, _ in _descriptors(esds, config_at + 13):
                if info_tag == 0x05:  # DecoderSpecificInfo: AudioSpecificConfig
                    return f"mp4a.{object_type:x}.{esds[info_at] >> 3}"
            return f"mp4a.{object_type:x}"
    return "mp4a"


def parse_fragment(moof: bytes, track: TrackInfo) -> FragmentInfo:
    """Decode time, duration and sync status of a fragment (its moof box is enough)."""
    base_time = 0
    duration = 0
    count = 0
    first_sync: bool | None = None
    root = next(iter_boxes(moof))
    if root.kind != b"moof":
        raise BoxError(f"a segment starts with {root.kind!r}, not moof")
    for traf in iter_boxes(moof, root.payload, root.end):
        if traf.kind != b"traf":
            continue
        default_duration = track.default_sample_duration
        default_flags = track.default_sample_flags
        for box in iter_boxes(moof, traf.payload, traf.end):
            version, flags, at = _full_box(moof, box) if box.kind != b"free" else (0, 0, 0)
            if box.kind == b"tfhd":
                at += 4  # track_ID
                if flags & 0x01:
                    at += 8  # base_data_offset
                if flags & 0x02:
                    at += 4  # sample_description_index
                if flags & 0x08:
                    default_duration = struct.unpack_from(">I", moof, at)[0]
                    at += 4
                if flags & 0x10:
                    at += 4  # default_sample_size
                if flags & 0x20:
                    default_flags = struct.unpack_from(">I", moof, at)[0]
            elif box.kind == b"tfdt":
                fmt = ">Q" if version == 1 else ">I"
                base_time = struct.unpack_from(fmt, moof, at)[0]
            elif box.kind == b"trun":
                samples = struct.unpack_from(">I", moof, at)[0]
                at += 4
                if flags & 0x01:
                    at += 4  # data_offset
                first_flags = None
                if flags & 0x04:
                    first_flags = struct.unpack_from(">I", moof, at)[0]
                    at += 4
                for sample in range(samples):
                    sample_duration = default_duration
                    sample_flags = default_flags
                    if flags & 0x100:
                        sample_duration = struct.unpack_from(">I", moof, at)[0]
                        at += 4
                    if flags & 0x200:
                        at += 4  # size
                    if flags & 0x400:
                        sample_flags = struct.unpack_from(">I", moof, at)[0]
                        at += 4
                    if flags & 0x800:
                        at += 4  # composition time offset
                    if sample == 0 and first_flags is not None:
                        sample_flags = first_flags
                    if first_sync is None:
                        first_sync = not sample_flags & _NON_SYNC_SAMPLE
                    duration += sample_duration
                count += samples
    return FragmentInfo(base_time, duration, count, bool(first_sync))


def read_segment_info(path: Path, track: TrackInfo) -> FragmentInfo:
    """Parses a segment file, checking that its boxes are complete (a cut file fails)."""
    data = path.read_bytes()
    kinds = [box.kind for box in iter_boxes(data)]
    if b"moof" not in kinds or b"mdat" not in kinds:
        raise BoxError(f"{path.name} holds {kinds}, not moof + mdat")
    moof = find(data, [b"moof"])
    return parse_fragment(data[moof.offset : moof.end], track)
