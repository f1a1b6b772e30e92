"""A run stopped from outside (SIGTERM from a CI cancel, SIGHUP, Ctrl-C twice) still
writes its JSON and JUnit, marked interrupted, and leaves no process or temp folder.

The random-moment test runs a few rounds per runner by default; set
MPCONFORM_SIGTERM_ROUNDS=20 for the acceptance count."""

from __future__ import annotations

import json
import os
import random
import re
import signal
import time
import xml.etree.ElementTree as ET

import pytest

from mpconform.runners.plugins.qemu import QemuRunner
from tests.qemukit import MICROBIT
from tests.runkit import Run, wait_gone

ROUNDS = int(os.environ.get("MPCONFORM_SIGTERM_ROUNDS", "1"))
# how long after the start the signal may come: about a whole run of the selected tests
SPAN_S = {"unix": 2.5, "unix-pty": 4.0, "qemu-microbit": 15.0}
QEMU_WHY_NOT = QemuRunner.unavailable_reason(MICROBIT)


def _strict_json(path):
    def no_constant(name):
        raise ValueError(f"{path}: {name} is not JSON")

    return json.loads(path.read_text(encoding="utf-8"), parse_constant=no_constant)


def _check_stopped(run: Run, out_dir, status: int, out: str, signum: int) -> dict:
    assert (out_dir / "r.json").exists(), (status, out)
    doc = _strict_json(out_dir / "r.json")
    assert doc["port"] and isinstance(doc["results"], list)
    late = "after the last test" in out  # the tests were over: a complete run, exit still says the signal
    if status == 128 + signum and not late:
        assert doc.get("interrupted") is True, out
    else:  # 0, 1, or killed by the signal only as it exits, when all was written
        assert status in (0, 1, -signum) or late, out
        assert "interrupted" not in doc, out
    ET.parse(out_dir / "r.xml")
    assert not re.search(r'^Traceback \(most recent call last\):\n  File "/', out, re.M), out  # ours, not a port's
    assert wait_gone(run) == [], out
    assert run.leftover_temp() == [], out
    assert sorted(p.name for p in out_dir.iterdir() if p.suffix in (".tmp", ".lock")) == []
    return doc


@pytest.mark.parametrize("port", [
    "unix",
    "unix-pty",
    pytest.param("qemu-microbit", marks=pytest.mark.skipif(QEMU_WHY_NOT is not None, reason=f"{QEMU_WHY_NOT}")),
])
def test_sigterm_at_a_random_moment(root, tmp_path, port):
    rng = random.Random(os.environ.get("MPCONFORM_SIGTERM_SEED"))
    for i in range(ROUNDS):
        out_dir = tmp_path / f"round{i}"
        out_dir.mkdir()
        run = Run(root, tmp_path, port, "-k", "heap_*", "-k", "opt_level.*", "--json", out_dir / "r.json",
                  "--junit", out_dir / "r.xml")
        run.wait_handlers()
        time.sleep(rng.uniform(0, SPAN_S[port]))
        run.proc.send_signal(signal.SIGTERM)
        status, out = run.finish()
        doc = _check_stopped(run, out_dir, status, out, signal.SIGTERM)
        print(f"{port} round {i}: exit {status}, {len(doc['results'])} results")


def test_sighup_mid_test_writes_results_and_kills_the_test(root, tmp_path):
    prelude = tmp_path / "hang.py"
    prelude.write_text("import time\ntime.sleep(0.2)\n")
    run = Run(root, tmp_path, "unix", "--prelude", prelude, "--json", tmp_path / "r.json", "--junit", tmp_path / "r.xml")
    log = tmp_path / "r.jsonl"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not (log.exists() and len(log.read_text().splitlines()) > 30):
        time.sleep(0.02)
    run.proc.send_signal(signal.SIGHUP)
    status, out = run.finish()
    assert status == 128 + signal.SIGHUP, out
    doc = _check_stopped(run, tmp_path, status, out, signal.SIGHUP)
    assert all(r["outcome"] in ("pass", "observed", "skip") for r in doc["results"]), doc["results"]  # the killed test is not a crash


def test_two_ctrl_c_close_together_on_the_board_runner(root, tmp_path):
    """The second Ctrl-C lands while the first is still stopping the board: the JSON is written anyway."""
    for gap in (0.05, 0.1):
        out_dir = tmp_path / f"gap{gap}"
        out_dir.mkdir()
        run = Run(root, tmp_path, "unix-pty", "--json", out_dir / "r.json", "--junit", out_dir / "r.xml")
        log = out_dir / "r.jsonl"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not (log.exists() and len(log.read_text().splitlines()) > 25):
            time.sleep(0.02)
        run.proc.send_signal(signal.SIGINT)
        time.sleep(gap)
        run.proc.send_signal(signal.SIGINT)
        status, out = run.finish()
        assert status == 130, out
        _check_stopped(run, out_dir, status, out, signal.SIGINT)
