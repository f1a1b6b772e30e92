"""Compare a port's output with a test's .exp, the way upstream's run-tests.py reads them:
exact lines, or (for implementation-dependent output) regex lines where a line of
eight '#' matches any run of lines."""

from __future__ import annotations

import difflib
import re
from functools import cache

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
    patterns = tuple(None if e == WILDCARD_LINE else re.compile(e) for e in expected)
    actual_t = tuple(actual)

    @cache
    def match_from(i: int, j: int) -> bool:
        if i == len(patterns):
            return j == len(actual_t)
        if patterns[i] is None:
            return match_from(i + 1, j) or (j < len(actual_t) and match_from(i, j + 1))
        return j < len(actual_t) and patterns[i].fullmatch(actual_t[j]) is not None and match_from(i + 1, j + 1)

    return match_from(0, 0)


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
