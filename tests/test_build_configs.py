"""Legitimate builds the docs allow, built from the upstream tree (tools/builds.yaml,
cached by the tree's digest): what a behaviour leans on is measured, what it needs is
exactly what its claim needs.

- scheduler-depth-1: a queue of one callback. schedule.fifo_order needs three pending
  at once: it is skipped with the measured value, and every other schedule behaviour
  passes.
- no-parser-const: const() is a run-time function only. The behaviours that narrow
  the api's `requires` (drop_requires: const) run and pass there, and fail on the same
  build when micropython.const is wrong: skipped they would prove nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from mpconform.generator.spec import load_spec
from tests.wrong_ports.catalogue import WRONG_PORTS

ROOT = Path(__file__).resolve().parent.parent
FAITHFUL = ROOT / "tests" / "wrong_ports" / "faithful_port.py"
UNEXPECTED = ("fail", "xpass", "timeout", "crash", "error")


def _configuration(name: str) -> dict:
    """The macros of a build named in tools/builds.yaml (one source for nox and the tests)."""
    data = yaml.safe_load((ROOT / "tools" / "builds.yaml").read_text())
    found = [c for c in data["configurations"] if c["name"] == name]
    assert found, f"tools/builds.yaml has no configuration {name}"
    return found[0]


def _build(upstream: Path, name: str) -> Path:
    from mpconform.runners.install.upstream import UnixBuild, build_unix

    conf = _configuration(name)
    return build_unix(upstream, UnixBuild(name=name, variant=conf.get("variant", "standard"),
                                          macros=dict(conf.get("macros", {}))))


@pytest.fixture(scope="module")
def depth_1(upstream) -> Path:
    return _build(upstream, "scheduler-depth-1")


@pytest.fixture(scope="module")
def no_parser_const(upstream) -> Path:
    return _build(upstream, "no-parser-const")


def _run(cli, tmp_path: Path, *args) -> dict:
    out = tmp_path / "r.json"
    status, text, err = cli("--root", ROOT, "run", "unix", *args, "-j", "2", "--json", out)
    doc = json.loads(out.read_text())
    bad = {r["id"]: (r["outcome"], r["detail"]) for r in doc["results"] if r["outcome"] in UNEXPECTED}
    doc["_bad"], doc["_status"] = bad, status
    return doc


def _outcomes(doc: dict) -> dict:
    return {r["id"]: r["outcome"] for r in doc["results"]}


def test_queue_of_one_skips_what_needs_three_with_the_measured_value(cli, depth_1, tmp_path):
    doc = _run(cli, tmp_path, "--micropython", depth_1, "--detect", "-k", "schedule.*")
    assert doc["_status"] == 0 and not doc["_bad"], doc["_bad"]
    assert doc["limits"]["schedule_queue"]["value"] == 1
    fifo = next(r for r in doc["results"] if r["id"] == "schedule.fifo_order")
    assert fifo["outcome"] == "skip"
    assert "needs schedule_queue >= 3; the port's is 1 (measured" in fifo["detail"]
    # nothing else leans on the queue: it all runs, and passes (an edge case is observed)
    others = {k: v for k, v in _outcomes(doc).items() if k != "schedule.fifo_order"}
    assert others and {v for k, v in others.items() if ".edge." not in k} == {"pass"}, others
    assert {v for k, v in others.items() if ".edge." in k} == {"observed"}, others


def test_without_detect_an_undeclared_limit_is_the_measured_one(cli, depth_1, tmp_path):
    doc = _run(cli, tmp_path, "--micropython", depth_1, "-k", "schedule.fifo_order")
    assert doc["_status"] == 0
    assert doc["limits"]["schedule_queue"]["source"] == "probe"
    assert _outcomes(doc) == {"schedule.fifo_order": "skip"}


def test_the_native_build_measures_the_default_queue_and_runs_fifo_order(cli, native_unix, tmp_path):
    doc = _run(cli, tmp_path, "--micropython", native_unix, "--detect", "-k", "schedule.fifo_order")
    assert doc["limits"]["schedule_queue"]["value"] == 4  # MICROPY_SCHEDULER_DEPTH's default
    assert _outcomes(doc) == {"schedule.fifo_order": "pass"}


def narrowed(feature: str) -> list[str]:
    return [b.id for b in load_spec(ROOT).behaviours if feature in b.dropped]


def test_every_dropped_requirement_has_a_build_without_it():
    # A behaviour may drop only what a build of tools/builds.yaml lacks, where it is run.
    dropped = {f for b in load_spec(ROOT).behaviours for f in b.dropped}
    assert dropped <= {"const"}, f"add a build without {dropped - {'const'}} and a test like the ones below"
    assert narrowed("const")


def test_without_parser_const_the_narrowed_behaviours_run_and_pass(cli, no_parser_const, tmp_path):
    doc = _run(cli, tmp_path, "--micropython", no_parser_const, "--detect", "-k", "const.*")
    assert doc["_status"] == 0 and not doc["_bad"], doc["_bad"]
    assert doc["features"]["const"]["enabled"] is False and doc["features"]["const"]["source"] == "probe"
    outcomes = _outcomes(doc)
    assert {k: v for k, v in outcomes.items() if k in narrowed("const")} == dict.fromkeys(narrowed("const"), "pass")
    # the rest is about what the parser does: skipped, saying why
    rest = [r for r in doc["results"] if r["id"] not in narrowed("const")]
    assert rest and all(r["outcome"] == "skip" and "feature const absent" in r["detail"] for r in rest)


def test_without_parser_const_a_wrong_const_fails_the_narrowed_behaviours(cli, no_parser_const, tmp_path):
    prelude = tmp_path / "wrong.py"
    prelude.write_text(FAITHFUL.read_text() + "\n" + WRONG_PORTS["const_returns_none"]["code"])
    doc = _run(cli, tmp_path, "--micropython", no_parser_const, "--prelude", prelude, "--detect", "-k", "const.*")
    assert doc["features"]["const"]["enabled"] is False
    outcomes = _outcomes(doc)
    assert {k: v for k, v in outcomes.items() if k in narrowed("const")} == dict.fromkeys(narrowed("const"), "fail")


def _heap_wrapper(tmp_path: Path, binary: Path, heap: int) -> Path:
    """The unix port with a heap of `heap` bytes (-X heapsize), a legitimate small port."""
    path = tmp_path / f"micropython-heap-{heap}"
    path.write_text(f'#!/bin/sh\nexec {binary} -X heapsize={heap} "$@"\n')
    path.chmod(0o755)
    return path


@pytest.mark.parametrize(("heap", "outcome"), [(8192, "skip"), (12288, "pass")])
def test_a_heap_too_small_for_a_behaviour_skips_it_with_the_measured_size(cli, native_unix, tmp_path, heap, outcome):
    binary = _heap_wrapper(tmp_path, native_unix, heap)
    doc = _run(cli, tmp_path, "--micropython", binary, "--detect", "-k", "const.false_guarded_code_eliminated")
    words = doc["limits"]["heap_words"]["value"]
    assert words is not None and words * 8 <= heap  # measured on the port: the probe fits a heap this small
    result = doc["results"][0]
    assert result["outcome"] == outcome, result
    if outcome == "skip":
        assert f"needs heap_words >= 1136; the port's is {words} (measured" in result["detail"]


def test_a_whole_suite_on_an_8_kb_heap_has_no_false_alarm(cli, native_unix, tmp_path):
    doc = _run(cli, tmp_path, "--micropython", _heap_wrapper(tmp_path, native_unix, 8192), "--detect")
    assert doc["_status"] == 0 and not doc["_bad"], doc["_bad"]
    assert not [n for n, f in doc["features"].items() if f["enabled"] is None]  # every probe fitted
    assert doc["summary"]["pass"] >= 100


def test_a_limit_declared_in_the_profile_decides_without_detect(cli, project_copy, tmp_path):
    profile = project_copy / "ports" / "unix" / "port.yaml"
    profile.write_text(profile.read_text() + "limits:\n  schedule_queue: {value: 2, reason: built with a queue of two}\n")
    assert cli("--root", project_copy, "compile")[0] == 0
    manifest = json.loads((project_copy / "suites" / "unix" / "manifest.json").read_text())
    fifo = next(t for t in manifest["tests"] if t["id"] == "schedule.fifo_order")
    assert fifo["status"] == "skip" and "the port's is 2 (declared: built with a queue of two)" in fifo["reason"]
    out = tmp_path / "r.json"
    cli("--root", project_copy, "run", "unix", "-k", "schedule.fifo_order", "--json", out)
    doc = json.loads(out.read_text())
    assert doc["results"][0]["outcome"] == "skip"  # the PyPI build has 4: the profile is what a run without --detect goes by
    assert any("schedule_queue: profile says 2, the port's probe measured 4" in n for n in doc["feature_notes"])
    cli("--root", project_copy, "run", "unix", "-k", "schedule.fifo_order", "--detect", "--json", out)
    assert json.loads(out.read_text())["results"][0]["outcome"] == "pass"
