"""The runtime's server stack, called through real stubs: auth, ids, deadlines, retries."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import signal
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from reels.media.v1 import media_service_pb2 as media_pb2
from reels.media.v1 import media_service_pb2_grpc as media_grpc
from reels.stream.v1 import stream_service_pb2 as stream_pb2
from reels.stream.v1 import stream_service_pb2_grpc as stream_grpc

from reels_runtime.auth import generate_dev_keys
from reels_runtime.channels import dial
from reels_runtime.config import Config
from reels_runtime.server import build_server
from reels_runtime.telemetry import JsonFormatter
from tests.support.processes import free_port

from .conftest import MEDIA, STREAM, Keys, RunningServer

REPO = Path(__file__).resolve().parents[3]

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest.fixture
def call_log() -> Iterator[io.StringIO]:
    """The interceptor's log lines, formatted as the services format them."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter("runtime_it"))
    logger = logging.getLogger("reels_runtime.interceptors")
    previous = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield stream
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)


def _lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


async def test_health_is_open_and_lists_every_service(server: RunningServer) -> None:
    async with grpc.aio.insecure_channel(server.target) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        for name in ("", MEDIA, STREAM):
            reply = await stub.Check(health_pb2.HealthCheckRequest(service=name), timeout=2)
            assert reply.status == health_pb2.HealthCheckResponse.SERVING
        with pytest.raises(grpc.aio.AioRpcError) as error:
            await stub.Check(health_pb2.HealthCheckRequest(service="nope"), timeout=2)
        assert error.value.code() is grpc.StatusCode.NOT_FOUND
        # A server stream through the interceptors (the servicer writes with context.write).
        watch = stub.Watch(health_pb2.HealthCheckRequest(service=MEDIA), timeout=2)
        first = await watch.read()
        assert first.status == health_pb2.HealthCheckResponse.SERVING
        watch.cancel()


async def test_reflection_lists_the_services(server: RunningServer) -> None:
    async with grpc.aio.insecure_channel(server.target) as channel:
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)
        call = stub.ServerReflectionInfo(timeout=2)
        await call.write(reflection_pb2.ServerReflectionRequest(list_services=""))
        reply = await call.read()
        await call.done_writing()
        names = {service.name for service in reply.list_services_response.service}
        assert {MEDIA, STREAM, "grpc.health.v1.Health"} <= names


@pytest.mark.security
async def test_missing_token_on_a_user_method_is_unauthenticated(
    server: RunningServer, unique: str
) -> None:
    async with grpc.aio.insecure_channel(server.target) as channel:
        stub = media_grpc.MediaServiceStub(channel)
        with pytest.raises(grpc.aio.AioRpcError) as error:
            await stub.GetVideoStatus(media_pb2.GetVideoStatusRequest(video_id=unique), timeout=2)
    assert error.value.code() is grpc.StatusCode.UNAUTHENTICATED
    assert error.value.details() == "missing bearer token"
    assert server.observed.calls[unique] == 0  # the servicer never ran


@pytest.mark.parametrize(
    "header",
    ["Bearer not-a-jwt", "Basic dXNlcjpwYXNz", "Bearer", "bearer  "],
)
@pytest.mark.security
async def test_malformed_authorization_is_unauthenticated(
    server: RunningServer, header: str
) -> None:
    async with grpc.aio.insecure_channel(server.target) as channel:
        stub = media_grpc.MediaServiceStub(channel)
        with pytest.raises(grpc.aio.AioRpcError) as error:
            await stub.GetVideoStatus(
                media_pb2.GetVideoStatusRequest(video_id="x"),
                metadata=[("authorization", header)],
                timeout=2,
            )
    assert error.value.code() is grpc.StatusCode.UNAUTHENTICATED


async def test_a_user_token_reaches_the_servicer_as_the_principal(
    server: RunningServer, keys: Keys, unique: str
) -> None:
    async with grpc.aio.insecure_channel(server.target) as channel:
        stub = media_grpc.MediaServiceStub(channel)
        reply = await stub.GetVideoStatus(
            media_pb2.GetVideoStatusRequest(video_id=unique),
            metadata=keys.user("alice"),
            timeout=2,
        )
    assert reply.creator_id == "user:alice"


