"""A line that loses or changes a byte on the way to the board (tests/linefault.py, a
real relay) is the runner's fault, never the port's: the program is judged on a run
the board checked, sent again when damaged, and an `error` with the reason when it
stays damaged - never a `fail`."""

from __future__ import annotations

from pathlib import Path

import pytest

from mpconform.core.model import TestEntry
from mpconform.runners.plugins.board import BoardRunner
from mpconform.runners.plugins.unix import find_micropython
from mpconform.runners.run.harness import Suite, run_one
from mpconform.runners.run.pool import RunnerPool
from mpconform.runners.transport.pty_target import PtyTarget
from tests.linefault import FaultyLine
from tests.suitekit import make_suite

PROGRAM = "import micropython\nprint('ok', micropython.opt_level(), [1] * 2)\n"
EXPECTED = "ok 0 [1, 1]\n"
MARKER = b"opt_level"


@pytest.fixture
def pty_board(tmp_path):
    target = PtyTarget([find_micropython()], tmp_path / "board")
    target.start()
    yield target
    target.stop()


def _suite(tmp_path: Path, program: str = PROGRAM, expected: str = EXPECTED) -> tuple[Suite, TestEntry]:
    suite = Suite.load(make_suite(tmp_path, [{"id": "line.ok", "program": program, "expect": expected.splitlines()}],
                                  port="unix-pty"))
    return suite, suite.tests()[0]


def _run(pty_board, tmp_path, damage: set[int], mode: str, pooled: bool = False):
    line = FaultyLine(str(pty_board.link), MARKER, damage, mode)
    suite, test = _suite(tmp_path)
    board = BoardRunner({"device": line.url, "reconnect_s": 5})
    try:
        with RunnerPool([board]) if pooled else board as runner:
            result = run_one(suite, test, runner, 5)
            healthy = runner.execute(suite.directory / test.file, 5)  # the board is fine afterwards
    finally:
        line.close()
    assert (healthy.output, healthy.error) == (EXPECTED, "")
    return result, line


@pytest.mark.parametrize("mode,pooled", [("drop", False), ("flip", False), ("drop", True)],
                         ids=["drop", "flip", "drop-in-a-pool"])
def test_program_damaged_once_passes_on_the_checked_run(pty_board, tmp_path, mode, pooled):
    result, line = _run(pty_board, tmp_path, {1}, mode, pooled)
    assert line.damaged == 1  # the direct run's program was damaged: it failed, so it was checked
    assert result.outcome == "pass"
    assert "an unchecked first run gave fail" in result.detail


def test_checked_program_damaged_once_is_sent_again_and_passes(pty_board, tmp_path):
    result, line = _run(pty_board, tmp_path, {1, 2}, "drop")  # the direct run and the first checked send
    assert line.damaged == 2 and line.seen == 4  # direct, two checked sends (the second intact), the healthy run
    assert result.outcome == "pass"


@pytest.mark.parametrize("mode", ["drop", "flip"])
def test_program_that_stays_damaged_is_an_error_with_the_reason(pty_board, tmp_path, mode):
    result, line = _run(pty_board, tmp_path, {1, 2, 3, 4}, mode)
    assert line.damaged == 4  # the direct run and the three checked sends
    assert result.outcome == "error"
    assert "did not arrive intact in 3 sends" in result.detail
    assert f"sent {len(PROGRAM)} bytes" in result.detail or "lost on the line" in result.detail


def test_intact_program_that_fails_is_still_a_fail(pty_board, tmp_path):
    """The check is no way out for a port that is wrong: a checked run that fails is a fail."""
    line = FaultyLine(str(pty_board.link), MARKER, set(), "drop")
    suite, test = _suite(tmp_path, expected="ok 1 [1, 1]\n")
    try:
        with BoardRunner({"device": line.url}) as runner:
            result = run_one(suite, test, runner, 5)
    finally:
        line.close()
    assert line.seen == 2, result  # run, then run checked
    assert result.outcome == "fail" and "an unchecked first run" not in result.detail


def test_checked_run_keeps_what_the_program_observes(pty_board, tmp_path):
    """Globals, __name__, const folding and an uncaught traceback's file name and lines
    are those of a direct run."""
    program = tmp_path / "observe.py"
    program.write_text(
        "from micropython import const\n_HIDDEN = const(3)\nSHOWN = const(4)\n"
        "print(__name__, sorted(k for k in globals() if not k.startswith('__')), _HIDDEN + SHOWN)\n"
        "def f():\n    raise ValueError('x')\nf()\n")
    with BoardRunner({"device": str(pty_board.link), "answer_s": 0.5}) as runner:
        direct = runner.execute(program, 5)
        checked = runner.execute_checked(program, 5)
    assert checked.output == direct.output
    assert direct.output.splitlines() == [
        "__main__ ['SHOWN', 'const'] 7", "Traceback (most recent call last):",
        '  File "<stdin>", line 7, in <module>', '  File "<stdin>", line 6, in f', "ValueError: x"]


def test_control_bytes_in_a_program_survive_the_check(pty_board, tmp_path):
    program = tmp_path / "bytes.py"
    program.write_bytes(b"print(len('\x03\x1a\x1c\x04\x01\xff'.encode()) if 0 else 'a\x1ab')\n")
    with BoardRunner({"device": str(pty_board.link), "answer_s": 0.5}) as runner:
        checked = runner.execute_checked(program, 5)
    assert (checked.output, checked.error) == ("a\x1ab\n", "")


def test_a_probe_damaged_on_the_line_is_run_again_checked(pty_board, tmp_path):
    """Seen on the micro:bit under load: a lost byte made a probe program a SyntaxError, and
    the feature was reported as one the probe could not tell. The probe's run is judged
    as a test's is: one that did not end cleanly goes again through the checked loader."""
    from mpconform.runners.run.probe import FeatureProbe, run_probe

    probes = [FeatureProbe("levels", "import micropython\nreturn micropython.opt_level() == 0, 'opt_level 0'")]
    line = FaultyLine(str(pty_board.link), MARKER, {1}, "drop")  # the first send of the probe program
    try:
        with BoardRunner({"device": line.url, "reconnect_s": 5}) as runner:
            report = run_probe(runner, tmp_path, probes)
    finally:
        line.close()
    assert line.damaged == 1  # the first send of the probe program
    assert report.features["levels"].enabled is True, report.features
    assert report.identity.get("name") == "micropython"
