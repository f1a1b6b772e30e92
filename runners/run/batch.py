"""Generated edge cases run many to one program on runners where starting a program is
the cost (a process per test): each case's program in turn, after a marker line. The
output is cut at the markers and each case is judged on its own part. A batch that
did not end as it should (a crash, a hang, an exit status, no end marker) is not
believed for the case it was in: that case runs again alone, and so do the cases the
batch never reached, so every verdict and every crash is the case's own."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

from mpconform.core.model import TestEntry
from mpconform.core.results import Result
from mpconform.runners.base import Execution, Runner

MARK = "=== mpconform case "
END = "=== mpconform batch end"
MAX_MEMBERS = 24


def batchable(test: TestEntry) -> bool:
    """Edge cases: their oracle reads only their own lines, they send nothing while
    running and type nothing after."""
    return test.match == "observe" and not test.interact and not test.repl


def batches(tests: list[TestEntry], size: int = MAX_MEMBERS) -> list[list[TestEntry]]:
    """Consecutive runs of one api's cases (a setup shared in kind), at most `size` each."""
    out: list[list[TestEntry]] = []
    for test in tests:
        if out and out[-1][0].api == test.api and len(out[-1]) < size:
            out[-1].append(test)
        else:
            out.append([test])
    return out


def program(members: list[tuple[TestEntry, str]]) -> str:
    parts = []
    for test, text in members:
        parts.append(f"print({MARK + test.id!r})\n{text}" + ("" if text.endswith("\n") else "\n"))
    parts.append(f"print({END!r})\n")
    return "".join(parts)


def split(output: str, ids: list[str]) -> tuple[dict[str, str], str | None, bool]:
    """(each finished case's own output, the case the batch was in when it ended, whether
    the end marker came). A case is finished once the next marker (or the end) follows."""
    parts: dict[str, str] = {}
    current: str | None = None
    lines: list[str] = []
    ended = False
    for line in output.splitlines(keepends=True):
        bare = line.rstrip("\r\n")
        if bare.startswith(MARK) and bare[len(MARK):] in ids:
            if current is not None:
                parts[current] = "".join(lines)
            current, lines = bare[len(MARK):], []
        elif bare == END:
            if current is not None:
                parts[current] = "".join(lines)
            current, lines, ended = None, [], True
        else:
            lines.append(line)
    return parts, current, ended


def run_batch(members: list[TestEntry], directory: Path, runner: Runner, timeout_s: float,
              judge: Callable[[TestEntry, Execution], Result]) -> tuple[list[Result], list[TestEntry]]:
    """(the results the batch decided, the cases to run again alone)."""
    texts = [(t, (directory / t.file).read_text(encoding="utf-8")) for t in members if t.file]
    with tempfile.TemporaryDirectory(prefix="mpconform-batch-") as tmp:
        path = Path(tmp) / "batch.py"
        path.write_text(program(texts), encoding="utf-8")
        ex = runner.execute(path, timeout_s * 2)
    ids = [t.id for t, _ in texts]
    parts, running, ended = split(ex.output, ids)
    clean = ended and not (ex.error or ex.timed_out or ex.crashed or ex.exit_code)
    share = ex.duration_s / max(1, len(members))
    results, again = [], []
    for test in members:
        if test.id in parts and (clean or test.id != running):
            results.append(judge(test, Execution(parts[test.id], 0, share)))
        else:  # the case the batch ended in, or one it never reached
            again.append(test)
    return results, again
