"""Bench faults against the real unix port on a pseudo-terminal: each has a
recovery and an outcome, and the board answers the next test correctly."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import threading
import time
from pathlib import Path

import pytest

from mpconform.runners.base import RunnerError
from mpconform.runners.plugins.board import BoardRunner
from mpconform.runners.plugins.qemu import QemuRunner, QemuTarget
from mpconform.runners.plugins.unix import find_micropython
from mpconform.runners.run.harness import Suite, run_one
from mpconform.runners.transport.pty_target import PtyTarget
from tests.linefault import FaultyLine
from tests.ptykit import assert_gone_once_reused
from tests.qemukit import MICROBIT as MICROBIT_OPTIONS
from tests.suitekit import make_suite

PTY = {"target": {"kind": "unix-pty"}, "hard_reset": {"kind": "target"}, "answer_s": 0.5}


def _script(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / f"{name}.py"
    path.write_text(text)
    return path


@pytest.fixture
def board(tmp_path):
    runner = BoardRunner({**PTY, "reconnect_s": 10, "target_link": str(tmp_path / "board")})
    runner.open()
    yield runner
    runner.close()


@pytest.fixture
def probe_ok(tmp_path):
    """A test that only passes on a fresh, working interpreter."""
    return _script(tmp_path, "ok", "import micropython\nprint('ok', micropython.opt_level(), [1] * 2)\n")


def _assert_healthy(board, script):
    ex = board.execute(script, 5)
    assert (ex.output, ex.exit_code, ex.timed_out, ex.crashed, ex.error) == ("ok 0 [1, 1]\n", 0, False, "", "")


def test_state_does_not_leak_between_tests(board, tmp_path, probe_ok):
    leaky = _script(tmp_path, "leaky", (
        "import micropython\nmicropython.opt_level(2)\n"
        "micropython.schedule(print, 'late')\n"
        "micropython.heap_lock()\n"
    ))
    board.execute(leaky, 5)
    _assert_healthy(board, probe_ok)  # heap unlocked, opt_level 0, nothing scheduled prints


def test_hanging_test_times_out_and_board_recovers(board, tmp_path, probe_ok):
    ex = board.execute(_script(tmp_path, "hang", "print('started')\nwhile True:\n    pass\n"), 1.0)
    assert ex.timed_out and "started" in ex.output
    _assert_healthy(board, probe_ok)


def test_kbd_intr_disabled_hang_times_out_and_board_recovers(board, tmp_path, probe_ok):
    # With Ctrl-C disabled the port cannot be interrupted; here the interrupt ends its
    # process (SIGINT at its default action) and the board reboots.
    ex = board.execute(_script(tmp_path, "deaf", "import micropython\nmicropython.kbd_intr(-1)\nwhile True:\n    pass\n"), 1.0)
    assert ex.timed_out
    _assert_healthy(board, probe_ok)


def test_control_bytes_and_garbage_in_output(board, tmp_path, probe_ok):
    ex = board.execute(_script(tmp_path, "garbage", (
        "import sys\nprint('a\\x04b')\nsys.stdout.buffer.write(b'\\xff\\xfe\\x00\\x04>')\nprint()\nprint('end')\n"
    )), 5)
    assert ex.output == "a\x04b\n\\xff\\xfe\x00\x04>\nend\n" and ex.exit_code == 0
    _assert_healthy(board, probe_ok)


def test_board_killed_mid_test_is_a_crash_and_it_comes_back(board, tmp_path, probe_ok):
    slow = _script(tmp_path, "slow", "import time\nprint('working')\ntime.sleep(5)\nprint('done')\n")
    victim = board.target.board_pid()
    threading.Timer(0.5, os.kill, (victim, signal.SIGKILL)).start()
    ex = board.execute(slow, 8)
    assert ex.crashed and "reset" in ex.crashed and ex.duration_s < 4
    assert board.target.board_pid() != victim
    _assert_healthy(board, probe_ok)


def test_unplugged_board_is_an_error_then_reconnects(board, tmp_path, probe_ok):
    slow = _script(tmp_path, "slow", "import time\ntime.sleep(5)\n")
    threading.Timer(0.5, board.target.unplug).start()
    ex = board.execute(slow, 8)
    assert ex.error and "lost the board" in ex.error
    start = time.monotonic()
    _assert_healthy(board, probe_ok)  # reconnects with back-off once the device is back (1 s)
    assert time.monotonic() - start < 8


def test_board_that_never_comes_back_stops_with_a_clear_message(tmp_path, probe_ok):
    runner = BoardRunner({**PTY, "reconnect_s": 1.5, "target_link": str(tmp_path / "board")})
    with runner:
        _assert_healthy(runner, probe_ok)
        os.kill(runner.target.proc.pid, signal.SIGKILL)  # the whole bench is gone
        ex = runner.execute(_script(tmp_path, "slow", "import time\ntime.sleep(5)\n"), 5)
        assert ex.error
        with pytest.raises(RunnerError, match=r"did not answer within 2s .*results so far are kept"):
            runner.execute(probe_ok, 5)


def test_a_killed_relay_takes_its_device_path_with_it(tmp_path):
    """A SIGKILLed relay cannot remove its link, and the kernel gives its pseudo-terminal
    number to the next one opened. A host reopening the link (ser2net does, by path)
    must then find nothing, not that stranger's terminal."""
    target = PtyTarget([find_micropython()], tmp_path / "board")
    target.start()
    board = None
    try:
        device = os.path.realpath(target.link)  # /dev/pts/N
        assert device.startswith("/dev/pts/")
        board = target.board_pid()
        os.kill(target.proc.pid, signal.SIGKILL)
        target.proc.wait()
        assert_gone_once_reused(str(target.link), device)
    finally:
        if board is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(board, signal.SIGKILL)
        target.stop()


