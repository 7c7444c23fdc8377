"""The feed keeps answering, by rules, when embed_svc or the model server is stopped or
paused: real processes stopped (SIGTERM) or paused (SIGSTOP), never a patched client."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator

import grpc
import pytest
import pytest_asyncio
from reels.embed.v1 import embed_service_pb2 as embed_pb
from reels.embed.v1 import embed_service_pb2_grpc as embed_grpc
from reels.ranking.v1 import ranking_service_pb2 as pb
from reels.ranking.v1 import ranking_service_pb2_grpc as ranking_grpc

from ranking_svc.settings import RankingSettings
from reels_runtime.server import ReelsServer
from tests.integration.ranking.ranking_support import new_id, publish_indexed
from tests.support.processes import free_port, stop_group, wait_until
from tests.support.ranking_settings import with_generous_unfaulted_sources
from tests.support.service_process import serving

pytestmark = [pytest.mark.chaos, pytest.mark.asyncio(loop_scope="session")]

# Deep deadlines with room for a loaded 2-core test machine; the point here is that a dead
# or frozen dependency costs at most its deadline, not that the deadline is tight. The
# other sources (PostgreSQL, stream_svc in this process) get generous deadlines.
SETTINGS = with_generous_unfaulted_sources(RankingSettings.from_env({}))
SETTINGS = dataclasses.replace(
    SETTINGS,
    feed=dataclasses.replace(SETTINGS.feed, recall_timeout_s=0.4, score_timeout_s=0.4),
)
# What a dead or frozen embed_svc may cost a page: its two deadlines, the page's own work,
# and slack for the machine (the healthy sources answer well within it).
BUDGET_S = 0.05 + SETTINGS.feed.recall_timeout_s + SETTINGS.feed.score_timeout_s + 0.1 + 1.5


@dataclasses.dataclass
class EmbedProcess:
    address: str
    process: subprocess.Popen[bytes]

    def pause(self) -> None:
        os.kill(self.process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        os.kill(self.process.pid, signal.SIGCONT)


@pytest.fixture(scope="module")
def embed_process(
    service_environ, stream_server, model_server, tmp_path_factory
) -> Iterator[EmbedProcess]:
    """`python -m embed_svc` as its own process (so it can be paused or killed), over the
    session's model server, with a Milvus Lite file of its own."""
    directory = tmp_path_factory.mktemp("embed-process")
    port = free_port()
    env = {
        **os.environ,
        **service_environ,
        "SERVICE_NAME": "embed_svc",
        "GRPC_LISTEN": f"127.0.0.1:{port}",
        # MILVUS_URL, not MILVUS_URI: pymilvus itself reads MILVUS_URI at import and
        # refuses a Milvus Lite path there.
        "MILVUS_URL": str(directory / "milvus.db"),
        "REELS_DATA_DIR": str(directory),
        "TENSORFLOW_SERVING_URL": model_server.address,
        "STREAM_SVC_ADDR": stream_server.target,
        "TF_CPP_MIN_LOG_LEVEL": "2",
    }
    with (directory / "embed.log").open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "embed_svc"],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    address = f"127.0.0.1:{port}"
    try:

        def up() -> bool:
            if process.poll() is not None:
                raise RuntimeError(f"embed_svc exited; see {directory / 'embed.log'}")
            return serving(address)

        wait_until(up, 120, "embed_svc process")
        yield EmbedProcess(address, process)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(process.pid, signal.SIGCONT)
        stop_group(process)


