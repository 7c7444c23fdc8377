"""The migrate CLI (in a subprocess, as `make migrate` runs it) and the PostgreSQL pool."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from psycopg.conninfo import make_conninfo
from psycopg_pool import PoolTimeout

from reels_runtime.db import create_database_if_missing, drop_database_if_exists, open_pg_pool
from reels_runtime.migrate import CLICKHOUSE_DIR, POSTGRES_DIR

from .helpers import fresh_database_url, run_python

PG_FILES = sorted(p.name for p in POSTGRES_DIR.glob("*.sql"))
CH_FILES = sorted(p.name for p in CLICKHOUSE_DIR.glob("*.sql"))


def test_cli_creates_the_database_applies_everything_then_nothing(tmp_path: Path) -> None:
    url = fresh_database_url()
    # First run: CLICKHOUSE_URL unset means chDB under REELS_DATA_DIR, as for the services.
    env = {"DATABASE_URL": url, "CLICKHOUSE_URL": "", "REELS_DATA_DIR": str(tmp_path / "data")}
    try:
        first = run_python(
            "-m",
            "reels_runtime.migrate",
            "--create-database",
            "--postgres",
            "--clickhouse",
            env=env,
            cwd=tmp_path,
        )
        assert first.returncode == 0, first.stderr
        assert "postgres: created database" in first.stdout
        for name in PG_FILES:
            assert f"postgres: applied {name}" in first.stdout
        for name in CH_FILES:
            assert f"clickhouse: applied {name}" in first.stdout
        assert (tmp_path / "data" / "clickhouse").is_dir()

        # Second run: the same chDB directory, named by a path relative to the cwd.
        env = {"DATABASE_URL": url, "CLICKHOUSE_URL": "chdb://./data/clickhouse"}
        second = run_python(
            "-m", "reels_runtime.migrate", "--create-database", env=env, cwd=tmp_path
        )
        assert second.returncode == 0, second.stderr
        assert second.stdout.splitlines() == [
            "postgres: 0 migration(s) applied",
            "clickhouse: 0 migration(s) applied",
        ]
    finally:
        drop_database_if_exists(url)


def test_cli_reports_an_error_and_fails(tmp_path: Path) -> None:
    url = fresh_database_url()  # never created: without --create-database this must fail
    result = run_python("-m", "reels_runtime.migrate", "--postgres", env={"DATABASE_URL": url})
    assert result.returncode == 1
    assert "does not exist" in result.stderr


def test_create_database_if_missing_is_idempotent() -> None:
    url = fresh_database_url()
    try:
        assert create_database_if_missing(url) is True
        assert create_database_if_missing(url) is False
    finally:
        drop_database_if_exists(url)


async def test_pool_opens_and_serves_queries(migrated_url: str) -> None:
    pool = await open_pg_pool(migrated_url, 1, 2, name="migrations-test")
    try:
        async with pool.connection() as conn:
            cur = await conn.execute("SELECT count(*) FROM public.schema_migrations")
            assert await cur.fetchone() == (len(PG_FILES),)
        assert pool.get_stats()["pool_min"] == 1
    finally:
        await pool.close()


async def test_pool_to_an_unreachable_server_fails_fast() -> None:
    url = make_conninfo("postgresql://postgres@127.0.0.1:1/postgres")
    started = time.monotonic()
    with pytest.raises(PoolTimeout):
        await open_pg_pool(url, 1, 1, open_timeout=1.0, connect_timeout=1)
    assert time.monotonic() - started < 5
