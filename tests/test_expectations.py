"""`mpconform expectations update`: a real run of a broken unix port, the profile
rewritten from its results (comments and hand-written reasons kept), recompiled,
and the next run all expected."""

from __future__ import annotations

import json
from pathlib import Path

from mpconform.core.results import ResultsDocument
from mpconform.reports.expectations import NEEDS_REVIEW, update_profile_text

HERE = Path(__file__).resolve().parent
BREAK_CONST = "_port.const = lambda x: x + 1 if type(x) is int else x\n"

HAND_WRITTEN = """\
expectations:
  # A divergence someone explained by hand: its comment and reason must survive.
  const.module_prefix_not_folded:
    outcome: xfail
    reason: hand-written reason, kept while it still fails
    issue: https://example.invalid/issue/1
  const.folds_expression: {outcome: xfail, reason: "stale: it passes now"}
"""


def test_update_round_trip_on_a_real_run(project_copy, cli, tmp_path):
    profile = project_copy / "ports" / "unix" / "port.yaml"
    profile.write_text(profile.read_text() + HAND_WRITTEN)
    assert cli("--root", project_copy, "compile")[0] == 0
    prelude = tmp_path / "prelude.py"
    prelude.write_text((HERE / "wrong_ports" / "faithful_port.py").read_text() + "\n" + BREAK_CONST)
    results = tmp_path / "r.json"
    run = ("--root", project_copy, "run", "unix", "-k", "const.*", "--prelude", prelude, "--json", results)

    status, _, _ = cli(*run)
    outcomes = {r["id"]: r["outcome"] for r in json.loads(results.read_text())["results"]}
    assert status == 1
    assert outcomes["const.runtime_call_returns_argument"] == "fail"
    assert outcomes["const.module_prefix_not_folded"] == "xfail"
    assert outcomes["const.folds_expression"] == "xpass"

    status, out, _ = cli("--root", project_copy, "expectations", "update", "unix", results)
    assert status == 0, out
    assert "added   const.runtime_call_returns_argument" in out
    assert "removed const.folds_expression" in out
    text = profile.read_text()
    assert "# A divergence someone explained by hand: its comment and reason must survive." in text
    assert "reason: hand-written reason, kept while it still fails" in text
    assert "issue: https://example.invalid/issue/1" in text
    assert "const.folds_expression" not in text
    assert f"{NEEDS_REVIEW}: new fail recorded from r.json" in text
    # The comments at the top and the features block are untouched, byte for byte.
    original = (project_copy.parent / "original.yaml")
    original.write_text((HERE.parent / "ports" / "unix" / "port.yaml").read_text())
    assert text.startswith(original.read_text())

    assert cli("--root", project_copy, "compile", "--check")[0] == 0  # recompiled by the update
    status, out, _ = cli(*run)
    assert status == 0, out  # every outcome now expected


def test_update_removes_an_emptied_expectations_block():
    text = "port: p\n# keep me\nfeatures: {}\n" + HAND_WRITTEN
    results = {"port": "p", "results": [{"id": "const.module_prefix_not_folded", "outcome": "xpass", "detail": ""},
                           {"id": "const.folds_expression", "outcome": "pass", "detail": ""},
                           {"id": "heap_locked.x", "outcome": "skip", "detail": "absent"},
                           {"id": "const.other", "outcome": "error", "detail": "line lost"}]}
    new, changes = update_profile_text(text, ResultsDocument.from_json(results), "r.json")
    assert new == "port: p\n# keep me\nfeatures: {}\n"
    assert changes.removed == ["const.module_prefix_not_folded", "const.folds_expression"] and not changes.added


def test_wrong_port_or_bad_file_is_one_line(project_copy, cli, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    status, _, err = cli("--root", project_copy, "expectations", "update", "unix", bad)
    assert status == 2 and err.strip() == f"mpconform: {bad}:1: not JSON: Expecting property name enclosed in double quotes"
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"port": "webassembly", "results": []}))
    status, _, err = cli("--root", project_copy, "expectations", "update", "unix", other)
    assert status == 2 and "results are for port 'webassembly', not 'unix'" in err
    status, _, err = cli("--root", project_copy, "expectations", "update", "nope", other)
    assert status == 2 and "unknown port 'nope'" in err


def test_update_that_the_compiler_would_reject_writes_nothing(project_copy, cli, tmp_path):
    """An id the profile does not know, or one a disabled feature already skips, is
    refused before port.yaml is touched, so later compiles keep working."""
    profile = project_copy / "ports" / "unix" / "port.yaml"
    before = profile.read_bytes()
    manifest = json.loads((project_copy / "suites" / "unix" / "manifest.json").read_text())
    skipped = next(t for t in manifest["tests"] if t["status"] == "skip")
    for bid, api in (("no_such.behaviour", "no_such"), (skipped["id"], skipped["api"])):
        results = tmp_path / "r.json"
        results.write_text(json.dumps({"port": "unix", "implementation": {}, "results": [
            {"id": bid, "api": api, "outcome": "fail", "duration_s": 0.1, "detail": "x"}]}))
        status, out, err = cli("--root", project_copy, "expectations", "update", "unix", results)
        assert status != 0, out
        assert "ports/unix/port.yaml:" in err and "Traceback" not in err
        assert profile.read_bytes() == before
    assert cli("--root", project_copy, "compile", "--check")[0] == 0
