"""The consumer's columnar reading of `video_events`: the same events, counters and lag
observations as the per-event reading it replaced."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from google.protobuf import duration_pb2, timestamp_pb2
from prometheus_client import CollectorRegistry, Histogram
from reels.common.v1 import events_pb2, playback_pb2

from stream_svc.adapters.batch_consumer import Delivered
from stream_svc.adapters.engagement_bus import action_of, to_datetime
from stream_svc.adapters.engagement_ingest import playback_columns
from stream_svc.adapters.postgres_engagement import claim_event_ids
from stream_svc.domain.counters import SessionKey, VideoDelta, plan_counters
from stream_svc.domain.events import SESSION_ACTIONS, Action, EventColumns, RecordedEvent
from stream_svc.metrics import EVENT_INGESTION_LAG, ingestion_lag

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
ACTIONS = [a for a in playback_pb2.PlaybackAction.values() if a]


def _stamp(moment: datetime) -> timestamp_pb2.Timestamp:
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(moment)
    return stamp


def _span(ms: int) -> duration_pb2.Duration:
    return duration_pb2.Duration(seconds=ms // 1000, nanos=(ms % 1000) * 1_000_000)


def _messages(rng: random.Random, n: int) -> list[events_pb2.PlaybackEventRecorded]:
    messages = []
    for i in range(n):
        message = events_pb2.PlaybackEventRecorded(
            event_id=f"e{rng.randrange(n)}" if i % 7 else "",  # repeats, and envelope ids
            video_id=f"v{rng.randrange(3)}",
            user_id=f"u{rng.randrange(3)}",
            creator_id="c",
            session_id=f"s{rng.randrange(4)}",
            action=rng.choice(ACTIONS),
            bitrate_kbps=rng.choice([-5, 0, 2500]),
            device="phone",
            rendition=rng.choice(["", "720p"]),
            segment_id=rng.choice(["", "seg-3"]),
        )
        if rng.random() < 0.8:
            message.event_time.CopyFrom(_stamp(NOW - timedelta(milliseconds=rng.randrange(10**7))))
        if rng.random() < 0.5 or not message.HasField("event_time"):
            message.occur_time.CopyFrom(_stamp(NOW))
        for name in ("watch_duration", "position", "startup_duration", "rebuffer_duration"):
            if rng.random() < 0.6:
                getattr(message, name).CopyFrom(_span(rng.randrange(60_000)))
        messages.append(message)
    return messages


def _ms_of(span: duration_pb2.Duration) -> int:
    return max(0, span.seconds * 1000 + span.nanos // 1_000_000)


def recorded_event(message: events_pb2.PlaybackEventRecorded, event_id: str) -> RecordedEvent:
    """The per-event reading the consumer used before it read columns: the reference the
    columnar reading must agree with."""
    action = action_of(message.action)
    assert action is not None
    when = to_datetime(message.event_time) if message.HasField("event_time") else None
    if when is None and message.HasField("occur_time"):
        when = to_datetime(message.occur_time)
    assert when is not None
    return RecordedEvent(
        event_id=message.event_id or event_id,
        video_id=message.video_id,
        user_id=message.user_id,
        action=action,
        event_time=when,
        creator_id=message.creator_id,
        session_id=message.session_id,
        client_event_id=message.client_event_id,
        bitrate_kbps=max(0, message.bitrate_kbps),
        device=message.device,
        watch_ms=_ms_of(message.watch_duration),
        position_ms=_ms_of(message.position),
        startup_ms=_ms_of(message.startup_duration),
        rebuffer_ms=_ms_of(message.rebuffer_duration),
        from_bitrate_kbps=max(0, message.from_bitrate_kbps),
        to_bitrate_kbps=max(0, message.to_bitrate_kbps),
        rendition=message.rendition,
        segment_id=message.segment_id,
    )


def reference_plan(fresh: list[RecordedEvent]):
    """The per-event counter plan the consumer used before it read columns."""
    videos: dict[str, VideoDelta] = {}
    watch: dict[SessionKey, int] = {}
    for event in fresh:
        if event.action not in SESSION_ACTIONS:
            continue
        if event.action is Action.WATCH_START:
            videos.setdefault(event.video_id, VideoDelta()).views += 1
        elif event.action is Action.WATCH_COMPLETE:
            videos.setdefault(event.video_id, VideoDelta()).completes += 1
        if event.watch_ms > 0:
            key = SessionKey(event.video_id, event.user_id, event.session_id)
            watch[key] = max(watch.get(key, 0), event.watch_ms)
    return videos, watch


def test_columns_read_the_bus_as_recorded_event_does() -> None:
    rng = random.Random(4)
    messages = _messages(rng, 400)
    unknown = events_pb2.PlaybackEventRecorded(event_id="odd", video_id="v0", action=999)
    batch = [
        Delivered(f"{1000 + i}-0", f"env-{i}", 1, m) for i, m in enumerate([*messages, unknown])
    ]
    columns = playback_columns(batch)
    expected: dict[str, RecordedEvent] = {}
    for d in batch[:-1]:  # the unknown action is skipped by both
        event = recorded_event(d.message, d.event_id)  # type: ignore[arg-type]
        expected.setdefault(event.event_id, event)
    # Every message here has an event or occur time, so "now" never stands in.
    assert columns == EventColumns.of(list(expected.values()))
    assert "odd" not in columns.event_id
    assert len(set(columns.event_id)) == len(columns)


def test_a_missing_time_reads_as_now() -> None:
    message = events_pb2.PlaybackEventRecorded(
        event_id="e", video_id="v", user_id="u", action=playback_pb2.PLAYBACK_ACTION_WATCH_START
    )
    before = datetime.now(UTC)
    (at,) = playback_columns([Delivered("1-0", "e", 1, message)]).event_time_ms
    assert before - timedelta(seconds=1) <= datetime.fromtimestamp(at / 1000, UTC)
    assert datetime.fromtimestamp(at / 1000, UTC) <= datetime.now(UTC)


def test_the_counter_plan_of_columns_is_the_plan_of_events() -> None:
    rng = random.Random(7)
    events = [
        RecordedEvent(
            event_id=f"e{i}",
            video_id=f"v{rng.randrange(3)}",
            user_id=f"u{rng.randrange(2)}",
            action=rng.choice(list(Action)),
            event_time=NOW,
            session_id=f"s{rng.randrange(3)}",
            watch_ms=rng.choice([0, 0, rng.randrange(90_000)]),
        )
        for i in range(500)
    ]
    videos, watch = reference_plan(events)
    by_columns = plan_counters(EventColumns.of(events))
    assert {v: (d.views, d.completes) for v, d in by_columns.videos.items()} == {
        v: (d.views, d.completes) for v, d in videos.items()
    }
    assert by_columns.session_watch_ms == watch
    assert plan_counters(EventColumns()).empty


def test_column_selection_keeps_rows_whole() -> None:
    events = [
        RecordedEvent(
            event_id=f"e{i}", video_id=f"v{i}", user_id="u", action=Action.WATCH_50, event_time=NOW
        )
        for i in range(5)
    ]
    columns = EventColumns.of(events)
    assert columns.only({"e1", "e3"}).video_id == ["v1", "v3"]
    assert columns.without({"e1", "e3"}).event_id == ["e0", "e2", "e4"]
    assert columns.only(set(columns.event_id)) is columns
    assert columns.event_time_ms[0] == int(NOW.timestamp() * 1000)


def _samples(histogram: Histogram, topic: str) -> dict[str, float]:
    return {
        f"{s.name}{s.labels.get('le', '')}": s.value
        for metric in histogram.collect()
        for s in metric.samples
        if s.labels.get("topic") == topic and not s.name.endswith("_created")
    }


def test_lag_is_observed_once_per_entry() -> None:
    """Entries sharing a millisecond are observed together: the histogram ends up as if
    each had been observed on its own."""
    topic = "test-lag-topic"
    now = 1_800_000_000.0
    ids = [f"{int(now * 1000) - lag}-{seq}" for lag in (5, 5, 5, 900, 12_000) for seq in range(3)]
    ids.append("not-a-stream-id")
    ingestion_lag(topic, ids, now_s=now)
    reference = Histogram(
        "reference_lag",
        "same buckets, one observation per entry",
        ["topic"],
        buckets=EVENT_INGESTION_LAG._upper_bounds,  # type: ignore[attr-defined]
        registry=CollectorRegistry(),
    )
    for stream_id in ids[:-1]:
        millis = int(stream_id.partition("-")[0])
        reference.labels(topic).observe(max(0.0, now - millis / 1000))
    ours = _samples(EVENT_INGESTION_LAG, topic)
    theirs = {
        name.replace("reference_lag", EVENT_INGESTION_LAG._name): value  # type: ignore[attr-defined]
        for name, value in _samples(reference, topic).items()
    }
    assert ours.keys() == theirs.keys()
    for name, value in theirs.items():
        assert abs(ours[name] - value) < 1e-9, name


def test_a_batch_entry_reads_as_its_events_and_lone_entries_as_before() -> None:
    """A PlaybackEventBatch entry is its events in order; an event without an id gets its
    place in the entry (stable across redeliveries), a lone one the envelope's id."""
    rng = random.Random(7)
    messages = _messages(rng, 6)
    for i, message in enumerate(messages):
        message.event_id = f"id{i}" if i != 2 else ""
    batch = events_pb2.PlaybackEventBatch(events=messages[:4])
    entries = [
        Delivered("5-0", "env-batch", 1, batch, 4),
        Delivered("6-0", "env-lone", 1, messages[4]),
        Delivered(
            "7-0",
            "env-lone-2",
            1,
            events_pb2.PlaybackEventRecorded(
                video_id="v1", action=playback_pb2.PLAYBACK_ACTION_WATCH_START
            ),
        ),
    ]
    columns = playback_columns(entries)
    assert columns.event_id == [
        messages[0].event_id,
        messages[1].event_id,
        "5-0/2",
        messages[3].event_id,
        messages[4].event_id,
        "env-lone-2",
    ]
    lone = playback_columns(
        [Delivered(f"{i}-0", f"e{i}", 1, m) for i, m in enumerate(messages[:2])]
    )
    assert columns.take([0, 1]).event_id == lone.event_id
    assert columns.take([0, 1]).event_time_ms == lone.event_time_ms


def test_lag_counts_each_event_of_an_entry() -> None:
    topic = f"test.sizes.{random.random()}"
    ingestion_lag(topic, ["1000000-0", "1000000-1", "1001000-0"], [500, 1, 3], now_s=1002.0)
    child = EVENT_INGESTION_LAG.labels(topic)
    assert sum(b.get() for b in child._buckets) == 504
    assert child._sum.get() == pytest.approx(501 * 2.0 + 3 * 1.0)


@pytest.mark.asyncio(loop_scope="session")
async def test_claiming_returns_the_ids_seen_before(database_url: str) -> None:
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        async with conn.transaction():
            assert await claim_event_ids(conn, ["a", "b", "a"]) == set()
        async with conn.transaction():
            assert await claim_event_ids(conn, ["b", "c", "c"]) == {"b"}
            assert await claim_event_ids(conn, []) == set()
        async with conn.transaction():
            assert await claim_event_ids(conn, ["a", "b", "c", "d"]) == {"a", "b", "c"}
