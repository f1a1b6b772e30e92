"""`mpconform run` against hostile ports and careless use: floods, long output, a
compile during the run, two runs on one file, unwritable targets, bad values."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mpconform.runners.plugins.unix import find_micropython
from mpconform.runners.run.matching import matches
from tests.runkit import SWAP, Run, wait_gone

# mem_info() printing a big report, on the module SWAP puts in place.
LONG_MEM_INFO = SWAP + """\
def _mem_info(*args):
    for i in range(5000):
        print('block', i)
_m.mem_info = _mem_info
"""
# heap_unlock() that never ends printing: only the test calling it floods, not the probe.
FLOOD = SWAP + """\
def _flood(*args):
    line = 'x' * 999 + '\\n'
    while True:
        sys.stdout.write(line)
_m.mem_info = _flood
"""
WIDE = SWAP + """\
def _wide(*args):
    for i in range(50):
        sys.stdout.write('y' * 1000000)
    print()
_m.mem_info = _wide
"""


def test_json_named_jsonl_is_the_results_file(cli, root, tmp_path):
    status, out, _ = cli("--root", root, "run", "unix", "-k", "heap_unlock.*", "--json", tmp_path / "r.jsonl")
    assert status == 0, out
    doc = json.loads((tmp_path / "r.jsonl").read_text())
    assert doc["port"] == "unix" and doc["results"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.jsonl"]


def test_wildcard_over_thousands_of_lines_matches_without_recursion():
    actual = ["a"] + [f"line {i}" for i in range(100_000)] + ["r1 None"]
    assert matches(["a", "########", "r1 None"], actual, "regex")
    assert not matches(["a", "########", "r2 None"], actual, "regex")
    assert matches(["########", r"line \d+", "########"], actual, "regex")


def test_port_printing_thousands_of_lines_is_matched(root, tmp_path):
    prelude = tmp_path / "long.py"
    prelude.write_text(LONG_MEM_INFO)
    run = Run(root, tmp_path, "unix", "--prelude", prelude, "-k", "mem_info.returns_none", "--json", tmp_path / "r.json")
    status, out = run.finish()
    assert status == 0, out
    doc = json.loads((tmp_path / "r.json").read_text())
    assert [r["outcome"] for r in doc["results"]] == ["pass"]


def _measured(root: Path, tmp_path: Path, *args) -> tuple[int, int, str]:
    """(exit status, peak resident KiB of mpconform and its children, console) of a run."""
    code = ("import resource, subprocess, sys; p = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
            "print(p.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); print(p.stdout + p.stderr)")
    cmd = [sys.executable, "-c", code, sys.executable, "-m", "mpconform.cli", "--root", str(root), "run", "unix",
           *map(str, args)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    first, _, console = proc.stdout.partition("\n")
    status, peak = map(int, first.split())
    return status, peak, console


def test_port_printing_without_end_is_bounded(root, tmp_path):
    prelude = tmp_path / "flood.py"
    prelude.write_text(FLOOD)
    status, peak_kib, console = _measured(root, tmp_path, "--prelude", prelude, "-k", "mem_info.returns_none",
                                          "--timeout", "3", "--json", tmp_path / "r.json")
    assert status == 1, console
    doc = json.loads((tmp_path / "r.json").read_text())
    assert [r["outcome"] for r in doc["results"]] == ["timeout"]
    assert peak_kib < 300 * 1024, peak_kib
    assert (tmp_path / "r.json").stat().st_size < 5 * 1024 * 1024
    assert len(console) < 100_000


def test_megabytes_on_one_line_are_cut_with_a_note(root, tmp_path):
    prelude = tmp_path / "wide.py"
    prelude.write_text(WIDE)
    run = Run(root, tmp_path, "unix", "--prelude", prelude, "-k", "mem_info.returns_none",
              "--json", tmp_path / "r.json")
    status, out = run.finish()
    assert status == 1, out[-2000:]
    size = (tmp_path / "r.json").stat().st_size
    assert size < 100_000, size
    doc = json.loads((tmp_path / "r.json").read_text())
    assert "dropped" in doc["results"][0]["detail"]
    assert len(out) < 100_000


def test_compile_during_a_run_does_not_stop_it(project_copy, tmp_path):
    prelude = tmp_path / "slow.py"
    prelude.write_text("import time\ntime.sleep(0.1)\n")
    run = Run(project_copy, tmp_path, "unix", "--prelude", prelude, "-k", "heap_*", "-k", "opt_level.*",
              "--json", tmp_path / "r.json")
    log = tmp_path / "r.jsonl"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not log.exists():
        time.sleep(0.02)
    # what a compile after renaming behaviours does: the old files go
    for test in (project_copy / "suites" / "tests").glob("*.py*"):
        test.unlink()
    status, out = run.finish()
    assert status == 0, out
    doc = json.loads((tmp_path / "r.json").read_text())
    assert doc["results"] and all(r["outcome"] in ("pass", "observed", "skip", "xfail") for r in doc["results"])
    assert "interrupted" not in doc


def test_tests_run_outside_the_checkout(project_copy, tmp_path):
    prelude = tmp_path / "litter.py"
    prelude.write_text("import os\nf = open('litter.txt', 'w')\nf.write(os.getcwd())\nf.close()\n")
    run = Run(project_copy, tmp_path, "unix", "--prelude", prelude, "-k", "mem_info.returns_none",
              "--json", tmp_path / "r.json")
    status, out = run.finish()
    assert status == 0, out
    assert list(project_copy.rglob("litter.txt")) == []
    assert run.leftover_temp() == []  # the folder it ran in is gone with the run


def test_second_run_on_the_same_json_is_refused(root, tmp_path):
    prelude = tmp_path / "slow.py"
    prelude.write_text("import time\ntime.sleep(0.2)\n")
    first = Run(root, tmp_path, "unix", "--prelude", prelude, "-k", "heap_*", "--json", tmp_path / "r.json")
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not (tmp_path / "r.json.lock").exists():
        time.sleep(0.02)
    second = Run(root, tmp_path, "unix", "-k", "heap_*", "--json", tmp_path / "r.json")
    status2, out2 = second.finish()
    status1, out1 = first.finish()
    assert status2 == 2, out2
    assert "another mpconform" in out2 and "Traceback" not in out2
    assert status1 == 0, out1
    assert json.loads((tmp_path / "r.json").read_text())["results"]
    assert not (tmp_path / "r.json.lock").exists()


@pytest.mark.parametrize("target", ["missing/r.json", "folder"])
def test_unwritable_target_is_refused_before_the_run(cli, root, tmp_path, target):
    (tmp_path / "folder").mkdir()
    status, out, err = cli("--root", root, "run", "unix", "--json", tmp_path / target)
    assert status == 2
    assert out == ""  # nothing ran
    assert len(err.strip().splitlines()) == 1 and str(tmp_path / target) in err
    assert [p for p in tmp_path.rglob("*") if p.name.endswith((".tmp", ".lock"))] == []


@pytest.mark.parametrize("value", ["-1", "0", "nan", "inf", "x"])
def test_bad_timeout_is_one_line(root, value):
    proc = subprocess.run([sys.executable, "-m", "mpconform.cli", "--root", str(root), "run", "unix",
                           "--timeout", value], capture_output=True, text=True)
    assert proc.returncode == 2
    # one line, with the hint where the usage is (issue 20 item 8: no usage block)
    assert proc.stderr.strip().splitlines() == [proc.stderr.strip()]
    assert proc.stderr.startswith("mpconform run: argument --timeout")
    assert proc.stderr.strip().endswith("(see `mpconform run --help`)")
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("content", [b"\xff\xfe garbage\n", b'{"port": "unix", "results": 5}'])
def test_bad_resume_file_is_one_line(cli, root, tmp_path, content):
    bad = tmp_path / "r.jsonl"
    bad.write_bytes(content)
    status, _, err = cli("--root", root, "run", "unix", "--resume", bad)
    assert status == 2
    assert len(err.strip().splitlines()) == 1 and str(bad) in err


def test_nan_duration_never_reaches_the_json(cli, root, tmp_path):
    old = tmp_path / "old.jsonl"
    old.write_text(json.dumps({"header": {"port": "unix"}}) + "\n" + '{"id": "heap_unlock.returns_depth", '
                   '"api": "heap_unlock", "outcome": "pass", "duration_s": NaN, "detail": ""}\n')
    status, out, _ = cli("--root", root, "run", "unix", "-k", "heap_unlock.*", "--resume", old,
                         "--json", tmp_path / "r.json")
    assert status == 0, out
    text = (tmp_path / "r.json").read_text()
    assert "NaN" not in text and "Infinity" not in text
    json.loads(text, parse_constant=lambda name: pytest.fail(f"{name} in the JSON"))


def test_resume_with_another_binary_is_refused(root, tmp_path):
    binary = tmp_path / "micropython"
    shutil.copyfile(find_micropython(), binary)
    binary.chmod(0o755)
    first = Run(root, tmp_path, "unix", "-k", "heap_unlock.*", "--micropython", binary, "--json", tmp_path / "a.json")
    assert first.finish()[0] == 0
    same = Run(root, tmp_path, "unix", "-k", "heap_*", "--micropython", binary, "--resume", tmp_path / "a.json")
    assert same.finish()[0] == 0  # the same binary resumes
    with binary.open("ab") as fh:  # the PyPI command is a launcher script; a real build is an ELF: either way,
        fh.write(b"\n# another build\n" if binary.read_bytes()[:2] == b"#!" else b"\0another build")  # a new file
    again = Run(root, tmp_path, "unix", "-k", "heap_*", "--micropython", binary, "--resume", tmp_path / "a.json",
                "--json", tmp_path / "b.json")
    status, out = again.finish()
    assert status == 2, out
    assert "not the same firmware" in out and "another binary" in out
    assert not (tmp_path / "b.json").exists()
    assert wait_gone(again) == []
