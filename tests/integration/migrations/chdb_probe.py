"""Migrates a fresh chDB path and exercises every table; prints one JSON report line.

Run as a script in its own process (chDB allows one data path per process):
`python chdb_probe.py <data-path>`.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from reels_runtime.clickhouse import open_clickhouse
from reels_runtime.migrate import CLICKHOUSE_DIR, MigrationError, migrate_clickhouse

EXPECTED = ["video_embeddings", "video_events", "videos", "watch_history"]


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _round_trip(client: Any, table: str, row: dict[str, Any], key: str) -> dict[str, Any]:
    client.insert(table, [list(row.values())], column_names=list(row))
    result = client.query(
        f"SELECT {', '.join(row)} FROM {table} WHERE {key} = {{key:String}}",  # noqa: S608
        parameters={"key": row[key]},
    )
    rows = [dict(zip(result.column_names, r, strict=True)) for r in result.result_rows]
    return {
        "sent": {k: _iso(v) for k, v in row.items()},
        "got": [{k: _iso(v) for k, v in r.items()} for r in rows],
    }


def main(path: str) -> dict[str, Any]:
    report: dict[str, Any] = {}
    started = time.monotonic()
    client = open_clickhouse(f"chdb://{path}")
    report["open_seconds"] = round(time.monotonic() - started, 3)
    report["first_run"] = [m.filename for m in migrate_clickhouse(client)]
    report["second_run"] = [m.filename for m in migrate_clickhouse(client)]
    tables = client.query(
        "SELECT name, engine, sorting_key, partition_key, create_table_query"
        " FROM system.tables WHERE database = currentDatabase() ORDER BY name"
    )
    report["tables"] = {
        name: {"engine": engine, "sorting_key": key, "partition_key": part, "ddl": ddl}
        for name, engine, key, part, ddl in tables.result_rows
    }
    report["recorded"] = [
        list(r)
        for r in client.query(
            "SELECT version, name, checksum FROM schema_migrations FINAL ORDER BY version"
        ).result_rows
    ]

    now = datetime.now(UTC).replace(microsecond=123000)
    report["round_trip"] = {
        "videos": _round_trip(
            client,
            "videos",
            {
                "video_id": "v-rt",
                "creator_id": "c-rt",
                "title": "round trip",
                "hashtags": ["dance", "cats"],
                "sound_id": "s-1",
                "duration_seconds": 12.5,
                "published_at": now,
                "deleted": 0,
                "version": 1,
            },
            "video_id",
        ),
        "video_events": _round_trip(
            client,
            "video_events",
            {
                "event_id": "e-rt",
                "video_id": "v-rt",
                "user_id": "u-rt",
                "session_id": "s-rt",
                "action": "watch_75%",
                "bitrate_kbps": 2500,
                "device": "ios",
                "watch_ms": 9000,
                "position_ms": 9000,
                "startup_ms": 180,
                "rebuffer_ms": 0,
                "event_time": now,
            },
            "event_id",
        ),
        "video_embeddings": _round_trip(
            client,
            "video_embeddings",
            {
                "video_id": "v-rt",
                "embedding": [0.5, -0.25, 0.125],
                "model_version": "m1",
                "generated_at": now,
            },
            "video_id",
        ),
        "watch_history": _round_trip(
            client,
            "watch_history",
            {
                "user_id": "u-rt",
                "video_id": "v-rt",
                "creator_id": "c-rt",
                "watched_at": now,
                "watch_ms": 9000,
                "completion": 0.75,
            },
            "user_id",
        ),
    }

    # ReplacingMergeTree: separate inserts are separate parts; FINAL keeps the newest.
    cols = ["video_id", "creator_id", "title", "published_at", "deleted", "version"]
    client.insert("videos", [["v-final", "c-final", "old", now, 0, 1]], column_names=cols)
    client.insert("videos", [["v-final", "c-final", "new", now, 0, 2]], column_names=cols)
    client.insert("videos", [["v-final", "c-final", "older", now, 0, 0]], column_names=cols)
    report["videos_final"] = [
        list(r)
        for r in client.query(
            "SELECT title, version FROM videos FINAL WHERE video_id = 'v-final'"
        ).result_rows
    ]
    report["videos_raw_count"] = client.command(
        "SELECT count() FROM videos WHERE video_id = 'v-final'"
    )
    client.insert("videos", [["v-final", "c-final", "new", now, 1, 3]], column_names=cols)
    report["videos_live_after_delete"] = client.command(
        "SELECT count() FROM videos FINAL WHERE video_id = 'v-final' AND deleted = 0"
    )
    emb_cols = ["video_id", "embedding", "model_version", "generated_at"]
    later = now + timedelta(seconds=5)
    client.insert("video_embeddings", [["v-emb", [1.0, 0.0], "m2", later]], column_names=emb_cols)
    client.insert("video_embeddings", [["v-emb", [0.0, 1.0], "m1", now]], column_names=emb_cols)
    report["embeddings_final"] = [
        list(r)
        for r in client.query(
            "SELECT embedding, model_version FROM video_embeddings FINAL WHERE video_id = 'v-emb'"
        ).result_rows
    ]

    # A redelivered batch (same insert_deduplication_token) lands once.
    ev_cols = ["event_id", "video_id", "user_id", "action", "event_time"]
    batch = [[f"e-dup-{i}", "v-dup", "u-dup", "watch_start", now] for i in range(3)]
    for _ in range(2):
        client.insert(
            "video_events",
            batch,
            column_names=ev_cols,
            settings={"insert_deduplication_token": "batch-v-dup-1"},
        )
    report["redelivered_batch_rows"] = client.command(
        "SELECT count() FROM video_events WHERE video_id = 'v-dup'"
    )

    # A named database (CLICKHOUSE_URL=chdb://path?database=reels) on the same path.
    named = open_clickhouse(f"chdb://{path}?database=reels", create_database=True)
    report["named_db_first_run"] = [m.filename for m in migrate_clickhouse(named)]
    report["named_db_tables"] = sorted(r[0] for r in named.query("SHOW TABLES").result_rows)

    # An edited, already applied file is refused, naming the file.
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "clickhouse"
        shutil.copytree(CLICKHOUSE_DIR, copy)
        edited = copy / "0002_video_events.sql"
        edited.write_text(edited.read_text() + "\n-- edited\n")
        try:
            migrate_clickhouse(client, copy)
            report["tamper_error"] = None
        except MigrationError as exc:
            report["tamper_error"] = str(exc)
    named.close()
    client.close()
    return report


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1]), default=str))
