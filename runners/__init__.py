"""Runners execute generated tests on a MicroPython port.

- base.py: the runner interface (Runner, Execution);
- plugins/: the runners themselves (unix, webassembly, qemu, board);
- transport/: serial lines, the raw REPL, targets behind a line, processes;
- run/: one run of a suite (session, harness, pool, probe, matching, console, resume);
- lab/: the labgrid farm;
- install/: installers of runtimes, toolchains, firmware and upstream builds.

Which runners exist is core/registry.py's business (entry points)."""

from __future__ import annotations

from mpconform.core.registry import available_runners, load_runner
from mpconform.runners.base import Execution, Runner, RunnerError

__all__ = ["Execution", "Runner", "RunnerError", "available_runners", "load_runner"]
