"""One run shared between several instances of a port (-j N on an emulated board):
the same results as one instance, each instance's tests recorded, and an instance
that dies mid-run costs no result."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.runkit import background_run, wait_for_results

ROOT = Path(__file__).resolve().parents[1]


def _run(tmp_path: Path, name: str, *args: str) -> tuple[subprocess.CompletedProcess, dict]:
    out = tmp_path / f"{name}.json"
    proc = subprocess.run([sys.executable, "-m", "mpconform.cli", "run", *args, "--json", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    return proc, json.loads(out.read_text())


def _outcomes(doc: dict) -> dict:
    return {r["id"]: r["outcome"] for r in doc["results"]}


def _children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            out += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return out


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def test_two_pty_boards_give_the_results_of_one(tmp_path):
    one, single = _run(tmp_path, "one", "unix-pty", "-k", "heap_lock", "-k", "const")
    two, pooled = _run(tmp_path, "two", "unix-pty", "-k", "heap_lock", "-k", "const", "-j", "2")
    assert one.returncode == two.returncode == 0, two.stdout + two.stderr
    assert _outcomes(pooled) == _outcomes(single)
    assert pooled["features"] == single["features"]
    targets = pooled["provenance"]["targets"]
    assert len(targets) == 2 and all(t["tests"] for t in targets)
    ran = sorted(t for target in targets for t in target["tests"])
    assert ran == sorted(r["id"] for r in pooled["results"] if r["outcome"] != "skip")


def _profile_outcomes(port: str) -> dict:
    """What a run of the port without incident gives, as its profile decides it: a run
    that ends with exit 0 has only expected outcomes, so each test passes, is skipped
    or is an expected failure exactly as its manifest status says. (Not a second run as
    the reference: a single board on a loaded machine may lose its line once, and that
    says nothing about the pool.)"""
    manifest = json.loads((ROOT / "suites" / port / "manifest.json").read_text())
    ran = {"exact": "pass", "regex": "pass", "observe": "observed"}  # an edge case's run is an observation
    return {t["id"]: {"run": ran[t["match"]], "skip": "skip", "xfail": "xfail"}[t["status"]] for t in manifest["tests"]}


def test_an_instance_killed_mid_run_loses_no_result(tmp_path):
    clean = _profile_outcomes("unix-pty")
    out = tmp_path / "pooled.json"
    with background_run("unix-pty", "-j", "2", out=out) as proc:
        wait_for_results(out, 20)
        relays = [p for p in _children(proc.pid) if "pty_target" in _cmdline(p)]
        assert len(relays) == 2, relays
        os.kill(relays[0], signal.SIGKILL)  # one board's relay gone, mid-run
        output, _ = proc.communicate(timeout=600)
    assert proc.returncode == 0, output
    pooled = json.loads(out.read_text())
    assert _outcomes(pooled) == clean
    # The instance either brings its board back (the pty target restarts its relay) or
    # is dropped and its test runs on the other one; either way nothing is lost.
    targets = pooled["provenance"]["targets"]
    assert len(targets) == 2, targets
    ran = sorted(t for target in targets for t in target["tests"])
    assert ran == sorted(r["id"] for r in pooled["results"] if r["outcome"] != "skip")
    dropped = [t for t in targets if "dropped" in t]
    if dropped:
        survivor = next(t for t in targets if "dropped" not in t)
        assert len(survivor["tests"]) > len(dropped[0]["tests"])
