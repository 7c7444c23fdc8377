"""The model server as a real separate process, over models exported once into a directory,
so tests can stop, restart or pause (SIGSTOP) it as an outage would."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.processes import free_port, stop_group, wait_until
from tests.support.service_process import serving

PYTHON = sys.executable
_QUIET_TF = {"TF_CPP_MIN_LOG_LEVEL": "2"}


def export_models(base: Path, log: Path) -> Path:
    """`python -m embed_models.export --out base` in its own process (as `make models`)."""
    with log.open("wb") as out:
        subprocess.run(
            [PYTHON, "-m", "embed_models.export", "--out", str(base)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, **_QUIET_TF},
            check=True,
            timeout=300,
        )
    return base


@dataclass
class ModelServerProcess:
    """`python -m model_server` on a fixed free port; stop() / start() keep the address."""

    model_base: Path
    log_dir: Path
    port: int = field(default_factory=free_port)
    metrics_port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    _starts: int = 0

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self, timeout: float = 120) -> None:
        """Starts the process (if stopped) and waits until every model is SERVING."""
        if self.running:
            return
        self._starts += 1
        command = [
            PYTHON,
            "-m",
            "model_server",
            "--model-base",
            str(self.model_base),
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--metrics-port",
            str(self.metrics_port),
        ]
        log = self.log_dir / f"model_server-{self._starts}.log"
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                command,
                stdout=out,
                stderr=subprocess.STDOUT,
                env={**os.environ, **_QUIET_TF},
                start_new_session=True,
            )
        wait_until(lambda: self._check_alive() and serving(self.address), timeout, "model server")

    def stop(self) -> None:
        """Stops the process (SIGTERM to its group, SIGKILL after a grace period)."""
        if self.process is not None:
            self.resume()  # a stopped process cannot act on SIGTERM
            stop_group(self.process)
            self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def pause(self) -> None:
        """SIGSTOP: the port stays open but nothing answers (a hung server)."""
        if self.running and self.process is not None:
            os.killpg(self.process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        if self.running and self.process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGCONT)

    @contextlib.contextmanager
    def stopped(self) -> Iterator[None]:
        """Stopped for the block, started again (same address) afterwards."""
        self.stop()
        try:
            yield
        finally:
            self.start()

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """SIGSTOPped for the block (hung, port open), resumed afterwards."""
        self.pause()
        try:
            yield
        finally:
            self.resume()

    def _check_alive(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise RuntimeError(
                f"model server exited with {self.process.returncode}; see {self.log_dir}"
            )
        return True
