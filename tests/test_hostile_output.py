"""What ports print reaches reports and terminals only as text: no markup in Markdown,
no control bytes on the console; a results file of another format is refused."""

from __future__ import annotations

import json

from tests.runkit import SWAP, Run

ESCAPE_PRELUDE = SWAP + """\
def _opt_level(*args):
    print('\\x1b[2J\\x1b]0;owned\\x07<script>alert(1)</script>')
    return 7
_m.opt_level = _opt_level
"""


def _doc(port, outcome, bid="heap_lock.x", detail=""):
    return {"format": 1, "port": port, "implementation": {}, "results": [
        {"id": bid, "api": "heap_lock", "outcome": outcome, "duration_s": 0.1, "detail": detail}]}


def test_markdown_report_escapes_what_ports_printed(cli, tmp_path):
    bid = "heap_lock.<svg onload=alert(1)>"
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(json.dumps(_doc("porta<script>", "pass", bid)))
    b.write_text(json.dumps(_doc("portb", "fail", bid, "<script>alert(1)</script>")))
    status, _, _ = cli("report", a, b, "--markdown", tmp_path / "m.md")
    assert status == 0
    md = (tmp_path / "m.md").read_text()
    assert "<script" not in md and "<svg" not in md
    assert "&lt;svg onload=alert(1)&gt;" in md


def test_unknown_results_format_is_refused(cli, tmp_path):
    doc = _doc("portb", "pass")
    doc["format"] = 99
    (tmp_path / "r.json").write_text(json.dumps(doc))
    status, _, err = cli("report", tmp_path / "r.json")
    assert status == 2
    assert "format 99" in err and len(err.strip().splitlines()) == 1


def test_control_bytes_from_the_port_are_escaped_on_the_console(root, tmp_path):
    prelude = tmp_path / "esc.py"
    prelude.write_text(ESCAPE_PRELUDE)
    run = Run(root, tmp_path, "unix", "--prelude", prelude, "-k", "opt_level.default_is_zero",
              "--json", tmp_path / "r.json")
    status, out = run.finish()
    assert status == 1, out
    assert "\x1b" not in out and "\x07" not in out
    assert "\\x1b[2J" in out
    assert "\x1b[2J" in json.loads((tmp_path / "r.json").read_text())["results"][0]["detail"]  # kept as printed
