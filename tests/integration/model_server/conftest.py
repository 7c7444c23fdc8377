"""Models exported once per session into a temporary base path, and the model server on
port 0 in front of them, called through TensorFlow Serving's real stubs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
import pytest_asyncio

from embed_models.export import configure_tensorflow

# Two threads, as `python -m embed_models.export` runs (before anything runs): the
# session's export must match a CLI export's bit for bit (test_artifacts.py).
configure_tensorflow()

from tensorflow_serving.apis import (  # noqa: E402
    model_service_pb2_grpc,
    predict_pb2,
    prediction_service_pb2_grpc,
)

from embed_models import RANKING_MODEL, VIDEO_ENCODER  # noqa: E402
from embed_models.export import export_model, export_models  # noqa: E402
from model_server.server import ModelServer, ServerConfig, create_server  # noqa: E402
from model_server.tensors import to_tensor_proto  # noqa: E402
from tests.support.processes import free_port  # noqa: E402

# Version 2 of the encoder: the same statistics under another random rotation.
V2_SEED = 7
MESSAGE_LIMIT = 64 * 1024 * 1024


@pytest.fixture(scope="session")
def model_base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("models")
    export_models(base)  # video_encoder/1 and ranking_model/1, 256-d
    export_model(base, VIDEO_ENCODER, dim=256, seed=V2_SEED, version=2)
    return base


@dataclass(frozen=True)
class Stubs:
    prediction: prediction_service_pb2_grpc.PredictionServiceStub
    models: model_service_pb2_grpc.ModelServiceStub
    channel: grpc.aio.Channel


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def inprocess_model_server(model_base: Path) -> AsyncIterator[ModelServer]:
    config = ServerConfig(model_base=model_base, port=0, metrics_port=free_port())
    server = await create_server(config)
    await server.start()
    yield server
    await server.stop(grace=1)


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def stubs(inprocess_model_server: ModelServer) -> AsyncIterator[Stubs]:
    channel = grpc.aio.insecure_channel(
        inprocess_model_server.target,
        options=[
            ("grpc.max_send_message_length", MESSAGE_LIMIT),
            ("grpc.max_receive_message_length", MESSAGE_LIMIT),
        ],
    )
    yield Stubs(
        prediction_service_pb2_grpc.PredictionServiceStub(channel),
        model_service_pb2_grpc.ModelServiceStub(channel),
        channel,
    )
    await channel.close()


def predict_request(
    model: str, inputs: dict, *, version: int | None = None, label: str = "", signature: str = ""
) -> predict_pb2.PredictRequest:
    request = predict_pb2.PredictRequest()
    request.model_spec.name = model
    if version is not None:
        request.model_spec.version.value = version
    if label:
        request.model_spec.version_label = label
    if signature:
        request.model_spec.signature_name = signature
    for name, array in inputs.items():
        request.inputs[name].CopyFrom(to_tensor_proto(array))
    return request


__all__ = ["RANKING_MODEL", "VIDEO_ENCODER", "Stubs", "predict_request"]
