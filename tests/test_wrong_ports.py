"""Honesty: the generated suite fails on ports that break the documented behaviour.

Each wrong port runs the real unix binary with one member of `micropython`
replaced by a wrong version (or, for parser features, with a wrapper binary),
and the behaviours that encode the broken promise must fail. The faithful
prelude alone must pass everything, so the failures come from the breakage."""

from __future__ import annotations

import fnmatch
import json
import re
import shutil
from pathlib import Path

import pytest

from mpconform.cli import main
from mpconform.runners.plugins.qemu import QemuRunner
from mpconform.runners.plugins.unix import find_micropython
from mpconform.runners.run.harness import Suite, run_suite
from tests.qemukit import MICROBIT
from tests.suitekit import fake_port
from tests.wrong_ports.catalogue import STREAM_WRONG_PORTS, WRONG_PORTS
from tests.wrong_ports.unix_runs import run_with_prelude

HERE = Path(__file__).parent
ROOT = HERE.parent

# The profile of a port with every feature the faithful prelude can provide.
FULL_PROFILE = """\
port: unix
description: the unix port seen through tests/wrong_ports/faithful_port.py
runner: {name: unix, options: {timeout_s: 10}}
features:
  gc_32bit_blocks: {enabled: false, reason: 64-bit build}
  scheduler_static_nodes: {enabled: false, reason: a Python prelude cannot raise in the main thread}
  kbd_intr_stream: {enabled: false, reason: Ctrl-C reaches the unix port as SIGINT (see STREAM_WRONG_PORTS)}
"""


@pytest.fixture(scope="module")
def full_suite(tmp_path_factory) -> Suite:
    project = tmp_path_factory.mktemp("full")
    for name in ("spec", "ports", "suites"):
        shutil.copytree(ROOT / name, project / name)
    (project / "ports" / "unix" / "port.yaml").write_text(FULL_PROFILE)
    assert main(["--root", str(project), "compile"]) == 0
    return Suite.load(project / "suites" / "unix")


def test_faithful_prelude_passes_everything(full_suite, tmp_path):
    results = run_with_prelude(full_suite, tmp_path)
    not_passing = {k: (r.outcome, r.detail) for k, r in results.items() if r.outcome not in ("pass", "observed", "skip")}
    assert not_passing == {}
    assert sum(r.outcome == "pass" for r in results.values()) >= 100


def test_every_api_has_a_wrong_port():
    manifest = json.loads((ROOT / "suites" / "unix" / "manifest.json").read_text())
    apis = {t["api"] for t in manifest["tests"]}
    broken = {bid.rsplit(".", 1)[0] for port in WRONG_PORTS.values() for bid in port["must_fail"]}
    assert apis - broken == set()


def _fake_binary(tmp_path: Path, command: str) -> str:
    return fake_port(tmp_path, f'tmp="$(mktemp -d)"\n{command}\ncd "$tmp" && exec {find_micropython()} "$1"\n',
                     "wrong-micropython")


@pytest.mark.parametrize("name", sorted(WRONG_PORTS))
def test_wrong_port_fails_the_behaviours_it_breaks(name, full_suite, tmp_path):
    port = WRONG_PORTS[name]
    binary = _fake_binary(tmp_path, port["fake_binary"]) if "fake_binary" in port else None
    patterns = port["select"]

    def select(test):
        return any(fnmatch.fnmatchcase(test.id, p) for p in patterns)

    results = run_with_prelude(full_suite, tmp_path, port.get("code", ""), binary=binary, select=select)
    outcomes = {bid: results[bid].outcome for bid in port["must_fail"]}
    assert outcomes == {bid: "fail" for bid in port["must_fail"]}
    for bid in port["must_fail"]:
        assert results[bid].detail, bid  # a failure always says what differed


@pytest.mark.skipif(QemuRunner.unavailable_reason(MICROBIT) is not None,
                    reason="needs qemu-system-arm and Debian's firmware-microbit-micropython (mpconform install qemu)")
@pytest.mark.parametrize("name", sorted(STREAM_WRONG_PORTS))
def test_stream_port_with_wrong_kbd_intr_fails_its_behaviours(name, tmp_path):
    port = STREAM_WRONG_PORTS[name]
    shutil.copytree(ROOT / "suites" / "qemu-microbit", tmp_path / "qemu-microbit")
    (tmp_path / "tests").mkdir()
    replacement = (
        "import micropython as _real\nclass _Port:\n    pass\nmicropython = _Port()\n"
        "micropython.kbd_intr = " + port["kbd_intr"] + "\n"
    )
    for path in (ROOT / "suites" / "tests").glob("kbd_intr.*"):
        text = path.read_text()
        if path.suffix == ".py":
            text = re.sub(r"(?m)^import micropython\n", "", text)
            text = replacement + re.sub(r"(?m)^import micropython, ", "import ", text)
        (tmp_path / "tests" / path.name).write_text(text)
    suite = Suite.load(tmp_path / "qemu-microbit")
    tests = suite.tests(lambda t: t.id.startswith("kbd_intr.") and t.status == "run" and t.match != "observe")
    assert {"kbd_intr.disabled_ctrl_c_raises_nothing", "kbd_intr.other_character_raises"} <= {t.id for t in tests}
    with QemuRunner(suite.manifest.runner.options) as runner:
        results = run_suite(suite, runner, tests, timeout_s=10).results
    outcomes = {bid: r.outcome for bid, r in results.items()}
    details = {bid: r.detail for bid, r in results.items() if r.outcome != "pass"}
    assert outcomes == {t.id: "fail" if t.id in port["must_fail"] else "pass" for t in tests}, details
