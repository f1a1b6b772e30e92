"""Input sent while a test runs: Ctrl-C reaches the unix port as a terminal would send
it, and reaches a board (the unix port on a pty) as bytes on the line."""

from __future__ import annotations

from pathlib import Path

import pytest

from mpconform.runners.plugins.board import BoardRunner
from mpconform.runners.plugins.qemu import QemuRunner
from mpconform.runners.plugins.unix import UnixRunner
from tests.qemukit import MICROBIT

WAITS = (
    "import time\ntry:\n    print('ready')\n    for i in range(300):\n        time.sleep_ms(10)\n"
    "    print('no interrupt')\nexcept KeyboardInterrupt:\n    print('KeyboardInterrupt')\nprint('after')\n"
)


@pytest.fixture
def script(tmp_path) -> Path:
    path = tmp_path / "waits.py"
    path.write_text(WAITS)
    return path


def test_unix_ctrl_c_after_marker_raises_keyboardinterrupt(script):
    with UnixRunner({}) as runner:
        ex = runner.execute(script, 5.0, interact=(("ready", "\x03"),))
    assert ex.output.splitlines() == ["ready", "KeyboardInterrupt", "after"]


def test_unix_without_input_the_test_runs_on(script):
    with UnixRunner({}) as runner:
        ex = runner.execute(script, 10.0, interact=(("never printed", "\x03"),))
    assert ex.output.splitlines() == ["ready", "no interrupt", "after"]


def test_unix_after_kbd_intr_off_ctrl_c_is_sigint_with_its_default_action(tmp_path):
    path = tmp_path / "off.py"
    path.write_text("import micropython, time\nmicropython.kbd_intr(-1)\nprint('ready')\ntime.sleep_ms(2000)\nprint('end')\n")
    with UnixRunner({}) as runner:
        ex = runner.execute(path, 5.0, interact=(("ready", "\x03"),))
    assert ex.crashed == "killed by SIGINT"
    assert ex.output == "ready\n"


def test_board_sends_bytes_on_the_line(script):
    options = {"target": {"kind": "unix-pty"}, "hard_reset": {"kind": "target"}, "answer_s": 0.5}
    with BoardRunner(options) as runner:
        ex = runner.execute(script, 5.0, interact=(("ready", "\x03"),))
        again = runner.execute(script, 10.0)  # the next test is unaffected
    assert ex.output.splitlines() == ["ready", "KeyboardInterrupt", "after"], repr(ex.output)
    assert again.output.splitlines() == ["ready", "no interrupt", "after"], repr(again.output)


@pytest.mark.skipif(QemuRunner.unavailable_reason(MICROBIT) is not None,
                    reason="needs qemu-system-arm and Debian's firmware-microbit-micropython (mpconform install qemu)")
def test_qemu_microbit_takes_ctrl_c_from_its_uart(tmp_path):
    path = tmp_path / "waits.py"
    # MicroPython 1.9.2 on the micro:bit: utime, and a shorter wait (its UART is slow to start).
    path.write_text(WAITS.replace("import time", "import utime as time"))
    with QemuRunner(MICROBIT) as runner:
        # checked: the emulated UART may drop a byte of the program under load (no flow
        # control), which is the line's fault; the board checks the program before running it
        ex = runner.execute_checked(path, 10.0, interact=(("ready", "\x03"),))
    assert ex.output.replace("\r\n", "\n").splitlines() == ["ready", "KeyboardInterrupt", "after"]
