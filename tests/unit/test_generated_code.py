"""gen/ and Envoy's descriptor set must be exactly what `make protos` makes from protos/."""

from __future__ import annotations

import filecmp
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


def test_generated_code_is_fresh(tmp_path: Path) -> None:
    for part in ("protos", "third_party", "scripts"):
        shutil.copytree(REPO / part, tmp_path / part)
    subprocess.run(
        ["bash", "scripts/gen_protos.sh"],
        cwd=tmp_path,
        env={"PYTHON": sys.executable, "PATH": "/usr/bin:/bin"},
        check=True,
        capture_output=True,
        timeout=120,
    )
    fresh, committed = tmp_path / "gen", REPO / "gen"
    fresh_files = {f for f in _files(fresh) if "__pycache__" not in f}
    committed_files = {f for f in _files(committed) if "__pycache__" not in f}
    assert fresh_files == committed_files, "gen/ has stale or missing files: run `make protos`"
    stale = [f for f in sorted(fresh_files) if not filecmp.cmp(fresh / f, committed / f, False)]
    assert not stale, f"stale generated files (run `make protos`): {stale}"
    descriptor = "envoy/reels_descriptor.pb"
    assert filecmp.cmp(tmp_path / descriptor, REPO / descriptor, shallow=False), descriptor


def test_every_rpc_declares_its_access_policy() -> None:
    from reels.common.v1 import access_pb2
    from reels.embed.v1 import embed_service_pb2
    from reels.media.v1 import media_service_pb2
    from reels.ranking.v1 import ranking_service_pb2
    from reels.stream.v1 import stream_service_pb2

    missing = [
        method.full_name
        for module in (
            media_service_pb2,
            stream_service_pb2,
            embed_service_pb2,
            ranking_service_pb2,
        )
        for service in module.DESCRIPTOR.services_by_name.values()
        for method in service.methods
        if method.GetOptions().Extensions[access_pb2.access] == access_pb2.ACCESS_UNSPECIFIED
    ]
    assert not missing
