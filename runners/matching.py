"""Compare a port's output with a test's .exp, the way upstream's run-tests.py reads them:
exact lines, or (for implementation-dependent output) regex lines where a line of
eight '#' matches any run of lines."""

from __future__ import annotations

import difflib
import re

from mpconform.generator.manifest import WILDCARD_LINE

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


def describe_mismatch(expected: list[str], actual: list[str], mode: str) -> str:
    """A short unified diff, expected first, for a failure's detail."""
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
