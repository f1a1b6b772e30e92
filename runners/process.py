"""Run one test as one local process: the mechanics shared by runners that start a
process per test (unix binary, node for WebAssembly). Kills the whole process group
on timeout or close, and reports death by signal as a crash."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from .base import Execution, Runner, RunnerError


class ProcessRunner(Runner):
    """Subclasses say which command runs a script; this class runs it."""

    def __init__(self, options: dict):
        super().__init__(options)
        self._running: set[subprocess.Popen] = set()

    def close(self) -> None:
        for proc in list(self._running):
            kill_group(proc)

    def run_process(self, command: list[str], cwd: Path, timeout_s: float) -> tuple[Execution, int | None]:
        """Execution of `command` (output decoded), and its raw exit status."""
        start = time.monotonic()
        try:
            proc = subprocess.Popen(
                command,
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # so a timeout can kill the whole process group
            )
        except OSError as exc:
            raise RunnerError(f"cannot start {command[0]}: {exc.strerror}") from None
        self._running.add(proc)
        try:
            out, _ = proc.communicate(timeout=timeout_s)
            timed_out = False
        except subprocess.TimeoutExpired:
            kill_group(proc)
            out, _ = proc.communicate()
            timed_out = True
        finally:
            self._running.discard(proc)
        crashed = ""
        if not timed_out and proc.returncode < 0:
            crashed = f"killed by {signal_name(-proc.returncode)}"
        execution = Execution(
            output=out.decode("utf-8", "backslashreplace"),
            exit_code=None if timed_out else proc.returncode,
            duration_s=time.monotonic() - start,
            timed_out=timed_out,
            crashed=crashed,
        )
        return execution, proc.returncode


def signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
