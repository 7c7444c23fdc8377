"""Bad requests get precise status codes, never a crash; the server keeps serving."""

from __future__ import annotations

import asyncio
import threading

import grpc
import numpy as np
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from tensorflow.core.framework import tensor_pb2, tensor_shape_pb2, types_pb2

from embed_models import RANKING_MODEL, VIDEO_ENCODER
from model_server.metrics import METRICS
from model_server.server import ModelServer

from .conftest import Stubs, predict_request

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def _status(stubs: Stubs, request) -> grpc.aio.AioRpcError:  # type: ignore[no-untyped-def]
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stubs.prediction.Predict(request, timeout=10)
    return caught.value


async def test_wrong_shape_is_invalid_argument_naming_the_expected_shape(stubs: Stubs) -> None:
    frames = np.zeros((1, 10, 112, 112, 3), np.uint8)
    error = await _status(stubs, predict_request(VIDEO_ENCODER, {"frames": frames}))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "[-1, -1, 224, 224, 3]" in error.details()
    assert "[1, 10, 112, 112, 3]" in error.details()


@pytest.mark.parametrize(
    ("inputs", "fragment"),
    [
        ({"frames": np.zeros((1, 2, 224, 224, 3), np.float32)}, "expected DT_UINT8"),
        ({"frames": np.zeros((1, 65, 224, 224, 3), np.uint8)}, "axis 1 is 65, expected 1 to 64"),
        ({"frames": np.zeros((2, 224, 224, 3), np.uint8)}, "rank 4, expected rank 5"),
        ({"images": np.zeros((1, 1, 224, 224, 3), np.uint8)}, "missing ['frames']"),
    ],
)
async def test_other_malformed_inputs(stubs: Stubs, inputs: dict, fragment: str) -> None:
    error = await _status(stubs, predict_request(VIDEO_ENCODER, inputs))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert fragment in error.details()


async def test_batch_limit_and_disagreeing_batches(stubs: Stubs) -> None:
    request = predict_request(
        RANKING_MODEL,
        {
            "user_embedding": np.zeros((129, 256), np.float32),
            "candidate_embeddings": np.zeros((129, 1, 256), np.float32),
        },
    )
    error = await _status(stubs, request)
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT and "axis 0 is 129" in error.details()
    request = predict_request(
        RANKING_MODEL,
        {
            "user_embedding": np.zeros((2, 256), np.float32),
            "candidate_embeddings": np.zeros((3, 4, 256), np.float32),
        },
    )
    error = await _status(stubs, request)
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT and "batch size" in error.details()


async def test_a_tensor_whose_bytes_do_not_match_its_shape(stubs: Stubs) -> None:
    request = predict_request(VIDEO_ENCODER, {})
    request.inputs["frames"].CopyFrom(
        tensor_pb2.TensorProto(
            dtype=types_pb2.DT_UINT8,
            tensor_shape=tensor_shape_pb2.TensorShapeProto(
                dim=[tensor_shape_pb2.TensorShapeProto.Dim(size=d) for d in (1, 1, 224, 224, 3)]
            ),
            tensor_content=b"\x00" * 1000,
        )
    )
    error = await _status(stubs, request)
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT and "tensor_content" in error.details()


async def test_unknown_model_version_and_signature(stubs: Stubs) -> None:
    frames = {"frames": np.zeros((1, 1, 224, 224, 3), np.uint8)}
    error = await _status(stubs, predict_request("no_such_model", frames))
    assert error.code() == grpc.StatusCode.NOT_FOUND and "no_such_model" in error.details()
    error = await _status(stubs, predict_request(VIDEO_ENCODER, frames, version=9))
    assert error.code() == grpc.StatusCode.NOT_FOUND and "version 9" in error.details()
    error = await _status(stubs, predict_request(VIDEO_ENCODER, frames, signature="classify"))
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION


def _inferences() -> float:
    return (
        METRICS.get_sample_value("deep_model_inference_ms_count", {"model": VIDEO_ENCODER}) or 0.0
    )


async def test_work_queued_past_its_deadline_is_never_started(
    stubs: Stubs, inprocess_model_server: ModelServer
) -> None:
    """With both inference threads busy, a request whose 1 s deadline passes in the queue
    answers DEADLINE_EXCEEDED and never reaches TensorFlow once a thread frees up."""
    release = threading.Event()
    executor = inprocess_model_server.runner._executor  # occupy it as two long inferences would
    blockers = [executor.submit(release.wait, 30) for _ in range(2)]
    request = predict_request(VIDEO_ENCODER, {"frames": np.zeros((1, 2, 224, 224, 3), np.uint8)})
    before = _inferences()
    try:
        call = asyncio.ensure_future(stubs.prediction.Predict(request, timeout=1.0))
        for _ in range(90):
            if inprocess_model_server.runner.pending == 1:
                break
            await asyncio.sleep(0.01)
        queued = inprocess_model_server.runner.pending == 1
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await call
        assert caught.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED, caught.value
        assert queued, "the request never reached the inference queue"
        # The server counts the deadline from the request's arrival, a little after the
        # client started its clock: let the server's view of it pass too.
        await asyncio.sleep(0.5)
    finally:
        release.set()
        for blocker in blockers:
            blocker.result(timeout=5)
    for _ in range(100):
        if inprocess_model_server.runner.pending == 0:
            break
        await asyncio.sleep(0.02)
    assert inprocess_model_server.runner.pending == 0
    assert _inferences() == before, "the expired request was run"


async def test_still_serving_after_all_that(stubs: Stubs) -> None:
    health = health_pb2_grpc.HealthStub(stubs.channel)
    for service in ("", "tensorflow.serving.PredictionService", "tensorflow.serving.ModelService"):
        reply = await health.Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
        assert reply.status == health_pb2.HealthCheckResponse.SERVING
    request = predict_request(VIDEO_ENCODER, {"frames": np.zeros((1, 3, 224, 224, 3), np.uint8)})
    response = await stubs.prediction.Predict(request, timeout=10)
    assert "embedding" in response.outputs
