"""The PostgreSQL migration runner against a real, throwaway PostgreSQL database."""

from __future__ import annotations

import hashlib
import re
import shutil
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
import pytest

from reels_runtime.migrate import (
    POSTGRES_DIR,
    ChecksumMismatchError,
    Migration,
    MigrationError,
    discover,
    migrate_postgres,
    split_statements,
)

FILES = sorted(p.name for p in POSTGRES_DIR.glob("*.sql"))
TABLES = [
    "media.videos",
    "media.failed_videos",
    "media.upload_sessions",
    "media.pending_embeddings",
    "stream.video_engagement",
    "stream.likes",
    "stream.shares",
    "stream.comments",
    "stream.processed_events",
    "stream.bandwidth_reports",
    "stream.outbox",
    "ranking.follows",
    "ranking.creator_profiles",
    "ranking.published_videos",
]


def _recorded(url: str) -> list[tuple[int, str, str]]:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "SELECT version, name, checksum FROM public.schema_migrations ORDER BY version"
        ).fetchall()


def test_fresh_database_gets_every_file_once_and_a_second_run_applies_nothing(
    pg_url: str,
) -> None:
    first = migrate_postgres(pg_url)
    assert [m.filename for m in first] == FILES
    assert FILES[0].startswith("0001_")

    with psycopg.connect(pg_url) as conn:
        for table in TABLES:
            assert conn.execute("SELECT to_regclass(%s)", (table,)).fetchone() == (table,)
    recorded = _recorded(pg_url)
    assert [r[0] for r in recorded] == [m.version for m in first]
    paths = sorted(POSTGRES_DIR.glob("*.sql"))
    for (version, name, checksum), path in zip(recorded, paths, strict=True):
        assert path.name == f"{version:04d}_{name}.sql"
        assert checksum == hashlib.sha256(path.read_bytes()).hexdigest()

    assert migrate_postgres(pg_url) == []
    assert _recorded(pg_url) == recorded


def test_an_applied_file_that_changed_is_an_error_naming_it(pg_url: str, tmp_path: Path) -> None:
    directory = tmp_path / "postgres"
    shutil.copytree(POSTGRES_DIR, directory)
    migrate_postgres(pg_url, directory)
    edited = directory / FILES[1]
    edited.write_text(edited.read_text() + "\n-- an innocent-looking edit\n")

    with pytest.raises(ChecksumMismatchError, match=re.escape(FILES[1])):
        migrate_postgres(pg_url, directory)


def test_new_files_apply_after_earlier_ones(pg_url: str, tmp_path: Path) -> None:
    directory = tmp_path / "postgres"
    shutil.copytree(POSTGRES_DIR, directory)
    migrate_postgres(pg_url, directory)
    (directory / "9000_media_extra.sql").write_text(
        "ALTER TABLE media.videos ADD COLUMN extra text;"
    )

    assert [m.filename for m in migrate_postgres(pg_url, directory)] == ["9000_media_extra.sql"]
    assert migrate_postgres(pg_url, directory) == []


def test_a_failing_file_leaves_nothing_behind(pg_url: str, tmp_path: Path) -> None:
    (tmp_path / "0001_a_ok.sql").write_text("CREATE TABLE public.a_ok (id int);")
    (tmp_path / "0002_b_broken.sql").write_text(
        "CREATE TABLE public.b_half (id int);\nSELECT no_such_function();\n"
    )

    with pytest.raises(MigrationError, match=r"0002_b_broken\.sql"):
        migrate_postgres(pg_url, tmp_path)

    assert [r[0] for r in _recorded(pg_url)] == [1]
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT to_regclass('public.b_half')").fetchone() == (None,)


def test_concurrent_runners_apply_each_file_exactly_once(pg_url: str, tmp_path: Path) -> None:
    directory = tmp_path / "postgres"
    shutil.copytree(POSTGRES_DIR, directory)
    # A slow first file makes sure the runners really overlap.
    (directory / "0000_slow_start.sql").write_text("SELECT pg_sleep(0.3);")
    runners = 4
    barrier = threading.Barrier(runners)

    def run() -> list[Migration]:
        barrier.wait()
        return migrate_postgres(pg_url, directory)

    with ThreadPoolExecutor(runners) as pool:
        results = [f.result() for f in [pool.submit(run) for _ in range(runners)]]

    applied = sorted(m.filename for result in results for m in result)
    assert applied == sorted(["0000_slow_start.sql", *FILES])
    assert sum(1 for result in results if result) == 1
    assert len(_recorded(pg_url)) == len(FILES) + 1


def test_discover_refuses_misnamed_and_duplicate_files(tmp_path: Path) -> None:
    (tmp_path / "0001_ok.sql").write_text("SELECT 1;")
    (tmp_path / "1_bad.sql").write_text("SELECT 1;")
    with pytest.raises(MigrationError, match=r"1_bad\.sql"):
        discover(tmp_path)
    (tmp_path / "1_bad.sql").unlink()
    (tmp_path / "0001_again.sql").write_text("SELECT 1;")
    with pytest.raises(MigrationError, match="version 1"):
        discover(tmp_path)


def test_split_statements_ignores_semicolons_in_comments_and_strings() -> None:
    script = """
    -- a comment; with a semicolon
    CREATE TABLE t (s String DEFAULT 'a;b', `we;ird` UInt8); /* block; comment */
    SELECT 'it''s; fine';
    -- trailing comment only
    """
    assert split_statements(script) == [
        "CREATE TABLE t (s String DEFAULT 'a;b', `we;ird` UInt8)",
        "SELECT 'it''s; fine'",
    ]
