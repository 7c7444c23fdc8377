"""stream_svc's batch consumer against the machine's Redis: poison goes to dead letters,
the rest of the batch goes through, and a batch that keeps failing is retried one by one."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence

import pytest
import pytest_asyncio
from google.protobuf import wrappers_pb2

from reels_runtime.eventbus import EventBus
from stream_svc.adapters.batch_consumer import BatchConsumer, Delivered
from tests.support.buses import scratch_bus

pytestmark = pytest.mark.asyncio(loop_scope="session")

TOPIC = "video.watched"


@pytest_asyncio.fixture(loop_scope="session")
async def bus() -> AsyncIterator[EventBus]:
    async with scratch_bus("batch") as scratch:
        yield scratch


async def test_poison_is_dead_lettered_and_the_rest_of_the_batch_lands(bus: EventBus) -> None:
    handled: list[str] = []

    async def handler(batch: Sequence[Delivered], retry: bool) -> None:
        handled.extend(delivered.message.value for delivered in batch)

    consumer = BatchConsumer(bus, TOPIC, "g", "c1", handler, wrappers_pb2.StringValue, block_ms=10)
    await bus.publish(TOPIC, wrappers_pb2.StringValue(value="good-1"), event_id="e1")
    await bus.redis.xadd(
        bus.stream_key(TOPIC),
        {"event_type": "google.protobuf.StringValue", "payload": b"\xff\xff\xff"},
    )
    await bus.publish(TOPIC, wrappers_pb2.StringValue(value="good-2"), event_id="e2")
    assert await consumer.run_once() == 2
    assert handled == ["good-1", "good-2"]
    (dead,) = await bus.dead_letters()
    assert "does not decode" in str(dead["error"])
    assert dead["topic"] == TOPIC
    assert dead["consumer"] == "c1"
    assert await bus.pending_count(TOPIC, "g") == 0


async def test_a_failing_event_is_isolated_then_dead_lettered(bus: EventBus) -> None:
    handled: list[str] = []

    async def handler(batch: Sequence[Delivered], retry: bool) -> None:
        if any(delivered.message.value == "bad" for delivered in batch):
            raise ValueError("cannot store bad")
        handled.extend(delivered.message.value for delivered in batch)

    consumer = BatchConsumer(
        bus,
        TOPIC,
        "g",
        "c1",
        handler,
        wrappers_pb2.StringValue,
        block_ms=10,
        claim_idle_ms=50,
        max_deliveries=2,
    )
    for value in ("ok-1", "bad", "ok-2"):
        await bus.publish(TOPIC, wrappers_pb2.StringValue(value=value), event_id=value)
    assert await consumer.run_once() == 0  # the whole batch failed: pending
    await asyncio.sleep(0.08)
    # Redelivered: the batch fails again, so its events are tried one at a time.
    assert await consumer.claim_idle() == 2
    assert sorted(handled) == ["ok-1", "ok-2"]
    await asyncio.sleep(0.08)
    await consumer.claim_idle()  # the third delivery is past max_deliveries
    (dead,) = await bus.dead_letters()
    assert dead["event_id"] == "bad"
    assert dead["error"] == "ValueError: cannot store bad"
    assert await bus.pending_count(TOPIC, "g") == 0


async def test_entries_are_read_from_the_raw_reply_whatever_their_field_order(
    bus: EventBus,
) -> None:
    """The consumer reads XREADGROUP's reply unparsed: fields in any order, a value that
    spells a field name, a wrong event type (dead-lettered with the bus's reason) and an
    entry without an event id (its stream id stands in) all come out as before."""
    handled: list[tuple[str, str]] = []

    async def handler(batch: Sequence[Delivered], retry: bool) -> None:
        handled.extend((d.event_id, d.message.value) for d in batch)

    consumer = BatchConsumer(bus, TOPIC, "g", "c1", handler, wrappers_pb2.StringValue, block_ms=10)
    key = bus.stream_key(TOPIC)
    good = wrappers_pb2.StringValue(value="payload").SerializeToString()
    await bus.redis.xadd(
        key,
        {
            "published_at": "payload",  # a value spelling a field name comes first
            "payload": good,
            "event_id": "e-1",
            "event_type": "google.protobuf.StringValue",
        },
    )
    no_id = await bus.redis.xadd(
        key, {"event_type": "google.protobuf.StringValue", "payload": good}
    )
    await bus.redis.xadd(key, {"event_type": "google.protobuf.Int32Value", "payload": b""})
    await bus.redis.xadd(key, {"event_type": "google.protobuf.StringValue"})
    assert await consumer.run_once() == 2
    assert handled == [("e-1", "payload"), (no_id.decode(), "payload")]
    errors = sorted(str(dead["error"]) for dead in await bus.dead_letters())
    assert len(errors) == 2
    assert "carries google.protobuf.StringValue, got google.protobuf.Int32Value" in errors[1]
    assert "lacks event_type or payload" in errors[0]
    assert await bus.pending_count(TOPIC, "g") == 0
