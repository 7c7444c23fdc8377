"""The SavedModels under a model base path: discovery, loading, validation and inference.

Layout as TensorFlow Serving reads it: `<base>/<model>/<version>/saved_model.pb` with
numeric version directories; anything else (a `.1.staging-…` directory being written,
a README) is ignored. Every version is loaded; the highest one that loaded is the default.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from model_server.errors import FailedPrecondition, InvalidInput, NotFound
from model_server.tensors import TensorHeader, dtype_name, format_shape, numpy_dtype

logger = logging.getLogger(__name__)

DEFAULT_SIGNATURE = "serving_default"
# version_label values every model answers to: its highest loaded version.
LATEST_LABELS = frozenset({"stable", "latest"})
LIMITS_FILE = "assets.extra/reels_limits.json"
_INIT_OP = "__saved_model_init_op"


@dataclass(frozen=True)
class TensorSpec:
    """One named input or output of a signature, as its SignatureDef declares it."""

    name: str
    dtype: int
    shape: tuple[int, ...]  # -1: any size

    def describe(self) -> str:
        return f"{self.name} {dtype_name(self.dtype)} {format_shape(self.shape)}"


@dataclass(frozen=True)
class Signature:
    """A serving signature: its declared tensors, limits and the function that runs it."""

    key: str
    inputs: Mapping[str, TensorSpec]
    outputs: Mapping[str, TensorSpec]
    # input name -> axis -> (smallest, largest) size, from the model's reels_limits.json.
    limits: Mapping[str, Mapping[int, tuple[int, int]]]
    function: Callable[..., Any] = field(repr=False, compare=False)

    def expected(self) -> str:
        return "; ".join(self._describe_input(name) for name in sorted(self.inputs))

    def _describe_input(self, name: str) -> str:
        bounds = ", ".join(
            f"axis {axis} in [{low}, {high}]"
            for axis, (low, high) in sorted(self.limits[name].items())
        )
        return self.inputs[name].describe() + (f" ({bounds})" if bounds else "")

    def validate(
        self, headers: Mapping[str, TensorHeader], *, max_batch: int, max_bytes: int
    ) -> None:
        """Raises InvalidInput naming the expected shape when a tensor does not fit."""
        missing = sorted(set(self.inputs) - set(headers))
        unknown = sorted(set(headers) - set(self.inputs))
        if missing or unknown:
            problem = f"missing {missing}" if missing else f"unknown {unknown}"
            raise InvalidInput(f"inputs {problem}; expected inputs: {self.expected()}")
        batch_sizes = set()
        total = 0
        for name, head in sorted(headers.items()):
            spec = self.inputs[name]
            if head.dtype != spec.dtype:
                raise InvalidInput(
                    f"input '{name}' has dtype {head.dtype_name}; expected "
                    f"{dtype_name(spec.dtype)} with shape {format_shape(spec.shape)}"
                )
            self._check_shape(name, head.shape, max_batch)
            if spec.shape and spec.shape[0] == -1:
                batch_sizes.add(head.shape[0])
            itemsize = numpy_dtype(spec.dtype).itemsize
            total += head.size * itemsize
        if len(batch_sizes) > 1:
            raise InvalidInput(
                f"inputs disagree on the batch size ({sorted(batch_sizes)}); "
                f"expected inputs: {self.expected()}"
            )
        if total > max_bytes:
            raise InvalidInput(f"inputs hold {total} bytes; the limit is {max_bytes}")

    def _check_shape(self, name: str, shape: tuple[int, ...], max_batch: int) -> None:
        spec = self.inputs[name]
        problem = None
        if len(shape) != len(spec.shape):
            problem = f"rank {len(shape)}, expected rank {len(spec.shape)}"
        else:
            bounds = dict(self.limits.get(name, {}))
            if spec.shape and spec.shape[0] == -1:
                bounds.setdefault(0, (1, max_batch))
            for axis, (size, want) in enumerate(zip(shape, spec.shape, strict=True)):
                if want != -1 and size != want:
                    problem = f"axis {axis} is {size}, expected {want}"
                    break
                low, high = bounds.get(axis, (0, None))
                if size < low or (high is not None and size > high):
                    problem = f"axis {axis} is {size}, expected {low} to {high}"
                    break
        if problem:
            raise InvalidInput(
                f"input '{name}' has shape {format_shape(shape)} ({problem}); expected shape "
                f"{format_shape(spec.shape)}: {self._describe_input(name)}"
            )

    def warm_up_inputs(self) -> dict[str, np.ndarray]:
        """The smallest valid request: batch 1, each open axis at its lower limit (or 1)."""
        arrays = {}
        for name, spec in self.inputs.items():
            bounds = self.limits.get(name, {})
            shape = [
                d if d != -1 else max(1, bounds.get(axis, (1, 1))[0])
                for axis, d in enumerate(spec.shape)
            ]
            arrays[name] = np.zeros(shape, dtype=numpy_dtype(spec.dtype))
        return arrays

    def run(self, arrays: Mapping[str, np.ndarray], output_filter: tuple[str, ...] = ()) -> dict:
        """Runs the signature; returns the (filtered) outputs as numpy arrays."""
        import tensorflow as tf

        unknown = sorted(set(output_filter) - set(self.outputs))
        if unknown:
            raise InvalidInput(
                f"output_filter names unknown outputs {unknown}; outputs: "
                f"{', '.join(sorted(self.outputs))}"
            )
        try:
            result = self.function(**{k: tf.constant(v) for k, v in arrays.items()})
        except tf.errors.InvalidArgumentError as error:
            raise InvalidInput(error.message.splitlines()[0]) from error
        wanted = output_filter or tuple(result)
        return {name: result[name].numpy() for name in wanted}


@dataclass
class ModelVersion:
    """One version directory and what became of it."""

    name: str
    version: int
    path: Path
    state: str = "LOADING"  # AVAILABLE once loaded and warmed up, END when it failed
    error: str = ""
    signatures: dict[str, Signature] = field(default_factory=dict)
    signature_defs: dict[str, Any] = field(default_factory=dict, repr=False)
    _loaded: Any = field(default=None, repr=False)

    @property
    def available(self) -> bool:
        return self.state == "AVAILABLE"

    def signature(self, key: str) -> Signature:
        key = key or DEFAULT_SIGNATURE
        try:
            return self.signatures[key]
        except KeyError:
            # TensorFlow Serving answers FAILED_PRECONDITION here, so do we.
            raise FailedPrecondition(
                f'Serving signature key "{key}" not found; model {self.name} version '
                f"{self.version} has: {', '.join(sorted(self.signatures))}"
            ) from None


def _read_limits(path: Path) -> dict[str, dict[int, tuple[int, int]]]:
    file = path / LIMITS_FILE
    if not file.exists():
        return {}
    raw = json.loads(file.read_text())
    return {
        name: {int(axis): (int(low), int(high)) for axis, (low, high) in axes.items()}
        for name, axes in raw.items()
    }


def _spec(name: str, info: Any) -> TensorSpec:
    if info.tensor_shape.unknown_rank:
        shape: tuple[int, ...] = ()
    else:
        shape = tuple(dim.size for dim in info.tensor_shape.dim)
    return TensorSpec(name, info.dtype, shape)


def load_version(name: str, version: int, path: Path, *, warm_up: bool = True) -> ModelVersion:
    """Loads one SavedModel version; a failure is recorded on it (state END), not raised."""
    import tensorflow as tf
    from tensorflow.core.protobuf import saved_model_pb2

    served = ModelVersion(name, version, path)
    started = time.monotonic()
    try:
        proto = saved_model_pb2.SavedModel.FromString((path / "saved_model.pb").read_bytes())
        graphs = [g for g in proto.meta_graphs if "serve" in g.meta_info_def.tags]
        if not graphs:
            raise ValueError("no MetaGraph tagged 'serve'")
        served.signature_defs = dict(graphs[0].signature_def)
        served._loaded = tf.saved_model.load(str(path), tags=["serve"])
        limits = _read_limits(path)
        for key, function in served._loaded.signatures.items():
            definition = served.signature_defs[key]
            inputs = {k: _spec(k, v) for k, v in definition.inputs.items()}
            outputs = {k: _spec(k, v) for k, v in definition.outputs.items()}
            signature_limits = {k: limits.get(k, {}) for k in inputs}
            served.signatures[key] = Signature(key, inputs, outputs, signature_limits, function)
        if warm_up:
            for signature in served.signatures.values():
                signature.run(signature.warm_up_inputs())
        served.state = "AVAILABLE"
    except Exception as error:  # any broken model: report it, keep serving the others
        served.state, served.error = "END", f"{type(error).__name__}: {error}"
        logger.exception("model version failed to load", extra={"model": name, "version": version})
        return served
    logger.info(
        "model version loaded",
        extra={
            "model": name,
            "version": version,
            "signatures": sorted(served.signatures),
            "load_s": round(time.monotonic() - started, 2),
        },
    )
    return served


class ModelRegistry:
    """Every version of every model under one base path."""

    def __init__(self, models: Mapping[str, Mapping[int, ModelVersion]]) -> None:
        self._models = {name: dict(versions) for name, versions in models.items()}

    @classmethod
    def load(cls, base: Path, *, warm_up: bool = True) -> ModelRegistry:
        base = Path(base)
        if not base.is_dir():
            raise FileNotFoundError(f"model base path {base} is not a directory")
        models: dict[str, dict[int, ModelVersion]] = {}
        for model_dir in sorted(p for p in base.iterdir() if p.is_dir()):
            versions = {
                int(p.name): p
                for p in model_dir.iterdir()
                if p.is_dir() and p.name.isdigit() and (p / "saved_model.pb").exists()
            }
            if versions:
                models[model_dir.name] = {
                    v: load_version(model_dir.name, v, p, warm_up=warm_up)
                    for v, p in sorted(versions.items())
                }
        return cls(models)

    def names(self) -> list[str]:
        return sorted(self._models)

    def available_count(self) -> int:
        return sum(v.available for versions in self._models.values() for v in versions.values())

    def _versions(self, name: str) -> dict[int, ModelVersion]:
        if not name:
            raise InvalidInput("model_spec.name is required")
        try:
            return self._models[name]
        except KeyError:
            raise NotFound(
                f"model '{name}' not found; serving: {', '.join(self.names()) or 'nothing'}"
            ) from None

    def resolve(self, name: str, version: int | None = None, label: str = "") -> ModelVersion:
        """The version to serve: the requested one, or the latest for no version / a label."""
        versions = self._versions(name)
        available = sorted(v for v, served in versions.items() if served.available)
        if version is not None:
            served = versions.get(version)
            if served is None or not served.available:
                raise NotFound(
                    f"model '{name}' version {version} not found; available versions: {available}"
                )
            return served
        if label and label not in LATEST_LABELS:
            raise NotFound(
                f"model '{name}' has no version labelled '{label}'; "
                f"labels: {', '.join(sorted(LATEST_LABELS))}"
            )
        if not available:
            raise NotFound(f"model '{name}' has no available version")
        return versions[available[-1]]

    def statuses(self, name: str, version: int | None = None) -> list[ModelVersion]:
        versions = self._versions(name)
        if version is None:
            return [versions[v] for v in sorted(versions)]
        if version not in versions:
            raise NotFound(f"model '{name}' version {version} not found")
        return [versions[version]]


def configure_threads(intra_op: int, inter_op: int) -> None:
    """TensorFlow's thread pools, set once before anything runs (two cores here)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(intra_op)
        tf.config.threading.set_inter_op_parallelism_threads(inter_op)
    except RuntimeError:
        # Already initialised (a second server in one test process): keep what is set.
        logger.debug("TensorFlow threads already configured")
