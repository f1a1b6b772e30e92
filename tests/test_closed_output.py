"""A run whose reader goes away (`mpconform run unix | head -1`, issue 20 item 6): the
console falls silent, the run goes on to its end, and its results are written."""

from __future__ import annotations

import json
import subprocess
import sys


def test_a_closed_stdout_stops_the_console_not_the_run(root, tmp_path):
    out = tmp_path / "r.json"
    proc = subprocess.Popen([sys.executable, "-m", "mpconform.cli", "--root", str(root), "run", "unix", "-k", "heap_",
                             "-v", "--json", str(out), "--junit", str(tmp_path / "r.xml")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    first = proc.stdout.readline()  # the header: then the reader goes, as `head -1` does
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=300) == 0, err
    assert first.startswith(b"mpconform: port unix:")
    assert err == ""  # no "Broken pipe", no "Exception ignored"
    doc = json.loads(out.read_text())
    assert len(doc["results"]) > 10 and "interrupted" not in doc
    assert (tmp_path / "r.xml").is_file() and not (tmp_path / "r.jsonl").exists()


def test_another_command_with_a_closed_stdout_ends_quietly(root):
    proc = subprocess.Popen([sys.executable, "-m", "mpconform.cli", "--root", str(root), "spec", "--json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.read(10)
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 141 and err == ""  # 128 + SIGPIPE, as a shell shows a reader gone