@pytest.mark.security
async def test_public_method_is_open_but_a_bad_token_is_still_refused(
    server: RunningServer, keys: Keys
) -> None:
    async with grpc.aio.insecure_channel(server.target) as channel:
        stub = media_grpc.MediaServiceStub(channel)
        request = media_pb2.GetVideoProcessingHealthRequest()
        anonymous = await stub.GetVideoProcessingHealth(request, timeout=2)
        assert list(anonymous.reasons) == ["anonymous"]
        known = await stub.GetVideoProcessingHealth(request, metadata=keys.user("bob"), timeout=2)
        assert list(known.reasons) == ["user:bob"]
        with pytest.raises(grpc.aio.AioRpcError) as error:
            await stub.GetVideoProcessingHealth(
                request, metadata=[("authorization", "Bearer junk")], timeout=2
            )
        assert error.value.code() is grpc.StatusCode.UNAUTHENTICATED


@pytest.mark.security
async def test_internal_and_admin_methods(server: RunningServer, keys: Keys) -> None:
    async with grpc.aio.insecure_channel(server.target) as channel:
        stub = media_grpc.MediaServiceStub(channel)
        batch = media_pb2.BatchGetVideosRequest(video_ids=["internal-check"])
        with pytest.raises(grpc.aio.AioRpcError) as error:
            await stub.BatchGetVideos(batch, metadata=keys.user("alice", ("admin",)), timeout=2)
        assert error.value.code() is grpc.StatusCode.PERMISSION_DENIED
        assert "internal" in (error.value.details() or "")
        reply = await stub.BatchGetVideos(batch, metadata=keys.service("ranking_svc"), timeout=2)
        assert list(reply.missing_video_ids) == ["svc:ranking_svc"]

        failed = media_pb2.ListFailedVideosRequest()
        with pytest.raises(grpc.aio.AioRpcError) as error:
            await stub.ListFailedVideos(failed, metadata=keys.user("alice"), timeout=2)
        assert error.value.code() is grpc.StatusCode.PERMISSION_DENIED
        assert "admin" in (error.value.details() or "")
        admin = await stub.ListFailedVideos(
            failed, metadata=keys.user("root", ("admin",)), timeout=2
        )
        assert admin.next_page_token == "admin-ok"
        by_service = await stub.ListFailedVideos(failed, metadata=keys.service(), timeout=2)
        assert by_service.next_page_token == "admin-ok"


@pytest.mark.security
async def test_playback_tokens_are_scoped_to_their_video(server: RunningServer, keys: Keys) -> None:
    playback = keys.signer.mint_playback("alice", "video-1")
    async with grpc.aio.insecure_channel(server.target) as channel:
        stub = stream_grpc.StreamServiceStub(channel)
        own = stream_pb2.GetSegmentRequest(video_id="video-1", bitrate="720p", segment_id="1")
        other = stream_pb2.GetSegmentRequest(video_id="video-2", bitrate="720p", segment_id="1")
        bearer = [("authorization", f"Bearer {playback}")]
        reply = await stub.GetSegment(own, metadata=bearer, timeout=2)
        assert reply.location == "ok:playback:alice"
        with pytest.raises(grpc.aio.AioRpcError) as error:
            await stub.GetSegment(other, metadata=bearer, timeout=2)
        assert error.value.code() is grpc.StatusCode.PERMISSION_DENIED
        # Players that cannot send headers pass the token as the `token` field (query).
        own.token = playback
        reply = await stub.GetSegment(own, timeout=2)
        assert reply.location == "ok:playback:alice"
        other.token = playback
        with pytest.raises(grpc.aio.AioRpcError) as error:
            await stub.GetSegment(other, timeout=2)
        assert error.value.code() is grpc.StatusCode.PERMISSION_DENIED
        # A user may play anything; a playback token is no user token elsewhere.
        reply = await stub.GetSegment(other, metadata=keys.user("bob"), timeout=2)
        assert reply.location == "ok:user:bob"
        media = media_grpc.MediaServiceStub(channel)
        with pytest.raises(grpc.aio.AioRpcError) as error:
            await media.GetVideoStatus(
                media_pb2.GetVideoStatusRequest(video_id="video-1"), metadata=bearer, timeout=2
            )
        assert error.value.code() is grpc.StatusCode.PERMISSION_DENIED
        with pytest.raises(grpc.aio.AioRpcError) as error:
            await stub.GetSegment(stream_pb2.GetSegmentRequest(video_id="video-1"), timeout=2)
        assert error.value.code() is grpc.StatusCode.UNAUTHENTICATED


