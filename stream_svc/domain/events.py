"""Playback events: the actions, validation of a client's batch, and deduplication ids."""

from __future__ import annotations

import enum
import hashlib
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

# A client's event id becomes global by hashing it with its user into this namespace, so
# the same (user, client id) always maps to the same event id and a retry counts once.
EVENT_ID_NAMESPACE = uuid.UUID("6f0b7a52-3c1e-5d8e-9a41-2b7c9e0d4f13")

MAX_BATCH = 500
MAX_CLIENT_ID_CHARS = 64
MAX_SESSION_CHARS = 64
MAX_DEVICE_CHARS = 32
MAX_FUTURE = timedelta(days=1)
MAX_PAST = timedelta(days=7)
MAX_BITRATE_KBPS = 200_000
MAX_WATCH = timedelta(hours=24)
MAX_STARTUP = timedelta(minutes=2)
MAX_REBUFFER = timedelta(minutes=10)
_MAX_WATCH_S = MAX_WATCH.total_seconds()
_MAX_STARTUP_S = MAX_STARTUP.total_seconds()
_MAX_REBUFFER_S = MAX_REBUFFER.total_seconds()
# Players report positions a little past the end (rounding, the last frame).
POSITION_SLACK_S = 2.0

_CLIENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:\-]*$")
_TOKEN = re.compile(r"^[\x21-\x7e]*$")  # printable ASCII, no spaces
_DEVICE = re.compile(r"^[A-Za-z0-9._\-]*$")


class Action(enum.StrEnum):
    """What happened; the values are the `action` column of ClickHouse `video_events`."""

    WATCH_START = "watch_start"
    WATCH_25 = "watch_25%"
    WATCH_50 = "watch_50%"
    WATCH_75 = "watch_75%"
    WATCH_COMPLETE = "watch_complete"
    LIKE = "like"
    SHARE = "share"
    COMMENT = "comment"
    WATCH_SEGMENT = "watch_segment"
    BITRATE_SWITCH = "bitrate_switch"
    REBUFFER = "rebuffer"
    STARTUP = "startup"


# How far into the video each progress event proves the viewer got.
MILESTONES: dict[Action, float] = {
    Action.WATCH_START: 0.0,
    Action.WATCH_25: 0.25,
    Action.WATCH_50: 0.5,
    Action.WATCH_75: 0.75,
    Action.WATCH_COMPLETE: 1.0,
}
PROGRESS_ACTIONS = frozenset(MILESTONES)
# Events a player posts itself; likes, shares and comments have their own RPCs and the
# segment redirect records segment fetches.
CLIENT_ACTIONS = PROGRESS_ACTIONS | {Action.BITRATE_SWITCH, Action.REBUFFER, Action.STARTUP}
# Events that describe a viewing session (they carry its watch time).
SESSION_ACTIONS = CLIENT_ACTIONS
ENGAGEMENT_ACTIONS = frozenset({Action.LIKE, Action.SHARE, Action.COMMENT})


@dataclass(frozen=True)
class ClientEvent:
    """One event as a player sent it; durations in seconds, None when unset."""

    client_event_id: str
    action: Action | None
    event_time: datetime | None
    session_id: str = ""
    bitrate_kbps: int = 0
    device: str = ""
    watch_s: float | None = None
    position_s: float | None = None
    startup_s: float | None = None
    rebuffer_s: float | None = None
    from_bitrate_kbps: int = 0
    to_bitrate_kbps: int = 0


@dataclass(frozen=True)
class RecordedEvent:
    """An accepted event as it travels on `video_events` and lands in ClickHouse."""

    event_id: str
    video_id: str
    user_id: str
    action: Action
    event_time: datetime
    creator_id: str = ""
    session_id: str = ""
    client_event_id: str = ""
    bitrate_kbps: int = 0
    device: str = ""
    watch_ms: int = 0
    position_ms: int = 0
    startup_ms: int = 0
    rebuffer_ms: int = 0
    from_bitrate_kbps: int = 0
    to_bitrate_kbps: int = 0
    rendition: str = ""
    segment_id: str = ""
    occur_time: datetime | None = None

    @property
    def milestone(self) -> float | None:
        return MILESTONES.get(self.action)


@dataclass(frozen=True)
class Rejection:
    index: int
    client_event_id: str
    reason: str


@dataclass
class BatchVerdict:
    """What became of a client's batch: the events to publish and those refused."""

    accepted: list[RecordedEvent] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    # Accepted, duplicates within the batch included (they publish once).
    accepted_count: int = 0


_NAMESPACE_BYTES = EVENT_ID_NAMESPACE.bytes


