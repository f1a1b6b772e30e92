"""`mpconform compare`: a broken port's run against a clean one names the behaviours
that regressed (exit 1); identical runs exit 0; bad files exit 2 with one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mpconform.core.results import ResultsDocument
from mpconform.reports.compare import compare_documents, render_markdown

ROOT = Path(__file__).resolve().parent.parent
FAITHFUL = (ROOT / "tests" / "wrong_ports" / "faithful_port.py").read_text()


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    from mpconform.cli import main

    tmp = tmp_path_factory.mktemp("runs")
    clean, broken = tmp / "clean.json", tmp / "broken.json"
    prelude = tmp / "broken_prelude.py"
    prelude.write_text(FAITHFUL + "\n_port.heap_unlock = lambda: _real.heap_unlock() and None\n")
    assert main(["--root", str(ROOT), "run", "unix", "-k", "heap_*", "--json", str(clean)]) == 0
    assert main(["--root", str(ROOT), "run", "unix", "-k", "heap_*", "--prelude", str(prelude), "--json", str(broken)]) == 1
    return clean, broken


def test_broken_port_regresses_and_compare_names_the_behaviours(runs, cli, tmp_path):
    clean, broken = runs
    md = tmp_path / "c.md"
    status, out, _ = cli("compare", clean, broken, "--markdown", md)
    assert status == 1
    failing = {r["id"] for r in json.loads(broken.read_text())["results"] if r["outcome"] == "fail"}
    assert "heap_unlock.returns_depth" in failing
    for bid in failing:
        assert f"REGRESSION {bid}: pass -> fail" in out
    assert f"{len(failing)} regressions, 0 fixes" in md.read_text()
    # The other way round the same behaviours are fixes, and nothing regressed.
    status, out, _ = cli("compare", broken, clean)
    assert status == 0
    assert f"0 regressions, {len(failing)} fixes" in out


def test_identical_runs_exit_0(runs, cli):
    clean, _ = runs
    status, out, _ = cli("compare", clean, clean)
    assert status == 0
    assert out.strip().endswith("0 regressions, 0 fixes")


def test_not_a_results_file_is_one_line_exit_2(cli, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2]")
    status, out, err = cli("compare", bad, bad)
    assert status == 2
    assert err.strip().count("\n") == 0 and str(bad) in err


def test_markdown_escapes_what_ports_printed():
    old = {"port": "unix", "results": [{"id": "a.b", "outcome": "pass", "detail": ""}]}
    new = {"port": "unix", "results": [{"id": "a.b", "outcome": "fail", "detail": "<script>alert(1)</script> | `x`"}]}
    md = render_markdown(compare_documents(ResultsDocument.from_json(old), ResultsDocument.from_json(new)))
    assert "<script>" not in md and "&lt;script&gt;" in md
    assert "1 regression, 0 fixes" in md


def test_report_baseline_marks_regressions_in_the_matrix(runs, cli, tmp_path):
    clean, broken = runs
    md, html = tmp_path / "m.md", tmp_path / "m.html"
    status, _, err = cli("report", broken, "--baseline", clean, "--markdown", md, "--html", html)
    assert status == 0
    failing = sorted(r["id"] for r in json.loads(broken.read_text())["results"] if r["outcome"] == "fail")
    text = md.read_text()
    assert f"{len(failing)} regressions, 0 fixes" in text and f"{len(failing)} regressions, 0 fixes" in err
    for bid in failing:
        assert f"| `{bid}` | ❌ 🔻 was pass |" in text
    assert html.read_text().count('class="mark regression"') == len(failing)
    # the other way round: fixes; a baseline of a port not in the matrix is one line, exit 2
    status, _, _ = cli("report", clean, "--baseline", broken, "--markdown", md)
    assert status == 0 and f"0 regressions, {len(failing)} fixes" in md.read_text()
    other = tmp_path / "other.json"
    other.write_text(clean.read_text().replace('"port": "unix"', '"port": "elsewhere"', 1))
    status, _, err = cli("report", clean, "--baseline", other)
    assert status == 2 and err.strip().count("\n") == 0 and "elsewhere" in err
