"""Model server latency through TensorFlow Serving's gRPC API; prints figures.

    .venv/bin/python bench/bench_inference.py [--calls 200] [--model-base DIR]

Exports the models into a temporary directory (or uses --model-base, e.g. the `models/`
that `make models` writes), starts `python -m model_server` as a subprocess on a free
port, and times sequential Predict calls from one client: one 10-frame clip, a batch of
100 frames (10 clips x 10 frames, 15 MB), and the ranking model over 500 candidates.
Goals on this machine: p95 <= 20 ms (10 frames) and <= 150 ms (100 frames); the product
gate is 200 ms. The server's own inference time (its deep_model_inference_ms histogram)
is printed beside each round trip. Not a test: the machine is shared, read medians.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import grpc
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from grpc_health.v1 import health_pb2, health_pb2_grpc  # noqa: E402
from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc  # noqa: E402

from model_server.tensors import to_ndarray, to_tensor_proto  # noqa: E402

GOALS_MS = {"10 frames": 20.0, "100 frames": 150.0}
GATE_MS = 200.0
MESSAGE_LIMIT = 64 * 1024 * 1024


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _cpu_busy(seconds: float = 1.0) -> float:
    def snapshot() -> tuple[int, int]:
        with open("/proc/stat") as stat:
            fields = [int(v) for v in stat.readline().split()[1:]]
        return sum(fields), fields[3] + fields[4]

    total0, idle0 = snapshot()
    time.sleep(seconds)
    total1, idle1 = snapshot()
    return 1.0 - (idle1 - idle0) / max(total1 - total0, 1)


def _export(out: Path) -> None:
    started = time.monotonic()
    subprocess.run(
        [sys.executable, "-m", "embed_models.export", "--out", str(out)],
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    print(f"exported models in {time.monotonic() - started:.1f} s")


def _wait_serving(target: str, process: subprocess.Popen[bytes], timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    with grpc.insecure_channel(target) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        while time.monotonic() < deadline:
            if process.poll() is not None:
                sys.exit(f"model server exited with {process.returncode}")
            try:
                reply = health.Check(health_pb2.HealthCheckRequest(service=""), timeout=1)
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    return
            except grpc.RpcError:
                pass
            time.sleep(0.2)
    sys.exit("model server not serving in time")


def _inference_totals(metrics_port: int, model: str) -> tuple[float, float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5) as r:
        text = r.read().decode()

    def value(name: str) -> float:
        match = re.search(rf'^{name}\{{model="{model}"\}} (\S+)$', text, re.MULTILINE)
        return float(match.group(1)) if match else 0.0

    return value("deep_model_inference_ms_sum"), value("deep_model_inference_ms_count")


def _request(model: str, inputs: dict[str, np.ndarray]) -> predict_pb2.PredictRequest:
    request = predict_pb2.PredictRequest()
    request.model_spec.name = model
    for name, array in inputs.items():
        request.inputs[name].CopyFrom(to_tensor_proto(array))
    return request


def _measure(
    stub: prediction_service_pb2_grpc.PredictionServiceStub,
    request: predict_pb2.PredictRequest,
    calls: int,
    metrics_port: int,
) -> tuple[list[float], float]:
    model = request.model_spec.name
    for _ in range(5):  # warm-up
        stub.Predict(request, timeout=10)
    sum0, count0 = _inference_totals(metrics_port, model)
    times = []
    for _ in range(calls):
        started = time.perf_counter()
        response = stub.Predict(request, timeout=10)
        times.append((time.perf_counter() - started) * 1000)
    sum1, count1 = _inference_totals(metrics_port, model)
    assert response.outputs, "empty response"
    return times, (sum1 - sum0) / max(count1 - count0, 1)


def _row(label: str, times: list[float], server_ms: float, goal: float | None) -> str:
    p50 = statistics.median(times)
    p95 = float(np.percentile(times, 95))
    verdict = ""
    if goal is not None:
        verdict = f"  goal p95<={goal:.0f}: {'met' if p95 <= goal else 'MISSED'}"
        verdict += f"; gate {GATE_MS:.0f}: {'met' if p95 <= GATE_MS else 'MISSED'}"
    return (
        f"{label:<18} n={len(times):<4} p50 {p50:7.1f} ms  p95 {p95:7.1f} ms  "
        f"max {max(times):7.1f} ms  (server inference mean {server_ms:6.1f} ms){verdict}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--model-base", type=Path, help="use these models instead of exporting")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-inference-") as tmp:
        base = args.model_base
        if base is None:
            base = Path(tmp) / "models"
            _export(base)
        port, metrics_port = _free_port(), _free_port()
        command = [
            sys.executable, "-m", "model_server", "--model-base", str(base),
            "--port", str(port), "--metrics-port", str(metrics_port),
        ]  # fmt: skip
        with open(Path(tmp) / "model_server.log", "wb") as log:
            process = subprocess.Popen(
                command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        try:
            target = f"127.0.0.1:{port}"
            _wait_serving(target, process)
            print(f"model server up on {target}; CPUs busy before the run: {_cpu_busy():.0%}")
            rng = np.random.default_rng(0)
            clip = rng.integers(0, 256, (1, 10, 224, 224, 3), np.uint8)
            batch = rng.integers(0, 256, (10, 10, 224, 224, 3), np.uint8)
            user = rng.standard_normal((1, 256)).astype(np.float32)
            candidates = rng.standard_normal((1, 500, 256)).astype(np.float32)
            options = [
                ("grpc.max_send_message_length", MESSAGE_LIMIT),
                ("grpc.max_receive_message_length", MESSAGE_LIMIT),
            ]
            with grpc.insecure_channel(target, options=options) as channel:
                stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
                cases = [
                    ("10 frames", _request("video_encoder", {"frames": clip})),
                    ("100 frames", _request("video_encoder", {"frames": batch})),
                    (
                        "rank 500 cands",
                        _request(
                            "ranking_model",
                            {"user_embedding": user, "candidate_embeddings": candidates},
                        ),
                    ),
                ]
                for label, request in cases:
                    times, server_ms = _measure(stub, request, args.calls, metrics_port)
                    print(_row(label, times, server_ms, GOALS_MS.get(label)), flush=True)
                check = stub.Predict(cases[0][1], timeout=10)
                embedding = to_ndarray(check.outputs["embedding"])
                print(f"embedding {embedding.shape}, norm {np.linalg.norm(embedding):.6f}")
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)


if __name__ == "__main__":
    main()
