"""The release history (spec/history.yaml): a malformed entry is one `file:line: field:
message` error and nothing is written; the compiled manifest carries each feature's
`since` and each behaviour's `since` (the latest of its features' and its own) and
`documented`; `--docs RELEASE` skips what the docs of that release did not state, and a
failure names the feature, its macro and its release. tools/since.py re-derives every
entry from an upstream tree (MICROPY_DIR; skipped without one)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from mpconform.core.manifest import Capabilities, FeatureState, explain_requirements, plan, release_key
from mpconform.core.model import FeatureDecl, TestEntry
from tests.conftest import snapshot

ROOT = Path(__file__).resolve().parent.parent
HISTORY = "spec/history.yaml"
GOOD = (ROOT / HISTORY).read_text(encoding="utf-8")


def _line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


RINGIO = "  ringio:\n    since: v1.24.0\n"
CASES = {
    "unknown feature": ("  ringio:\n", "  ringbuffer:\n", "  ringio:\n", r"features\.ringbuffer: unknown feature 'ringbuffer'"),
    "unknown behaviour": ("  heap_unlock.returns_depth:\n", "  heap_unlock.returns_deep:\n", "  heap_unlock.returns_depth:\n",
                          r"behaviours\.heap_unlock\.returns_deep: unknown behaviour"),
    "preview tag": (RINGIO, "  ringio:\n    since: v1.24.0-preview\n", "    since: v1.24.0\n",
                    r"features\.ringio\.since: 'v1\.24\.0-preview' is not an upstream release tag"),
    "not a tag": (RINGIO, "  ringio:\n    since: 1.24\n", "    since: v1.24.0\n", r"features\.ringio\.since: .* is not an upstream release tag"),
    "short commit": ("commit: 7e14680a83525bf0822ef9cab899a5625496d662", "commit: 7e14680a", "commit: 7e14680a83525bf0822ef9cab899a5625496d662",
                     r"features\.ringio\.evidence\.commit: '7e14680a' is not a 40-digit commit id"),
    "no evidence": ("    evidence: {pickaxe: MICROPY_PY_MICROPYTHON_RINGIO, path: py/mpconfig.h, commit: 7e14680a83525bf0822ef9cab899a5625496d662}\n",
                    "", "  ringio:\n", r"features\.ringio: missing required field 'evidence'"),
    "unknown field": ("    since: v1.24.0\n", "    since: v1.24.0\n    sinc: v1.2\n",
                      "    evidence: {pickaxe: MICROPY_PY_MICROPYTHON_RINGIO",  # the inserted line takes its number
                      r"features\.ringio\.sinc: unknown field"),
    "documented before since": ("    documented: v1.28.0\n", "    documented: v1.27.0\n", "    documented: v1.28.0\n",
                                r"documented: v1\.27\.0 is before since v1\.28\.0"),
}


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("command", [("compile",), ("compile", "--check")])
def test_malformed_history_is_one_line_with_file_line_and_field(case, command, project_copy, cli):
    old, new, at, pattern = CASES[case]
    assert old in GOOD
    line = _line_of(GOOD, at)
    (project_copy / HISTORY).write_text(GOOD.replace(old, new, 1))
    before = snapshot(project_copy)
    status, out, err = cli("--root", project_copy, *command)
    lines = err.strip().splitlines()
    assert status == 2 and len(lines) == 1, err
    assert lines[0].startswith(f"{HISTORY}:{line}: "), lines[0]
    assert re.search(pattern, lines[0]), lines[0]
    assert snapshot(project_copy) == before


def test_invalid_yaml_in_history_names_its_line(project_copy, cli):
    (project_copy / HISTORY).write_text(GOOD + "behaviours: [\n")
    status, _, err = cli("--root", project_copy, "compile")
    assert status == 2
    assert re.match(rf"{HISTORY}:\d+: <top>: (invalid YAML|duplicate key)", err.strip()), err


def test_manifest_carries_since_and_documented(project_copy, cli):
    # Move RingIO a release back and give a behaviour its own, later release.
    text = GOOD.replace(RINGIO, "  ringio:\n    since: v1.23.0\n", 1)
    (project_copy / HISTORY).write_text(text)
    status, _, err = cli("--root", project_copy, "compile")
    assert status == 0, err
    manifest = json.loads((project_copy / "suites" / "unix" / "manifest.json").read_text())
    assert manifest["features"]["ringio"]["since"] == "v1.23.0"
    assert manifest["features"]["const_float"]["since"] == "v1.26.0"
    tests = {t["id"]: t for t in manifest["tests"]}
    assert tests["RingIO.fifo_order"]["since"] == "v1.23.0"  # from its feature
    assert "documented" not in tests["RingIO.fifo_order"]
    assert tests["const.float_value"]["since"] == "v1.19"  # the latest of const, float, const_objects
    sleep = tests["schedule.sleep_ms_zero_runs_pending"]
    assert (sleep["since"], sleep["documented"]) == ("v1.28.0", "v1.28.0")  # its own, later than scheduler's
    kbd = tests["kbd_intr.scheduled_raises_keyboardinterrupt"]  # from scheduler_static_nodes, on main only
    assert (kbd["since"], kbd["documented"]) == ("unreleased", "unreleased")


def test_committed_manifests_match_history(root):
    manifest = json.loads((root / "suites" / "unix" / "manifest.json").read_text())
    assert manifest["features"]["ringio"]["since"] == "v1.24.0"
    assert {t["id"]: t.get("since") for t in manifest["tests"]}["heap_unlock.returns_depth"] == "v1.13"


def decide(test: dict, features: dict, docs_release: str | None = None):
    return plan(TestEntry.from_json(test), features, {}, Capabilities(), docs_release, {})


def test_docs_release_prefers_documented_over_since():
    found = {"x": FeatureState(True, "probe", "")}
    late_docs = {"id": "x.a", "requires": ["x"], "since": "v1.20.0", "documented": "v1.24.0"}
    status = decide(late_docs, found, docs_release="v1.22.0")
    assert (status.kind, status.reason) == ("skip", "documented from v1.24.0, after the docs of v1.22.0 this run checks")
    assert decide(late_docs, found, docs_release="v1.24.0").kind == "run"
    unreleased = {"id": "x.b", "requires": ["x"], "since": "unreleased"}
    assert decide(unreleased, found, docs_release="v1.28.0").reason == (
        "documented from upstream's main branch, in no release yet, after the docs of v1.28.0 this run checks")
    assert release_key("unreleased") > release_key("v99.0")


def test_failure_detail_names_feature_macro_and_release():
    features = {"ringio": {"macros": [{"name": "MICROPY_PY_MICROPYTHON_RINGIO", "value": 1}], "since": "v1.24.0"},
                "scheduler": {"macros": [{"name": "MICROPY_ENABLE_SCHEDULER", "value": 1}], "since": "v1.9"}}
    features = {name: FeatureDecl.from_json(f) for name, f in features.items()}
    states = {"ringio": FeatureState(True, "probe", ""), "scheduler": FeatureState(True, "probe", "")}
    own = explain_requirements(TestEntry("a.b", requires=("scheduler",), since="v1.28.0", documented="v1.28.0"),
                               states, features)
    assert own.splitlines() == [
        "needs: scheduler (MICROPY_ENABLE_SCHEDULER=1; since v1.9) [present: probe]",
        "holds upstream since v1.28.0: a port built from older sources differs here",
        "documented upstream since v1.28.0",
    ]
    # A behaviour's release that is only its feature's is named once, with the feature.
    inherited = explain_requirements(TestEntry("a.c", requires=("ringio",), since="v1.24.0"), states, features)
    assert inherited == "needs: ringio (MICROPY_PY_MICROPYTHON_RINGIO=1; since v1.24.0) [present: probe]"


def test_run_with_docs_release_skips_what_those_docs_did_not_state(cli, tmp_path):
    out_json = tmp_path / "r.json"
    status, out, err = cli("run", "unix", "--docs", "v1.22.0", "-k", "RingIO.fifo_order", "-k", "schedule.sleep_ms_zero*",
                           "-k", "schedule.returns_none", "--json", out_json)
    assert status == 0, out + err
    results = {r["id"]: r for r in json.loads(out_json.read_text())["results"]}
    assert results["RingIO.fifo_order"]["outcome"] == "skip"
    assert "documented from v1.24.0, after the docs of v1.22.0" in results["RingIO.fifo_order"]["detail"]
    assert "documented from v1.28.0" in results["schedule.sleep_ms_zero_runs_pending"]["detail"]
    assert results["schedule.returns_none"]["outcome"] == "pass"


def _since(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "tools" / "since.py"), *args], capture_output=True, text=True,
                          env=env, timeout=600)


def test_since_on_a_tree_without_history_skips_saying_why(upstream, tmp_path):
    if (upstream / ".git").exists():
        pytest.skip(f"{upstream} is a git clone: test_since_check_rederives_every_entry covers it")
    done = _since("--check", "--micropython-dir", str(upstream))
    assert (done.returncode, done.stdout) == (0, "")
    assert re.fullmatch(rf"since\.py: skipped: {re.escape(str(upstream))} has no git history .*needs a clone .*\n",
                        done.stderr), done.stderr
    done = _since("--check", "--micropython-dir", str(tmp_path))  # not a tree at all: bad input
    assert done.returncode == 2 and "not an upstream MicroPython tree" in done.stderr


def test_since_needs_an_upstream_tree():
    env = {k: v for k, v in os.environ.items() if k != "MICROPY_DIR"}
    done = _since("--check", env=env)
    assert done.returncode == 2 and done.stdout == ""
    assert "MICROPY_DIR" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.skipif(not os.environ.get("MICROPY_DIR"),
                    reason="needs upstream's git history (a clone in MICROPY_DIR); the shared snapshot is a tree "
                           "without history, run above on it by test_since_on_a_tree_without_history_skips_saying_why")
def test_since_check_rederives_every_entry():
    done = _since("--check")
    assert done.returncode == 0, done.stdout + done.stderr
    if done.stdout == "" and "skipped" in done.stderr:  # MICROPY_DIR is a snapshot: the script says why
        pytest.skip(done.stderr.strip())
    assert re.fullmatch(r"\d+ entries, all re-derived\n", done.stdout)
    assert _since().stdout == "# every feature has an entry\n"