def derive_event_id(user_id: str, client_event_id: str) -> str:
    """The global event id of a client's event: the same for every retry of it.

    It is `uuid.uuid5(EVENT_ID_NAMESPACE, user + US + client id)`, computed without the
    UUID object (this runs for every event of every batch).
    """
    name = f"{user_id}\x1f{client_event_id}".encode()
    raw = bytearray(hashlib.sha1(_NAMESPACE_BYTES + name, usedforsecurity=False).digest()[:16])
    raw[6] = (raw[6] & 0x0F) | 0x50  # version 5
    raw[8] = (raw[8] & 0x3F) | 0x80  # RFC 4122 variant
    h = raw.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _ms(seconds: float | None) -> int:
    return int(seconds * 1000 + 0.5) if seconds else 0


def _reason(event: ClientEvent, now: datetime, video_duration_s: float | None) -> str | None:
    """Why the event is malformed, or None when it is fine."""
    cid = event.client_event_id
    if not cid:
        return "event_id is required"
    if len(cid) > MAX_CLIENT_ID_CHARS or not _CLIENT_ID.match(cid):
        return (
            f"event_id must be 1 to {MAX_CLIENT_ID_CHARS} letters, digits or ._:- "
            "starting with a letter or digit"
        )
    if event.action is None:
        return "action is unspecified or unknown"
    if event.action not in CLIENT_ACTIONS:
        if event.action is Action.WATCH_SEGMENT:
            return "watch_segment events are recorded by the segment redirect"
        return f"{event.action.value} has its own endpoint, not a playback event"
    if event.event_time is None:
        return "event_time is required"
    if event.event_time > now + MAX_FUTURE:
        return "event_time is more than a day in the future"
    if event.event_time < now - MAX_PAST:
        return "event_time is more than a week in the past"
    session, device = event.session_id, event.device
    if session and (len(session) > MAX_SESSION_CHARS or not _TOKEN.match(session)):
        return f"session_id must be at most {MAX_SESSION_CHARS} printable characters"
    if device and (len(device) > MAX_DEVICE_CHARS or not _DEVICE.match(device)):
        return f"device must be at most {MAX_DEVICE_CHARS} letters, digits or ._-"
    for name, value in (
        ("bitrate_kbps", event.bitrate_kbps),
        ("from_bitrate_kbps", event.from_bitrate_kbps),
        ("to_bitrate_kbps", event.to_bitrate_kbps),
    ):
        if not 0 <= value <= MAX_BITRATE_KBPS:
            return f"{name} must be between 0 and {MAX_BITRATE_KBPS}"
    for name, seconds, limit_s in (
        ("watch_duration", event.watch_s, _MAX_WATCH_S),
        ("position", event.position_s, _MAX_WATCH_S),
        ("startup_duration", event.startup_s, _MAX_STARTUP_S),
        ("rebuffer_duration", event.rebuffer_s, _MAX_REBUFFER_S),
    ):
        if not seconds:
            continue  # unset or zero
        if seconds < 0:
            return f"{name} must not be negative"
        if seconds > limit_s:
            return f"{name} must be at most {limit_s:g} s"
    if (
        event.position_s is not None
        and video_duration_s
        and event.position_s > video_duration_s + POSITION_SLACK_S
    ):
        return f"position is past the end of the video ({video_duration_s:g} s)"
    if event.action is Action.STARTUP and not event.startup_s:
        return "a startup event needs a positive startup_duration"
    if event.action is Action.REBUFFER and not event.rebuffer_s:
        return "a rebuffer event needs a positive rebuffer_duration"
    if event.action is Action.BITRATE_SWITCH and not event.to_bitrate_kbps:
        return "a bitrate_switch event needs to_bitrate_kbps"
    return None


def judge_batch(
    events: Sequence[ClientEvent],
    *,
    video_id: str,
    user_id: str,
    creator_id: str,
    now: datetime,
    video_duration_s: float | None = None,
) -> BatchVerdict:
    """Validates each event on its own: malformed ones are rejected with index and reason,
    the valid rest becomes RecordedEvents (one per distinct client id)."""
    verdict = BatchVerdict()
    seen: set[str] = set()
    for index, event in enumerate(events):
        reason = _reason(event, now, video_duration_s)
        if reason is not None:
            verdict.rejected.append(Rejection(index, event.client_event_id, reason))
            continue
        verdict.accepted_count += 1
        if event.client_event_id in seen:
            continue  # the same event twice in one batch counts once
        seen.add(event.client_event_id)
        assert event.action is not None and event.event_time is not None  # by _reason
        verdict.accepted.append(
            RecordedEvent(
                event_id=derive_event_id(user_id, event.client_event_id),
                video_id=video_id,
                user_id=user_id,
                creator_id=creator_id,
                action=event.action,
                event_time=event.event_time.astimezone(UTC),
                session_id=event.session_id,
                client_event_id=event.client_event_id,
                bitrate_kbps=event.bitrate_kbps,
                device=event.device,
                watch_ms=_ms(event.watch_s),
                position_ms=_ms(event.position_s),
                startup_ms=_ms(event.startup_s),
                rebuffer_ms=_ms(event.rebuffer_s),
                from_bitrate_kbps=event.from_bitrate_kbps,
                to_bitrate_kbps=event.to_bitrate_kbps,
                occur_time=now,
            )
        )
    return verdict


