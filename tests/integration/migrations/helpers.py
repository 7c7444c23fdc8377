"""Helpers of the migration tests: throwaway database names and subprocess runs."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

from psycopg.conninfo import make_conninfo

ROOT = Path(__file__).resolve().parents[3]
# The server the throwaway databases live on; the database part of the URL is ignored.
SERVER_URL = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def fresh_database_url() -> str:
    """The URL of a database that does not exist yet (the caller creates and drops it)."""
    return make_conninfo(SERVER_URL, dbname=f"reels_test_{uuid.uuid4().hex}")


def run_python(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Runs this interpreter with the project on its path."""
    full_env = {**os.environ, "PYTHONPATH": f"{ROOT / 'gen'}{os.pathsep}{ROOT}", **(env or {})}
    return subprocess.run(
        [sys.executable, *args],
        env=full_env,
        cwd=cwd or ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
