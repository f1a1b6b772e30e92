"""Run tests on MicroPython's WebAssembly port (the official npm package
@micropython/micropython-webassembly-pyscript) in warm `node` hosts: one host per
test running at once, each test in a fresh MicroPython instance (runners/nodehost.py).

The runtime runs a script synchronously and cannot be interrupted, so a test that
does not end costs its host, which is killed; the next test starts another."""

from __future__ import annotations

import queue
import shutil
import threading
from collections.abc import Sequence
from pathlib import Path

from mpconform.core.options import TIMEOUT, Option
from mpconform.runners.base import CLOSED, Execution, Runner, RunnerError, Step
from mpconform.runners.install.runtimes import NPM_PACKAGE, webassembly_module
from mpconform.runners.transport.nodehost import ABORT_MARKER, EXIT_RUNTIME_ABORT, NodeHost  # noqa: F401  (re-exported)

HERE = Path(__file__).resolve().parent / "webassembly"
DRIVER = HERE / "host.mjs"
INSTALL_HINT = "run `mpconform install webassembly` (npm ci into the user cache folder)"


class WebAssemblyRunner(Runner):
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
        node = self.options["node"] or "node"
        self.node = shutil.which(node)
        if not self.node:
            raise RunnerError(f"node not found ({node}); install Node.js >= 16 (Debian: apt-get install nodejs)")
        self.module = Path(self.options["module"] or webassembly_module())
        if not self.module.is_file():
            raise RunnerError(f"npm package {NPM_PACKAGE} not installed ({self.module} missing); {INSTALL_HINT}")
        self.extra = []
        for key in ("heapsize", "pystack"):
            if self.options[key]:
                self.extra += [f"--{key}", str(int(self.options[key]))]
        self._idle: queue.SimpleQueue[NodeHost] = queue.SimpleQueue()
        self._hosts: list[NodeHost] = []  # every host started, so close() stops them all
        self._lock = threading.Lock()
        self._closed = False

    def describe_target(self) -> dict:
        return {"kind": "node", "node": self.node, "module": str(self.module)}

    def command(self) -> list[str]:
        return [self.node, str(DRIVER), "--module", str(self.module), *self.extra]

    def _take(self) -> NodeHost:
        """An idle host, or a new one: as many hosts as tests run at once."""
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            host = NodeHost(self.command(), HERE)
            with self._lock:
                self._hosts.append(host)
            return host

    def execute(self, program: Path, timeout_s: float, interact: Sequence[Step] = (),
                repl: Sequence[str] = ()) -> Execution:
        if self._closed:
            raise RunnerError(CLOSED)
        host = self._take()
        try:
            return host.run(program, timeout_s)
        finally:
            if self._closed:  # close() came while it ran: a host it started again goes too
                host.kill()
            self._idle.put(host)  # killed or not: a dead host starts again on its next test

    def host_pids(self) -> list[int]:
        """Process ids of the node hosts running now (for checks that none is left)."""
        with self._lock:
            return [h.proc.pid for h in self._hosts if h.alive]

    def open(self) -> None:
        self._closed = False

    def close(self) -> None:
        self._closed = True
        with self._lock:
            hosts = list(self._hosts)
        for host in hosts:
            host.kill()
