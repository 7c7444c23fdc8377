"""The event bus against the machine's Redis (db 15, keys under a per-test prefix)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest
import redis.asyncio as aioredis
from google.protobuf import struct_pb2, wrappers_pb2

from reels_runtime.context import current_request_id, request_scope
from reels_runtime.eventbus import Event, EventBus

pytestmark = pytest.mark.asyncio(loop_scope="session")

TOPIC = "video.published"


def _collector() -> tuple[list[Event], Callable[[Event], Awaitable[None]]]:
    seen: list[Event] = []

    async def handler(event: Event) -> None:
        seen.append(event)

    return seen, handler


async def test_publish_consume_and_ack(redis_client: aioredis.Redis, key_prefix: str) -> None:
    bus = EventBus(redis_client, key_prefix)
    seen, handler = _collector()
    consumer = bus.consumer(TOPIC, "ranking", "c1", handler, message_type=wrappers_pb2.StringValue)
    await bus.ensure_group(TOPIC, "ranking")
    with request_scope("req-publish"):
        ids = [
            await bus.publish(TOPIC, wrappers_pb2.StringValue(value=f"v{i}"), event_id=f"e{i}")
            for i in range(3)
        ]
    assert await bus.lag(TOPIC, "ranking") == 3
    assert await consumer.run_once(block_ms=100) == 3
    assert [event.message.value for event in seen] == ["v0", "v1", "v2"]
    assert [event.event_id for event in seen] == ["e0", "e1", "e2"]
    assert [event.stream_id for event in seen] == ids
    assert all(event.deliveries == 1 for event in seen)
    assert all(event.event_type == "google.protobuf.StringValue" for event in seen)
    assert all(event.published_at is not None for event in seen)
    assert await bus.pending_count(TOPIC, "ranking") == 0
    assert await bus.lag(TOPIC, "ranking") == 0
    # Trimming is approximate and configured per bus.
    entries = await redis_client.xrange(bus.stream_key(TOPIC))
    assert entries[0][1][b"request_id"] == b"req-publish"


async def test_every_group_gets_every_event_and_the_type_is_read_from_the_entry(
    redis_client: aioredis.Redis, key_prefix: str
) -> None:
    bus = EventBus(redis_client, key_prefix)
    message = struct_pb2.Struct()
    message.update({"video_id": "v1", "views": 3})
    await bus.publish("any", message)
    seen_a, handler_a = _collector()
    seen_b, handler_b = _collector()
    # Neither consumer names a type: it comes from event_type via the descriptor pool.
    await bus.consumer("any", "group-a", "a", handler_a).run_once(block_ms=50)
    await bus.consumer("any", "group-b", "b", handler_b).run_once(block_ms=50)
    assert [event.message for event in seen_a] == [message]
    assert [event.message for event in seen_b] == [message]


async def test_the_handler_runs_with_the_publisher_request_id(
    redis_client: aioredis.Redis, key_prefix: str
) -> None:
    bus = EventBus(redis_client, key_prefix)
    ids: list[str | None] = []

    async def handler(event: Event) -> None:
        ids.append(current_request_id())

    with request_scope("req-origin"):
        await bus.publish(TOPIC, wrappers_pb2.StringValue(value="x"))
    await bus.publish(TOPIC, wrappers_pb2.StringValue(value="y"), event_id="evt-y")
    await bus.consumer(TOPIC, "g", "c", handler).run_once(block_ms=50)
    assert ids == ["req-origin", "evt-y"]


async def test_registered_topics_refuse_other_types(
    redis_client: aioredis.Redis, key_prefix: str
) -> None:
    bus = EventBus(redis_client, key_prefix)
    bus.register(TOPIC, wrappers_pb2.StringValue)
    with pytest.raises(TypeError, match="StringValue"):
        await bus.publish(TOPIC, wrappers_pb2.Int64Value(value=1))
    with pytest.raises(ValueError, match="already carries"):
        bus.register(TOPIC, wrappers_pb2.Int64Value)


async def test_a_dead_consumer_s_events_are_claimed_by_another(
    redis_client: aioredis.Redis, key_prefix: str
) -> None:
    bus = EventBus(redis_client, key_prefix)
    started = asyncio.Event()

    async def hangs(event: Event) -> None:
        started.set()
        await asyncio.Event().wait()  # the process dies here

    for i in range(2):
        await bus.publish(TOPIC, wrappers_pb2.StringValue(value=f"v{i}"), event_id=f"e{i}")
    doomed = bus.consumer(TOPIC, "workers", "doomed", hangs, batch=2, claim_idle_ms=200)
    task = asyncio.create_task(doomed.run())
    await asyncio.wait_for(started.wait(), timeout=2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await bus.pending_count(TOPIC, "workers") == 2

    seen, handler = _collector()
    heir = bus.consumer(TOPIC, "workers", "heir", handler, claim_idle_ms=200)
    # Not idle long enough yet: nothing is taken from a consumer that may be alive.
    assert await heir.run_once(claim=True, block_ms=10) == 0
    await asyncio.sleep(0.25)
    assert await heir.run_once(claim=True, block_ms=10) == 2
    assert sorted(event.event_id for event in seen) == ["e0", "e1"]
    assert {event.deliveries for event in seen} == {2}
    assert await bus.pending_count(TOPIC, "workers") == 0

    # Acknowledged means done: no later claim pass processes them again.
    await asyncio.sleep(0.25)
    assert await heir.run_once(claim=True, block_ms=10) == 0
    other_seen, other = _collector()
    assert (
        await bus.consumer(TOPIC, "workers", "third", other, claim_idle_ms=1).run_once(
            claim=True, block_ms=10
        )
        == 0
    )
    assert len(seen) == 2
    assert other_seen == []


async def test_a_slow_handler_keeps_its_event(
    redis_client: aioredis.Redis, key_prefix: str
) -> None:
    bus = EventBus(redis_client, key_prefix)
    calls: list[str] = []

    async def slow(event: Event) -> None:
        calls.append(event.event_id)
        await asyncio.sleep(1.0)

    await bus.publish(TOPIC, wrappers_pb2.StringValue(value="long"), event_id="long")
    worker = bus.consumer(TOPIC, "transcode", "w1", slow, claim_idle_ms=300)
    working = asyncio.create_task(worker.run_once(block_ms=50))
    await asyncio.sleep(0.7)  # well past claim_idle_ms, but the heartbeat keeps it fresh
    rival_seen, rival = _collector()
    rival_consumer = bus.consumer(TOPIC, "transcode", "w2", rival, claim_idle_ms=300)
    assert await rival_consumer.run_once(claim=True, block_ms=10) == 0
    assert await working == 1
    assert calls == ["long"]
    assert rival_seen == []


async def test_a_poison_event_is_dead_lettered_after_max_deliveries(
    redis_client: aioredis.Redis, key_prefix: str
) -> None:
    bus = EventBus(redis_client, key_prefix)
    attempts: list[int] = []

    async def fails(event: Event) -> None:
        attempts.append(event.deliveries)
        raise ValueError(f"cannot handle {event.message.value}")

    await bus.publish(TOPIC, wrappers_pb2.StringValue(value="bad"), event_id="poison-1")
    consumer = bus.consumer(TOPIC, "stream", "c1", fails, max_deliveries=3, claim_idle_ms=50)
    assert await consumer.run_once(block_ms=10) == 1
    assert await bus.pending_count(TOPIC, "stream") == 1  # left pending for a retry
    for _ in range(2):
        await asyncio.sleep(0.07)
        await consumer.run_once(claim=True, block_ms=10)
    assert attempts == [1, 2, 3]
    assert await bus.pending_count(TOPIC, "stream") == 0
    (dead,) = await bus.dead_letters()
    assert dead["event_id"] == "poison-1"
    assert dead["topic"] == TOPIC
    assert dead["group"] == "stream"
    assert dead["error"] == "ValueError: cannot handle bad"
    assert dead["deliveries"] == "3"
    assert wrappers_pb2.StringValue.FromString(dead["payload"]).value == "bad"  # type: ignore[arg-type]
    # Nothing more happens to it.
    await asyncio.sleep(0.07)
    assert await consumer.run_once(claim=True, block_ms=10) == 0
    assert attempts == [1, 2, 3]


async def test_an_event_that_crashes_its_consumers_is_dead_lettered_on_claim(
    redis_client: aioredis.Redis, key_prefix: str
) -> None:
    bus = EventBus(redis_client, key_prefix)
    await bus.publish(TOPIC, wrappers_pb2.StringValue(value="crashes"), event_id="crash-1")
    await bus.ensure_group(TOPIC, "g")
    # Two consumers took it and died without a word (no error recorded, never acked).
    await redis_client.xreadgroup("g", "dead-1", {bus.stream_key(TOPIC): ">"}, count=1)
    await asyncio.sleep(0.06)
    await redis_client.xautoclaim(bus.stream_key(TOPIC), "g", "dead-2", 50, "0-0")
    await asyncio.sleep(0.06)
    seen, handler = _collector()
    consumer = bus.consumer(TOPIC, "g", "c", handler, max_deliveries=2, claim_idle_ms=50)
    await consumer.run_once(claim=True, block_ms=10)
    assert seen == []
    (dead,) = await bus.dead_letters()
    assert dead["event_id"] == "crash-1"
    assert dead["deliveries"] == "3"
    assert "stopped while handling" in str(dead["error"])


async def test_undecodable_entries_go_straight_to_dead_letters(
    redis_client: aioredis.Redis, key_prefix: str
) -> None:
    bus = EventBus(redis_client, key_prefix)
    key = bus.stream_key(TOPIC)
    await redis_client.xadd(key, {"event_type": "reels.nothing.v1.Nope", "payload": b"x"})
    await redis_client.xadd(
        key, {"event_type": "google.protobuf.StringValue", "payload": b"\xff\xff\xff"}
    )
    await redis_client.xadd(key, {"no": "fields"})
    seen, handler = _collector()
    consumer = bus.consumer(TOPIC, "g", "c", handler)
    assert await consumer.run_once(block_ms=10) == 3
    assert seen == []
    errors = [str(entry["error"]) for entry in await bus.dead_letters()]
    assert "unknown event type reels.nothing.v1.Nope" in errors[0]
    assert "does not decode" in errors[1]
    assert "lacks event_type" in errors[2]
    assert await bus.pending_count(TOPIC, "g") == 0


async def test_a_handler_over_its_time_limit_fails(
    redis_client: aioredis.Redis, key_prefix: str
) -> None:
    bus = EventBus(redis_client, key_prefix)

    async def stuck(event: Event) -> None:
        await asyncio.sleep(5)

    await bus.publish(TOPIC, wrappers_pb2.StringValue(value="x"))
    consumer = bus.consumer(TOPIC, "g", "c", stuck, handler_timeout_s=0.05, max_deliveries=1)
    await consumer.run_once(block_ms=10)
    (dead,) = await bus.dead_letters()
    assert dead["error"] == "handler exceeded 0.05 s"


async def test_run_stops_gracefully(redis_client: aioredis.Redis, key_prefix: str) -> None:
    bus = EventBus(redis_client, key_prefix)
    seen, handler = _collector()
    consumer = bus.consumer(TOPIC, "g", "c", handler, block_ms=100)
    running = asyncio.create_task(consumer.run())
    await bus.publish(TOPIC, wrappers_pb2.StringValue(value="before-stop"))
    for _ in range(50):
        if seen:
            break
        await asyncio.sleep(0.02)
    consumer.stop()
    await asyncio.wait_for(running, timeout=1)
    assert [event.message.value for event in seen] == ["before-stop"]
    assert await bus.pending_count(TOPIC, "g") == 0


async def test_a_consumer_survives_redis_losing_its_stream(
    redis_client: aioredis.Redis, key_prefix: str
) -> None:
    bus = EventBus(redis_client, key_prefix)
    seen, handler = _collector()
    consumer = bus.consumer(TOPIC, "g", "c", handler, block_ms=50)
    running = asyncio.create_task(consumer.run())
    await bus.publish(TOPIC, wrappers_pb2.StringValue(value="first"))
    for _ in range(100):
        if seen:
            break
        await asyncio.sleep(0.02)
    # What a Redis restart without persistence looks like: the stream and group are gone.
    await redis_client.delete(bus.stream_key(TOPIC))
    await bus.publish(TOPIC, wrappers_pb2.StringValue(value="after-loss"))
    for _ in range(150):
        if len(seen) == 2:
            break
        await asyncio.sleep(0.02)
    consumer.stop()
    await asyncio.wait_for(running, timeout=2)
    assert [event.message.value for event in seen] == ["first", "after-loss"]
