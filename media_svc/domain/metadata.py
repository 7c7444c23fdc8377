"""Video metadata: limits, normalisation and moderation against a configurable blocklist."""

from __future__ import annotations

import enum
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from media_svc.domain.videos import InvalidArgument

TITLE_MAX_CHARS = 150
DESCRIPTION_MAX_CHARS = 2200
HASHTAGS_MAX = 30
# The published contract (UploadVideoMetadata.hashtags): at most 50 letters, digits or
# underscores each.
HASHTAG_MAX_CHARS = 50
SOUND_ID_MAX_CHARS = 64

_HASHTAG = re.compile(r"^\w+$")
_SOUND_ID = re.compile(rf"^[A-Za-z0-9][A-Za-z0-9_-]{{0,{SOUND_ID_MAX_CHARS - 1}}}$")
_SEPARATORS = re.compile(r"[\s,]+")
_WHITESPACE = re.compile(r"\s+")
# Bidirectional overrides and isolates reorder what a reader sees ("Trojan Source"
# spoofing); they have no place in a title or description.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


class MetadataInvalid(InvalidArgument):
    """A metadata field breaks a limit or a format; the message names the field."""

    def __init__(self, field_name: str, problem: str) -> None:
        super().__init__(f"{field_name}: {problem}")
        self.field = field_name


class MetadataRefused(InvalidArgument):
    """The metadata contains a blocklisted term and moderation refuses it."""

    def __init__(self, field_name: str, term: str) -> None:
        super().__init__(
            f"{field_name}: contains the blocked term {term!r}; remove it and try again"
        )
        self.field = field_name
        self.term = term


class ModerationMode(enum.StrEnum):
    """What a blocklisted term in the metadata does to an upload (MODERATION_MODE)."""

    REFUSE = "refuse"  # refused with INVALID_ARGUMENT naming the term and the field
    FLAG = "flag"  # accepted; the match is stored as a moderation flag with its reason


@dataclass(frozen=True)
class RawMetadata:
    """Metadata as a client sent it; None for a title that was not sent at all."""

    title: str | None = None
    description: str = ""
    hashtags: Sequence[str] = ()
    sound_id: str = ""


@dataclass(frozen=True)
class VideoMetadata:
    """Validated, normalised metadata, as stored."""

    title: str
    description: str = ""
    hashtags: tuple[str, ...] = ()
    sound_id: str | None = None


@dataclass(frozen=True)
class ModerationFlag:
    """A blocklisted term found in the metadata that flagged (did not refuse) the video."""

    field: str
    term: str
    reason: str

    def as_json(self) -> dict[str, str]:
        return {"field": self.field, "term": self.term, "reason": self.reason}


@dataclass(frozen=True)
class CheckedMetadata:
    metadata: VideoMetadata
    flags: tuple[ModerationFlag, ...] = field(default_factory=tuple)


def _clean(text: str, *, keep_newlines: bool) -> str:
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    kept = []
    for char in text:
        if char in _BIDI_CONTROLS:
            continue
        if unicodedata.category(char) == "Cc" and not (keep_newlines and char in "\n\t"):
            # Other control characters become spaces so words they separated stay apart.
            kept.append(" ")
            continue
        kept.append(char)
    return "".join(kept)


def normalise_title(raw: str | None) -> str:
    """Trimmed, whitespace runs collapsed to one space; 1 to 150 characters."""
    title = _WHITESPACE.sub(" ", _clean(raw or "", keep_newlines=False)).strip()
    if not title:
        raise MetadataInvalid("title", "is required (1 to 150 characters)")
    if len(title) > TITLE_MAX_CHARS:
        raise MetadataInvalid(
            "title", f"has {len(title)} characters; at most {TITLE_MAX_CHARS} are allowed"
        )
    return title


def normalise_description(raw: str | None) -> str:
    """Trimmed, line breaks kept; at most 2200 characters."""
    description = _clean(raw or "", keep_newlines=True).strip()
    if len(description) > DESCRIPTION_MAX_CHARS:
        raise MetadataInvalid(
            "description",
            f"has {len(description)} characters; at most {DESCRIPTION_MAX_CHARS} are allowed",
        )
    return description


def split_hashtags(values: Iterable[str]) -> list[str]:
    """Each value may hold several hashtags separated by commas or spaces."""
    return [token for value in values for token in _SEPARATORS.split(value or "") if token]


def normalise_hashtags(values: Iterable[str]) -> tuple[str, ...]:
    """Lower case, leading '#' stripped, duplicates dropped (first order kept); at most 30."""
    tags: dict[str, None] = {}
    for token in split_hashtags(values):
        tag = unicodedata.normalize("NFC", token).lstrip("#").lower()
        if not tag:
            continue  # a bare "#"
        if not _HASHTAG.match(tag):
            raise MetadataInvalid(
                "hashtags", f"{token!r} may contain only letters, digits and underscores"
            )
        if len(tag) > HASHTAG_MAX_CHARS:
            raise MetadataInvalid(
                "hashtags", f"{token!r} is longer than {HASHTAG_MAX_CHARS} characters"
            )
        tags[tag] = None
    if len(tags) > HASHTAGS_MAX:
        raise MetadataInvalid(
            "hashtags", f"{len(tags)} distinct hashtags; at most {HASHTAGS_MAX} are allowed"
        )
    return tuple(tags)


