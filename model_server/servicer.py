"""TensorFlow Serving's PredictionService and ModelService over the registry (thin).

Domain errors become status codes here and nowhere else: NotFound -> NOT_FOUND,
InvalidInput / a malformed tensor -> INVALID_ARGUMENT, an unknown signature ->
FAILED_PRECONDITION (as TensorFlow Serving answers), a spent deadline -> DEADLINE_EXCEEDED,
anything unexpected -> INTERNAL (logged).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import NoReturn

import grpc
import numpy as np
from tensorflow_serving.apis import (
    get_model_metadata_pb2,
    get_model_status_pb2,
    model_pb2,
    model_service_pb2_grpc,
    predict_pb2,
    prediction_service_pb2_grpc,
)
from tensorflow_serving.apis.status_pb2 import StatusProto

from model_server.errors import (
    DeadlineExpired,
    FailedPrecondition,
    InvalidInput,
    ModelServerError,
    NotFound,
)
from model_server.metrics import INFERENCE_MS, PENDING, REQUESTS
from model_server.registry import ModelRegistry, ModelVersion, Signature
from model_server.tensors import TensorError, header, to_ndarray, to_tensor_proto

logger = logging.getLogger(__name__)

_CODES: Mapping[type[Exception], grpc.StatusCode] = {
    NotFound: grpc.StatusCode.NOT_FOUND,
    InvalidInput: grpc.StatusCode.INVALID_ARGUMENT,
    TensorError: grpc.StatusCode.INVALID_ARGUMENT,
    FailedPrecondition: grpc.StatusCode.FAILED_PRECONDITION,
    DeadlineExpired: grpc.StatusCode.DEADLINE_EXCEEDED,
}
# Above this, time_remaining() is gRPC's "infinite future": the caller set no deadline.
_NO_DEADLINE_S = 10 * 365 * 24 * 3600.0
_STATES = get_model_status_pb2.ModelVersionStatus.State
_UNKNOWN_ERROR = 2  # tensorflow.error.Code.UNKNOWN


def _deadline(context: grpc.aio.ServicerContext) -> float | None:
    """The caller's deadline on the time.monotonic() clock, or None."""
    remaining = context.time_remaining()
    if remaining is None or remaining > _NO_DEADLINE_S:
        return None
    return time.monotonic() + remaining


def _version_choice(spec: model_pb2.ModelSpec) -> tuple[int | None, str]:
    choice = spec.WhichOneof("version_choice")
    if choice == "version":
        return spec.version.value, ""
    if choice == "version_label":
        return None, spec.version_label
    return None, ""


def _served_spec(served: ModelVersion, signature_name: str = "") -> model_pb2.ModelSpec:
    spec = model_pb2.ModelSpec(name=served.name, signature_name=signature_name)
    spec.version.value = served.version
    return spec


class InferenceRunner:
    """Runs TensorFlow off the event loop, never starting work whose deadline has passed."""

    def __init__(self, threads: int) -> None:
        self._executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="inference")
        self._pending = 0

    @property
    def pending(self) -> int:
        """Requests running or waiting for an inference thread."""
        return self._pending

    async def run(
        self,
        served: ModelVersion,
        signature: Signature,
        arrays: Mapping[str, np.ndarray],
        output_filter: tuple[str, ...],
        deadline: float | None,
    ) -> dict[str, np.ndarray]:
        _check_deadline(deadline, "before inference")
        loop = asyncio.get_running_loop()
        self._pending += 1
        PENDING.inc()
        try:
            return await loop.run_in_executor(
                self._executor, self._run, served, signature, arrays, output_filter, deadline
            )
        finally:
            self._pending -= 1
            PENDING.dec()

    @staticmethod
    def _run(
        served: ModelVersion,
        signature: Signature,
        arrays: Mapping[str, np.ndarray],
        output_filter: tuple[str, ...],
        deadline: float | None,
    ) -> dict[str, np.ndarray]:
        # Requests queue for the pool: one whose caller gave up meanwhile is not started.
        _check_deadline(deadline, "while queued for inference")
        started = time.perf_counter()
        outputs = signature.run(arrays, output_filter)
        INFERENCE_MS.labels(model=served.name).observe((time.perf_counter() - started) * 1000)
        return outputs

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)


def _check_deadline(deadline: float | None, when: str) -> None:
    if deadline is not None and time.monotonic() >= deadline:
        raise DeadlineExpired(f"deadline exceeded {when}")


