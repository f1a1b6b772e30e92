"""The QEMU runner: the micro:bit firmware in QEMU through the board runner's raw
REPL (no raw-paste there, so the plain fallback), a restart as the hard reset."""

from __future__ import annotations

import json

import pytest

from mpconform.runners.plugins.board import BoardState
from mpconform.runners.plugins.qemu import QemuRunner
from tests.qemukit import MICROBIT

WHY_NOT = QemuRunner.unavailable_reason(MICROBIT)
needs_qemu = pytest.mark.skipif(WHY_NOT is not None, reason=f"qemu micro:bit unavailable: {WHY_NOT}")


@needs_qemu
def test_suite_subset_through_the_board_protocol(cli, tmp_path):
    out = tmp_path / "r.json"
    status, text, _ = cli("run", "qemu-microbit", "-k", "heap_unlock.*", "-k", "opt_level.default_is_zero",
                          "-k", "schedule.returns_none", "-k", "stack_use.grows_with_call_depth", "--json", out)
    assert status == 0, text
    doc = json.loads(out.read_text())
    assert doc["implementation"]["version"] == [1, 9, 2] and doc["implementation"]["platform"] == "microbit"
    outcome = {r["id"]: r["outcome"] for r in doc["results"]}
    assert outcome["opt_level.default_is_zero"] == "pass"
    assert outcome["schedule.returns_none"] == "skip"  # no scheduler in this firmware
    assert outcome["heap_unlock.returns_depth"] == "xfail"  # returns None in 1.9.2
    assert outcome["stack_use.grows_with_call_depth"] == "pass"  # kept within its 1800-byte stack


@needs_qemu
def test_plain_raw_repl_fallback_and_restart_on_hang(tmp_path):
    ok = tmp_path / "ok.py"
    ok.write_text("import gc\nprint('free', gc.mem_free() > 1000)\n")
    hang = tmp_path / "hang.py"
    hang.write_text("print('spin')\nwhile True:\n    pass\n")
    with QemuRunner(MICROBIT) as runner:
        ex = runner.execute(ok, 10)
        assert (ex.output, ex.exit_code) == ("free True\r\n", 0)
        assert runner.repl.raw_paste is False  # 1.9.2 predates raw-paste: the plain path ran
        ex = runner.execute(hang, 1.0)
        assert ex.timed_out and "spin" in ex.output
        starts = runner.qemu_target.starts
        runner.hard_reset()  # what the recovery ladder does when Ctrl-C cannot help
        assert runner.qemu_target.starts == starts + 1
        assert runner.state is BoardState.UNKNOWN  # the recovery ladder takes it from here
        ex = runner.execute(ok, 10)
        assert (ex.output, ex.exit_code) == ("free True\r\n", 0)
    assert runner.qemu_target.proc is None  # stopped on close


def test_unavailable_reasons(tmp_path):
    assert QemuRunner.unavailable_reason({}) == "qemu runner: the profile must give the options machine and args"
    why = QemuRunner.unavailable_reason({**MICROBIT, "firmware": str(tmp_path / "none.hex")})
    assert why == (f"firmware not found: {tmp_path / 'none.hex'}; install Debian's firmware-microbit-micropython "
                   "(mpconform install qemu)")
    why = QemuRunner.unavailable_reason({**MICROBIT, "qemu": "qemu-system-pdp11"})
    assert why is None or why.startswith("qemu-system-pdp11 not found")  # (or the firmware is missing first)


@needs_qemu
def test_results_name_the_machine(cli, tmp_path):
    out = tmp_path / "r.json"
    status, text, _ = cli("run", "qemu-microbit", "-k", "opt_level.default_is_zero", "--json", out)
    assert status == 0, text
    (target,) = json.loads(out.read_text())["provenance"]["targets"]
    assert (target["machine"], target["qemu"]) == ("microbit", "qemu-system-arm")
