"""The multipart/form-data door: a raw form body, parsed as it streams, into the pipeline."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header

from media_svc.domain.metadata import RawMetadata
from media_svc.domain.uploads import Accepted, IncomingUpload, UploadService
from media_svc.domain.videos import InvalidArgument

FILE_FIELD = "file"
_SINGLE_FIELDS = ("title", "description", "sound_id")
_LIST_FIELDS = ("hashtags", "hashtags[]")
# Text fields are small (a 2200-character description is < 9 KiB in UTF-8); anything
# much larger is not a metadata field.
FIELD_MAX_BYTES = 16 * 1024
FORM_OVERHEAD_BYTES = 256 * 1024
MAX_PARTS = 100
_FILE_NAME_MAX = 255


@dataclass
class _Part:
    headers: dict[str, str] = field(default_factory=dict)
    header_name: bytearray = field(default_factory=bytearray)
    header_value: bytearray = field(default_factory=bytearray)
    name: str = ""
    is_file: bool = False
    data: bytearray = field(default_factory=bytearray)


@dataclass
class _Form:
    """What the synchronous parser callbacks found; file work is queued for the async side."""

    fields: dict[str, str] = field(default_factory=dict)
    hashtags: list[str] = field(default_factory=list)
    # ("open", (file name, content type)) or ("data", bytes), in body order.
    pending: list[tuple[str, object]] = field(default_factory=list)
    part: _Part | None = None
    parts: int = 0
    files: int = 0
    ended: bool = False

    def raw(self) -> RawMetadata:
        return RawMetadata(
            title=self.fields.get("title"),
            description=self.fields.get("description", ""),
            hashtags=tuple(self.hashtags),
            sound_id=self.fields.get("sound_id", ""),
        )


def _disposition(value: str) -> tuple[str, str | None]:
    kind, params = parse_options_header(value)
    if kind != b"form-data" or b"name" not in params:
        raise InvalidArgument(
            f"every part needs 'Content-Disposition: form-data; name=...'; got {value[:120]!r}"
        )
    name = params[b"name"].decode("utf-8", "replace")
    file_name = params.get(b"filename")
    return name, (file_name.decode("utf-8", "replace") if file_name is not None else None)


def _safe_file_name(raw: str | None) -> str | None:
    """The client's name, for messages only: no directories, no control characters."""
    if not raw:
        return None
    name = re.split(r"[\\/]", raw)[-1]
    name = "".join(char for char in name if char.isprintable()).strip()
    return name[:_FILE_NAME_MAX] or None


