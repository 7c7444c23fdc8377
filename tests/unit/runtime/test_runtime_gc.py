"""tune_gc, in a process of its own: it changes process-wide state (thresholds, frozen
objects) that a test process must not keep."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]

PROBE = """
import gc, json, sys
from reels_runtime.server import tune_gc
before = gc.get_threshold()
tune_gc(None if sys.argv[1] == "none" else tuple(map(int, sys.argv[1].split(","))))
print(json.dumps({"before": before, "after": gc.get_threshold(), "frozen": gc.get_freeze_count()}))
"""


def _probe(thresholds: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, thresholds],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(done.stdout)


def test_tune_gc_freezes_startup_objects_and_sets_the_thresholds() -> None:
    seen = _probe("50000,20,100")
    assert seen["before"] == [700, 10, 10]
    assert seen["after"] == [50000, 20, 100]
    # Everything imported so far (thousands of module, function and descriptor objects)
    # is out of every later collection.
    assert isinstance(seen["frozen"], int) and seen["frozen"] > 10_000


def test_python_s_own_settings_are_left_alone_when_asked() -> None:
    seen = _probe("none")
    assert seen["after"] == seen["before"] == [700, 10, 10]
    assert seen["frozen"] == 0
