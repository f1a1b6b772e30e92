from __future__ import annotations

import pytest

from mpconform.runners.run.matching import describe_mismatch, lines_of, matches


def test_lines_of_drops_crlf_and_final_newline():
    assert lines_of("a\r\nb\r\n") == ["a", "b"]
    assert lines_of("a\n\n") == ["a", ""]
    assert lines_of("") == []


@pytest.mark.parametrize(
    "expected, actual, ok",
    [
        (["a", "b"], ["a", "b"], True),
        (["a", "b"], ["a", "b", ""], False),
        (["a"], ["a "], False),
    ],
)
def test_exact(expected, actual, ok):
    assert matches(expected, actual, "exact") is ok


@pytest.mark.parametrize(
    "expected, actual, ok",
    [
        (["stack: \\d+"], ["stack: 12"], True),
        (["stack: \\d+"], ["stack: 12 extra"], False),  # whole-line match
        (["########", "GC: .*", "########"], ["mem: x", "stack: 1", "GC: total", "more"], True),
        (["########"], [], True),
        (["a", "########", "b"], ["a", "b"], True),
        (["a", "########", "b"], ["a", "x", "y", "b"], True),
        (["a", "########", "b"], ["a", "x"], False),
        (["########", "x", "########", "x"], ["x", "y", "x"], True),
    ],
)
def test_regex_with_wildcard_lines(expected, actual, ok):
    assert matches(expected, actual, "regex") is ok


def test_mismatch_detail_shows_expected_and_got():
    text = describe_mismatch(["1", "2"], ["1", "3"], "exact")
    assert "-2" in text and "+3" in text
