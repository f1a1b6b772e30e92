"""`mpconform export`: a folder upstream's run-tests.py runs, with the verdicts mpconform gives."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from mpconform.cli import main
from mpconform.runners.plugins.unix import find_micropython

ROOT = Path(__file__).resolve().parents[1]


def test_export_writes_each_exact_test_and_says_what_stayed_out(tmp_path, capsys):
    out = tmp_path / "exp"
    assert main(["--root", str(ROOT), "export", "unix", str(out)]) == 0
    note = json.loads((out / "mpconform-export.json").read_text())
    manifest = json.loads((ROOT / "suites" / "unix" / "manifest.json").read_text())
    by_id = {t["id"]: t for t in manifest["tests"]}
    assert set(note["exported"]) | set(note["left_out"]) == set(by_id)
    for bid in note["exported"]:
        assert by_id[bid]["match"] == "exact" and by_id[bid]["status"] != "skip"
        assert (out / f"{bid}.py").read_bytes() == (ROOT / "suites" / "tests" / f"{bid}.py").read_bytes()
        assert (out / f"{bid}.py.exp").is_file()
    for bid, why in note["left_out"].items():
        assert why and not (out / f"{bid}.py").exists()
    assert any(by_id[b]["match"] == "regex" for b in note["left_out"])
    # exporting again into the same folder is fine; into an unrelated non-empty one is not
    assert main(["--root", str(ROOT), "export", "unix", str(out)]) == 0
    other = tmp_path / "other"
    other.mkdir()
    (other / "keep.txt").write_text("mine")
    assert main(["--root", str(ROOT), "export", "unix", str(other)]) == 2
    assert "not empty" in capsys.readouterr().err
    assert (other / "keep.txt").read_text() == "mine"


def test_upstream_run_tests_gives_mpconform_verdicts(tmp_path, upstream):
    out = tmp_path / "exp"
    assert main(["--root", str(ROOT), "export", "unix", str(out)]) == 0
    results = tmp_path / "r.json"
    main(["--root", str(ROOT), "run", "unix", "-j", "2", "--json", str(results)])
    ours = {r["id"]: r["outcome"] for r in json.loads(results.read_text())["results"]}
    proc = subprocess.run([sys.executable, "run-tests.py", "-d", str(out), "-r", str(tmp_path / "res")],
                          cwd=upstream / "tests", capture_output=True, text=True, timeout=900,
                          env={**os.environ, "MICROPY_MICROPYTHON": find_micropython()})
    reported = json.loads((tmp_path / "res" / "_results.json").read_text())["results"]
    theirs = {Path(path).name[: -len(".py")]: verdict for path, verdict, _ in reported}
    exported = json.loads((out / "mpconform-export.json").read_text())["exported"]
    assert set(theirs) == set(exported), proc.stdout[-2000:]
    for bid, verdict in theirs.items():
        # pass here is pass there; a failure (expected or not) is a failure there
        assert (verdict == "pass") == (ours[bid] in ("pass", "xpass")), (bid, verdict, ours[bid])