async def test_request_id_is_echoed_or_created(
    server: RunningServer, keys: Keys, unique: str, call_log: io.StringIO
) -> None:
    async with grpc.aio.insecure_channel(server.target) as channel:
        stub = media_grpc.MediaServiceStub(channel)
        call = stub.GetVideoStatus(
            media_pb2.GetVideoStatusRequest(video_id=unique),
            metadata=[*keys.user("alice"), ("x-request-id", f"req-{unique}")],
            timeout=2,
        )
        await call
        assert ("x-request-id", f"req-{unique}") in tuple(await call.initial_metadata())
        assert ("x-request-id", f"req-{unique}") in tuple(await call.trailing_metadata())
        assert server.observed.values[unique]["request_id"] == f"req-{unique}"

        # An id that could forge log lines is replaced, and a failed call still has one.
        refused = stub.GetVideoStatus(
            media_pb2.GetVideoStatusRequest(video_id=unique),
            metadata=[("x-request-id", 'bad id {"level": "forged"}')],
            timeout=2,
        )
        with pytest.raises(grpc.aio.AioRpcError) as error:
            await refused
        trailing = dict(error.value.trailing_metadata() or ())
        assert trailing["x-request-id"] != 'bad id {"level": "forged"}'
        assert len(trailing["x-request-id"]) == 32
    lines = [line for line in _lines(call_log) if line.get("request_id") == f"req-{unique}"]
    assert len(lines) == 1
    (line,) = lines
    assert line["method"] == "/reels.media.v1.MediaService/GetVideoStatus"
    assert line["code"] == "OK"
    assert line["principal"] == "user:alice"
    assert isinstance(line["duration_ms"], float)
    assert len(str(line["trace_id"])) == 32
    refusal = [line for line in _lines(call_log) if line.get("code") == "UNAUTHENTICATED"]
    assert refusal
    assert refusal[-1]["request_id"] == trailing["x-request-id"]


async def test_servicer_metadata_is_kept_alongside_the_request_id(
    server: RunningServer, keys: Keys, unique: str
) -> None:
    async def chunks():  # type: ignore[no-untyped-def]
        yield media_pb2.UploadVideoRequest(metadata=media_pb2.UploadVideoMetadata(title=unique))
        for _ in range(3):
            yield media_pb2.UploadVideoRequest(chunk=b"x" * 1000)

    async with grpc.aio.insecure_channel(server.target) as channel:
        stub = media_grpc.MediaServiceStub(channel)
        call = stub.UploadVideo(chunks(), metadata=keys.user("carol"), timeout=2)
        reply = await call
        assert reply.bytes_received == 3000
        initial = dict(tuple(await call.initial_metadata()))
        trailing = dict(tuple(await call.trailing_metadata()))
    assert initial["x-upload"] == unique
    assert trailing["x-uploader"] == "user:carol"
    assert initial["x-request-id"] == trailing["x-request-id"]


async def test_traceparent_from_the_caller_parents_the_server_span(
    server: RunningServer, keys: Keys, unique: str
) -> None:
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    async with grpc.aio.insecure_channel(server.target) as channel:
        stub = media_grpc.MediaServiceStub(channel)
        await stub.GetVideoStatus(
            media_pb2.GetVideoStatusRequest(video_id=unique),
            metadata=[*keys.user(), ("traceparent", f"00-{trace_id}-00f067aa0ba902b7-01")],
            timeout=2,
        )
    assert server.observed.values[unique]["trace_id"] == trace_id


