"""What a run prints: a progress character per test (or a line with -v), then the
details of every unexpected outcome, a breakdown, and `N passed, N failed, N skipped`."""

from __future__ import annotations

import re
import sys
from typing import TextIO

from .provenance import version_text
from .results import UNEXPECTED, Result, breakdown_line, summarize, summary_line

PROGRESS = {"pass": ".", "fail": "F", "skip": "s", "xfail": "x", "xpass": "X", "timeout": "T", "crash": "C", "error": "E"}
LINE_WIDTH = 72


_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """A port's output as the terminal may show it: control bytes (ESC above all, which
    could rewrite the screen) as \\xNN."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


class ConsoleReporter:
    def __init__(self, port: str, verbose: bool = False, stream: TextIO | None = None):
        self.port = port
        self.verbose = verbose
        self.stream = stream or sys.stdout
        self._column = 0

    def header(self, implementation: dict, count: int) -> None:
        name = implementation.get("name", "?")
        version = version_text(implementation)
        build = implementation.get("_build") or implementation.get("_machine") or ""
        self.stream.write(f"mpconform: port {self.port}: {name} {version} {build}".rstrip() + f"; {count} behaviours\n")
        self.stream.flush()

    def features(self, notes: list[str], *, detect: bool, module_missing: str = "", docs_release: str | None = None) -> None:
        """What the probe found that the profile does not say, and what the run goes by."""
        if module_missing:
            self.stream.write(f"mpconform: this build has no micropython module ({module_missing}): "
                              "every behaviour needs it\n")
        if notes:
            source = "the probe (--detect)" if detect else "the profile (run with --detect to go by the probe)"
            self.stream.write(f"mpconform: features: profile and port disagree; this run goes by {source}:\n")
            for note in notes:
                self.stream.write(f"    {note}\n")
        if docs_release:
            self.stream.write(f"mpconform: checking the docs as of {docs_release}: later behaviours are skipped\n")
        self.stream.flush()

    def result(self, r: Result) -> None:
        if self.verbose:
            self.stream.write(f"{r.outcome.upper():8} {r.id} ({r.duration_s:.2f}s)\n")
        else:
            self.stream.write(PROGRESS[r.outcome])
            self._column += 1
            if self._column >= LINE_WIDTH:
                self.stream.write("\n")
                self._column = 0
        self.stream.flush()

    def finish(self, results: list[Result], interrupted: bool = False) -> None:
        if self._column:
            self.stream.write("\n")
        for r in results:
            if r.outcome in UNEXPECTED:
                self.stream.write(f"\n{r.outcome.upper()} {r.id}\n")
                for line in r.detail.splitlines() or [""]:
                    self.stream.write(f"    {printable(line)}\n")
        summary = summarize(results)
        if interrupted:
            self.stream.write("\ninterrupted: results so far are kept\n")
        self.stream.write(f"\n{self.port}: {breakdown_line(summary) or 'no tests'}\n")
        self.stream.write(summary_line(summary) + "\n")
        self.stream.flush()
