"""scripts/video_canary_deploy.sh: the dry run renders and validates every stage, and the
error-rate gate rolls back when a real Envoy's fault filter breaks the canary's traffic."""

from __future__ import annotations

import contextlib
import http.server
import json
import shutil
import string
import subprocess
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from reels_runtime import localstack
from tests.support.processes import free_port, http_status, running, wait_until

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "video_canary_deploy.sh"

ENVOY_TEMPLATE = string.Template((Path(__file__).parent / "canary_envoy.yaml").read_text())


class _Backend(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = self.server.name.encode()  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextlib.contextmanager
def backend(name: str) -> Iterator[int]:
    """A tiny HTTP upstream answering 200 with its name, on a free loopback port."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Backend)
    server.daemon_threads = True
    server.name = name  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@contextlib.contextmanager
def envoy_with_canary(tmp_path: Path, abort_percent: int) -> Iterator[tuple[str, str]]:
    """(gateway URL, admin URL) of a real Envoy in front of a stable and a canary backend."""
    with backend("stable") as stable, backend("canary") as canary:
        ports = {"admin": free_port(), "gateway": free_port(), "edge": free_port()}
        config = tmp_path / "canary-envoy.yaml"
        config.write_text(
            ENVOY_TEMPLATE.substitute(
                **ports, stable=stable, canary=canary, abort_percent=abort_percent
            )
        )
        command = localstack.envoy_command(config)
        with running(command, tmp_path / "envoy.log"):
            admin = f"http://127.0.0.1:{ports['admin']}"
            gateway = f"http://127.0.0.1:{ports['gateway']}/"
            wait_until(lambda: http_status(f"{admin}/ready") == 200, 30, "envoy")
            yield gateway, admin


@contextlib.contextmanager
def traffic(url: str) -> Iterator[None]:
    """Users: requests through the gateway, one after another, until the block ends."""
    stop = threading.Event()

    def send() -> None:
        while not stop.is_set():
            with contextlib.suppress(urllib.error.URLError, OSError):
                with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310
                    response.read()

    workers = [threading.Thread(target=send, daemon=True) for _ in range(2)]
    for worker in workers:
        worker.start()
    try:
        yield
    finally:
        stop.set()
        for worker in workers:
            worker.join(5)


def runtime_weights(admin: str) -> dict[str, str]:
    with urllib.request.urlopen(f"{admin}/runtime", timeout=2) as response:  # noqa: S310
        entries = json.load(response)["entries"]
    return {key: value["final_value"] for key, value in entries.items()}


def run_script(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(SCRIPT), *args], capture_output=True, text=True, timeout=timeout, cwd=REPO
    )


LOCAL_GATE = ("--observe-seconds", "2", "--min-requests", "10", "--max-error-rate", "0.05")


def test_the_gate_rolls_back_when_envoy_injects_errors_into_the_canary(tmp_path: Path) -> None:
    with envoy_with_canary(tmp_path, abort_percent=50) as (gateway, admin), traffic(gateway):
        result = run_script("--local-envoy-admin", admin, *LOCAL_GATE)
        weights = runtime_weights(admin)
    assert result.returncode == 3, result.stderr
    assert "error-rate gate failed at 5 %" in result.stderr
    assert "canary error rate above the gate" in result.stderr
    assert "stage 10 %" not in result.stderr  # it stopped at the first stage
    assert weights == {"canary.weight.canary": "0", "canary.weight.stable": "100"}


def test_a_healthy_canary_is_promoted_stage_by_stage(tmp_path: Path) -> None:
    with envoy_with_canary(tmp_path, abort_percent=0) as (gateway, admin), traffic(gateway):
        result = run_script("--local-envoy-admin", admin, *LOCAL_GATE)
        weights = runtime_weights(admin)
    assert result.returncode == 0, result.stderr
    for stage in (5, 10, 50, 100):
        assert f"stage {stage} %: gate passed" in result.stderr
    assert weights == {"canary.weight.canary": "100", "canary.weight.stable": "0"}


def test_without_enough_canary_traffic_the_gate_does_not_guess(tmp_path: Path) -> None:
    with envoy_with_canary(tmp_path, abort_percent=0) as (_, admin):
        result = run_script("--local-envoy-admin", admin, "--observe-seconds", "0.5")
        weights = runtime_weights(admin)
    assert result.returncode == 3, result.stderr
    assert "not enough canary traffic" in result.stderr
    assert weights["canary.weight.canary"] == "0"


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not on PATH")
def test_the_dry_run_renders_and_validates_every_stage(tmp_path: Path) -> None:
    render = tmp_path / "stages"
    result = run_script(
        "--dry-run", "--service", "stream-svc", "--image", "ghcr.io/reels/reels:9.9.9",
        "--stable-replicas", "19", "--render-dir", str(render),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "stage 5 %: valid; canary stream-svc-canary 1 pod(s) beside 19 stable" in (result.stderr)
    for stage, canary_pods in ((5, 1), (10, 2), (50, 19)):
        docs = [d for d in yaml.safe_load_all((render / f"stage-{stage}.yaml").read_text()) if d]
        deployments = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Deployment"}
        canary = deployments["stream-svc-canary"]
        assert canary["spec"]["replicas"] == canary_pods
        assert canary["spec"]["template"]["metadata"]["labels"]["track"] == "canary"
        assert canary["spec"]["template"]["spec"]["containers"][0]["image"].endswith(":9.9.9")
        stable = deployments["stream-svc"]["spec"]["template"]["spec"]["containers"][0]
        assert not stable["image"].endswith(":9.9.9")
    final = [d for d in yaml.safe_load_all((render / "stage-100.yaml").read_text()) if d]
    names = {d["metadata"]["name"] for d in final if d["kind"] == "Deployment"}
    assert "stream-svc-canary" not in names
    promoted = next(
        d for d in final if d["kind"] == "Deployment" and d["metadata"]["name"] == "stream-svc"
    )
    assert promoted["spec"]["template"]["spec"]["containers"][0]["image"].endswith(":9.9.9")


def test_bad_arguments_are_refused() -> None:
    assert run_script("--stages", "5 50", "--local-envoy-admin", "http://x").returncode == 2
    assert run_script("--dry-run", "--service", "envoy", "--image", "x:1").returncode == 2
    assert run_script("--bogus").returncode == 2
