"""`mpconform report`: the matrix from real runs, as Markdown and as HTML read back
from headless Chromium's DOM."""

from __future__ import annotations

import json
import shutil
import subprocess
from html.parser import HTMLParser

import pytest

from mpconform.runners.plugins.webassembly import WebAssemblyRunner

SELECT = ("-k", "schedule.sleep_ms_zero_runs_pending", "-k", "const.folds_expression", "-k", "heap_locked.zero_when_unlocked")
HOSTILE = "<img src=x onerror=\"document.body.setAttribute('data-pwned', '1')\"> & \"quotes\" | pipe"


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """Real results of unix and (when installed) webassembly, plus a hand-made port
    with every bad outcome and a hostile detail string."""
    from mpconform.cli import main
    from tests.conftest import ROOT

    out = tmp_path_factory.mktemp("results")
    ports = ["unix"] + ([] if WebAssemblyRunner.unavailable_reason({}) else ["webassembly"])
    for port in ports:
        assert main(["--root", str(ROOT), "run", port, *SELECT, "--json", str(out / f"{port}.json")]) == 0
    odd = {
        "port": "odd<port>", "implementation": {"version": [9, 9, 9, ""], "_build": "<b>weird</b>"},
        "results": [
            {"id": "const.folds_expression", "api": "const", "outcome": "fail", "duration_s": 0, "detail": HOSTILE},
            {"id": "schedule.sleep_ms_zero_runs_pending", "api": "schedule", "outcome": "timeout", "duration_s": 1,
             "detail": "no end"},
            {"id": "extra.only_here", "api": "extra", "outcome": "crash", "duration_s": 0, "detail": "SIGSEGV"},
        ],
        "summary": {},
    }
    (out / "odd.json").write_text(json.dumps(odd))
    return out, ports


def _docs(out, ports):
    return {p: json.loads((out / f"{p}.json").read_text()) for p in ports}


def test_markdown_is_compact_and_shows_differences(results, cli):
    out, ports = results
    files = [out / f"{p}.json" for p in ports] + [out / "odd.json"]
    status, md, err = cli("report", *files)
    assert status == 0, err
    lines = md.splitlines()
    assert lines[0] == "### mpconform conformance matrix"
    assert len(lines) < 40 and max(map(len, lines)) < 300
    unix_row = next(line for line in lines if line.startswith("| **unix**"))
    impl = _docs(out, ["unix"])["unix"]["implementation"]
    version = ".".join(map(str, impl["version"][:3])) + (f"-{impl['version'][3]}" if impl["version"][3] else "")
    assert unix_row.startswith(f"| **unix** | {version} | {impl['_build']} | ")
    # A behaviour row per difference: the hand-made port fails where unix passes.
    row = next(line for line in lines if line.startswith("| `const.folds_expression`"))
    assert row.count("✅") == len(ports) and "❌" in row
    assert "`extra.only_here`" in md and "| · |" in md  # missing from real runs: shown as not run
    assert "odd&lt;port&gt;" in md and "odd<port>" not in md  # what ports printed never becomes markup (issue 10)
    if "webassembly" in ports:
        row = next(line for line in lines if line.startswith("| `schedule.sleep_ms_zero_runs_pending`"))
        assert row.split("|")[2:4] == [" ✅ ", " 🟡 "]  # unix runs the callback in sleep_ms(0); webassembly does not


class _Dom(HTMLParser):
    """Collects the matrix: port headers, rows (id -> per-port outcomes) and flags."""

    def __init__(self):
        super().__init__()
        self.headers, self.rows, self.body_attrs, self.imgs = [], {}, {}, 0
        self._in_header, self._row = None, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "body":
            self.body_attrs = a
        if tag == "img":
            self.imgs += 1
        if tag == "th" and "port" in (a.get("class") or "").split():
            self._in_header = [a["data-port"], ""]
            self.headers.append(self._in_header)
        if tag == "tr" and "behaviour" in (a.get("class") or "").split():
            self._row = self.rows.setdefault(a["data-id"], {"differs": "differs" in a["class"], "cells": {}, "titles": {}})
        if tag == "td" and self._row is not None and "data-outcome" in a:
            self._row["cells"][a["data-port"]] = a["data-outcome"]
            self._row["titles"][a["data-port"]] = a.get("title", "")

    def handle_endtag(self, tag):
        if tag == "th":
            self._in_header = None
        if tag == "tr":
            self._row = None

    def handle_data(self, data):
        if self._in_header is not None:
            self._in_header[1] += data


def _chromium_dom(html_path, tmp_path) -> str:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        pytest.skip("chromium not installed (the project installs it with `mpconform install chromium`)")
    cmd = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom",
           html_path.as_uri()]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_html_in_chromium_shows_every_cell(results, cli, tmp_path):
    out, ports = results
    html = tmp_path / "matrix.html"
    md = tmp_path / "matrix.md"
    status, _, err = cli("report", *[out / f"{p}.json" for p in ports], out / "odd.json", "--html", html, "--markdown", md)
    assert status == 0, err
    assert md.read_text().startswith("### mpconform")
    page = html.read_text()
    assert "<script" not in page and "http" not in page.split("<body>")[0]  # self-contained, no external resources

    dom = _Dom()
    dom.feed(_chromium_dom(html, tmp_path))
    assert [h[0] for h in dom.headers] == ports + ["odd<port>"]
    unix_impl = _docs(out, ["unix"])["unix"]["implementation"]
    assert unix_impl["_build"] in dom.headers[0][1]
    assert "9.9.9" in dom.headers[-1][1] and "<b>weird</b>" in dom.headers[-1][1]  # text, not markup
    for port, doc in _docs(out, ports).items():
        for r in doc["results"]:
            assert dom.rows[r["id"]]["cells"][port] == r["outcome"], (port, r["id"])
    assert dom.rows["extra.only_here"]["cells"] == {**{p: "none" for p in ports}, "odd<port>": "crash"}
    assert dom.rows["const.folds_expression"]["differs"]
    assert dom.rows["const.folds_expression"]["titles"]["odd<port>"] == " ".join(HOSTILE.split())
    assert dom.imgs == 0 and "data-pwned" not in dom.body_attrs  # the hostile detail stayed text
    if "webassembly" in ports:
        row = dom.rows["schedule.sleep_ms_zero_runs_pending"]
        assert row["cells"]["unix"] == "pass" and row["cells"]["webassembly"] == "xfail" and row["differs"]


def test_bad_input_is_one_line(cli, tmp_path, results):
    out, _ = results
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"hello": 1}))
    status, _, err = cli("report", bad)
    assert status == 2 and err.strip().startswith(f"mpconform: {bad}: not an mpconform results file")
    status, _, err = cli("report", out / "unix.json", out / "unix.json")
    assert status == 2 and "port 'unix' is already given by" in err
    status, _, err = cli("report", tmp_path / "missing.json")
    assert status == 2 and err.strip() == f"mpconform: {tmp_path / 'missing.json'}: cannot read: No such file or directory"
