"""`mpconform run` as a real process in the background, for tests that act on a run
while it goes (kill a board, send a signal): started in its own session, and killed
with everything it started if the test ends first."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@contextmanager
def background_run(*args: str, out: Path, env: dict | None = None):
    proc = subprocess.Popen([sys.executable, "-m", "mpconform.cli", "run", *args, "--json", str(out)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, **(env or {})}, start_new_session=True)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def wait_for_results(out: Path, count: int, timeout_s: float = 120) -> None:
    """Until the run's JSON lines log (beside `out`) holds `count` lines."""
    log = out.with_suffix(".jsonl")
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and (not log.exists() or log.read_text().count("\n") < count):
        time.sleep(0.05)
