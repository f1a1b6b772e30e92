"""The raw REPL protocol against the real unix port on a pseudo-terminal."""

from __future__ import annotations

from pathlib import Path

import pytest

from mpconform.runners.plugins.unix import find_micropython
from mpconform.runners.transport.delivery import CONSOLE_READERS, Console, Delivery, checksum, escape
from mpconform.runners.transport.line import SerialTransport
from mpconform.runners.transport.pty_target import PtyTarget
from mpconform.runners.transport.rawrepl import RawRepl, split_output

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


# -- the checked delivery (runners/delivery.py) -----------------------------------------

@pytest.mark.parametrize("raw_paste", [True, False], ids=["raw-paste", "plain"])
def test_checked_run_gives_what_a_direct_run_gives(target, raw_paste):
    transport, repl = _repl(target, raw_paste)
    try:
        repl.soft_reset(5.0)
        out, _ = repl.run(b"print(sorted(k for k in globals() if k[0] != '_'), __name__)\n", 5.0, verify=True)
        assert out == b"[] __main__\n"  # nothing of the loader is left in the program's globals
        assert repl.console == Console("__import__('sys').stdin.buffer.read", True)
        for code in (BIG, b"print('before')\nraise ValueError('boom')\n", b"x = (\n"):
            assert repl.run(code, 5.0, verify=True) == repl.run(code, 5.0)
        assert repl.run(b"", 5.0, verify=True) == (b"", b"")  # (sent directly, empty code is a soft reset)
    finally:
        transport.close()


def test_probe_answer_is_parsed_strictly():
    assert Console.parse(b"\x060 1\r\n") == Console(CONSOLE_READERS[0], True)
    assert Console.parse(b"\x06-1 0\n") == Console(None, False)
    for damaged in (b"\x060 1 \n", b"0 1\n", b"\x069 1\n", b"\x060 2\n", b"\x06\n"):
        assert Console.parse(damaged) is None


def test_escape_round_trips_every_byte_and_checksum_sees_order():
    code = bytes(range(256)) * 2
    data = escape(code)
    assert not any(b < 0x20 and b not in (9, 10, 13) for b in data) and 0x7F not in data
    parts = data.split(b"\xff")  # as the loader undoes it
    assert parts[0] + b"".join(bytes([p[0] ^ 64]) + p[1:] for p in parts[1:]) == code
    assert escape(b"print(1)\n") == b"print(1)\n"
    assert checksum(b"ab") != checksum(b"ba") and checksum(b"ab") != checksum(b"a")


def test_loader_frame_is_taken_out_of_an_uncaught_traceback_only():
    d = Delivery.of(b"f()\n", 32, Console(CONSOLE_READERS[0], True))
    last = d.loader.decode().count("\n")
    err = (b'Traceback (most recent call last):\r\n  File "<stdin>", line %d, in <module>\r\n'
           b'  File "<stdin>", line 1, in <module>\r\nNameError: f\r\n' % last)
    assert d.strip_frame(err) == b'Traceback (most recent call last):\r\n  File "<stdin>", line 1, in <module>\r\nNameError: f\r\n'
    assert d.strip_frame(d.strip_frame(err)) == d.strip_frame(err)  # a program's own frame stays
