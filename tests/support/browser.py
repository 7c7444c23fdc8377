"""Browser players for the playback tests: hls.js and dash.js in Debian's headless Chromium.

* `ensure_node_modules()` installs the exact npm packages of `tests/browser/package-lock.json`
  (playwright-core, hls.js, dashjs) into the git-ignored `var/browser` with `npm ci`, once
  per lock file, under a file lock so parallel runs do not race.
* `serve_player_page()` serves `tests/browser/player.html` with the players' scripts from a
  throwaway HTTP server on a free loopback port: another origin than the gateway, the CDN
  stand-in and the object store, so every hop must answer CORS as a browser requires.
* `BrowserDriver` runs `tests/browser/driver.cjs` (one Chromium for all the jobs) and plays
  one manifest per job, forcing each rung in turn (see `tests/browser/player.js`).

Nothing here skips: a missing `chromium`, `node` or `npm` is an error (`make venv` installs
chromium through scripts/ensure_system_packages.sh).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import functools
import hashlib
import http.server
import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import urllib.parse
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "tests" / "browser"
INSTALL = REPO / "var" / "browser"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


def ensure_node_modules(install: Path = INSTALL) -> Path:
    """`npm ci` of tests/browser's lock file into `install`; returns its node_modules."""
    for tool in ("node", "npm"):
        if shutil.which(tool) is None:
            raise RuntimeError(f"`{tool}` is not on PATH: the browser tests need Node.js and npm")
    lock = (PACKAGE / "package-lock.json").read_bytes()
    digest = hashlib.sha256(lock + (PACKAGE / "package.json").read_bytes()).hexdigest()
    install.mkdir(parents=True, exist_ok=True)
    stamp = install / ".installed"
    with (install / ".lock").open("w") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)  # a parallel run waits for this install
        if not stamp.exists() or stamp.read_text() != digest:
            for name in ("package.json", "package-lock.json"):
                shutil.copyfile(PACKAGE / name, install / name)
            result = subprocess.run(
                ["npm", "ci", "--prefix", str(install), "--no-audit", "--no-fund"],
                capture_output=True,
                text=True,
                timeout=600,
            )
            if result.returncode != 0:
                raise RuntimeError(f"npm ci into {install} failed:\n{result.stderr[-3000:]}")
            stamp.write_text(digest)
    return install / "node_modules"


def check_chromium() -> str:
    if not os.access(CHROMIUM, os.X_OK):
        raise RuntimeError(
            f"{CHROMIUM} is missing: run `bash scripts/ensure_system_packages.sh` "
            "(Debian's chromium package)"
        )
    return CHROMIUM


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@contextlib.contextmanager
def serve_player_page(modules: Path) -> Iterator[str]:
    """Yields the origin (`http://127.0.0.1:<port>`) serving `/player.html` and its scripts."""
    with tempfile.TemporaryDirectory(prefix="reels-player-page-") as directory:
        root = Path(directory)
        shutil.copy(PACKAGE / "player.html", root / "player.html")
        shutil.copy(PACKAGE / "player.js", root / "player.js")
        shutil.copy(modules / "hls.js" / "dist" / "hls.min.js", root / "hls.min.js")
        umd = modules / "dashjs" / "dist" / "modern" / "umd"
        shutil.copy(umd / "dash.all.min.js", root / "dash.all.min.js")
        handler = functools.partial(_QuietHandler, directory=str(root))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}"
        finally:
            server.shutdown()
            server.server_close()
            thread.join(timeout=10)


def player_url(origin: str, player: str, manifest_url: str) -> str:
    query = urllib.parse.urlencode({"player": player, "manifest": manifest_url})
    return f"{origin}/player.html?{query}"


