"""The model server through TensorFlow Serving's PredictionService (real stubs, deadlines)."""

from __future__ import annotations

import time

import grpc
import numpy as np
from tensorflow.core.framework import tensor_pb2, tensor_shape_pb2, types_pb2
from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc

from embed_svc.domain.errors import DeadlineExceeded, InvalidInput, NotFound, Unavailable
from embed_svc.metrics import INFERENCE_MS
from reels_runtime.channels import DEFAULT_MAX_MESSAGE_BYTES
from reels_runtime.deadlines import DeadlineExhausted, inbound_time_remaining, remaining_budget

_LIMITS = [
    ("grpc.max_send_message_length", DEFAULT_MAX_MESSAGE_BYTES),
    ("grpc.max_receive_message_length", DEFAULT_MAX_MESSAGE_BYTES),
    # Reconnect within a second of a restarted model server (the default backoff grows
    # to two minutes, keeping embeddings failing long after the server is back).
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.min_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 1000),
]
# A caller with less than this left is the one whose deadline ran out, not the server.
_CALLER_GONE_S = 0.05


_DTYPES = {np.dtype("u1"): types_pb2.DT_UINT8, np.dtype("<f4"): types_pb2.DT_FLOAT}


def _tensor(array: np.ndarray) -> tensor_pb2.TensorProto:
    """A TensorProto carrying the array's bytes (what TF Serving clients send)."""
    array = np.ascontiguousarray(array)
    proto = tensor_pb2.TensorProto(dtype=_DTYPES[array.dtype], tensor_content=array.tobytes())
    proto.tensor_shape.dim.extend(
        tensor_shape_pb2.TensorShapeProto.Dim(size=n) for n in array.shape
    )
    return proto


def _array(proto: tensor_pb2.TensorProto) -> np.ndarray:
    """A float32 output tensor as an array (packed bytes or float_val)."""
    if proto.dtype != types_pb2.DT_FLOAT:
        raise Unavailable(f"the model server answered dtype {proto.dtype}, expected float32")
    shape = tuple(d.size for d in proto.tensor_shape.dim)
    if proto.tensor_content:
        values = np.frombuffer(proto.tensor_content, dtype="<f4")
    else:
        values = np.asarray(proto.float_val, dtype=np.float32)
    if values.size != int(np.prod(shape)):
        raise Unavailable(f"the model server answered {values.size} values for shape {shape}")
    return values.reshape(shape)


class ModelClient:
    """Predict calls for the encoder and the ranking model; errors become domain errors."""

    def __init__(
        self, target: str, *, encoder_model: str, ranking_model: str, budget_s: float
    ) -> None:
        self._channel = grpc.aio.insecure_channel(target, options=_LIMITS)
        self._stub = prediction_service_pb2_grpc.PredictionServiceStub(self._channel)
        self._encoder = encoder_model
        self._ranking = ranking_model
        self._budget = budget_s

    async def embed(self, frames: np.ndarray, version: str | None) -> tuple[np.ndarray, str]:
        request = predict_pb2.PredictRequest()
        request.model_spec.name = self._encoder
        if version:
            number = version.rpartition("/")[2]
            if not number.isdigit():
                raise InvalidInput(f"model_version must be a number, got {version!r}")
            request.model_spec.version.value = int(number)
        request.inputs["frames"].CopyFrom(_tensor(frames.astype(np.uint8)[np.newaxis]))
        reply = await self._predict(request, self._encoder)
        embedding = _array(reply.outputs["embedding"])[0].astype(np.float32)
        return embedding, f"{self._encoder}/{reply.model_spec.version.value}"

    async def score(self, user: np.ndarray, candidates: np.ndarray) -> tuple[np.ndarray, str]:
        request = predict_pb2.PredictRequest()
        request.model_spec.name = self._ranking
        request.inputs["user_embedding"].CopyFrom(_tensor(user.astype(np.float32)[np.newaxis]))
        request.inputs["candidate_embeddings"].CopyFrom(
            _tensor(candidates.astype(np.float32)[np.newaxis])
        )
        reply = await self._predict(request, self._ranking)
        scores = _array(reply.outputs["scores"])[0]
        return scores, f"{self._ranking}/{reply.model_spec.version.value}"

    async def _predict(
        self, request: predict_pb2.PredictRequest, model: str
    ) -> predict_pb2.PredictResponse:
        try:
            timeout = remaining_budget(self._budget)
        except DeadlineExhausted as error:
            raise DeadlineExceeded(str(error)) from None
        started = time.perf_counter()
        outcome = "ok"
        try:
            return await self._stub.Predict(request, timeout=timeout)
        except grpc.aio.AioRpcError as error:
            outcome = error.code().name.lower()
            raise _domain_error(error, model) from None
        finally:
            INFERENCE_MS.labels(model, outcome).observe((time.perf_counter() - started) * 1000)

    async def close(self) -> None:
        await self._channel.close()


def _domain_error(error: grpc.aio.AioRpcError, model: str) -> Exception:
    code, detail = error.code(), error.details() or ""
    if code is grpc.StatusCode.INVALID_ARGUMENT:
        return InvalidInput(f"the model server rejected the input: {detail}")
    if code is grpc.StatusCode.NOT_FOUND:
        return NotFound(f"the model server has no such version of {model}: {detail}")
    remaining = inbound_time_remaining()
    if remaining is not None and remaining <= _CALLER_GONE_S:
        # Whatever the model server did, the caller's deadline is what ran out.
        return DeadlineExceeded(f"the deadline passed waiting for {model} ({code.name})")
    if code in (grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.CANCELLED):
        # Our own budget ran out while the caller still waits: the server is hung.
        return Unavailable(f"the model server did not answer in time ({model})")
    return Unavailable(f"the model server is unavailable ({code.name}: {detail})")
