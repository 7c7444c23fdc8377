"""ClickHouse clients for `chdb://path` (embedded chDB) and `http(s)://` (a server) URLs."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import clickhouse_connect
from clickhouse_connect.driver.client import Client

logger = logging.getLogger(__name__)

DEFAULT_CLICKHOUSE_URL = "chdb://./var/data/clickhouse"

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_MEMORY = {"", "memory", ":memory:"}


def is_chdb_url(url: str) -> bool:
    """True when the URL selects the in-process chDB engine."""
    return url.startswith("chdb:")


def chdb_path(url: str) -> str | None:
    """The absolute data directory of a `chdb://` URL, or None for an in-memory engine.

    `chdb://./var/data/clickhouse` and `chdb://var/data` are relative to the working
    directory, `chdb:///abs/path` is absolute. clickhouse-connect would read the first
    segment of a relative form as a host, so relative paths are resolved here.
    """
    rest = url[len("chdb:") :]
    rest = rest.removeprefix("//")
    rest = rest.split("?", 1)[0]
    if rest in _MEMORY:
        return None
    return str(Path(rest).expanduser().resolve())


def _database_from_url(url: str) -> str | None:
    parts = urlsplit(url)
    if is_chdb_url(url):
        values = parse_qs(parts.query).get("database")
        return values[0] if values else None
    name = parts.path.strip("/")
    return name or None


def open_clickhouse(
    url: str = DEFAULT_CLICKHOUSE_URL,
    *,
    create_database: bool = False,
    connect_timeout: float = 5.0,
    send_receive_timeout: float = 60.0,
    settings: dict[str, Any] | None = None,
    tz_mode: str = "aware",
) -> Client:
    """A clickhouse-connect client for `chdb://<path>[?database=db]` or `http(s)://…[/db]`.

    chDB runs inside this process and allows one data path per process (and one process per
    path): every client of a process must use the same path. Its client is synchronous
    only; call it from a thread in asyncio code. With `create_database` the database named
    in the URL is created first if it is missing (a chDB client cannot even be opened on a
    missing database). Datetimes come back timezone-aware (UTC) unless `tz_mode` says
    otherwise (clickhouse-connect's own default is naive UTC).
    """
    database = _database_from_url(url)
    if database is not None and not _IDENTIFIER.match(database):
        raise ValueError(f"CLICKHOUSE_URL names an invalid database: {database!r}")
    if is_chdb_url(url):
        path = chdb_path(url)
        if path is not None:
            Path(path).mkdir(parents=True, exist_ok=True)
        dsn = f"chdb://{path}" if path is not None else "chdb://memory"
        client = clickhouse_connect.get_client(dsn=dsn, settings=settings, tz_mode=tz_mode)
        if database is not None:
            if create_database:
                client.command(f"CREATE DATABASE IF NOT EXISTS {database}")
            client.database = database
        logger.info("clickhouse client opened", extra={"engine": "chdb", "path": path})
        return client
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise ValueError(f"CLICKHOUSE_URL must start with chdb://, http:// or https://: {url!r}")
    client = clickhouse_connect.get_client(
        dsn=url,
        connect_timeout=connect_timeout,
        send_receive_timeout=send_receive_timeout,
        settings=settings,
        tz_mode=tz_mode,
    )
    if database is not None and create_database:
        client.command(f"CREATE DATABASE IF NOT EXISTS {database}", use_database=False)
    logger.info("clickhouse client opened", extra={"engine": "server", "host": parts.hostname})
    return client
