"""ClickHouse migrations on a fresh chDB path (run in a process of its own; see conftest)."""

from __future__ import annotations

import hashlib
from typing import Any

from reels_runtime.clickhouse import chdb_path, is_chdb_url
from reels_runtime.migrate import CLICKHOUSE_DIR

FILES = sorted(p.name for p in CLICKHOUSE_DIR.glob("*.sql"))
TABLES = ["video_embeddings", "video_events", "videos", "watch_history"]


def test_all_files_apply_once_and_are_recorded(chdb_report: dict[str, Any]) -> None:
    assert chdb_report["first_run"] == FILES
    assert chdb_report["second_run"] == []
    expected = [
        [int(p.name[:4]), p.name[5:-4], hashlib.sha256(p.read_bytes()).hexdigest()]
        for p in sorted(CLICKHOUSE_DIR.glob("*.sql"))
    ]
    assert chdb_report["recorded"] == expected


def test_tables_have_the_designed_engines(chdb_report: dict[str, Any]) -> None:
    tables = chdb_report["tables"]
    assert set(TABLES) <= set(tables)
    assert tables["videos"]["engine"] == "ReplacingMergeTree"
    assert tables["videos"]["sorting_key"].startswith("creator_id, published_at")
    assert "TTL" in tables["videos"]["ddl"]
    assert tables["video_events"]["engine"] == "MergeTree"
    assert tables["video_events"]["partition_key"] == "toYYYYMM(event_time)"
    assert tables["video_events"]["sorting_key"] == "video_id, event_time"
    assert "LowCardinality(String)" in tables["video_events"]["ddl"]
    assert tables["video_embeddings"]["engine"] == "ReplacingMergeTree"
    assert tables["video_embeddings"]["sorting_key"] == "video_id"
    assert "Array(Float32)" in tables["video_embeddings"]["ddl"]
    assert tables["watch_history"]["engine"] == "MergeTree"
    assert tables["watch_history"]["sorting_key"] == "user_id, watched_at"
    assert "TTL" in tables["watch_history"]["ddl"]


def test_every_table_round_trips_a_row(chdb_report: dict[str, Any]) -> None:
    for table in TABLES:
        trip = chdb_report["round_trip"][table]
        assert trip["got"] == [trip["sent"]], table


def test_replacing_merge_tree_final_keeps_the_newest_row(chdb_report: dict[str, Any]) -> None:
    assert chdb_report["videos_raw_count"] == 3
    assert chdb_report["videos_final"] == [["new", 2]]
    assert chdb_report["videos_live_after_delete"] == 0
    assert chdb_report["embeddings_final"] == [[[1.0, 0.0], "m2"]]


def test_a_redelivered_event_batch_lands_once(chdb_report: dict[str, Any]) -> None:
    assert chdb_report["redelivered_batch_rows"] == 3


def test_a_named_database_is_created_and_migrated(chdb_report: dict[str, Any]) -> None:
    assert chdb_report["named_db_first_run"] == FILES
    assert set(TABLES) | {"schema_migrations"} == set(chdb_report["named_db_tables"])


def test_an_edited_applied_file_is_refused(chdb_report: dict[str, Any]) -> None:
    assert "0002_video_events.sql" in (chdb_report["tamper_error"] or "")


def test_chdb_urls() -> None:
    assert is_chdb_url("chdb://./var/data/clickhouse")
    assert not is_chdb_url("http://127.0.0.1:8123/reels")
    assert chdb_path("chdb:///abs/path") == "/abs/path"
    assert chdb_path("chdb:///abs/path?database=reels") == "/abs/path"
    assert chdb_path("chdb://memory") is None
    relative = chdb_path("chdb://./var/data/clickhouse")
    assert relative is not None and relative.endswith("/var/data/clickhouse")
    assert relative.startswith("/")
