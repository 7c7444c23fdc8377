"""A real clamd (Debian's clamav-daemon) with a signature database of the test's own.

No signatures can be downloaded here, so the database is one `.hdb` file: whole-file MD5
signatures of files the test chooses. clamd matches them exactly as it matches its
official signatures, over the same INSTREAM protocol the upload pipeline speaks.
"""

from __future__ import annotations

import contextlib
import hashlib
import shutil
import socket
from collections.abc import Iterator, Mapping
from pathlib import Path

from tests.support.processes import free_port, running, wait_until

CLAMD = shutil.which("clamd") or "/usr/sbin/clamd"


def write_signatures(database: Path, flagged: Mapping[str, Path]) -> None:
    """One MD5 signature (name -> file) per line, in clamd's `.hdb` format."""
    database.mkdir(parents=True, exist_ok=True)
    lines = [
        f"{hashlib.md5(path.read_bytes(), usedforsecurity=False).hexdigest()}"
        f":{path.stat().st_size}:{name}"
        for name, path in flagged.items()
    ]
    (database / "reels-test.hdb").write_text("\n".join(lines) + "\n")


def _pong(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.sendall(b"zPING\0")
            return sock.recv(16).startswith(b"PONG")
    except OSError:
        return False


@contextlib.contextmanager
def running_clamd(directory: Path, database: Path) -> Iterator[tuple[str, int]]:
    """clamd on a free loopback port; yields (UPLOAD_MALWARE_SCANNER value, its pid)."""
    port = free_port()
    config = directory / "clamd.conf"
    config.write_text(
        "\n".join(
            [
                "Foreground yes",
                f"TCPSocket {port}",
                "TCPAddr 127.0.0.1",
                f"DatabaseDirectory {database}",
                f"LogFile {directory / 'clamd.log'}",
                "StreamMaxLength 100M",
                "",
            ]
        )
    )
    with running([CLAMD, "-c", str(config)], directory / "clamd.out") as process:
        wait_until(lambda: _pong(port), 60, "clamd")
        yield f"clamd://127.0.0.1:{port}", process.pid
