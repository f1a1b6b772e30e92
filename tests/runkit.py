"""Real `mpconform run` processes for the robustness tests: each run gets its own temp
folder (TMPDIR) and a tag in its environment, so what it leaves behind - processes
(micropython, the pty relay, QEMU) or `mpconform-*` folders - can be found."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

TAG = "MPCONFORM_TEST_RUN"
ROOT = Path(__file__).resolve().parents[1]

# A prelude that puts a copy of the micropython module in its place; a test then
# replaces one member of `_m` to make a misbehaving port.
SWAP = """\
import sys
import micropython as _real
class _M:
    pass
_m = _M()
for _n in dir(_real):
    if not _n.startswith('__'):
        setattr(_m, _n, getattr(_real, _n))
sys.modules['micropython'] = _m
"""


class Run:
    def __init__(self, root: Path, tmp: Path, *args: str, env: dict | None = None):
        self.tmpdir = tmp / f"tmp-{uuid.uuid4().hex[:8]}"
        self.tmpdir.mkdir()
        self.tag = uuid.uuid4().hex
        environ = {**os.environ, "TMPDIR": str(self.tmpdir), TAG: self.tag, **(env or {})}
        cmd = [sys.executable, "-m", "mpconform.cli", "--root", str(root), "run", *map(str, args)]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=environ)

    def wait_handlers(self, timeout_s: float = 20) -> None:
        """Until the run catches SIGTERM (from then on it promises to write its results)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and self.proc.poll() is None:
            try:
                status = Path(f"/proc/{self.proc.pid}/status").read_text()
            except OSError:
                return
            caught = int(next(line.split()[1] for line in status.splitlines() if line.startswith("SigCgt:")), 16)
            if caught & (1 << (15 - 1)):
                return
            time.sleep(0.01)

    def finish(self, timeout_s: float = 60) -> tuple[int, str]:
        out, _ = self.proc.communicate(timeout=timeout_s)
        return self.proc.returncode, out

    def leftover_processes(self) -> list[str]:
        """Processes still running with this run's tag in their environment."""
        left = []
        needle = f"{TAG}={self.tag}".encode()
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                if needle in (entry / "environ").read_bytes().split(b"\0"):
                    state = (entry / "stat").read_text().split(")")[-1].split()[0]
                    if state != "Z":
                        left.append((entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"))
            except OSError:
                continue
        return left

    def leftover_temp(self) -> list[str]:
        return sorted(p.name for p in self.tmpdir.iterdir())


def wait_gone(run: Run, timeout_s: float = 3) -> list[str]:
    """Leftover processes, allowing a moment for ones already killed to be reaped."""
    deadline = time.monotonic() + timeout_s
    while True:
        left = run.leftover_processes()
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.05)


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
