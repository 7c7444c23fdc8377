"""Starting and stopping the real external processes tests need (Envoy, SeaweedFS)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path


def free_port() -> int:
    """A loopback port that is free right now (tests never assume a fixed port)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# Sockets held for the life of the test process; see refusing_port().
_HELD_SOCKETS: list[socket.socket] = []


def refusing_port() -> int:
    """A loopback port that refuses connections for the rest of the test process.

    The port stays bound but never listens, so a connect fails at once with ECONNREFUSED
    and no server started later can be given it. A port that is merely free now may later
    belong to any process a test starts, or pauses: calls meant to fail fast would then
    hang until their deadline (ten backlogged transcodes waiting 10 s each on an embed
    call were enough to time out a published-clip fixture).
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    _HELD_SOCKETS.append(sock)
    return sock.getsockname()[1]


def http_status(
    url: str, timeout: float = 1.0, headers: dict[str, str] | None = None
) -> int | None:
    request = urllib.request.Request(url, headers=headers or {})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return None


def wait_until(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise TimeoutError(f"{what} not ready within {timeout:.0f} s")


@contextlib.contextmanager
def running(
    command: Sequence[str], log_path: Path, env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """Runs a process in its own group and stops that group (by pid) afterwards."""
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            list(command),
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
            start_new_session=True,
        )
    try:
        yield process
    finally:
        stop_group(process)


def stop_group(process: subprocess.Popen[bytes], grace: float = 10.0) -> None:
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=grace)
