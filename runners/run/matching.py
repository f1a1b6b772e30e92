"""Compare a port's output with a test's .exp, the way upstream's run-tests.py reads them:
exact lines, or (for implementation-dependent output) regex lines where a line of
eight '#' matches any run of lines."""

from __future__ import annotations

import re

from mpconform.core.manifest import WILDCARD_LINE

MAX_DIFF_LINES = 40


def lines_of(text: str) -> list[str]:
    """Split output into lines; serial lines send CRLF, so CR before LF is dropped."""
    text = text.replace("\r\n", "\n")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def matches(expected: list[str], actual: list[str], mode: str) -> bool:
    if mode == "exact":
        return expected == actual
    patterns = [None if e == WILDCARD_LINE else re.compile(e) for e in expected]
    # Iterative: the set of output positions reachable after each pattern line, so a
    # port printing thousands of lines costs memory and time, never recursion depth.
    n = len(actual)
    reach = {0}
    for pattern in patterns:
        if not reach:
            return False
        if pattern is None:  # the wildcard line: any run of lines, none included
            reach = set(range(min(reach), n + 1))
        else:
            reach = {j + 1 for j in reach if j < n and pattern.fullmatch(actual[j]) is not None}
    return n in reach


def observation(output: str) -> str:
    """What a generated edge case did (generator/edges.py), from its `edge <case>: ...` lines."""
    return "; ".join(line.split(":", 1)[1].strip() for line in lines_of(output) if line.startswith("edge "))


def describe_mismatch(expected: list[str], actual: list[str], mode: str) -> str:
    """A short unified diff, expected first, for a failure's detail."""
    import difflib  # imported for failures only

    header = "expected (regex lines) vs got" if mode == "regex" else "expected vs got"
    diff = list(difflib.unified_diff(expected, actual, "expected", "got", lineterm="", n=2))
    if len(diff) > MAX_DIFF_LINES:
        diff = diff[:MAX_DIFF_LINES] + [f"... ({len(diff) - MAX_DIFF_LINES} more diff lines)"]
    return header + ":\n" + "\n".join(diff)


def marker_line_end(buffer: bytes | bytearray, marker: bytes, start: int) -> int:
    """Where the line holding `marker` ends (just past its newline), or -1 while the
    marker or the rest of its line has not arrived: input goes only after a whole line,
    so it never lands between a marker and the newline printed after it."""
    at = buffer.find(marker, start)
    if at < 0:
        return -1
    newline = buffer.find(b"\n", at + len(marker))
    return newline + 1 if newline >= 0 else -1


TRACEBACK_HEAD = "Traceback (most recent call last):"


def ends_in_traceback(expected: list[str]) -> bool:
    """Whether the expected output ends the way an uncaught exception ends a program: a
    traceback header, its indented `File` lines (or the wildcard line), and last the
    exception line. (sys.print_exception() at the very end looks the same.)"""
    heads = [i for i, e in enumerate(expected) if e.replace("\\", "") == TRACEBACK_HEAD]
    if not heads or heads[-1] >= len(expected) - 1:
        return False
    body, last = expected[heads[-1] + 1:-1], expected[-1]
    return all(e == WILDCARD_LINE or e[:1].isspace() for e in body) and not last[:1].isspace()


def exit_status_problem(expected: list[str], exit_code: int | None) -> str:
    """Why the port's exit status is wrong for this test, or "" when it is right (or the
    runner has none). A program that ends normally exits 0; one whose expected output
    ends in a traceback may end by an uncaught exception, which exits 1."""
    if exit_code is None or exit_code == 0:
        return ""
    if exit_code == 1 and ends_in_traceback(expected):
        return ""
    wanted = "0, or 1 for its uncaught exception" if ends_in_traceback(expected) else "0: the test ends normally"
    return f"the port exited with status {exit_code} (expected {wanted})"
