"""A real grpc.aio server built by reels_runtime.server, on port 0, with small servicers."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import grpc
import pytest
import pytest_asyncio
import redis.asyncio as aioredis
from cryptography.hazmat.primitives.asymmetric import rsa
from reels.media.v1 import media_service_pb2 as media_pb2
from reels.media.v1 import media_service_pb2_grpc as media_grpc
from reels.stream.v1 import stream_service_pb2 as stream_pb2
from reels.stream.v1 import stream_service_pb2_grpc as stream_grpc

from reels_runtime.auth import ServiceTokenSource, TokenSigner, TokenVerifier, public_jwks
from reels_runtime.channels import dial
from reels_runtime.config import Config
from reels_runtime.context import current_principal, current_request_id
from reels_runtime.deadlines import inbound_time_remaining, remaining_budget
from reels_runtime.server import ReelsServer, build_server
from reels_runtime.telemetry import configure_tracing, current_trace_id
from tests.support.processes import free_port

ISSUER = "reels-it"
AUDIENCE = "reels-it-aud"
KID = "it-key-1"
MEDIA = "reels.media.v1.MediaService"
STREAM = "reels.stream.v1.StreamService"
REDIS_URL = "redis://127.0.0.1:6379/15"


@dataclass
class Observed:
    """What the servicers saw; tests key it by their own unique ids."""

    calls: Counter[str] = field(default_factory=Counter)
    values: dict[str, Any] = field(default_factory=dict)


class MediaServicer(media_grpc.MediaServiceServicer):
    """Behaviour chosen by the id's prefix, so each test drives it with its own ids."""

    def __init__(self, observed: Observed, downstream: Any) -> None:
        self.observed = observed
        self.downstream = downstream  # a DeadlineStub on this same server

    async def GetVideoStatus(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        video_id = request.video_id
        self.observed.calls[video_id] += 1
        principal = current_principal()
        self.observed.values[video_id] = {
            "principal": principal,
            "request_id": current_request_id(),
            "trace_id": current_trace_id(),
            "inbound_remaining": inbound_time_remaining(),
        }
        if video_id.startswith("unavailable-once-") and self.observed.calls[video_id] == 1:
            await context.abort(grpc.StatusCode.UNAVAILABLE, "try again")
        if video_id.startswith("budget-"):
            self.observed.values[video_id]["budget"] = remaining_budget(30.0)
        if video_id.startswith("nested-"):
            reply = await self.downstream.BatchGetVideos(
                media_pb2.BatchGetVideosRequest(video_ids=[video_id])
            )
            self.observed.values[video_id]["downstream"] = list(reply.missing_video_ids)
        if video_id.startswith("slow-"):
            await asyncio.sleep(0.3)
        if video_id.startswith("crash-"):
            raise RuntimeError("servicer bug")
        return media_pb2.GetVideoStatusResponse(
            video_id=video_id, creator_id=principal.describe() if principal else ""
        )

    async def BatchGetVideos(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        key = request.video_ids[0]
        self.observed.calls[f"batch:{key}"] += 1
        principal = current_principal()
        self.observed.values[f"batch:{key}"] = {
            "inbound_remaining": inbound_time_remaining(),
            "request_id": current_request_id(),
            "trace_id": current_trace_id(),
        }
        return media_pb2.BatchGetVideosResponse(
            missing_video_ids=[principal.describe() if principal else "anonymous"]
        )

    async def CreateUploadSession(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        self.observed.calls[request.title] += 1
        if (
            request.title.startswith("unavailable-once-")
            and self.observed.calls[request.title] == 1
        ):
            await context.abort(grpc.StatusCode.UNAVAILABLE, "try again")
        return media_pb2.CreateUploadSessionResponse(upload_id=request.title)

    async def GetVideoProcessingHealth(self, request: Any, context: Any) -> Any:
        principal = current_principal()
        return media_pb2.GetVideoProcessingHealthResponse(
            reasons=[principal.describe() if principal else "anonymous"]
        )

    async def ListFailedVideos(self, request: Any, context: Any) -> Any:
        return media_pb2.ListFailedVideosResponse(next_page_token="admin-ok")

    async def UploadVideo(self, request_iterator: Any, context: Any) -> Any:
        received = 0
        video_id = ""
        async for chunk in request_iterator:
            if chunk.HasField("metadata"):
                video_id = chunk.metadata.title
            received += len(chunk.chunk)
        principal = current_principal()
        await context.send_initial_metadata((("x-upload", video_id),))
        context.set_trailing_metadata((("x-uploader", principal.describe()),))
        return media_pb2.UploadVideoResponse(video_id=video_id, bytes_received=received)


class StreamServicer(stream_grpc.StreamServiceServicer):
    async def GetSegment(self, request: Any, context: Any) -> Any:
        principal = current_principal()
        return stream_pb2.GetSegmentResponse(location=f"ok:{principal.describe()}")


@dataclass
class Keys:
    signer: TokenSigner
    verifier: TokenVerifier

    def user(self, user_id: str = "alice", roles: tuple[str, ...] = ()) -> list[tuple[str, str]]:
        return [("authorization", f"Bearer {self.signer.mint_user(user_id, roles=roles)}")]

    def service(self, name: str = "ranking_svc") -> list[tuple[str, str]]:
        return [("authorization", f"Bearer {self.signer.mint_service(name)}")]


@dataclass
class RunningServer:
    reels: ReelsServer
    observed: Observed
    config: Config

    @property
    def target(self) -> str:
        return self.reels.target


@pytest.fixture(scope="session")
def keys() -> Keys:
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    signer = TokenSigner(private_key, KID, ISSUER, AUDIENCE)
    verifier = TokenVerifier.from_jwks(public_jwks(private_key, KID), ISSUER, AUDIENCE)
    return Keys(signer, verifier)


@pytest.fixture(scope="session")
def tracing() -> None:
    # Spans get real ids (nothing is exported: no endpoint), as in every service.
    configure_tracing("runtime-tests")


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def server(keys: Keys, tracing: None) -> AsyncIterator[RunningServer]:
    config = Config.from_env(
        {"GRPC_LISTEN": "127.0.0.1:0", "METRICS_PORT": str(free_port())},
        service_name="runtime_it",
    )
    observed = Observed()
    holder: dict[str, Any] = {}

    def register(server: grpc.aio.Server) -> None:
        media_grpc.add_MediaServiceServicer_to_server(
            MediaServicer(observed, _LateStub(holder)), server
        )
        stream_grpc.add_StreamServiceServicer_to_server(StreamServicer(), server)

    reels = build_server(config, [MEDIA, STREAM], [register], verifier=keys.verifier)
    await reels.start()
    # The servicer calls this same server as a downstream service would.
    channel, holder["stub"] = dial(
        reels.target,
        media_grpc.MediaServiceStub,
        MEDIA,
        default_timeout_s=5.0,
        token_provider=ServiceTokenSource(keys.signer, "runtime_it"),
    )
    try:
        yield RunningServer(reels, observed, config)
    finally:
        await channel.close()
        await reels.stop(grace=1.0)


class _LateStub:
    def __init__(self, holder: dict[str, Any]) -> None:
        self._holder = holder

    def __getattr__(self, name: str) -> Any:
        return getattr(self._holder["stub"], name)


@pytest.fixture
def unique() -> str:
    return uuid.uuid4().hex[:12]


@pytest_asyncio.fixture(loop_scope="session")
async def redis_client() -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(REDIS_URL)
    try:
        yield client
    finally:
        await client.aclose()


@pytest_asyncio.fixture(loop_scope="session")
async def key_prefix(redis_client: aioredis.Redis) -> AsyncIterator[str]:
    prefix = f"test:runtime:{uuid.uuid4().hex}:"
    try:
        yield prefix
    finally:
        keys = [key async for key in redis_client.scan_iter(match=f"{prefix}*", count=500)]
        if keys:
            await redis_client.delete(*keys)
