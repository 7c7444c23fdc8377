"""The model server's domain: signature validation, version choice and deadlines."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import numpy as np
import pytest
from tensorflow.core.framework import types_pb2

from model_server.errors import DeadlineExpired, FailedPrecondition, InvalidInput, NotFound
from model_server.registry import ModelRegistry, ModelVersion, Signature, TensorSpec
from model_server.servicer import InferenceRunner
from model_server.tensors import TensorHeader

FRAMES = TensorSpec("frames", types_pb2.DT_UINT8, (-1, -1, 224, 224, 3))


class _Recorder:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, **inputs: object) -> dict:
        self.calls += 1
        raise AssertionError("a test function is never run for real")


def _signature(function: object = None) -> Signature:
    return Signature(
        key="serving_default",
        inputs={"frames": FRAMES},
        outputs={"embedding": TensorSpec("embedding", types_pb2.DT_FLOAT, (-1, 256))},
        limits={"frames": {1: (1, 64)}},
        function=function or _Recorder(),
    )


def _validate(shape: tuple[int, ...], dtype: int = types_pb2.DT_UINT8, **kw: int) -> None:
    limits = {"max_batch": 128, "max_bytes": 64 << 20} | kw
    _signature().validate({"frames": TensorHeader(dtype, shape)}, **limits)


def test_a_fitting_request_passes() -> None:
    _validate((2, 10, 224, 224, 3))


@pytest.mark.parametrize(
    ("shape", "problem"),
    [
        ((1, 10, 100, 100, 3), "axis 2 is 100, expected 224"),
        ((10, 224, 224, 3), "rank 4, expected rank 5"),
        ((1, 65, 224, 224, 3), "axis 1 is 65, expected 1 to 64"),
        ((1, 0, 224, 224, 3), "axis 1 is 0"),
        ((129, 1, 224, 224, 3), "axis 0 is 129, expected 1 to 128"),
    ],
)
def test_a_wrong_shape_names_the_expected_shape(shape: tuple[int, ...], problem: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        _validate(shape)
    assert problem in str(caught.value)
    assert "[-1, -1, 224, 224, 3]" in str(caught.value)


def test_wrong_dtype_missing_and_unknown_inputs() -> None:
    with pytest.raises(InvalidInput, match="DT_FLOAT; expected DT_UINT8"):
        _validate((1, 1, 224, 224, 3), types_pb2.DT_FLOAT)
    with pytest.raises(InvalidInput, match=r"missing \['frames'\]"):
        _signature().validate({}, max_batch=128, max_bytes=1 << 30)
    with pytest.raises(InvalidInput, match=r"unknown \['images'\]"):
        _signature().validate(
            {
                "frames": TensorHeader(types_pb2.DT_UINT8, (1, 1, 224, 224, 3)),
                "images": TensorHeader(types_pb2.DT_UINT8, (1,)),
            },
            max_batch=128,
            max_bytes=1 << 30,
        )


def test_the_byte_budget_applies_to_the_declared_shape() -> None:
    with pytest.raises(InvalidInput, match="bytes; the limit is"):
        _validate((100, 64, 224, 224, 3), max_bytes=64 << 20)


def test_inputs_must_agree_on_the_batch() -> None:
    signature = Signature(
        key="serving_default",
        inputs={
            "user_embedding": TensorSpec("user_embedding", types_pb2.DT_FLOAT, (-1, 4)),
            "candidate_embeddings": TensorSpec(
                "candidate_embeddings", types_pb2.DT_FLOAT, (-1, -1, 4)
            ),
        },
        outputs={},
        limits={"user_embedding": {}, "candidate_embeddings": {}},
        function=_Recorder(),
    )
    with pytest.raises(InvalidInput, match="disagree on the batch size"):
        signature.validate(
            {
                "user_embedding": TensorHeader(types_pb2.DT_FLOAT, (2, 4)),
                "candidate_embeddings": TensorHeader(types_pb2.DT_FLOAT, (3, 5, 4)),
            },
            max_batch=128,
            max_bytes=1 << 30,
        )


def _registry() -> ModelRegistry:
    def version(v: int, state: str = "AVAILABLE") -> ModelVersion:
        served = ModelVersion("video_encoder", v, Path(f"/m/{v}"), state=state)
        served.signatures["serving_default"] = _signature()
        return served

    return ModelRegistry({"video_encoder": {1: version(1), 2: version(2), 3: version(3, "END")}})


def test_latest_loaded_version_by_default_or_by_label() -> None:
    registry = _registry()
    assert registry.resolve("video_encoder").version == 2  # 3 failed to load
    assert registry.resolve("video_encoder", label="stable").version == 2
    assert registry.resolve("video_encoder", 1).version == 1
    assert [v.version for v in registry.statuses("video_encoder")] == [1, 2, 3]


def test_unknown_model_version_label_and_signature() -> None:
    registry = _registry()
    with pytest.raises(NotFound, match="model 'nope' not found"):
        registry.resolve("nope")
    with pytest.raises(NotFound, match="version 3 not found"):
        registry.resolve("video_encoder", 3)
    with pytest.raises(NotFound, match="labelled 'canary'"):
        registry.resolve("video_encoder", label="canary")
    with pytest.raises(InvalidInput, match=r"model_spec\.name is required"):
        registry.resolve("")
    with pytest.raises(FailedPrecondition, match='"classify" not found'):
        registry.resolve("video_encoder").signature("classify")


async def test_work_whose_deadline_has_passed_is_never_started() -> None:
    recorder = _Recorder()
    signature = _signature(recorder)
    served = _registry().resolve("video_encoder")
    runner = InferenceRunner(1)
    frames = {"frames": np.zeros((1, 1, 224, 224, 3), np.uint8)}
    try:
        with pytest.raises(DeadlineExpired, match="before inference"):
            await runner.run(served, signature, frames, (), time.monotonic() - 0.001)
        # Queued behind a slow job until after its deadline: skipped, not run late.
        blocker = asyncio.get_running_loop().run_in_executor(runner._executor, time.sleep, 0.3)
        with pytest.raises(DeadlineExpired, match="while queued"):
            await runner.run(served, signature, frames, (), time.monotonic() + 0.1)
        await blocker
    finally:
        runner.close()
    assert recorder.calls == 0
