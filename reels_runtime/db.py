"""PostgreSQL access: an opened, checked psycopg async pool, and database creation."""

from __future__ import annotations

import logging
import time
import weakref
from collections.abc import Awaitable, Callable

import psycopg
from psycopg import AsyncConnection, errors, sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg_pool import AsyncConnectionPool

logger = logging.getLogger(__name__)

DEFAULT_CONNECT_TIMEOUT_S = 5


def _check_when_idle(idle_s: float) -> Callable[[AsyncConnection], Awaitable[None]]:
    """A pool `check` that pings only connections unused for more than `idle_s`: one
    handed out moments ago came back healthy (psycopg_pool discards a connection that
    returns broken), and a ping per checkout is a round trip per query."""
    handed_out: weakref.WeakKeyDictionary[AsyncConnection, float] = weakref.WeakKeyDictionary()

    async def check(conn: AsyncConnection) -> None:
        now = time.monotonic()
        last = handed_out.get(conn)
        if last is None or now - last > idle_s:
            await AsyncConnectionPool.check_connection(conn)
        handed_out[conn] = now

    return check


async def open_pg_pool(
    database_url: str,
    min_size: int = 1,
    max_size: int = 10,
    *,
    connect_timeout: int = DEFAULT_CONNECT_TIMEOUT_S,
    open_timeout: float = 10.0,
    acquire_timeout: float = 5.0,
    name: str | None = None,
    application_name: str | None = None,
    check_idle_s: float = 0.0,
) -> AsyncConnectionPool:
    """An opened pool whose connections are checked before each use (with
    `check_idle_s` > 0: before a use that follows that many seconds without one).

    Opening waits until `min_size` connections exist and raises `psycopg_pool.PoolTimeout`
    after `open_timeout` seconds (an unreachable or missing database fails start-up
    instead of the first request). `acquire_timeout` bounds `pool.connection()`.
    The caller closes it (`await pool.close()`, or `async with pool:`).
    """
    kwargs: dict[str, object] = {"connect_timeout": connect_timeout}
    if application_name:
        kwargs["application_name"] = application_name
    check = (
        _check_when_idle(check_idle_s) if check_idle_s > 0 else AsyncConnectionPool.check_connection
    )
    pool = AsyncConnectionPool(
        database_url,
        min_size=min_size,
        max_size=max_size,
        kwargs=kwargs,
        check=check,
        timeout=acquire_timeout,
        name=name,
        open=False,
    )
    try:
        await pool.open(wait=True, timeout=open_timeout)
    except BaseException:
        await pool.close()
        raise
    logger.info(
        "postgres pool opened",
        extra={"pool": pool.name, "min_size": min_size, "max_size": max_size},
    )
    return pool


def database_name(url: str) -> str:
    """The database a PostgreSQL URL / conninfo names (libpq's default: the user name)."""
    params = conninfo_to_dict(url)
    name = params.get("dbname") or params.get("user")
    if not name:
        raise ValueError("DATABASE_URL names no database")
    return str(name)


def create_database_if_missing(
    url: str, *, connect_timeout: int = DEFAULT_CONNECT_TIMEOUT_S
) -> bool:
    """Create the database named in `url` unless it exists; True when it was created.

    Connects to the server's `postgres` database with the same credentials. Safe to run
    concurrently: losing a creation race counts as "already there".
    """
    name = database_name(url)
    admin = make_conninfo(url, dbname="postgres", connect_timeout=connect_timeout)
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if exists:
            return False
        try:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        except (errors.DuplicateDatabase, errors.UniqueViolation):
            return False
    logger.info("postgres database created", extra={"database": name})
    return True


def drop_database_if_exists(url: str, *, connect_timeout: int = DEFAULT_CONNECT_TIMEOUT_S) -> None:
    """Drop the database named in `url`, closing its sessions (tests' throwaway databases)."""
    name = database_name(url)
    admin = make_conninfo(url, dbname="postgres", connect_timeout=connect_timeout)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