def test_stuck_board_is_hard_reset(tmp_path, probe_ok):
    """A board whose firmware ignores Ctrl-C (first boot hangs with SIGINT ignored):
    only the profile's hard reset (restart the target) brings it back."""
    flag = tmp_path / "booted"
    wrapper = tmp_path / "firmware.sh"
    wrapper.write_text(
        "#!/bin/sh\n"
        f"if [ -e {flag} ]; then exec {find_micropython()}; fi\n"
        f"touch {flag}\ntrap '' INT\nexec sleep 60\n"
    )
    wrapper.chmod(0o755)
    runner = BoardRunner({**PTY, "micropython": str(wrapper), "target_link": str(tmp_path / "board")})
    with runner:
        assert flag.exists()
        _assert_healthy(runner, probe_ok)


def test_board_that_never_answers_fails_to_open_and_leaves_nothing_running(tmp_path):
    runner = BoardRunner({**PTY, "device": str(tmp_path / "no-such-tty"), "reconnect_s": 0.5,
                          "target_link": str(tmp_path / "board")})
    with pytest.raises(RunnerError, match=r"board at .*no-such-tty did not answer"):
        runner.open()
    assert runner.target is None and not (tmp_path / "board").exists()  # the relay was stopped


# -- the emulated micro:bit (MicroPython 1.9.2: no raw-paste, no compile(), 32-byte receive buffer)

QEMU_WHY_NOT = QemuRunner.unavailable_reason(MICROBIT_OPTIONS)
needs_qemu = pytest.mark.skipif(QEMU_WHY_NOT is not None, reason=f"qemu micro:bit unavailable: {QEMU_WHY_NOT}")
MICROBIT = {"chunk": 32, "chunk_delay_s": 0.004, "answer_s": 1.5}


def _microbit(extra: tuple = ()) -> QemuTarget:
    o = MICROBIT_OPTIONS
    args = [a.replace("{firmware}", o["firmware"]) for a in o["args"]]
    return QemuTarget(shutil.which(o.get("qemu", "qemu-system-arm")), o["machine"], [*args, *extra])


@needs_qemu
def test_microbit_program_damaged_on_the_line_is_checked_and_sent_again(tmp_path):
    """The measured fault: a byte lost on the micro:bit's line turned 'opt_level' into
    'opt_leel' (AttributeError), a `fail`. Judged on the checked run, it passes."""
    qemu = _microbit()
    qemu.start()
    line = FaultyLine(qemu.url, b"opt_level", {1, 2}, "drop")  # the direct run and the first checked send
    suite = Suite.load(make_suite(tmp_path, [{"id": "line.ok", "expect": ["ok 0 [1, 1]"],
                                              "program": "import micropython\nprint('ok', micropython.opt_level(), [1] * 2)\n"}],
                                  port="qemu-microbit"))
    (test,) = suite.tests()
    try:
        with BoardRunner({"device": line.url, **MICROBIT}) as runner:
            result = run_one(suite, test, runner, 10)
    finally:
        line.close()
        qemu.stop()
    assert line.damaged == 2 and result.outcome == "pass", result
    assert "an unchecked first run gave fail" in result.detail


@needs_qemu
def test_qemu_that_exits_during_a_test_is_a_crash(tmp_path, probe_ok):
    """A firmware that takes its emulator down (here: a reset with QEMU told not to
    reboot) is the port's crash, not a lost line; the next test gets a new QEMU."""

    class Exiting(BoardRunner):
        def plan_target(self):
            return None

        def make_target(self):
            return _microbit(("-no-reboot",))

    script = _script(tmp_path, "die", "import microbit\nprint('going')\nmicrobit.reset()\n")
    with Exiting(MICROBIT) as runner:
        ex = runner.execute(script, 10)
        assert ex.crashed and "exited" in ex.crashed and not ex.error, ex
        checked = runner.execute_checked(script, 10)  # the loader's path tells the same
        assert checked.crashed and "exited" in checked.crashed and not checked.error, checked
        ok = runner.execute(probe_ok, 10)
    assert (ok.output, ok.error) == ("ok 0 [1, 1]\r\n", "")
