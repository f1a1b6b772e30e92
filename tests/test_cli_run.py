"""`mpconform run`: the results file, JUnit, the console's last line, exit status, interruption."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

from mpconform.core.results import OUTCOMES


def test_results_json_junit_and_summary(cli, root, tmp_path):
    status, out, _ = cli("--root", root, "run", "unix", "-j", "2", "-k", "heap_*", "-k", "RingIO.write",
                         "--json", tmp_path / "r.json", "--junit", tmp_path / "r.xml")
    assert status == 0, out
    doc = json.loads((tmp_path / "r.json").read_text())
    assert doc["port"] == "unix"
    assert doc["implementation"]["name"] == "micropython"
    assert doc["implementation"]["platform"] == "linux"
    assert set(doc["summary"]) == set(OUTCOMES)
    assert doc["results"], "no results"
    for r in doc["results"]:
        assert set(r) == {"id", "api", "outcome", "duration_s", "detail"}
        assert (r["detail"] == "") == (r["outcome"] == "pass"), r
    assert any(r["outcome"] == "skip" for r in doc["results"])  # heap_locked is absent on unix
    assert not (tmp_path / "r.jsonl").exists()  # the running log goes once the run is complete
    suite = ET.parse(tmp_path / "r.xml").getroot()
    assert int(suite.get("tests")) == len(doc["results"])
    last = out.strip().splitlines()[-1]
    assert re.fullmatch(r"\d+ passed, (\d+ observed, )?0 failed, \d+ skipped", last), last


def test_unexpected_outcome_exits_1(cli, root, tmp_path):
    prelude = tmp_path / "prelude.py"
    prelude.write_text("import sys\nclass _M:\n    pass\nsys.modules['micropython'] = _M()\n")
    status, out, _ = cli("--root", root, "run", "unix", "--prelude", prelude, "-k", "heap_unlock.*")
    assert status == 1
    assert re.search(r"^0 passed, [1-9]\d* failed, \d+ skipped$", out, re.M)


def test_interrupted_run_keeps_measured_results(root, tmp_path):
    prelude = tmp_path / "slow.py"
    prelude.write_text("import time\ntime.sleep(0.3)\n")
    cmd = [sys.executable, "-m", "mpconform.cli", "--root", str(root), "run", "unix", "-j", "1",
           "--prelude", str(prelude), "--json", str(tmp_path / "r.json")]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    log = tmp_path / "r.jsonl"
    def executed() -> int:
        if not log.exists():
            return 0
        return sum('"outcome": "skip"' not in line for line in log.read_text().splitlines()[1:])

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and executed() < 3:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=20)
    assert proc.returncode == 130, out
    assert "interrupted: results so far are kept" in out
    doc = json.loads((tmp_path / "r.json").read_text())
    assert doc["interrupted"] is True
    total = len(json.loads((root / "suites" / "unix" / "manifest.json").read_text())["tests"])
    ran = [r for r in doc["results"] if r["outcome"] != "skip"]
    assert 3 <= len(ran) < total
    assert all(r["outcome"] in ("pass", "observed") for r in ran), ran  # nothing killed by the interrupt is reported as a crash
    lines = log.read_text().splitlines()
    assert json.loads(lines[0])["header"]["port"] == "unix"
    assert len(lines) - 1 >= len(doc["results"]) - 1