async def _ranking(config, stream_target: str, embed_target: str) -> ReelsServer:
    from ranking_svc.server import create_server

    server = await create_server(
        config.replace(
            service_name="ranking_svc", stream_svc_addr=stream_target, embed_svc_addr=embed_target
        ),
        SETTINGS,
    )
    await server.start()
    return server


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def over_embed_process(config, stream_server, embed_process) -> AsyncIterator[ReelsServer]:
    """A ranking_svc whose embed_svc is the separate process above."""
    server = await _ranking(config, stream_server.target, embed_process.address)
    yield server
    await server.stop(grace=1)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def videos(config, database_url, ranking_server, embed_process, keys) -> list[str]:
    """Published videos with embeddings (so the ranking model has something to score)."""
    rng = random.Random(6)
    ids = []
    token = [("authorization", f"Bearer {keys.signer.mint_service('media_svc')}")]
    async with grpc.aio.insecure_channel(embed_process.address) as channel:
        embed = embed_grpc.EmbedServiceStub(channel)
        for i in range(8):
            creator = new_id(f"chaos{i}")
            video_id = await publish_indexed(config, database_url, creator, title=f"chaos {i}")
            frames = [
                embed_pb.Frame(rgb=rng.randbytes(64 * 64 * 3), width=64, height=64)
                for _ in range(3)
            ]
            await embed.EmbedVideo(
                embed_pb.EmbedVideoRequest(video_id=video_id, creator_id=creator, frames=frames),
                metadata=token,
                timeout=60,
            )
            ids.append(video_id)
    return ids


async def _feed(server: ReelsServer, keys) -> tuple[pb.GetFeedResponse, float]:
    """A fresh page for a new user (never cached), and how long it took."""
    async with grpc.aio.insecure_channel(server.target) as channel:
        stub = ranking_grpc.RankingServiceStub(channel)
        started = time.monotonic()
        reply = await stub.GetFeed(
            pb.GetFeedRequest(limit=10), metadata=keys.user_metadata(new_id("u")), timeout=10
        )
        return reply, time.monotonic() - started


def _reasons(reply: pb.GetFeedResponse) -> dict[str, str]:
    return {r.dependency: r.reason for r in reply.fallback_reasons}


async def _model_tier(server: ReelsServer, keys) -> pb.GetFeedResponse:
    """The model tier once everything is warm (the first calls load models and caches)."""
    reply = None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        reply, _ = await _feed(server, keys)
        if reply.tier == pb.SERVING_TIER_MODEL and any(i.score.deep > 0 for i in reply.items):
            return reply
        await asyncio.sleep(0.5)
    raise AssertionError(f"never served by the model tier: {_reasons(reply)}")


async def test_model_server_stopped_gives_rules(over_embed_process, model_server, keys, videos):
    await _model_tier(over_embed_process, keys)
    with model_server.stopped():
        reply, elapsed = await _feed(over_embed_process, keys)
    assert reply.items, "the feed answers"
    assert reply.tier == pb.SERVING_TIER_RULES
    assert "embed.ScoreCandidates" in _reasons(reply)
    assert all(i.score.deep == 0 for i in reply.items)
    assert elapsed < BUDGET_S


async def test_model_server_paused_gives_rules_within_budget(
    over_embed_process, model_server, keys, videos
):
    await _model_tier(over_embed_process, keys)
    with model_server.paused():
        reply, elapsed = await _feed(over_embed_process, keys)
    assert reply.items
    assert reply.tier == pb.SERVING_TIER_RULES
    assert "embed.ScoreCandidates" in _reasons(reply)
    assert elapsed < BUDGET_S, f"{elapsed:.2f} s"


async def test_embed_paused_gives_rules_within_budget(
    over_embed_process, embed_process, keys, videos
):
    await _model_tier(over_embed_process, keys)
    embed_process.pause()
    try:
        reply, elapsed = await _feed(over_embed_process, keys)
    finally:
        embed_process.resume()
    assert reply.items
    assert reply.tier == pb.SERVING_TIER_RULES
    reasons = _reasons(reply)
    assert reasons["embed.RecallForUser"].startswith("DEADLINE_EXCEEDED"), reasons
    assert elapsed < BUDGET_S, f"{elapsed:.2f} s"


async def test_embed_stopped_gives_rules(over_embed_process, embed_process, keys, videos):
    # The last test of the module: the process does not come back.
    embed_process.process.send_signal(signal.SIGTERM)
    await asyncio.to_thread(embed_process.process.wait, 30)
    reply, elapsed = await _feed(over_embed_process, keys)
    assert reply.items
    assert reply.tier == pb.SERVING_TIER_RULES
    reasons = _reasons(reply)
    assert "embed.RecallForUser" in reasons and "embed.ScoreCandidates" in reasons
    assert elapsed < BUDGET_S