class _FormParser:
    def __init__(self, boundary: bytes) -> None:
        self.form = _Form()
        self._parser = MultipartParser(
            boundary,
            callbacks={
                "on_part_begin": self._part_begin,
                "on_header_field": self._header_field,
                "on_header_value": self._header_value,
                "on_header_end": self._header_end,
                "on_headers_finished": self._headers_finished,
                "on_part_data": self._part_data,
                "on_part_end": self._part_end,
                "on_end": self._end,
            },
        )

    def write(self, data: bytes) -> None:
        try:
            self._parser.write(data)
        except FormParserError as error:
            raise InvalidArgument(
                f"the body is not well-formed multipart/form-data: {error}"
            ) from None

    def _part_begin(self) -> None:
        self.form.parts += 1
        if self.form.parts > MAX_PARTS:
            raise InvalidArgument(f"the form has more than {MAX_PARTS} parts")
        self.form.part = _Part()

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        assert self.form.part is not None
        self.form.part.header_name += data[start:end]

    def _header_value(self, data: bytes, start: int, end: int) -> None:
        assert self.form.part is not None
        self.form.part.header_value += data[start:end]

    def _header_end(self) -> None:
        part = self.form.part
        assert part is not None
        name = part.header_name.decode("latin-1").strip().lower()
        part.headers[name] = part.header_value.decode("utf-8", "replace").strip()
        part.header_name.clear()
        part.header_value.clear()

    def _headers_finished(self) -> None:
        part = self.form.part
        assert part is not None
        name, file_name = _disposition(part.headers.get("content-disposition", ""))
        part.name = name
        if name == FILE_FIELD:
            self.form.files += 1
            if self.form.files > 1:
                raise InvalidArgument("the form carries more than one 'file' part")
            part.is_file = True
            self.form.pending.append(
                ("open", (_safe_file_name(file_name), part.headers.get("content-type")))
            )
        elif file_name is not None:
            raise InvalidArgument(f"the file must be sent in the 'file' part, not {name!r}")
        elif name not in _SINGLE_FIELDS + _LIST_FIELDS:
            raise InvalidArgument(
                f"unknown form field {name[:64]!r}; the form takes file, title, description, "
                "hashtags and sound_id"
            )
        elif name in _SINGLE_FIELDS and name in self.form.fields:
            raise InvalidArgument(f"the form field {name!r} appears more than once")

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        part = self.form.part
        assert part is not None
        if part.is_file:
            if end > start:
                self.form.pending.append(("data", data[start:end]))
            return
        if len(part.data) + end - start > FIELD_MAX_BYTES:
            raise InvalidArgument(f"the form field {part.name!r} is too long")
        part.data += data[start:end]

    def _part_end(self) -> None:
        part = self.form.part
        if part is None or part.is_file:
            return
        try:
            value = part.data.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidArgument(f"the form field {part.name!r} is not UTF-8 text") from None
        if part.name in _LIST_FIELDS:
            self.form.hashtags.append(value)
        else:
            self.form.fields[part.name] = value

    def _end(self) -> None:
        self.form.ended = True


async def _drain(form: _Form, upload: IncomingUpload) -> None:
    pending, form.pending = form.pending, []
    for kind, value in pending:
        if kind == "open":
            file_name, content_type = value  # type: ignore[misc]
            raw = form.raw()
            # Refuse now what the fields sent before the file already break, rather
            # than after receiving the whole file.
            upload.precheck(raw)
            await upload.open_file(file_name=file_name, content_type=content_type)
        else:
            await upload.write(value)  # type: ignore[arg-type]


def boundary_of(content_type: str) -> bytes:
    kind, params = parse_options_header(content_type)
    boundary = params.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary:
        raise InvalidArgument(
            "the body must be multipart/form-data with a boundary; "
            f"got content type {content_type[:120]!r}"
        )
    return boundary


# Envoy's transcoder hands the service the raw request body as a stream of HttpBody
# messages; the first carries the Content-Type with the boundary. python-multipart's push
# parser splits it without holding more than a chunk: text fields are collected (each
# bounded), the `file` part's bytes go straight to the upload's spool file.
async def receive_multipart(
    uploads: UploadService, creator_id: str, body: AsyncIterator[tuple[str, bytes]]
) -> Accepted:
    """Parses the form as it streams in and runs it through the upload pipeline.

    `body` yields (content_type, data) per message; the first message's content type
    names the boundary.
    """
    first = await anext(body, None)
    if first is None:
        raise InvalidArgument("the request has no body; send a multipart/form-data form")
    parser = _FormParser(boundary_of(first[0]))
    # The whole body may exceed the file by the form's text and framing, not by more.
    body_limit = uploads.limits.max_bytes + FORM_OVERHEAD_BYTES
    received = 0
    async with uploads.receive(creator_id) as upload:

        async def feed(data: bytes) -> None:
            nonlocal received
            received += len(data)
            if received > body_limit:
                raise uploads.too_large()
            parser.write(data)
            await _drain(parser.form, upload)

        await feed(first[1])
        async for _content_type, data in body:
            if parser.form.ended:
                continue  # an epilogue after the closing boundary is ignored
            await feed(data)
        if not parser.form.ended:
            raise InvalidArgument(
                "the multipart body ended before its closing boundary (an interrupted upload?)"
            )
        if parser.form.files == 0:
            raise InvalidArgument("the form has no 'file' part; attach the video as 'file'")
        return await upload.finish(parser.form.raw())