async def test_deadline_is_visible_to_the_handler_and_propagated_downstream(
    server: RunningServer, keys: Keys, unique: str
) -> None:
    budget_id, nested_id = f"budget-{unique}", f"nested-{unique}"
    async with grpc.aio.insecure_channel(server.target) as channel:
        stub = media_grpc.MediaServiceStub(channel)
        await stub.GetVideoStatus(
            media_pb2.GetVideoStatusRequest(video_id=budget_id), metadata=keys.user(), timeout=0.8
        )
        await stub.GetVideoStatus(
            media_pb2.GetVideoStatusRequest(video_id=nested_id),
            metadata=[*keys.user(), ("x-request-id", f"chain-{unique}")],
            timeout=0.8,
        )
        # Without a caller deadline there is no inbound deadline to inherit.
        await stub.GetVideoStatus(
            media_pb2.GetVideoStatusRequest(video_id=f"none-{unique}"), metadata=keys.user()
        )
    seen = server.observed.values[budget_id]
    # gRPC's clock and ours may differ by well under a millisecond.
    assert 0 < seen["inbound_remaining"] <= 0.8 + 0.005
    assert 0 < seen["budget"] <= 0.8
    upstream = server.observed.values[nested_id]
    downstream = server.observed.values[f"batch:{nested_id}"]
    assert 0 < downstream["inbound_remaining"] < upstream["inbound_remaining"] <= 0.805
    # The downstream deadline is the upstream one minus the margin (and the time spent).
    assert downstream["inbound_remaining"] <= upstream["inbound_remaining"] - 0.015
    # The client interceptor carried the service token, request id and trace along.
    assert upstream["downstream"] == ["svc:runtime_it"]
    assert downstream["request_id"] == f"chain-{unique}"
    assert downstream["trace_id"] == upstream["trace_id"]
    assert server.observed.values[f"none-{unique}"]["inbound_remaining"] is None


async def test_an_expired_deadline_is_deadline_exceeded(
    server: RunningServer, keys: Keys, unique: str, call_log: io.StringIO
) -> None:
    async with grpc.aio.insecure_channel(server.target) as channel:
        stub = media_grpc.MediaServiceStub(channel)
        with pytest.raises(grpc.aio.AioRpcError) as error:
            await stub.GetVideoStatus(
                media_pb2.GetVideoStatusRequest(video_id=f"slow-{unique}"),
                metadata=keys.user(),
                timeout=0.1,
            )
    assert error.value.code() is grpc.StatusCode.DEADLINE_EXCEEDED
    await asyncio.sleep(0.4)  # let the server side finish and log
    codes = [line["code"] for line in _lines(call_log) if line.get("principal") == "user:alice"]
    assert codes
    # The client gives up at its deadline and resets the stream; the server's deadline is
    # later by the transit time, so it may see that reset (CANCELLED) first.
    assert codes[-1] in ("DEADLINE_EXCEEDED", "CANCELLED")


async def test_a_servicer_exception_is_unknown_and_logged(
    server: RunningServer, keys: Keys, unique: str, call_log: io.StringIO
) -> None:
    async with grpc.aio.insecure_channel(server.target) as channel:
        stub = media_grpc.MediaServiceStub(channel)
        with pytest.raises(grpc.aio.AioRpcError) as error:
            await stub.GetVideoStatus(
                media_pb2.GetVideoStatusRequest(video_id=f"crash-{unique}"),
                metadata=keys.user(),
                timeout=2,
            )
    assert error.value.code() is grpc.StatusCode.UNKNOWN
    errors = [line for line in _lines(call_log) if line["level"] == "ERROR"]
    assert errors
    assert "RuntimeError: servicer bug" in str(errors[-1]["exception"])