@dataclass
class Playback:
    """What one player did with one manifest (the driver's answer)."""

    player: str | None
    rungs: list[dict]
    start: dict | None
    results: list[dict]
    errors: list[dict]
    error: str | None
    requests: list[dict] = field(repr=False)
    events: list[dict] = field(repr=False)
    console: list[str] = field(repr=False)

    @property
    def fatal(self) -> list[dict]:
        return [e for e in self.errors if e.get("fatal")]

    def diagnostics(self) -> str:
        failed = [
            r
            for r in self.requests
            if r.get("failure", "net::ERR_ABORTED") != "net::ERR_ABORTED"
            or r.get("status", 200) >= 400
        ]
        return json.dumps(
            {
                "player": self.player,
                "error": self.error,
                "errors": self.errors,
                "start": self.start,
                "results": self.results,
                "failed_requests": failed[:20],
                "console": self.console[-30:],
                "events": self.events[-60:],
            },
            indent=1,
        )


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-3000:]


class BrowserDriver:
    """One headless Chromium (through driver.cjs) that plays jobs one after another."""

    def __init__(self, process: asyncio.subprocess.Process, log: Path, version: str) -> None:
        self._process = process
        self._log = log
        self.version = version

    @classmethod
    @contextlib.asynccontextmanager
    async def running(cls, modules: Path, log: Path) -> AsyncIterator[BrowserDriver]:
        chromium = check_chromium()
        with log.open("wb") as stderr:
            # Its own process group (node and every Chromium process), stopped by its pid.
            process = await asyncio.create_subprocess_exec(
                "node",
                str(PACKAGE / "driver.cjs"),
                str(modules),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=stderr,
                env={**os.environ, "CHROMIUM": chromium},
                start_new_session=True,
                limit=64 * 1024 * 1024,  # one answer is one (long) JSON line
            )
        try:
            ready = await cls._answer(process, log, 180)
            yield cls(process, log, ready["version"])
        finally:
            await cls._stop(process)

    @staticmethod
    async def _answer(process: asyncio.subprocess.Process, log: Path, timeout_s: float) -> dict:
        assert process.stdout is not None
        try:
            async with asyncio.timeout(timeout_s):
                line = await process.stdout.readline()
        except TimeoutError:
            raise AssertionError(
                f"the browser driver gave no answer within {timeout_s:.0f} s; its log: {_tail(log)}"
            ) from None
        if not line:
            await process.wait()
            raise AssertionError(f"the browser driver exited ({process.returncode}): {_tail(log)}")
        return json.loads(line)

    @staticmethod
    async def _stop(process: asyncio.subprocess.Process) -> None:
        if process.returncode is not None:
            return
        if process.stdin is not None and not process.stdin.is_closing():
            process.stdin.close()  # end of input: the driver closes Chromium and exits
        try:
            async with asyncio.timeout(30):
                await process.wait()
            return
        except TimeoutError:
            pass
        for sig in (signal.SIGTERM, signal.SIGKILL):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, sig)
            try:
                async with asyncio.timeout(10):
                    await process.wait()
                return
            except TimeoutError:
                continue

    async def play(
        self,
        page_url: str,
        *,
        threshold_s: float = 1.0,
        load_timeout_s: float = 90,
        rung_timeout_s: float = 60,
        max_rungs: int = 8,
    ) -> Playback:
        """Plays the page's manifest, forcing each rung the player parsed in turn."""
        job = {
            "pageUrl": page_url,
            "thresholdS": threshold_s,
            "loadTimeoutMs": round(load_timeout_s * 1000),
            "rungTimeoutMs": round(rung_timeout_s * 1000),
        }
        assert self._process.stdin is not None
        self._process.stdin.write((json.dumps(job) + "\n").encode())
        await self._process.stdin.drain()
        answer = await self._answer(
            self._process, self._log, load_timeout_s + max_rungs * rung_timeout_s + 60
        )
        return Playback(
            player=answer.get("player"),
            rungs=answer.get("rungs", []),
            start=answer.get("start"),
            results=answer.get("results", []),
            errors=answer.get("errors", []),
            error=answer.get("error"),
            requests=answer.get("requests", []),
            events=answer.get("events", []),
            console=answer.get("console", []),
        )
