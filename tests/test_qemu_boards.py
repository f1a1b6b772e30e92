"""Upstream's ports/qemu boards: each shipped profile's firmware built from the upstream
tree (`install firmware`, cached by the tree's digest) and its suite run with --detect
on it: nothing unexpected, and the results name the machine QEMU emulated."""

from __future__ import annotations

import json
import shutil

import pytest

from mpconform.runners.install.firmware import FirmwareBuild, builds_for, install_firmware, installed
from mpconform.runners.plugins.qemu import QemuRunner
from tests.qemukit import ROOT, profile_options

BOARDS = ["qemu-mps2", "qemu-mps2-an500", "qemu-netduino2", "qemu-sabrelite", "qemu-virt-rv32"]
UNEXPECTED = ("fail", "xpass", "timeout", "crash", "error")
MIN_PASSES = 110  # measured 113 on each board at upstream 1c3c201


def _tool_missing(port: str) -> str | None:
    tools = (profile_options(port)["qemu"], "make", "arm-none-eabi-gcc", "riscv64-unknown-elf-gcc")
    missing = [t for t in tools if shutil.which(t) is None]
    return (f"needs {', '.join(missing)} (Debian: qemu-system-arm, qemu-system-misc, gcc-arm-none-eabi, "
            "libnewlib-arm-none-eabi, gcc-riscv64-unknown-elf, picolibc-riscv64-unknown-elf)") if missing else None


def _install(port: str, tree) -> str:
    """The port's firmware installed from `tree`; the line install said."""
    if why := _tool_missing(port):
        pytest.skip(why)
    (build,) = builds_for(ROOT, profile_options(port)["board"])
    return install_firmware(tree, build, jobs=2)


@pytest.mark.parametrize("port", BOARDS)
def test_board_suite_on_upstream_firmware(port, upstream, cli, tmp_path):
    said = _install(port, upstream)
    options = profile_options(port)
    firmware = said.rsplit(": ", 1)[1]
    assert said.startswith(f"install firmware {options['board']}: ") and firmware.endswith("firmware.elf"), said
    out = tmp_path / "r.json"
    status, text, err = cli("--root", ROOT, "run", port, "--detect", "-j", "2", "--json", out)
    doc = json.loads(out.read_text())
    unexpected = {r["id"]: r["outcome"] for r in doc["results"] if r["outcome"] in UNEXPECTED}
    assert (status, unexpected) == (0, {}), text[-3000:] + err
    assert doc["summary"]["pass"] >= MIN_PASSES, doc["summary"]
    assert doc["implementation"]["_build"] == options["board"]
    targets = doc["provenance"]["targets"]
    assert {(t["machine"], t["board"], t["firmware"]) for t in targets} == {(options["machine"], options["board"], firmware)}


def test_install_is_cached_and_what_the_runner_finds(upstream):
    said = _install("qemu-mps2", upstream)
    again = _install("qemu-mps2", upstream)
    assert "already built" in again and again.rsplit(": ", 1)[1] == said.rsplit(": ", 1)[1]
    assert str(installed(FirmwareBuild("MPS2_AN385"))) == said.rsplit(": ", 1)[1]


def test_no_installed_firmware_names_the_command(monkeypatch, tmp_path):
    monkeypatch.setenv("MPCONFORM_CACHE", str(tmp_path / "cache"))
    why = QemuRunner.unavailable_reason(profile_options("qemu-sabrelite"))
    assert why == ("no firmware installed for board SABRELITE: run `mpconform install firmware SABRELITE` "
                   "(from MICROPY_DIR, --micropython-dir DIR or --archive TAR), or give --firmware PATH")
    why = QemuRunner.unavailable_reason({**profile_options("qemu-sabrelite"), "firmware": str(tmp_path / "none.elf")})
    assert why == f"firmware not found: {tmp_path / 'none.elf'}"


def test_a_hang_needs_a_restart(upstream, tmp_path):
    """ports/qemu never reads its UART while code runs: Ctrl-C cannot stop a loop, so
    the recovery ladder restarts QEMU."""
    firmware = _install("qemu-mps2", upstream).rsplit(": ", 1)[1]
    hang = tmp_path / "hang.py"
    hang.write_text("print('spin')\nwhile True:\n    pass\n")
    ok = tmp_path / "ok.py"
    ok.write_text("import sys\nprint(sys.platform)\n")
    with QemuRunner({**profile_options("qemu-mps2"), "firmware": firmware}) as runner:
        assert runner.execute(hang, 1.0).timed_out
        ex = runner.execute(ok, 10)
        assert (ex.output, runner.qemu_target.starts) == ("qemu\r\n", 2)
        assert runner.describe_target()["machine"] == "mps2-an385"
