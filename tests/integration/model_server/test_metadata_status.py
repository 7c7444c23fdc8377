"""GetModelMetadata and GetModelStatus as TensorFlow Serving answers them; metrics."""

from __future__ import annotations

import asyncio
import urllib.request

import grpc
import numpy as np
import pytest
from tensorflow.core.framework import types_pb2
from tensorflow_serving.apis import get_model_metadata_pb2, get_model_status_pb2

from embed_models import RANKING_MODEL, VIDEO_ENCODER
from model_server.server import ModelServer

from .conftest import Stubs, predict_request

pytestmark = pytest.mark.asyncio(loop_scope="session")

AVAILABLE = get_model_status_pb2.ModelVersionStatus.AVAILABLE


async def _metadata(stubs: Stubs, model: str, version: int | None = None):  # type: ignore[no-untyped-def]
    request = get_model_metadata_pb2.GetModelMetadataRequest(metadata_field=["signature_def"])
    request.model_spec.name = model
    if version is not None:
        request.model_spec.version.value = version
    response = await stubs.prediction.GetModelMetadata(request, timeout=5)
    signatures = get_model_metadata_pb2.SignatureDefMap()
    assert response.metadata["signature_def"].Unpack(signatures)
    return response, signatures.signature_def


async def test_metadata_lists_the_encoder_signature(stubs: Stubs) -> None:
    response, signatures = await _metadata(stubs, VIDEO_ENCODER)
    assert response.model_spec.version.value == 2
    serving = signatures["serving_default"]
    assert serving.method_name == "tensorflow/serving/predict"
    frames = serving.inputs["frames"]
    assert frames.dtype == types_pb2.DT_UINT8
    assert [d.size for d in frames.tensor_shape.dim] == [-1, -1, 224, 224, 3]
    assert [d.size for d in serving.outputs["embedding"].tensor_shape.dim] == [-1, 256]


async def test_metadata_of_the_ranking_model_and_of_version_1(stubs: Stubs) -> None:
    _, signatures = await _metadata(stubs, RANKING_MODEL)
    serving = signatures["serving_default"]
    assert set(serving.inputs) == {"user_embedding", "candidate_embeddings"}
    assert [d.size for d in serving.outputs["scores"].tensor_shape.dim] == [-1, -1]
    response, _ = await _metadata(stubs, VIDEO_ENCODER, version=1)
    assert response.model_spec.version.value == 1


async def test_metadata_needs_a_supported_field(stubs: Stubs) -> None:
    request = get_model_metadata_pb2.GetModelMetadataRequest()
    request.model_spec.name = VIDEO_ENCODER
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stubs.prediction.GetModelMetadata(request, timeout=5)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_status_lists_every_loaded_version_as_available(stubs: Stubs) -> None:
    request = get_model_status_pb2.GetModelStatusRequest()
    request.model_spec.name = VIDEO_ENCODER
    response = await stubs.models.GetModelStatus(request, timeout=5)
    assert [(s.version, s.state) for s in response.model_version_status] == [
        (1, AVAILABLE),
        (2, AVAILABLE),
    ]
    assert all(s.status.error_code == 0 for s in response.model_version_status)
    request.model_spec.version.value = 1
    response = await stubs.models.GetModelStatus(request, timeout=5)
    assert [s.version for s in response.model_version_status] == [1]


async def test_status_of_an_unknown_model_is_not_found(stubs: Stubs) -> None:
    request = get_model_status_pb2.GetModelStatusRequest()
    request.model_spec.name = "no_such_model"
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stubs.models.GetModelStatus(request, timeout=5)
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND


def _fetch(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as reply:  # noqa: S310
        return reply.read().decode()


async def test_inference_time_is_a_prometheus_histogram(
    stubs: Stubs, inprocess_model_server: ModelServer
) -> None:
    request = predict_request(VIDEO_ENCODER, {"frames": np.zeros((1, 2, 224, 224, 3), np.uint8)})
    await stubs.prediction.Predict(request, timeout=10)
    url = f"http://127.0.0.1:{inprocess_model_server.config.metrics_port}/metrics"
    text = await asyncio.to_thread(_fetch, url)
    assert 'deep_model_inference_ms_bucket{le="20.0",model="video_encoder"}' in text
    assert 'deep_model_inference_ms_count{model="video_encoder"}' in text
