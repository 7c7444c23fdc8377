"""Every metric a dashboard panel or an alert rule queries is one the code really exports.

The exported names come from the source: every prometheus_client Counter, Gauge, Histogram
and Summary constructed with a literal name in the services and the shared runtime (read
with `ast`, so no TensorFlow import and no clash between processes that register the same
name, like embed_svc's and the model server's deep_model_inference_ms). A counter exports
`<name>_total`, a histogram `<name>_bucket`, `_count` and `_sum`, a summary `_count`/`_sum`.
"""

from __future__ import annotations

import ast
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
DASHBOARDS = REPO / "docs" / "monitoring" / "dashboards"
RULES = REPO / "docs" / "monitoring" / "alerts" / "video_alerts.yml"
PACKAGES = ("media_svc", "stream_svc", "embed_svc", "ranking_svc", "model_server", "reels_runtime")
EXPECTED_DASHBOARDS = {"Video Pipeline", "Streaming Quality", "Deep Learning", "Video Engagement"}
# The issue's metric list (and what the dashboards need beyond it); each must be exported.
ISSUE_METRICS = {
    "video_upload_duration_seconds_bucket",
    "video_transcoding_duration_seconds_bucket",
    "videos_uploaded_total",
    "videos_in_processing_queue",
    "video_streaming_latency_ms_bucket",
    "video_segments_served_total",
    "active_video_streams",
    "bitrate_switch_count_total",
    "deep_model_inference_ms_bucket",
    "embedding_generations_total",
    "milvus_search_latency_ms_bucket",
    "ranking_requests_total",
    "feed_cache_hits_total",
    "feed_cache_misses_total",
    "feed_fallbacks_total",
    "video_likes_total",
    "video_shares_total",
    "video_comments_total",
    "average_completion_rate",
    "cdn_probe_latency_ms_bucket",
    "cdn_probe_errors_total",
    "video_segment_errors_total",
    "reels_stream_segment_redirects_total",
    "embedding_queue_depth",
    "video_sessions_hd_share",
    "event_ingestion_lag_seconds_bucket",
}
_KINDS = {"Counter", "Gauge", "Histogram", "Summary"}
_SUFFIXES = {
    "Counter": ("_total",),
    "Gauge": ("",),
    "Histogram": ("_bucket", "_count", "_sum"),
    "Summary": ("", "_count", "_sum"),
}
_PROMQL_WORDS = {
    "sum", "min", "max", "avg", "count", "stddev", "stdvar", "topk", "bottomk", "quantile",
    "by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless",
    "bool", "offset", "inf", "nan",
}  # fmt: skip


def exported_metrics() -> dict[str, str]:
    """Every sample name the code can export -> the file that defines it."""
    names: dict[str, str] = {}
    for package in PACKAGES:
        for path in (REPO / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if not isinstance(node, ast.Call) or not node.args:
                    continue
                func = node.func
                kind = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
                first = node.args[0]
                if kind not in _KINDS or not isinstance(first, ast.Constant):
                    continue
                if not isinstance(first.value, str):
                    continue
                base = first.value
                if kind == "Counter":
                    base = base.removesuffix("_total")
                for suffix in _SUFFIXES[kind]:
                    names[base + suffix] = str(path.relative_to(REPO))
    return names


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression selects."""
    text = re.sub(r'"(?:\\.|[^"\\])*"', '""', expr)  # string literals
    text = re.sub(r"\{[^}]*\}", "", text)  # label matchers
    text = re.sub(r"\[[^\]]*\]", "", text)  # ranges
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", text)
    names = set()
    for match in re.finditer(r"(?<![\w.$])([a-zA-Z_:][a-zA-Z0-9_:]*)\b(\s*\()?", text):
        word, call = match.group(1), match.group(2)
        if call or word.lower() in _PROMQL_WORDS:
            continue
        names.add(word)
    return names


def _dashboards() -> dict[str, dict]:
    return {p.name: json.loads(p.read_text()) for p in sorted(DASHBOARDS.glob("*.json"))}


def _panel_queries() -> list[tuple[str, str, str]]:
    queries = []
    for file_name, board in _dashboards().items():
        for panel in board["panels"]:
            for target in panel.get("targets", []):
                queries.append((file_name, panel["title"], target["expr"]))
    return queries


def _rule_queries() -> list[tuple[str, str]]:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return [(rule["alert"], rule["expr"]) for group in groups for rule in group["rules"]]


def test_the_name_extraction_understands_promql() -> None:
    expr = (
        "histogram_quantile(0.95, sum by (le, model) (rate(deep_model_inference_ms_bucket"
        '{outcome!="", job=~"a|b"}[$__rate_interval]))) / on(job) group_left(x) up'
    )
    assert metric_names(expr) == {"deep_model_inference_ms_bucket", "up"}


def test_the_four_dashboards_exist_and_every_panel_has_a_query() -> None:
    boards = _dashboards()
    assert {board["title"] for board in boards.values()} == EXPECTED_DASHBOARDS
    uids = [board["uid"] for board in boards.values()]
    assert len(set(uids)) == len(uids)
    for board in boards.values():
        assert board["panels"]
        ids = [panel["id"] for panel in board["panels"]]
        assert len(set(ids)) == len(ids), board["title"]
        for panel in board["panels"]:
            assert panel["targets"], (board["title"], panel["title"])
            assert panel["datasource"]["type"] == "prometheus"


def test_every_dashboard_query_names_only_exported_metrics() -> None:
    exported = exported_metrics()
    missing = {
        (file_name, title, name)
        for file_name, title, expr in _panel_queries()
        for name in metric_names(expr)
        if name not in exported
    }
    assert not missing, f"panels query metrics the code does not export: {sorted(missing)}"


def test_every_alert_rule_names_only_exported_metrics() -> None:
    exported = exported_metrics()
    missing = {
        (alert, name)
        for alert, expr in _rule_queries()
        for name in metric_names(expr)
        if name not in exported
    }
    assert not missing, f"alert rules query metrics the code does not export: {sorted(missing)}"


def test_every_metric_of_the_issue_is_exported_and_on_a_dashboard() -> None:
    exported = exported_metrics()
    assert not ISSUE_METRICS - set(exported), sorted(ISSUE_METRICS - set(exported))
    on_dashboards = {name for *_, expr in _panel_queries() for name in metric_names(expr)}
    assert not ISSUE_METRICS - on_dashboards, sorted(ISSUE_METRICS - on_dashboards)


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool is not installed")
def test_every_panel_query_is_valid_promql(tmp_path: Path) -> None:
    # promtool checks PromQL inside rule files: each query becomes a recording rule, with
    # Grafana's $__rate_interval replaced by a real range.
    rules = [
        {"record": f"reels:panel_{i}", "expr": expr.replace("$__rate_interval", "5m")}
        for i, (*_, expr) in enumerate(_panel_queries())
    ]
    path = tmp_path / "panels.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "panels", "rules": rules}]}))
    result = subprocess.run(
        ["promtool", "check", "rules", str(path)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
