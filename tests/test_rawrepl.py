"""The raw REPL protocol against the real unix port on a pseudo-terminal."""

from __future__ import annotations

from pathlib import Path

import pytest

from mpconform.runners.pty_target import PtyTarget
from mpconform.runners.rawrepl import RawRepl, split_output
from mpconform.runners.transport import SerialTransport
from mpconform.runners.unix import find_micropython

# Longer than the 128-byte raw-paste window many times over, so flow control is exercised.
BIG = ("x = 0\n" + "x += 1\n" * 600 + "print('x =', x)\n").encode()


@pytest.fixture(scope="module")
def target(tmp_path_factory):
    target = PtyTarget([find_micropython()], tmp_path_factory.mktemp("rawrepl") / "board")
    target.start()
    yield target
    target.stop()


def _repl(target: PtyTarget, raw_paste: bool) -> tuple[SerialTransport, RawRepl]:
    transport = SerialTransport(str(target.link))
    transport.open()
    repl = RawRepl(transport, raw_paste=raw_paste)
    repl.enter(3.0)
    return transport, repl


@pytest.mark.parametrize("raw_paste", [True, False], ids=["raw-paste", "plain"])
def test_runs_code_and_separates_traceback(target, raw_paste):
    transport, repl = _repl(target, raw_paste)
    try:
        out, err = repl.run(BIG, 5.0)
        assert out == b"x = 600\n"
        assert err == b""
        assert repl.raw_paste is raw_paste  # the unix port offers raw-paste; plain mode never asks
        out, err = repl.run(b"print('before')\nraise ValueError('boom')\n", 5.0)
        assert out == b"before\n"
        assert err.splitlines()[-1] == b"ValueError: boom"
    finally:
        transport.close()


def test_soft_reset_gives_a_fresh_interpreter(target):
    transport, repl = _repl(target, True)
    try:
        repl.run(b"import micropython\nmicropython.opt_level(3)\nleaked = 1\n", 5.0)
        repl.soft_reset(5.0)
        out, err = repl.run(b"import micropython\nprint(micropython.opt_level(), 'leaked' in globals())\n", 5.0)
        assert (out, err) == (b"0 False\n", b"")
    finally:
        transport.close()


def test_split_output_keeps_a_printed_end_marker():
    assert split_output(b"a\x04b\n\x04Traceback\n\x04>") == (b"a\x04b\n", b"Traceback\n")
    assert split_output(b"out\n\x04\x04>") == (b"out\n", b"")


def test_script_file_round_trip(tmp_path: Path, target):
    """What the runner sends is the file's bytes: non-ASCII source survives the line."""
    script = tmp_path / "t.py"
    script.write_text("print('\u00e9\u20ac', len('\u00e9\u20ac'))\n", encoding="utf-8")
    transport, repl = _repl(target, True)
    try:
        out, _ = repl.run(script.read_bytes(), 5.0)
        assert out.decode() == "\u00e9\u20ac 2\n"
    finally:
        transport.close()
