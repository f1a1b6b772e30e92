"""The compiler against hostile input: YAML alias bombs, lone surrogates, and a write
that fails half-way (every file is written or none)."""

from __future__ import annotations

import subprocess
import sys

BOMB = "".join(
    [f"a0: &a0 [{', '.join(['x'] * 9)}]\n"]
    + [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]\n" for i in range(1, 9)]
)


def _compile(root):
    return subprocess.run([sys.executable, "-m", "mpconform.cli", "--root", str(root), "compile"],
                          capture_output=True, text=True, timeout=60)


def test_yaml_alias_bomb_is_refused_at_once(project_copy):
    target = project_copy / "ports" / "unix" / "port.yaml"
    target.write_text(target.read_text() + "\nx_bomb:\n" + "".join("  " + line + "\n" for line in BOMB.splitlines()))
    proc = _compile(project_copy)  # the timeout above would stop an expanding bomb
    assert proc.returncode == 2
    assert "alias" in proc.stderr and "ports/unix/port.yaml:" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_lone_surrogate_in_a_program_is_file_and_line(project_copy):
    spec = project_copy / "spec" / "apis" / "heap.yaml"
    text = spec.read_text()
    at = text.index("expect:")
    spec.write_text(text[:at] + 'expect: ["\\ud800"]\n' + text[at:].split("\n", 1)[1])
    line = text[:at].count("\n") + 1
    proc = _compile(project_copy)
    assert proc.returncode == 2, proc.stderr
    assert f"spec/apis/heap.yaml:{line}:" in proc.stderr and "surrogate" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_failed_compile_writes_nothing(project_copy):
    tests = sorted((project_copy / "suites" / "tests").glob("heap_unlock.*.py"))
    for t in tests:
        t.unlink()  # out of date: compile would write them
    scaffold = project_copy / "ports" / "unix" / "scaffold"
    header = next(scaffold.glob("*.h"))
    header.unlink()
    header.mkdir()  # a folder where a generated file goes: its write fails
    proc = _compile(project_copy)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "no file was changed" in proc.stderr
    assert all(not t.exists() for t in tests)  # nothing written
    assert [p for p in project_copy.rglob("*.tmp")] == []