def normalise_sound_id(raw: str | None) -> str | None:
    """Empty means no sound; otherwise an opaque id of letters, digits, '_' and '-'."""
    sound_id = (raw or "").strip()
    if not sound_id:
        return None
    if not _SOUND_ID.match(sound_id):
        raise MetadataInvalid(
            "sound_id",
            f"{sound_id[:80]!r} is not a sound id (1 to {SOUND_ID_MAX_CHARS} letters, digits, "
            "'_' or '-', starting with a letter or digit)",
        )
    return sound_id


def normalise(raw: RawMetadata) -> VideoMetadata:
    return VideoMetadata(
        title=normalise_title(raw.title),
        description=normalise_description(raw.description),
        hashtags=normalise_hashtags(raw.hashtags),
        sound_id=normalise_sound_id(raw.sound_id),
    )


def _fold(text: str) -> str:
    # NFKC folds look-alikes such as full-width letters (U+FF53 for "s") onto plain ones.
    return unicodedata.normalize("NFKC", text).casefold()


@dataclass(frozen=True)
class _Term:
    shown: str  # as configured, for messages
    text: str  # folded, without a leading '#'
    hashtag_only: bool
    pattern: re.Pattern[str]


class Blocklist:
    """Words, phrases and hashtags that moderation looks for.

    A plain term ("spam", "buy followers") matches whole words in the title and the
    description, and a hashtag equal to it; a term written as a hashtag ("#scam") matches
    only that hashtag, in the hashtags or written out in the text. Matching ignores case
    and Unicode look-alikes.
    """

    def __init__(self, terms: Iterable[str]) -> None:
        self._terms: list[_Term] = []
        for configured in terms:
            shown = configured.strip()
            folded = _fold(shown)
            hashtag_only = folded.startswith("#")
            text = _WHITESPACE.sub(" ", folded.lstrip("#")).strip()
            if not text:
                continue
            body = r"\s+".join(re.escape(word) for word in text.split(" "))
            prefix = "#" if hashtag_only else ""
            self._terms.append(
                _Term(shown, text, hashtag_only, re.compile(rf"(?<![\w#]){prefix}{body}(?!\w)"))
            )

    def __bool__(self) -> bool:
        return bool(self._terms)

    def matches(self, metadata: VideoMetadata) -> list[tuple[str, str]]:
        """(field, term) for every match, in field order title, description, hashtags."""
        found: list[tuple[str, str]] = []
        texts = (("title", _fold(metadata.title)), ("description", _fold(metadata.description)))
        for field_name, text in texts:
            found.extend((field_name, t.shown) for t in self._terms if t.pattern.search(text))
        tags = {_fold(tag) for tag in metadata.hashtags}
        found.extend(("hashtags", t.shown) for t in self._terms if t.text in tags)
        return found


class MetadataPolicy:
    """Normalises metadata and applies moderation: refuse, or accept with flags."""

    def __init__(self, blocklist: Blocklist, mode: ModerationMode | str) -> None:
        self._blocklist = blocklist
        self._mode = ModerationMode(mode)

    def moderate(self, metadata: VideoMetadata) -> tuple[ModerationFlag, ...]:
        """Raises MetadataRefused in refuse mode; returns the flags in flag mode."""
        matches = self._blocklist.matches(metadata)
        if matches and self._mode is ModerationMode.REFUSE:
            raise MetadataRefused(*matches[0])
        return tuple(
            ModerationFlag(
                field_name,
                term,
                f"the {field_name} contains {term!r}, which is on the moderation blocklist",
            )
            for field_name, term in dict.fromkeys(matches)
        )

    def check(self, raw: RawMetadata) -> CheckedMetadata:
        """Validates, normalises and moderates complete metadata."""
        metadata = normalise(raw)
        return CheckedMetadata(metadata, self.moderate(metadata))

    def precheck(self, raw: RawMetadata) -> None:
        """Refuses early what the metadata seen so far already breaks.

        For a form whose fields may still arrive: every failure found here would also
        fail the complete metadata (a later field can add hashtags, never remove them);
        a missing title is not judged yet.
        """
        metadata = VideoMetadata(
            title=normalise_title(raw.title) if raw.title is not None else "",
            description=normalise_description(raw.description),
            hashtags=normalise_hashtags(raw.hashtags),
            sound_id=normalise_sound_id(raw.sound_id),
        )
        self.moderate(metadata)
