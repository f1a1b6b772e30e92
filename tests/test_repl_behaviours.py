"""Behaviours typed at the friendly REPL (a behaviour's `repl` lines): they run on the
runners that drive a REPL, are skipped with the reason elsewhere, and fail on a
firmware whose prompt does not do what the docs say (MicroPython 1.9.2 on the
micro:bit keeps a locked heap locked at its prompt)."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from mpconform.runners.plugins.qemu import QemuRunner
from mpconform.runners.run.harness import Suite, run_suite
from tests.qemukit import MICROBIT

ROOT = Path(__file__).resolve().parent.parent
REPL_BEHAVIOUR = "heap_lock.repl_forces_unlock"


def _outcome(cli, tmp_path, port: str) -> dict:
    results = tmp_path / f"{port}.json"
    cli("run", port, "-k", REPL_BEHAVIOUR, "--json", results)
    return json.loads(results.read_text())["results"][0]


def test_a_runner_that_drives_a_repl_types_at_the_prompt(cli, tmp_path):
    r = _outcome(cli, tmp_path, "unix-pty")
    assert r["outcome"] == "pass", r


@pytest.mark.parametrize("port", ["unix", "webassembly"])
def test_a_runner_that_runs_programs_skips_with_the_reason(cli, tmp_path, port):
    r = _outcome(cli, tmp_path, port)
    assert r["outcome"] == "skip" and "friendly REPL" in r["detail"], r


@pytest.mark.parametrize("port", ["unix", "webassembly"])
def test_the_pytest_plugin_decides_as_run_does(port):
    # the compiled status says run (the profile allows it); these runners cannot reach a prompt
    manifest = json.loads((ROOT / "suites" / port / "manifest.json").read_text())
    assert next(t for t in manifest["tests"] if t["id"] == REPL_BEHAVIOUR)["status"] == "run"
    done = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--mp-port", port,
                           "-k", "repl_forces_unlock", "-rs"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "1 skipped" in done.stdout and "friendly REPL" in done.stdout, done.stdout[-1500:]


@pytest.mark.skipif(QemuRunner.unavailable_reason(MICROBIT) is not None,
                    reason=f"qemu micro:bit unavailable: {QemuRunner.unavailable_reason(MICROBIT)}")
def test_a_prompt_that_keeps_the_heap_locked_fails_it():
    loaded = Suite.load(ROOT / "suites" / "qemu-microbit")
    # judged as a plain run: the profile's xfail is this very fact of the firmware
    suite = Suite(loaded.directory, replace(loaded.manifest, expectations={}))
    tests = suite.tests(lambda t: t.id == REPL_BEHAVIOUR)
    with QemuRunner(suite.manifest.runner.options) as runner:
        result = run_suite(suite, runner, tests, timeout_s=10).results[REPL_BEHAVIOUR]
    assert result.outcome == "fail", (result.outcome, result.detail)
    assert "MemoryError" in result.detail
