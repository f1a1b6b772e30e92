"""Runner options are declared: a profile's unknown or mistyped option is a file:line
error at compile time and one line at run time; a command-line override reaches only
a runner that declares it."""

from __future__ import annotations

import json

from mpconform.core.options import problems
from mpconform.runners.plugins.board import BoardRunner
from mpconform.runners.plugins.qemu import QemuRunner


def test_compile_names_file_line_and_option(cli, project_copy):
    profile = project_copy / "ports" / "qemu-microbit" / "port.yaml"
    text = profile.read_text()
    assert "    chunk: 32\n" in text
    profile.write_text(text.replace("    chunk: 32\n", "    chunk: '32'\n    chunck_delay: 1\n"))
    line = text.splitlines().index("    chunk: 32") + 1
    status, _, err = cli("--root", project_copy, "compile")
    assert status == 2
    assert err.splitlines() == [
        f"ports/qemu-microbit/port.yaml:{line}: runner.options.chunk: expected a positive integer, got '32'",
        f"ports/qemu-microbit/port.yaml:{line + 1}: runner.options.chunck_delay: unknown option (this runner's options: "
        "answer_s, args, board, boot_s, chunk, chunk_delay_s, coordinator, firmware, firmware_hint, machine, macros, "
        "make_args, place, place_wait_s, qemu, raw_paste, reconnect_s, soft_reset, timeout_s)",
    ]


def test_run_with_a_mistyped_manifest_option_is_one_line(cli, project_copy):
    manifest = project_copy / "suites" / "unix" / "manifest.json"
    data = json.loads(manifest.read_text())
    data["runner"]["options"]["args"] = "-X heapsize=1M"
    manifest.write_text(json.dumps(data))
    status, _, err = cli("--root", project_copy, "run", "unix")
    assert status == 2
    assert err == "mpconform: unix runner option args: expected a list, got '-X heapsize=1M'\n"


def test_overrides_reach_only_runners_that_declare_them(cli, root):
    status, _, err = cli("--root", root, "run", "qemu-microbit", "--micropython", "/bin/true")
    assert (status, err) == (2, "mpconform: --micropython does not apply to the qemu runner\n")
    status, _, err = cli("--root", root, "run", "unix", "--device", "/dev/null")
    assert (status, err) == (2, "mpconform: --device does not apply to the unix runner\n")


def test_typed_checks():
    assert problems(BoardRunner.OPTIONS, {"place": "bench-1", "place_wait_s": 30}) == []
    assert problems(BoardRunner.OPTIONS, {"hard_reset": {"kind": "command"}}) == [("hard_reset", "kind 'command' needs command")]
    assert problems(BoardRunner.OPTIONS, {"raw_paste": "no"}) == [("raw_paste", "expected true or false, got 'no'")]
    assert problems(QemuRunner.OPTIONS, {"machine": "pdp11", "args": ["-kernel", "{firmware}"]}) == []
    assert problems(QemuRunner.OPTIONS, {"args": ["-kernel", "fw.elf"]}) == [
        ("args", "no {firmware}: the arguments must say where the firmware goes (e.g. -kernel {firmware})")]
    assert problems(QemuRunner.OPTIONS, {"args": ["-serial", "pty", "-kernel", "{firmware}"]}) == [
        ("args", "-serial is the runner's (the machine comes from the option machine, the UART goes to its socket)")]
    assert problems(QemuRunner.OPTIONS, {"macros": {"EMIT": 0}}) == [
        ("macros", "expected MICROPY_* names with integer or string values, got 'EMIT'")]
    assert problems(QemuRunner.OPTIONS, {"make_args": ["-j4"]}) == [("make_args", "expected VAR=value strings, got '-j4'")]


def test_bad_qemu_arguments_are_a_file_line_error(cli, project_copy):
    profile = project_copy / "ports" / "qemu-sabrelite" / "port.yaml"
    text = profile.read_text()
    old = '    args: [-m, 128M, -semihosting, -nographic, -monitor, "null", -kernel, "{firmware}"]\n'
    assert old in text
    profile.write_text(text.replace(old, "    args: [-M, sabrelite, -kernel, firmware.elf]\n    macros: {EMIT: 0}\n"))
    line = text.splitlines().index(old.rstrip("\n")) + 1
    status, _, err = cli("--root", project_copy, "compile")
    assert status == 2
    assert err.splitlines() == [
        f"ports/qemu-sabrelite/port.yaml:{line}: runner.options.args: -M is the runner's (the machine comes from the "
        "option machine, the UART goes to its socket)",
        f"ports/qemu-sabrelite/port.yaml:{line + 1}: runner.options.macros: expected MICROPY_* names with integer or "
        "string values, got 'EMIT'",
    ]
