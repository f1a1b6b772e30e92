"""What a run prints: a progress character per test (or a line with -v), then the
details of every unexpected outcome, a breakdown, and `N passed, N failed, N skipped`.
When the reader goes away (`mpconform run unix | head -1`) the console falls silent and
the run goes on: its results files are what it is for."""

from __future__ import annotations

import contextlib
import os
import re
import sys
from typing import TextIO

from mpconform.core.results import UNEXPECTED, Result, breakdown_line, summarize, summary_line
from mpconform.runners.run.provenance import version_text

PROGRESS = {"pass": ".", "observed": "o", "fail": "F", "skip": "s", "xfail": "x", "xpass": "X",
            "timeout": "T", "crash": "C", "error": "E"}
LINE_WIDTH = 72


_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """A port's output as the terminal may show it: control bytes (ESC above all, which
    could rewrite the screen) as \\xNN."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def silence(stream: TextIO) -> None:
    """Send what is still written to `stream` nowhere: its reader has gone, and the
    interpreter's last flush must not fail (or print) at exit either."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())
        os.close(devnull)


class ConsoleReporter:
    def __init__(self, port: str, verbose: bool = False, stream: TextIO | None = None):
        self.port = port
        self.verbose = verbose
        self.stream = stream or sys.stdout
        self._column = 0
        self.closed = False  # the reader went away

    def _write(self, text: str) -> None:
        if self.closed:
            return
        try:
            self.stream.write(text)
            self.stream.flush()
        except BrokenPipeError:
            self.closed = True
            silence(self.stream)

    def say(self, line: str) -> None:
        self._write(line + "\n")

    def header(self, implementation: dict, count: int) -> None:
        name = implementation.get("name", "?")
        version = version_text(implementation)
        build = implementation.get("_build") or implementation.get("_machine") or ""
        self._write(f"mpconform: port {self.port}: {name} {version} {build}".rstrip() + f"; {count} behaviours\n")

    def features(self, notes: list[str], *, detect: bool, module_missing: str = "", docs_release: str | None = None) -> None:
        """What the probe found that the profile does not say, and what the run goes by."""
        out: list[str] = []
        if module_missing:
            out.append(f"mpconform: this build has no micropython module ({module_missing}): "
                       "every behaviour needs it\n")
        if notes:
            source = "the probe (--detect)" if detect else "the profile (run with --detect to go by the probe)"
            out.append(f"mpconform: features: profile and port disagree; this run goes by {source}:\n")
            out += [f"    {note}\n" for note in notes]
        if docs_release:
            out.append(f"mpconform: checking the docs as of {docs_release}: later behaviours are skipped\n")
        self._write("".join(out))

    def result(self, r: Result) -> None:
        if self.verbose:
            self._write(f"{r.outcome.upper():8} {r.id} ({r.duration_s:.2f}s)\n")
            return
        self._column += 1
        end = self._column >= LINE_WIDTH
        if end:
            self._column = 0
        self._write(PROGRESS[r.outcome] + ("\n" if end else ""))

    def finish(self, results: list[Result], interrupted: bool = False) -> None:
        out = ["\n"] if self._column else []
        for r in results:
            if r.outcome in UNEXPECTED:
                out.append(f"\n{r.outcome.upper()} {r.id}\n")
                out += [f"    {printable(line)}\n" for line in r.detail.splitlines() or [""]]
        summary = summarize(results)
        if interrupted:
            out.append("\ninterrupted: results so far are kept\n")
        out.append(f"\n{self.port}: {breakdown_line(summary) or 'no tests'}\n")
        out.append(summary_line(summary) + "\n")
        self._write("".join(out))
