"""Throwaway PostgreSQL databases and a chDB probe run in its own process."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from reels_runtime.db import create_database_if_missing, drop_database_if_exists
from reels_runtime.migrate import migrate_postgres

from .helpers import fresh_database_url, run_python

PROBE = Path(__file__).with_name("chdb_probe.py")


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh, empty database, dropped afterwards."""
    url = fresh_database_url()
    create_database_if_missing(url)
    try:
        yield url
    finally:
        drop_database_if_exists(url)


@pytest.fixture(scope="module")
def migrated_url() -> Iterator[str]:
    """One fully migrated database shared by a module's constraint and query tests."""
    url = fresh_database_url()
    create_database_if_missing(url)
    try:
        migrate_postgres(url)
        yield url
    finally:
        drop_database_if_exists(url)


@pytest.fixture
def pg(migrated_url: str) -> Iterator[psycopg.Connection]:
    """An autocommit connection to the migrated database."""
    with psycopg.connect(migrated_url, autocommit=True) as conn:
        yield conn


@pytest.fixture(scope="session")
def chdb_report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """What chdb_probe.py saw on a fresh chDB path.

    chDB allows one data path per process, and other suites of the same pytest run may
    own this process's path, so the probe runs in a process of its own.
    """
    path = tmp_path_factory.mktemp("chdb") / "data"
    result = run_python(str(PROBE), str(path))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])
