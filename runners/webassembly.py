"""Run each test on MicroPython's WebAssembly port (the official npm package
@micropython/micropython-webassembly-pyscript) in its own node process.

The runtime runs the script synchronously and cannot be interrupted, so a test
that does not end is stopped by killing its process."""

from __future__ import annotations

import shutil
from pathlib import Path

from .base import Execution, RunnerError
from .options import TIMEOUT, Option
from .process import ProcessRunner
from .runtimes import NPM_PACKAGE, webassembly_module

HERE = Path(__file__).resolve().parent / "webassembly"
DRIVER = HERE / "run.mjs"
# The driver's exit status when the runtime itself died (wasm trap, JS error).
EXIT_RUNTIME_ABORT = 70
ABORT_MARKER = "mpconform-webassembly: runtime aborted:"
INSTALL_HINT = "run `mpconform install webassembly` (npm ci into the user cache folder)"


class WebAssemblyRunner(ProcessRunner):
    """Options: node (binary, default from PATH), module (the package's
    micropython.mjs, default the one `mpconform install webassembly` put in the user cache), heapsize
    (bytes, default the package's 1 MiB), pystack (words)."""

    name = "webassembly"
    OPTIONS = (
        TIMEOUT,
        Option("node", "str", None, "the node binary (default: node on PATH)"),
        Option("module", "str", None, "another micropython.mjs (default: the pinned npm package's)"),
        Option("heapsize", "int", None, "heap bytes (default: the package's 1 MiB)"),
        Option("pystack", "int", None, "Python stack words"),
    )

    def __init__(self, options: dict):
        super().__init__(options)
        node = options.get("node") or "node"
        self.node = shutil.which(node)
        if not self.node:
            raise RunnerError(f"node not found ({node}); install Node.js >= 16 (Debian: apt-get install nodejs)")
        self.module = Path(options.get("module") or webassembly_module())
        if not self.module.is_file():
            raise RunnerError(f"npm package {NPM_PACKAGE} not installed ({self.module} missing); {INSTALL_HINT}")
        self.extra = []
        for key in ("heapsize", "pystack"):
            if options.get(key):
                self.extra += [f"--{key}", str(int(options[key]))]

    def describe_target(self) -> dict:
        return {"kind": "node", "node": self.node, "module": str(self.module)}

    def command(self, script: Path) -> list[str]:
        return [self.node, str(DRIVER), "--module", str(self.module), *self.extra, script.name]

    def execute(self, script: Path, timeout_s: float) -> Execution:
        execution, status = self.run_process(self.command(script), script.parent, timeout_s)
        if not execution.timed_out and status == EXIT_RUNTIME_ABORT and ABORT_MARKER in execution.output:
            execution.crashed = "the WebAssembly runtime aborted"
        return execution