async def test_retries_happen_only_for_idempotent_methods(
    server: RunningServer, keys: Keys, unique: str
) -> None:
    channel, stub = dial(server.target, media_grpc.MediaServiceStub, MEDIA, default_timeout_s=2.0)
    async with channel:
        # GetVideoStatus is NO_SIDE_EFFECTS: the channel retries the UNAVAILABLE.
        video_id = f"unavailable-once-{unique}"
        reply = await stub.GetVideoStatus(
            media_pb2.GetVideoStatusRequest(video_id=video_id), metadata=keys.user()
        )
        assert reply.video_id == video_id
        assert server.observed.calls[video_id] == 2
        # CreateUploadSession has no idempotency level: the error reaches the caller.
        title = f"unavailable-once-upload-{unique}"
        with pytest.raises(grpc.aio.AioRpcError) as error:
            await stub.CreateUploadSession(
                media_pb2.CreateUploadSessionRequest(title=title), metadata=keys.user()
            )
        assert error.value.code() is grpc.StatusCode.UNAVAILABLE
        assert server.observed.calls[title] == 1


async def test_a_dialled_stub_applies_the_method_budget(server: RunningServer, keys: Keys) -> None:
    channel, stub = dial(
        server.target,
        media_grpc.MediaServiceStub,
        MEDIA,
        default_timeout_s=5.0,
        method_timeouts={"GetVideoStatus": 0.1},
    )
    async with channel:
        started = asyncio.get_running_loop().time()
        with pytest.raises(grpc.aio.AioRpcError) as error:
            await stub.GetVideoStatus(
                media_pb2.GetVideoStatusRequest(video_id="slow-timeout"), metadata=keys.user()
            )
        waited = asyncio.get_running_loop().time() - started
    assert error.value.code() is grpc.StatusCode.DEADLINE_EXCEEDED
    assert 0.05 <= waited < 0.3  # the budget, not the handler's 0.3 s nor an instant failure


async def test_short_budgets_do_not_fail_fast_calls(server: RunningServer, keys: Keys) -> None:
    # A service-config timeout would fail such calls at once (grpcio's lagging clock).
    channel, stub = dial(server.target, media_grpc.MediaServiceStub, MEDIA, default_timeout_s=0.5)
    async with channel:
        reply = await stub.GetVideoStatus(
            media_pb2.GetVideoStatusRequest(video_id="fast"), metadata=keys.user()
        )
    assert reply.video_id == "fast"


async def test_metrics_count_calls_by_code(server: RunningServer, keys: Keys) -> None:
    async with grpc.aio.insecure_channel(server.target) as channel:
        stub = media_grpc.MediaServiceStub(channel)
        with pytest.raises(grpc.aio.AioRpcError):
            await stub.GetVideoStatus(media_pb2.GetVideoStatusRequest(video_id="m"), timeout=2)
    url = f"http://127.0.0.1:{server.config.metrics_port}/metrics"
    body = await asyncio.to_thread(lambda: urllib.request.urlopen(url, timeout=2).read().decode())
    assert (
        'grpc_server_handled_total{code="UNAUTHENTICATED",method="GetVideoStatus",'
        'service="reels.media.v1.MediaService"}'
    ) in body
    assert "grpc_server_handling_seconds_bucket{" in body


async def test_stop_sets_not_serving_before_the_server_goes(keys: Keys) -> None:
    config = Config.from_env({"GRPC_LISTEN": "127.0.0.1:0"}, service_name="stop_test")
    reels = build_server(config, [MEDIA], [], verifier=keys.verifier)
    await reels.start()
    assert reels.port > 0
    statuses: list[int] = []
    async with grpc.aio.insecure_channel(reels.target) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        watch = stub.Watch(health_pb2.HealthCheckRequest(service=MEDIA))
        statuses.append((await watch.read()).status)
        stopping = asyncio.create_task(reels.stop(grace=1.0))
        statuses.append((await watch.read()).status)
        await stopping
    assert statuses == [
        health_pb2.HealthCheckResponse.SERVING,
        health_pb2.HealthCheckResponse.NOT_SERVING,
    ]


async def test_a_busy_port_is_an_error(server: RunningServer, keys: Keys) -> None:
    config = Config.from_env({"GRPC_LISTEN": server.target}, service_name="busy_test")
    with pytest.raises(OSError, match="cannot listen"):
        build_server(config, [MEDIA], [], verifier=keys.verifier)


