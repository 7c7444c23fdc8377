"""Idempotent migration runner: migrations/postgres/*.sql and migrations/clickhouse/*.sql."""

from __future__ import annotations

import argparse
import hashlib
import logging
import os
import re
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg

if TYPE_CHECKING:
    from clickhouse_connect.driver.client import Client

logger = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parents[1] / "migrations"
POSTGRES_DIR = MIGRATIONS_DIR / "postgres"
CLICKHOUSE_DIR = MIGRATIONS_DIR / "clickhouse"
DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/reels"

# pg_advisory_lock key shared by every runner of every version of this code ("reels-mig").
ADVISORY_LOCK_KEY = 0x7265656C732D6D69

_FILE_NAME = re.compile(r"^(\d{4})_([a-z0-9][a-z0-9_]*)\.sql$")


class MigrationError(RuntimeError):
    """A migration set that cannot be applied as it stands."""


class ChecksumMismatchError(MigrationError):
    """An applied migration file was edited afterwards."""


@dataclass(frozen=True)
class Migration:
    """One migration file."""

    version: int
    name: str
    path: Path
    sql: str
    checksum: str

    @property
    def filename(self) -> str:
        return self.path.name


def discover(directory: Path) -> list[Migration]:
    """The `NNNN_<name>.sql` files of `directory` in version order.

    A stray `.sql` file with another name or two files with one version are errors, so a
    typo never silently skips a migration.
    """
    migrations: dict[int, Migration] = {}
    for path in sorted(directory.glob("*.sql")):
        match = _FILE_NAME.match(path.name)
        if match is None:
            raise MigrationError(f"{path}: migration files are named NNNN_<name>.sql")
        version = int(match.group(1))
        if version in migrations:
            raise MigrationError(
                f"{path}: version {version} is also used by {migrations[version].path.name}"
            )
        data = path.read_bytes()
        migrations[version] = Migration(
            version=version,
            name=match.group(2),
            path=path,
            sql=data.decode("utf-8"),
            checksum=hashlib.sha256(data).hexdigest(),
        )
    return [migrations[v] for v in sorted(migrations)]


def _pending(
    migrations: Sequence[Migration], applied: dict[int, tuple[str, str]], engine: str
) -> list[Migration]:
    """Checks what ran against the files and returns what has not run yet."""
    by_version = {m.version: m for m in migrations}
    for version, (name, checksum) in sorted(applied.items()):
        migration = by_version.get(version)
        if migration is None:
            # A newer release may have applied it; an older runner must not fail on that.
            logger.warning("applied %s migration %04d_%s has no file here", engine, version, name)
            continue
        if migration.checksum != checksum:
            raise ChecksumMismatchError(
                f"{engine} migration {migration.path} was changed after it was applied "
                f"(recorded sha256 {checksum}, file sha256 {migration.checksum}); "
                "add a new migration instead of editing an applied one"
            )
    return [m for m in migrations if m.version not in applied]


_PG_TABLE = """
CREATE TABLE IF NOT EXISTS public.schema_migrations (
    version    integer PRIMARY KEY,
    name       text NOT NULL,
    checksum   text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)
"""


def migrate_postgres(
    database_url: str,
    directory: Path = POSTGRES_DIR,
    *,
    connect_timeout: int = 5,
) -> list[Migration]:
    """Applies the pending PostgreSQL migrations in order and returns them.

    Each file runs in one transaction together with its `public.schema_migrations` row, so
    a failing file leaves nothing behind. A session-level advisory lock serialises
    concurrent runners: the second waits, then finds nothing left to do. A file therefore
    cannot use statements that refuse a transaction (CREATE INDEX CONCURRENTLY).
    """
    migrations = discover(directory)
    applied_now: list[Migration] = []
    with psycopg.connect(
        database_url,
        autocommit=True,
        connect_timeout=connect_timeout,
        application_name="reels-migrate",
    ) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (ADVISORY_LOCK_KEY,))
        try:
            conn.execute(_PG_TABLE)
            rows = conn.execute(
                "SELECT version, name, checksum FROM public.schema_migrations"
            ).fetchall()
            applied = {int(v): (n, c) for v, n, c in rows}
            for migration in _pending(migrations, applied, "postgres"):
                started = time.monotonic()
                try:
                    with conn.transaction():
                        conn.execute(migration.sql)
                        conn.execute(
                            "INSERT INTO public.schema_migrations (version, name, checksum)"
                            " VALUES (%s, %s, %s)",
                            (migration.version, migration.name, migration.checksum),
                        )
                except psycopg.Error as exc:
                    raise MigrationError(
                        f"postgres migration {migration.path} failed: {exc}"
                    ) from exc
                logger.info(
                    "applied postgres migration %s in %.0f ms",
                    migration.filename,
                    (time.monotonic() - started) * 1000,
                )
                applied_now.append(migration)
        finally:
            if not conn.closed and not conn.broken:
                conn.execute("SELECT pg_advisory_unlock(%s)", (ADVISORY_LOCK_KEY,))
    return applied_now


