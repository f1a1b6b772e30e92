"""Options a runner cannot honour are refused, not ignored (issue 10 item 15): --prelude on
a board or QEMU (nothing there could import it, so ignoring it would give false passes),
--firmware for drift port, and a board's --timeout counting from when its code goes out."""

from __future__ import annotations

import pytest

from mpconform.runners.plugins.qemu import QemuRunner
from tests.qemukit import MICROBIT

QEMU_WHY_NOT = QemuRunner.unavailable_reason(MICROBIT)


@pytest.mark.parametrize("port", ["unix-pty", "qemu-microbit"])
def test_prelude_is_refused_by_board_runners(cli, root, tmp_path, port):
    prelude = tmp_path / "hang.py"
    prelude.write_text("while True:\n    pass\n")
    status, out, err = cli("--root", root, "run", port, "--prelude", prelude, "-k", "heap_unlock.*")
    assert status == 2, out
    assert "--prelude does not apply to the" in err and out == ""
    status, _, err = cli("--root", root, "drift", "port", port, "--prelude", prelude)
    assert status == 2 and "--prelude does not apply to the" in err


def test_drift_port_takes_firmware(cli, root, tmp_path):
    status, _, err = cli("--root", root, "drift", "port", "qemu-mps2", "--firmware", tmp_path / "missing.elf")
    assert status == 2
    assert f"firmware not found: {tmp_path / 'missing.elf'}" in err


@pytest.mark.skipif(QEMU_WHY_NOT is not None, reason=f"qemu micro:bit unavailable: {QEMU_WHY_NOT}")
def test_board_timeout_counts_from_sending(tmp_path):
    """The micro:bit's UART takes code 32 bytes per 4 ms: 1.5 KB take over 0.15 s to send."""
    script = tmp_path / "long.py"
    script.write_text("".join(f"# padding line {i:03d} to make the program long to send\n" for i in range(28))
                      + "print('done')\n")
    with QemuRunner(MICROBIT) as runner:
        slow = runner.execute(script, 0.1)
        assert slow.timed_out, slow
        fine = runner.execute(script, 10)
        assert (fine.timed_out, fine.output.strip()) == (False, "done"), fine
