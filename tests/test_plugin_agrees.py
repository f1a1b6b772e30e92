"""The pytest plugin and `mpconform run` decide and judge every behaviour alike: the same
outcome class (pass, skip, xfail, unexpected) for each, on a runner that runs programs
(unix), one that cannot send input or reach a prompt (webassembly) and an emulated
board (qemu-microbit)."""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from mpconform.core.results import UNEXPECTED, load_document
from mpconform.runners.plugins.qemu import QemuRunner
from mpconform.runners.plugins.webassembly import WebAssemblyRunner
from tests.qemukit import MICROBIT

ROOT = Path(__file__).resolve().parent.parent

PORTS = {
    # port: (-k selection or None for all, why it cannot run here or None)
    "unix": (None, None),
    "webassembly": (None, WebAssemblyRunner.unavailable_reason({})),
    "qemu-microbit": (None, QemuRunner.unavailable_reason(MICROBIT)),
}


def _class_of_run(outcome: str) -> str:
    if outcome == "observed":  # an edge the docs leave open: a pass to pytest, with the observation beside it
        return "pass"
    return "unexpected" if outcome in UNEXPECTED else outcome


def _class_of_case(case: ET.Element) -> str:
    if case.find("failure") is not None or case.find("error") is not None:
        return "unexpected"
    skipped = case.find("skipped")
    if skipped is None:
        return "pass"
    return "xfail" if skipped.get("type") == "pytest.xfail" else "skip"


def _by_run(port: str, select: str | None, tmp_path: Path) -> dict[str, str]:
    out = tmp_path / "run.json"
    cmd = [sys.executable, "-m", "mpconform.cli", "--root", str(ROOT), "run", port, "--json", str(out), *(["-k", select] if select else [])]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert done.returncode in (0, 1), done.stdout[-2000:] + done.stderr[-2000:]
    return {r.id: _class_of_run(r.outcome) for r in load_document(out).results}


def _by_plugin(port: str, select: str | None, tmp_path: Path) -> dict[str, str]:
    junit = tmp_path / "plugin.xml"
    # the plugin named on the command line alone (no other installed plugin, labgrid's say)
    env = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    cmd = [sys.executable, "-m", "pytest", "-p", "mpconform.pytest_plugin", "-p", "no:cacheprovider", "-q",
           "--mp-port", port, f"--junitxml={junit}", *(["-k", select] if select else [])]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=900, env=env)
    assert done.returncode in (0, 1), done.stdout[-2000:] + done.stderr[-2000:]
    return {case.get("name"): _class_of_case(case) for case in ET.parse(junit).getroot().iter("testcase")}


@pytest.mark.parametrize("port", sorted(PORTS))
def test_plugin_and_run_give_every_behaviour_the_same_outcome(port, tmp_path):
    select, why_not = PORTS[port]
    if why_not:
        pytest.skip(f"{port} runner unavailable: {why_not}")
    by_run = _by_run(port, select, tmp_path)
    by_plugin = _by_plugin(port, select, tmp_path)
    assert set(by_plugin) == set(by_run)
    differ = {bid: (by_run[bid], by_plugin[bid]) for bid in by_run if by_run[bid] != by_plugin[bid]}
    assert differ == {}, differ  # behaviour: (run, plugin)
    assert {"pass", "skip"} <= set(by_run.values())  # a comparison of something: both kinds occur