def split_statements(script: str) -> list[str]:
    """The statements of a SQL script, comments removed (ClickHouse runs one per request).

    Semicolons inside quotes ('…', "…", `…`) and comments (-- …, /* … */) do not split.
    """
    statements: list[str] = []
    current: list[str] = []
    i, n = 0, len(script)
    while i < n:
        ch = script[i]
        if ch in "'\"`":
            end = i + 1
            while end < n:
                if script[end] == "\\":
                    end += 2
                    continue
                if script[end] == ch:
                    if end + 1 < n and script[end + 1] == ch:  # doubled quote
                        end += 2
                        continue
                    break
                end += 1
            current.append(script[i : end + 1])
            i = end + 1
        elif script.startswith("--", i):
            end = script.find("\n", i)
            i = n if end == -1 else end
        elif script.startswith("/*", i):
            end = script.find("*/", i + 2)
            if end == -1:
                raise MigrationError("unterminated /* comment")
            current.append(" ")
            i = end + 2
        elif ch == ";":
            statements.append("".join(current))
            current = []
            i += 1
        else:
            current.append(ch)
            i += 1
    statements.append("".join(current))
    return [s.strip() for s in statements if s.strip()]


_CH_TABLE = """
CREATE TABLE IF NOT EXISTS schema_migrations
(
    version    UInt32,
    name       String,
    checksum   String,
    applied_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(applied_at)
ORDER BY version
"""


def migrate_clickhouse(client: Client, directory: Path = CLICKHOUSE_DIR) -> list[Migration]:
    """Applies the pending ClickHouse migrations in the client's database and returns them.

    ClickHouse has no transactional DDL: a file's statements run one by one, then its row
    goes into `schema_migrations`. The files use CREATE … IF NOT EXISTS, so a file
    interrupted half-way, or run by two runners at once against a server, converges on the
    same tables (and a duplicate row collapses in the ReplacingMergeTree).
    """
    migrations = discover(directory)
    client.command(_CH_TABLE)
    result = client.query("SELECT version, name, checksum FROM schema_migrations FINAL")
    applied = {int(v): (n, c) for v, n, c in result.result_rows}
    applied_now: list[Migration] = []
    for migration in _pending(migrations, applied, "clickhouse"):
        started = time.monotonic()
        try:
            for statement in split_statements(migration.sql):
                client.command(statement)
        except Exception as exc:
            raise MigrationError(f"clickhouse migration {migration.path} failed: {exc}") from exc
        client.insert(
            "schema_migrations",
            [[migration.version, migration.name, migration.checksum]],
            column_names=["version", "name", "checksum"],
        )
        logger.info(
            "applied clickhouse migration %s in %.0f ms",
            migration.filename,
            (time.monotonic() - started) * 1000,
        )
        applied_now.append(migration)
    return applied_now


def _default_clickhouse_url() -> str:
    # The services' default (reels_runtime.config): chDB under REELS_DATA_DIR.
    data_dir = os.environ.get("REELS_DATA_DIR") or "./var/data"
    return f"chdb://{Path(data_dir, 'clickhouse').resolve()}"


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m reels_runtime.migrate",
        description=(
            "Apply pending migrations. Reads DATABASE_URL and CLICKHOUSE_URL (default "
            "chdb://$REELS_DATA_DIR/clickhouse, REELS_DATA_DIR defaulting to ./var/data). "
            "Without --postgres/--clickhouse, both are migrated."
        ),
    )
    parser.add_argument("--postgres", action="store_true", help="migrate PostgreSQL")
    parser.add_argument("--clickhouse", action="store_true", help="migrate ClickHouse")
    parser.add_argument(
        "--create-database",
        action="store_true",
        help="create the database named in DATABASE_URL (and CLICKHOUSE_URL) if missing",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry point; prints every migration it applied."""
    from clickhouse_connect.driver.exceptions import ClickHouseError

    from reels_runtime.clickhouse import open_clickhouse
    from reels_runtime.db import create_database_if_missing, database_name

    args = _parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    do_pg = args.postgres or not args.clickhouse
    do_ch = args.clickhouse or not args.postgres
    try:
        if do_pg:
            url = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
            if args.create_database and create_database_if_missing(url):
                print(f"postgres: created database {database_name(url)}")
            applied = migrate_postgres(url)
            for m in applied:
                print(f"postgres: applied {m.filename}")
            print(f"postgres: {len(applied)} migration(s) applied")
        if do_ch:
            url = os.environ.get("CLICKHOUSE_URL") or _default_clickhouse_url()
            client = open_clickhouse(url, create_database=args.create_database)
            try:
                applied = migrate_clickhouse(client)
            finally:
                client.close()
            for m in applied:
                print(f"clickhouse: applied {m.filename}")
            print(f"clickhouse: {len(applied)} migration(s) applied")
    except (MigrationError, psycopg.Error, ClickHouseError, ValueError) as exc:
        print(f"migrate: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
