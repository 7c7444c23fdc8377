"""The alert rules pass `promtool check rules` and their `promtool test rules` unit tests."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ALERTS = Path(__file__).resolve().parents[2] / "docs" / "monitoring" / "alerts"
RULES = ALERTS / "video_alerts.yml"
TESTS = ALERTS / "video_alerts_test.yml"
REQUIRED = {
    "VideoProcessingBacklog",
    "TranscodingLatencyHigh",
    "EmbeddingInferenceTimeout",
    "CompletionRateLow",
    "FeedFallbackRateHigh",
    "GrpcServerErrorRateHigh",
}

# promtool comes from Debian's prometheus package (scripts/ensure_system_packages.sh).
pytestmark = pytest.mark.skipif(
    shutil.which("promtool") is None,
    reason="promtool missing: run scripts/ensure_system_packages.sh",
)


def _promtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["promtool", *args], cwd=ALERTS, capture_output=True, text=True, timeout=120
    )


def test_rules_pass_promtool_check() -> None:
    result = _promtool("check", "rules", RULES.name)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_rules_pass_their_unit_tests() -> None:
    result = _promtool("test", "rules", TESTS.name)
    assert result.returncode == 0, result.stdout + result.stderr


def _alert_names() -> set[str]:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return {rule["alert"] for group in groups for rule in group["rules"] if "alert" in rule}


def test_the_required_alerts_exist_and_each_has_a_test_that_fires_it() -> None:
    names = _alert_names()
    assert names >= REQUIRED
    fired = {
        case["alertname"]
        for test in yaml.safe_load(TESTS.read_text())["tests"]
        for case in test.get("alert_rule_test", [])
        if case.get("exp_alerts")
    }
    assert fired == names


def test_every_alert_links_its_runbook_section() -> None:
    runbook = (ALERTS.parents[1] / "operations" / "video_runbook.md").read_text().lower()
    for group in yaml.safe_load(RULES.read_text())["groups"]:
        for rule in group["rules"]:
            anchor = rule["annotations"]["runbook"].partition("#")[2]
            assert f"## {anchor.replace('-', ' ')}" in runbook, (rule["alert"], anchor)