async def test_unimplemented_methods_keep_their_code(
    server: RunningServer, keys: Keys, call_log: io.StringIO
) -> None:
    async with grpc.aio.insecure_channel(server.target) as channel:
        stub = media_grpc.MediaServiceStub(channel)
        with pytest.raises(grpc.aio.AioRpcError) as error:
            await stub.UpdateVideo(media_pb2.UpdateVideoRequest(), metadata=keys.user(), timeout=2)
    assert error.value.code() is grpc.StatusCode.UNIMPLEMENTED
    (line,) = [line for line in _lines(call_log) if "UpdateVideo" in str(line["method"])]
    assert line["code"] == "UNIMPLEMENTED"
    assert "exception" not in line


_SERVE_SCRIPT = """
from reels_runtime.server import build_server, main

main(
    lambda config: build_server(config, ["reels.media.v1.MediaService"], []),
    service_name="signal_test",
)
"""


async def test_a_service_process_drains_on_sigterm(tmp_path: Path) -> None:
    generate_dev_keys(tmp_path, "sig-kid")
    grpc_port, metrics_port = free_port(), free_port()
    env = {
        **os.environ,
        "PYTHONPATH": f"{REPO / 'gen'}{os.pathsep}{REPO}",
        "GRPC_LISTEN": f"127.0.0.1:{grpc_port}",
        "METRICS_PORT": str(metrics_port),
        "JWT_JWKS_PATH": str(tmp_path / "jwks.json"),
        "LOG_LEVEL": "INFO",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _SERVE_SCRIPT, env=env, stderr=asyncio.subprocess.PIPE
    )
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{grpc_port}") as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            request = health_pb2.HealthCheckRequest(service=MEDIA)
            reply = await stub.Check(request, wait_for_ready=True, timeout=20)
            assert reply.status == health_pb2.HealthCheckResponse.SERVING
            metrics = await asyncio.to_thread(
                lambda: (
                    urllib.request.urlopen(
                        f"http://127.0.0.1:{metrics_port}/metrics", timeout=2
                    ).status
                )
            )
            assert metrics == 200
            process.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(process.wait(), timeout=15) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.stderr is not None
    lines = [json.loads(line) for line in (await process.stderr.read()).decode().splitlines()]
    messages = [line["message"] for line in lines]
    assert any(message.startswith("serving reels.media.v1.MediaService") for message in messages)
    assert "shutting down" in messages
    assert messages[-1] == "stopped"
    assert all(line["service"] == "signal_test" for line in lines)


async def test_a_bad_environment_exits_with_status_2() -> None:
    env = {
        **os.environ,
        "PYTHONPATH": f"{REPO / 'gen'}{os.pathsep}{REPO}",
        "METRICS_PORT": "not-a-port",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _SERVE_SCRIPT, env=env, stderr=asyncio.subprocess.PIPE
    )
    _, stderr = await asyncio.wait_for(process.communicate(), timeout=15)
    assert process.returncode == 2
    assert "METRICS_PORT" in stderr.decode()


async def test_stop_asks_background_tasks_to_return_before_cancelling(keys: Keys) -> None:
    config = Config.from_env({"GRPC_LISTEN": "127.0.0.1:0"}, service_name="stopping_test")
    reels = build_server(config, [MEDIA], [], verifier=keys.verifier)
    asked = asyncio.Event()
    ended: list[str] = []

    async def polite() -> None:
        await asked.wait()
        ended.append("returned")

    async def stubborn() -> None:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            ended.append("cancelled")
            raise

    reels.add_background_task(polite)
    reels.add_background_task(stubborn)
    reels.on_stopping(asked.set)
    await reels.start()
    await asyncio.sleep(0)
    started = asyncio.get_running_loop().time()
    await reels.stop(grace=0.1)
    took = asyncio.get_running_loop().time() - started
    # The polite task returned by itself; the stubborn one was cancelled after the grace.
    assert ended == ["returned", "cancelled"]
    assert took < 10
