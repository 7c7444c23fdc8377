"""The exported directories as TensorFlow Serving would meet them: layout, signatures seen by
saved_model_cli, a load in a fresh process, reproducible export, and the server's own CLI."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import grpc
import numpy as np
import pytest
import tensorflow as tf
from grpc_health.v1 import health_pb2, health_pb2_grpc
from tensorflow_serving.apis import get_model_status_pb2, model_service_pb2_grpc

from embed_models import RANKING_MODEL, VIDEO_ENCODER
from tests.support.processes import free_port, running, wait_until

REPO = Path(__file__).resolve().parents[3]
PYTHON = sys.executable
SAVED_MODEL_CLI = str(Path(sys.executable).parent / "saved_model_cli")


def _env() -> dict[str, str]:
    return {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": str(REPO)}


def test_tensorflow_serving_layout(model_base: Path) -> None:
    for model, versions in ((VIDEO_ENCODER, ["1", "2"]), (RANKING_MODEL, ["1"])):
        found = sorted(p.name for p in (model_base / model).iterdir() if not p.name.startswith("."))
        assert found == versions
        for version in versions:
            directory = model_base / model / version
            assert (directory / "saved_model.pb").is_file()
            assert (directory / "variables" / "variables.index").is_file()
    # Nothing half-written is left beside the versions.
    assert not [p for p in (model_base / VIDEO_ENCODER).iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        (
            VIDEO_ENCODER,
            [
                "signature_def['serving_default']",
                "inputs['frames']",
                "DT_UINT8",
                "shape: (-1, -1, 224, 224, 3)",
                "outputs['embedding']",
                "shape: (-1, 256)",
                "tensorflow/serving/predict",
            ],
        ),
        (
            RANKING_MODEL,
            [
                "signature_def['serving_default']",
                "inputs['user_embedding']",
                "inputs['candidate_embeddings']",
                "shape: (-1, -1, 256)",
                "outputs['scores']",
            ],
        ),
    ],
)
def test_saved_model_cli_shows_the_signature(model_base: Path, model: str, expected: list) -> None:
    shown = subprocess.run(
        [SAVED_MODEL_CLI, "show", "--all", "--dir", str(model_base / model / "1")],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=120,
        check=True,
    ).stdout
    for fragment in expected:
        assert fragment in shown, fragment
    assert "MetaGraphDef with tag-set: 'serve'" in shown


_FRESH_LOAD = """
import json, sys
import numpy as np
import tensorflow as tf
path, out = sys.argv[1], sys.argv[2]
serving = tf.saved_model.load(path).signatures["serving_default"]
frames = np.random.default_rng(11).integers(0, 256, (2, 10, 224, 224, 3), np.uint8)
embedding = serving(frames=tf.constant(frames))["embedding"].numpy()
np.save(out, embedding)
print(json.dumps({"shape": list(embedding.shape)}))
"""


def test_export_is_reproducible_and_loads_in_a_fresh_process(
    model_base: Path, tmp_path: Path
) -> None:
    """`python -m embed_models.export` in a new process, loaded in yet another one, gives
    exactly the session's model's outputs."""
    again = tmp_path / "again"
    subprocess.run(
        [PYTHON, "-m", "embed_models.export", "--out", str(again), "--model", VIDEO_ENCODER],
        cwd=REPO,
        env=_env(),
        check=True,
        capture_output=True,
        timeout=600,
    )
    out = tmp_path / "fresh.npy"
    loaded = subprocess.run(
        [PYTHON, "-c", _FRESH_LOAD, str(again / VIDEO_ENCODER / "1"), str(out)],
        cwd=REPO,
        env=_env(),
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert json.loads(loaded.stdout.strip().splitlines()[-1]) == {"shape": [2, 256]}
    fresh = np.load(out)
    np.testing.assert_allclose(np.linalg.norm(fresh, axis=1), 1.0, atol=1e-5)
    serving = tf.saved_model.load(str(model_base / VIDEO_ENCODER / "1")).signatures[
        "serving_default"
    ]
    frames = np.random.default_rng(11).integers(0, 256, (2, 10, 224, 224, 3), np.uint8)
    here = serving(frames=tf.constant(frames))["embedding"].numpy()
    np.testing.assert_array_equal(fresh, here)


def test_the_server_cli_serves_and_stops_on_sigterm(model_base: Path, tmp_path: Path) -> None:
    port = free_port()
    command = [PYTHON, "-m", "model_server", "--model-base", str(model_base), "--port", str(port)]
    log = tmp_path / "model_server.log"
    target = f"127.0.0.1:{port}"

    def serving() -> bool:
        try:
            with grpc.insecure_channel(target) as channel:
                reply = health_pb2_grpc.HealthStub(channel).Check(
                    health_pb2.HealthCheckRequest(service=""), timeout=1
                )
        except grpc.RpcError:
            return False
        return reply.status == health_pb2.HealthCheckResponse.SERVING

    with running(command, log, env=_env()) as process:
        wait_until(serving, 120, "model server")
        with grpc.insecure_channel(target) as channel:
            request = get_model_status_pb2.GetModelStatusRequest()
            request.model_spec.name = RANKING_MODEL
            reply = model_service_pb2_grpc.ModelServiceStub(channel).GetModelStatus(
                request, timeout=5
            )
        assert [s.version for s in reply.model_version_status] == [1]
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    assert [line["message"] for line in lines][-2:] == ["shutting down", "stopped"]


def test_the_server_refuses_to_start_without_models(tmp_path: Path) -> None:
    result = subprocess.run(
        [PYTHON, "-m", "model_server", "--model-base", str(tmp_path), "--port", "0"],
        cwd=REPO,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert "no model version could be served" in result.stderr
