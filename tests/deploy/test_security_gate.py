"""The security gate: bandit finds nothing of high severity (the Makefile's own arguments)."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BANDIT = Path(sys.executable).parent / "bandit"


def _bandit_args() -> list[str]:
    match = re.search(r"^BANDIT_ARGS := (.+)$", (REPO / "Makefile").read_text(), re.MULTILINE)
    assert match, "the Makefile defines BANDIT_ARGS for `make security`"
    return shlex.split(match.group(1))


@pytest.mark.security
@pytest.mark.skipif(not BANDIT.exists(), reason="bandit is not installed (dev extras)")
def test_bandit_reports_no_high_severity_finding() -> None:
    args = _bandit_args()
    assert "-lll" in args  # high severity only: the gate, not a report
    result = subprocess.run(
        [str(BANDIT), *args], cwd=REPO, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.security
def test_the_security_tests_exist_under_the_marker() -> None:
    collected = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-m", "security", "tests"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    ).stdout
    for area in ("auth", "authoriz", "upload"):
        assert any(area in line.lower() for line in collected.splitlines()), area
