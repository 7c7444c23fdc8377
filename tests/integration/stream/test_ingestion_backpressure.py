"""Backpressure: while the real `video_events` consumer is paused and its group falls more
than STREAM_EVENTS_MAX_BACKLOG events behind, RecordPlaybackEvents refuses whole requests
(RESOURCE_EXHAUSTED with a retry-after trailer) and keeps nothing of them; once the resumed
consumer catches up, events are accepted again and counted exactly once."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal

import grpc
import pytest
from reels.stream.v1 import stream_service_pb2 as pb
from reels.stream.v1 import stream_service_pb2_grpc as stream_grpc

from tests.integration.stream.backpressure_support import (
    GROUP,
    backpressured_stream,
    sessions_batch,
    stream_length,
)
from tests.integration.stream.engagement_support import (
    eventually,
    new_id,
    publish_video,
    user_auth,
    wait_published,
    wait_views,
)
from tests.integration.stream.test_events_ingestion import _consumer, _stop, _wait_line

pytestmark = pytest.mark.asyncio(loop_scope="session")

BOUND = 300  # events behind before refusing
SESSIONS = 10  # per request: 60 events
# The server reuses its backlog reading for 0.2 s: wait past it between two posts.
PAST_THE_CACHE_S = 0.3


@pytest.fixture
async def stub(stream_server):
    async with grpc.aio.insecure_channel(stream_server.target) as channel:
        yield stream_grpc.StreamServiceStub(channel)


async def test_a_paused_consumer_gets_posts_refused_until_it_catches_up(
    stub, keys, config, service_environ, tmp_path
) -> None:
    video_id = await publish_video(config, new_id("creator"), duration_s=20.0)
    await wait_published(stub, keys, video_id)  # in the shared PostgreSQL catalogue
    viewer = new_id("viewer")
    async with backpressured_stream(config, BOUND) as bp:
        environ = {**service_environ, "REDIS_NAMESPACE": bp.config.redis_namespace}
        consumer = _consumer(environ, tmp_path, "--group", GROUP, "--name", "bp-consumer")
        async with grpc.aio.insecure_channel(bp.server.target) as channel:
            limited = stream_grpc.StreamServiceStub(channel)

            async def record(tag: str) -> pb.RecordPlaybackEventsResponse:
                request = pb.RecordPlaybackEventsRequest(
                    video_id=video_id, events=sessions_batch(f"{tag}-{new_id('b')}", SESSIONS)
                )
                return await limited.RecordPlaybackEvents(
                    request, metadata=user_auth(keys, viewer), timeout=10
                )

            try:
                await _wait_line(consumer, "ready", 60)
                reply = await record("running")
                assert reply.accepted_count == SESSIONS * 6
                sessions = SESSIONS
                await wait_views(stub, keys, video_id, views=sessions, completes=sessions)

                os.kill(consumer.pid, signal.SIGSTOP)  # our own child, by its pid
                refused: grpc.aio.AioRpcError | None = None
                for _ in range(BOUND // (SESSIONS * 6) + 3):
                    await asyncio.sleep(PAST_THE_CACHE_S)
                    try:
                        await record("paused")
                    except grpc.aio.AioRpcError as error:
                        refused = error
                        break
                    sessions += SESSIONS
                assert refused is not None, "the growing backlog was never refused"
                assert refused.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
                assert "events behind (bound 300)" in (refused.details() or "")
                retry_after = dict(refused.trailing_metadata() or ())["retry-after"]
                assert 1 <= int(retry_after) <= 30
                # Accepted until the batches behind the paused consumer passed the bound.
                behind = (sessions - SESSIONS) * 6
                assert BOUND < behind <= BOUND + SESSIONS * 6

                # Nothing of a refused request is kept: no stream entry, no count.
                before = await stream_length(bp.config, bp.stream_key)
                with pytest.raises(grpc.aio.AioRpcError) as again:
                    await record("refused")
                assert again.value.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
                assert await stream_length(bp.config, bp.stream_key) == before

                os.kill(consumer.pid, signal.SIGCONT)

                async def attempt() -> pb.RecordPlaybackEventsResponse | None:
                    try:
                        return await record("resumed")
                    except grpc.aio.AioRpcError as error:
                        assert error.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
                        return None

                reply = await eventually(
                    attempt, lambda r: r is not None, within=30, interval=PAST_THE_CACHE_S
                )
                assert reply is not None and reply.accepted_count == SESSIONS * 6
                sessions += SESSIONS
                # Every accepted session counted once, none of the refused ones.
                await wait_views(stub, keys, video_id, views=sessions, completes=sessions)
            finally:
                with contextlib.suppress(ProcessLookupError):
                    if consumer.poll() is None:
                        os.kill(consumer.pid, signal.SIGCONT)
                _stop(consumer)