def engagement_event(
    action: Action, *, event_id: str, video_id: str, user_id: str, creator_id: str, now: datetime
) -> RecordedEvent:
    """The `video_events` record of a like, share or comment (for analytics and trending)."""
    return RecordedEvent(
        event_id=event_id,
        video_id=video_id,
        user_id=user_id,
        creator_id=creator_id,
        action=action,
        event_time=now,
        occur_time=now,
    )


def with_creator(event: RecordedEvent, creator_id: str) -> RecordedEvent:
    return event if event.creator_id else replace(event, creator_id=creator_id)


# The `action` value of each action, by value, for code that handles events as columns.
ACTION_BY_VALUE: dict[str, Action] = {a.value: a for a in Action}
_PROGRESS_VALUES = frozenset(a.value for a in PROGRESS_ACTIONS)
MILESTONE_BY_VALUE: dict[str, float] = {a.value: m for a, m in MILESTONES.items()}


@dataclass(slots=True)
class EventColumns:
    """A batch of recorded events as columns (one list per field, one row per event).

    The consumer of `video_events` handles thousands of events per second: it reads them
    into columns and writes them to ClickHouse as columns, without an object per event.
    Times are epoch milliseconds (UTC); `action` holds `Action` values.
    """

    event_id: list[str] = field(default_factory=list)
    video_id: list[str] = field(default_factory=list)
    creator_id: list[str] = field(default_factory=list)
    user_id: list[str] = field(default_factory=list)
    session_id: list[str] = field(default_factory=list)
    action: list[str] = field(default_factory=list)
    bitrate_kbps: list[int] = field(default_factory=list)
    rendition: list[str] = field(default_factory=list)
    device: list[str] = field(default_factory=list)
    watch_ms: list[int] = field(default_factory=list)
    position_ms: list[int] = field(default_factory=list)
    startup_ms: list[int] = field(default_factory=list)
    rebuffer_ms: list[int] = field(default_factory=list)
    event_time_ms: list[int] = field(default_factory=list)
    segment_id: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.event_id)

    def columns(self) -> list[list]:  # type: ignore[type-arg]
        return [getattr(self, name) for name in COLUMN_NAMES]

    def take(self, rows: Sequence[int]) -> EventColumns:
        """The given rows (by index), in that order."""
        return EventColumns(*([column[i] for i in rows] for column in self.columns()))

    def only(self, event_ids: set[str] | frozenset[str]) -> EventColumns:
        """The rows whose event id is in `event_ids` (self when that is every row)."""
        rows = [i for i, event_id in enumerate(self.event_id) if event_id in event_ids]
        return self if len(rows) == len(self) else self.take(rows)

    def without(self, event_ids: set[str] | frozenset[str]) -> EventColumns:
        """The rows whose event id is not in `event_ids`."""
        if not event_ids:
            return self
        rows = [i for i, event_id in enumerate(self.event_id) if event_id not in event_ids]
        return self.take(rows)

    def video_ids(self) -> list[str]:
        return sorted(set(self.video_id))

    @classmethod
    def of(cls, events: Sequence[RecordedEvent]) -> EventColumns:
        """The columns of RecordedEvents (their first occurrence per event id)."""
        columns = cls()
        seen: set[str] = set()
        for e in events:
            if e.event_id in seen:
                continue
            seen.add(e.event_id)
            columns.append(
                e.event_id,
                e.video_id,
                e.creator_id,
                e.user_id,
                e.session_id,
                e.action.value,
                e.bitrate_kbps,
                e.rendition,
                e.device,
                e.watch_ms,
                e.position_ms,
                e.startup_ms,
                e.rebuffer_ms,
                _epoch_ms(e.event_time),
                e.segment_id,
            )
        return columns

    def append(
        self,
        event_id: str,
        video_id: str,
        creator_id: str,
        user_id: str,
        session_id: str,
        action: str,
        bitrate_kbps: int,
        rendition: str,
        device: str,
        watch_ms: int,
        position_ms: int,
        startup_ms: int,
        rebuffer_ms: int,
        event_time_ms: int,
        segment_id: str,
    ) -> None:
        self.event_id.append(event_id)
        self.video_id.append(video_id)
        self.creator_id.append(creator_id)
        self.user_id.append(user_id)
        self.session_id.append(session_id)
        self.action.append(action)
        self.bitrate_kbps.append(bitrate_kbps)
        self.rendition.append(rendition)
        self.device.append(device)
        self.watch_ms.append(watch_ms)
        self.position_ms.append(position_ms)
        self.startup_ms.append(startup_ms)
        self.rebuffer_ms.append(rebuffer_ms)
        self.event_time_ms.append(event_time_ms)
        self.segment_id.append(segment_id)


COLUMN_NAMES: tuple[str, ...] = tuple(EventColumns.__dataclass_fields__)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)


def _epoch_ms(moment: datetime) -> int:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - _EPOCH) // _MS


def is_progress(action_value: str) -> bool:
    return action_value in _PROGRESS_VALUES