async def _abort(
    context: grpc.aio.ServicerContext, method: str, model: str, error: Exception
) -> NoReturn:
    code = _CODES.get(type(error), grpc.StatusCode.INTERNAL)
    REQUESTS.labels(model=model or "-", method=method, code=code.name).inc()
    if code is grpc.StatusCode.INTERNAL:
        logger.exception("request failed", extra={"method": method, "model": model})
        message = f"internal error: {type(error).__name__}"
    else:
        logger.info(
            "request refused",
            extra={"method": method, "model": model, "code": code.name, "reason": str(error)},
        )
        message = str(error)
    await context.abort(code, message)
    raise AssertionError("context.abort returned")


class PredictionServicer(prediction_service_pb2_grpc.PredictionServiceServicer):
    """tensorflow.serving.PredictionService: Predict and GetModelMetadata."""

    def __init__(
        self,
        registry: ModelRegistry,
        runner: InferenceRunner,
        *,
        max_batch: int,
        max_request_bytes: int,
    ) -> None:
        self._registry = registry
        self._runner = runner
        self._max_batch = max_batch
        self._max_bytes = max_request_bytes

    async def Predict(
        self, request: predict_pb2.PredictRequest, context: grpc.aio.ServicerContext
    ) -> predict_pb2.PredictResponse:
        deadline = _deadline(context)
        spec = request.model_spec
        try:
            _check_deadline(deadline, "on arrival")
            served = self._registry.resolve(spec.name, *_version_choice(spec))
            signature = served.signature(spec.signature_name)
            headers = {name: header(proto) for name, proto in request.inputs.items()}
            signature.validate(headers, max_batch=self._max_batch, max_bytes=self._max_bytes)
            arrays = {
                name: to_ndarray(proto, headers[name]) for name, proto in request.inputs.items()
            }
            outputs = await self._runner.run(
                served, signature, arrays, tuple(request.output_filter), deadline
            )
        except Exception as error:  # mapped to a status; unexpected ones are INTERNAL
            await _abort(context, "Predict", spec.name, error)
        response = predict_pb2.PredictResponse(model_spec=_served_spec(served, signature.key))
        for name, array in outputs.items():
            response.outputs[name].CopyFrom(to_tensor_proto(array))
        REQUESTS.labels(model=served.name, method="Predict", code="OK").inc()
        return response

    async def GetModelMetadata(
        self,
        request: get_model_metadata_pb2.GetModelMetadataRequest,
        context: grpc.aio.ServicerContext,
    ) -> get_model_metadata_pb2.GetModelMetadataResponse:
        spec = request.model_spec
        try:
            served = self._registry.resolve(spec.name, *_version_choice(spec))
            fields = list(request.metadata_field)
            if not fields:
                raise InvalidInput("metadata_field is required (supported: signature_def)")
            unsupported = [f for f in fields if f != "signature_def"]
            if unsupported:
                raise InvalidInput(f"metadata field {unsupported[0]!r} is not supported")
        except ModelServerError as error:
            await _abort(context, "GetModelMetadata", spec.name, error)
        signatures = get_model_metadata_pb2.SignatureDefMap()
        for key, definition in served.signature_defs.items():
            signatures.signature_def[key].CopyFrom(definition)
        response = get_model_metadata_pb2.GetModelMetadataResponse(model_spec=_served_spec(served))
        response.metadata["signature_def"].Pack(signatures)
        REQUESTS.labels(model=served.name, method="GetModelMetadata", code="OK").inc()
        return response


class ModelStatusServicer(model_service_pb2_grpc.ModelServiceServicer):
    """tensorflow.serving.ModelService: GetModelStatus (config reloads are not offered)."""

    def __init__(self, registry: ModelRegistry) -> None:
        self._registry = registry

    async def GetModelStatus(
        self,
        request: get_model_status_pb2.GetModelStatusRequest,
        context: grpc.aio.ServicerContext,
    ) -> get_model_status_pb2.GetModelStatusResponse:
        spec = request.model_spec
        version = spec.version.value if spec.HasField("version") else None
        try:
            versions = self._registry.statuses(spec.name, version)
        except ModelServerError as error:
            await _abort(context, "GetModelStatus", spec.name, error)
        response = get_model_status_pb2.GetModelStatusResponse()
        for served in versions:
            status = StatusProto(
                error_code=0 if served.available else _UNKNOWN_ERROR,
                error_message=served.error,
            )
            response.model_version_status.add(
                version=served.version, state=_STATES.Value(served.state), status=status
            )
        return response
