"""Validation of a player's batch of events, deduplication ids, and counter plans."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from stream_svc.domain.counters import SessionKey, plan_counters
from stream_svc.domain.events import (
    EVENT_ID_NAMESPACE,
    Action,
    ClientEvent,
    EventColumns,
    RecordedEvent,
    derive_event_id,
    judge_batch,
)

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def ev(cid: str = "e1", action: Action | None = Action.WATCH_START, **fields) -> ClientEvent:
    fields.setdefault("event_time", NOW)
    return ClientEvent(client_event_id=cid, action=action, **fields)


def judge(*events: ClientEvent, duration: float | None = 30.0):
    return judge_batch(
        events, video_id="v", user_id="u", creator_id="c", now=NOW, video_duration_s=duration
    )


def test_event_ids_are_stable_per_user_and_client_id() -> None:
    assert derive_event_id("alice", "e1") == derive_event_id("alice", "e1")
    assert derive_event_id("alice", "e1") != derive_event_id("bob", "e1")
    assert derive_event_id("alice", "e1") != derive_event_id("alice", "e2")
    # No separator games: ("a", "b:c") and ("a:b", "c") differ.
    assert derive_event_id("a", "b:c") != derive_event_id("a:b", "c")
    # It is a standard UUIDv5, computed the fast way.
    for user, cid in (("alice", "e1"), ("ü", "x" * 64), ("", "")):
        expected = uuid.uuid5(EVENT_ID_NAMESPACE, f"{user}\x1f{cid}")
        assert derive_event_id(user, cid) == str(expected)


def test_valid_events_become_records_with_their_fields() -> None:
    verdict = judge(
        ev("e1", Action.WATCH_50, watch_s=12.5, position_s=15.0, session_id="s", device="ios"),
        ev("e2", Action.STARTUP, startup_s=0.25),
    )
    assert not verdict.rejected
    assert verdict.accepted_count == 2
    first = verdict.accepted[0]
    assert (first.video_id, first.user_id, first.creator_id) == ("v", "u", "c")
    assert (first.watch_ms, first.position_ms, first.session_id, first.device) == (
        12500,
        15000,
        "s",
        "ios",
    )
    assert first.event_id == derive_event_id("u", "e1")
    assert verdict.accepted[1].startup_ms == 250


def test_each_malformed_event_is_named_by_index() -> None:
    verdict = judge(
        ev("ok"),
        ev(""),
        ev("-starts-with-dash"),
        ev("e3", None),
        ev("e4", Action.LIKE),
        ev("e5", Action.WATCH_SEGMENT),
        ev("e6", event_time=None),
        ev("e7", event_time=NOW + timedelta(days=1, seconds=1)),
        ev("e8", event_time=NOW - timedelta(days=7, seconds=1)),
        ev("e9", session_id="has space"),
        ev("e10", device="x" * 33),
        ev("e11", bitrate_kbps=300_000),
        ev("e12", watch_s=-0.001),
        ev("e13", watch_s=24 * 3600 + 1),
        ev("e14", position_s=33.0),
        ev("e15", Action.STARTUP),
        ev("e16", Action.STARTUP, startup_s=121.0),
        ev("e17", Action.REBUFFER, rebuffer_s=0.0),
        ev("e18", Action.BITRATE_SWITCH, from_bitrate_kbps=700),
        ev("ok2", position_s=31.9),
    )
    assert verdict.accepted_count == 2
    assert [r.index for r in verdict.rejected] == list(range(1, 19))
    assert all(r.reason for r in verdict.rejected)
    assert verdict.rejected[0].client_event_id == ""
    assert verdict.rejected[2].client_event_id == "e3"


def test_a_duplicate_in_one_batch_is_accepted_but_recorded_once() -> None:
    verdict = judge(ev("same"), ev("same"), ev("other"))
    assert verdict.accepted_count == 3
    assert [e.client_event_id for e in verdict.accepted] == ["same", "other"]


def test_position_is_unchecked_when_the_duration_is_unknown() -> None:
    assert not judge(ev("e", position_s=500.0), duration=None).rejected


def rec(
    action: Action, *, session: str = "s", watch_ms: int = 0, video: str = "v"
) -> RecordedEvent:
    return RecordedEvent(
        event_id=f"{action}-{session}-{watch_ms}",
        video_id=video,
        user_id="u",
        action=action,
        event_time=NOW,
        session_id=session,
        watch_ms=watch_ms,
    )


def test_the_counter_plan_counts_views_completes_and_furthest_watch() -> None:
    plan = plan_counters(
        EventColumns.of(
            [
                rec(Action.WATCH_START, watch_ms=0),
                rec(Action.WATCH_50, watch_ms=5000),
                rec(Action.REBUFFER, watch_ms=3000),
                rec(Action.WATCH_COMPLETE, watch_ms=10_000),
                rec(Action.WATCH_START, session="t", video="w"),
                rec(Action.LIKE, session="t", video="w"),
                rec(Action.WATCH_SEGMENT, session="t", video="w", watch_ms=999),
            ]
        )
    )
    assert {v: (d.views, d.completes) for v, d in plan.videos.items()} == {"v": (1, 1), "w": (1, 0)}
    assert plan.session_watch_ms == {SessionKey("v", "u", "s"): 10_000}
    assert plan_counters(EventColumns()).empty
