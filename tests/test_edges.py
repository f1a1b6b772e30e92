"""Edge cases generated from the documented parameter domains (generator/edges.py):
what is derived, how a bad `edges:` entry is reported, and the verdicts on the real
unix port and on wrong ports that crash, exit or hang at an edge."""

from __future__ import annotations

import fnmatch
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mpconform.generator.edges import cases_for, edge_programs
from mpconform.runners.plugins.unix import UnixRunner
from mpconform.runners.run.harness import Suite, run_suite
from tests.wrong_ports.unix_runs import FAITHFUL, run_with_prelude

ROOT = Path(__file__).resolve().parents[1]


def test_an_int_is_tried_at_its_documented_values_their_neighbours_word_limits_and_wrong_types():
    param = {"name": "chr", "type": "int", "domain": {"cites": {"section": "s", "quote": "q"}, "values": [-1, 3]}}
    exprs = [c.expr for c in cases_for(param)]
    for value in ("-2", "-1", "0", "2", "3", "4", "1", "int('2147483647')", "int('9223372036854775808')",
                  "None", "'1'", "object()"):
        assert value in exprs
    assert len(exprs) == len(set(exprs))  # each value once, under the first name it was given
    assert [c.name for c in cases_for(param)][:3] == ["value_m1_below", "value_m1", "value_m1_above"]


def test_buffers_are_tried_empty_and_one_byte_long_and_expressions_not_at_all():
    names = {c.name for c in cases_for({"name": "buf", "type": "writable_buffer"})}
    assert {"empty_bytes", "one_byte", "empty_bytearray", "one_bytearray", "empty_memoryview", "none"} <= names
    assert cases_for({"name": "expr", "type": "expression"}) == []


def test_every_edge_is_a_cited_behaviour_whose_program_keeps_the_call_in_a_try():
    api = {"name": "RingIO.read", "doc_section": "RingIO.read([nbytes])",
           "params": [{"name": "nbytes", "type": "int", "typical": "2",
                       "domain": {"cites": {"section": "RingIO.read([nbytes])", "quote": "read at most"}}}],
           "edges": [{"setup": "from micropython import RingIO\nr = RingIO(8)", "call": "r.read({nbytes})"}]}
    edges = edge_programs(api)
    assert [e.id for e in edges][:4] == ["RingIO.read.edge.context.heap_locked", "RingIO.read.edge.context.scheduled",
                                         "RingIO.read.edge.nbytes.zero", "RingIO.read.edge.nbytes.one"]
    zero = edges[2]
    assert zero.cites.quote == "read at most"
    assert "_r = r.read(_v)" in zero.program and "_v = 0" in zero.program
    assert edge_programs(api) == edges  # the same spec gives the same programs


def _project(tmp_path: Path, edit) -> Path:
    project = tmp_path / "project"
    for name in ("spec", "ports"):
        shutil.copytree(ROOT / name, project / name)
    path = project / "spec" / "apis" / "ringio.yaml"
    path.write_text(edit(path.read_text()))
    return project


@pytest.mark.parametrize(("edit", "message"), [
    (lambda t: t.replace('call: "r.read({nbytes})"', 'call: "r.read({count})"'),
     "names something that is not a parameter it passes"),
    (lambda t: t.replace("        call: \"RingIO({size})\"\n        params: [size]",
                         "        call: \"RingIO({size})\"\n        params: [length]"),
     "'length' is not a documented parameter of RingIO"),
])
def test_a_bad_edges_entry_is_one_line_naming_file_line_and_field(tmp_path, edit, message):
    project = _project(tmp_path, edit)
    proc = subprocess.run([sys.executable, "-m", "mpconform.cli", "--root", str(project), "compile", "--check"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and "spec/apis/ringio.yaml:" in lines[0], lines


def _run(tmp_path: Path, prelude_code: str, pattern: str, timeout_s: float = 10) -> dict:
    suite = Suite.load(ROOT / "suites" / "unix")
    assert suite.tests(lambda t: fnmatch.fnmatchcase(t.id, pattern)), pattern
    return run_with_prelude(suite, tmp_path, prelude_code, select=lambda t: fnmatch.fnmatchcase(t.id, pattern),
                            timeout_s=timeout_s)


def test_the_real_unix_port_neither_crashes_nor_hangs_at_any_edge(tmp_path):
    out = tmp_path / "r.json"
    proc = subprocess.run([sys.executable, "-m", "mpconform.cli", "run", "unix", "-k", "*.edge.*", "-j", "2",
                           "--json", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    import json

    results = json.loads(out.read_text())["results"]
    outcomes = {r["outcome"] for r in results}
    assert outcomes <= {"observed", "skip"} and "observed" in outcomes
    observed = {r["id"]: r["detail"] for r in results if r["outcome"] == "observed"}
    assert observed["RingIO.edge.size.zero"] == "raised ValueError"  # what HEAD does: refused, not a crash
    assert "observed, 0 failed" in proc.stdout


def test_a_port_that_exits_inside_a_method_at_a_boundary_fails_that_edge(tmp_path):
    wrong = ("class _Exits(_RingIO):\n    def read(self, *args):\n        if args and args[0] == 0:\n"
             "            raise SystemExit(3)\n        return self._r.read(*args)\n_port.RingIO = _Exits\n")
    results = _run(tmp_path, wrong, "RingIO.read.edge.nbytes.*")
    assert results["RingIO.read.edge.nbytes.zero"].outcome == "fail"
    assert "exited with status 3" in results["RingIO.read.edge.nbytes.zero"].detail
    others = {k: r.outcome for k, r in results.items() if k != "RingIO.read.edge.nbytes.zero"}
    assert set(others.values()) == {"observed"}  # the control: every other edge of read is fine on it
    faithful = _run(tmp_path, "", "RingIO.read.edge.nbytes.zero")
    assert faithful["RingIO.read.edge.nbytes.zero"].outcome == "observed"


def test_a_port_whose_write_spins_on_a_full_ring_hangs_those_edges(tmp_path):
    wrong = ("class _Spins(_RingIO):\n    def write(self, buf):\n        n = self._r.write(buf)\n"
             "        while n < len(buf):\n            pass\n        return n\n_port.RingIO = _Spins\n")
    results = _run(tmp_path, wrong, "RingIO.write.edge.full.buf.*", timeout_s=3)
    hung = {k for k, r in results.items() if r.outcome == "timeout"}
    assert {"RingIO.write.edge.full.buf.one_byte", "RingIO.write.edge.full.buf.one_bytearray"} <= hung
    assert "RingIO.write.edge.full.buf.empty_bytes" not in hung  # nothing to write: it returns
    assert all(r.outcome in ("timeout", "observed") for r in results.values())
    # the control: on the ring with room, the same wrong write returns
    spare = _run(tmp_path, wrong, "RingIO.write.edge.buf.one_byte", timeout_s=3)
    assert spare["RingIO.write.edge.buf.one_byte"].outcome == "observed"


def test_the_reproducer_a_case_records_is_the_call_alone_and_does_what_the_case_observed(tmp_path):
    from mpconform.reports.findings import reproducer_in
    from mpconform.runners.plugins.unix import find_micropython

    program = (ROOT / "suites" / "tests" / "RingIO.read.edge.nbytes.one.py").read_text()
    plain = reproducer_in(program)
    assert plain is not None and "try" not in plain and "r.read(1)" in plain
    script = tmp_path / "plain.py"
    script.write_text(plain)
    done = subprocess.run([find_micropython(), str(script)], capture_output=True, text=True, timeout=30)
    assert done.stdout == "b'a'\n"  # the case's observation on this port: returned b'a'


def test_a_batch_is_cut_at_its_markers_and_the_case_it_ended_in_is_not_believed():
    from mpconform.runners.run.batch import END, MARK, split

    out = f"{MARK}a\nedge x: returned 1\nusable 3\n{MARK}b\nedge y: ret"
    parts, running, ended = split(out, ["a", "b", "c"])
    assert parts == {"a": "edge x: returned 1\nusable 3\n"} and running == "b" and not ended
    parts, running, ended = split(out + f"urned 2\nusable 3\n{END}\n", ["a", "b"])
    assert parts["b"] == "edge y: returned 2\nusable 3\n" and running is None and ended


def test_batched_cases_give_what_each_gives_alone(tmp_path):
    # the same cases, batched (the unix runner) and one by one (through the pytest plugin's
    # path, run_one), observe the same things
    from mpconform.runners.run.harness import run_one

    suite = Suite.load(ROOT / "suites" / "unix")
    tests = suite.tests(lambda t: t.id.startswith("RingIO.read.edge.") or t.id.startswith("kbd_intr.edge."))
    with UnixRunner({}) as runner:
        batched = run_suite(suite, runner, tests, jobs=2, timeout_s=10).results
        alone = {t.id: run_one(suite, t, runner, 10) for t in tests}
    assert {k: (r.outcome, r.detail) for k, r in batched.items()} == {k: (r.outcome, r.detail) for k, r in alone.items()}


def test_ports_that_differ_at_an_edge_show_it_in_compare_and_the_matrix_never_as_a_failure(tmp_path):
    # Two real runs of the unix port; in the second a prelude makes read() of a negative
    # count return nothing (the docs leave negative counts open: an observation changes).
    prelude = tmp_path / "other.py"
    prelude.write_text(FAITHFUL + "\nclass _Other(_RingIO):\n    def read(self, *args):\n"
                       "        if args and args[0] is not None and type(args[0]) is int and args[0] < 0:\n"
                       "            return b''\n        return self._r.read(*args)\n_port.RingIO = _Other\n")
    runs = {}
    for name, extra in (("one", []), ("other", ["--prelude", str(prelude)])):
        runs[name] = tmp_path / f"{name}.json"
        done = subprocess.run([sys.executable, "-m", "mpconform.cli", "run", "unix", "-k", "RingIO.read.edge.*",
                               *extra, "--json", str(runs[name]), "--junit", str(tmp_path / f"{name}.xml")],
                              cwd=ROOT, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stdout + done.stderr
    compare = subprocess.run([sys.executable, "-m", "mpconform.cli", "compare", str(runs["one"]), str(runs["other"])],
                             cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert compare.returncode == 0, compare.stdout  # a changed observation is no regression
    assert "CHANGED    RingIO.read.edge.nbytes.minus_one: observed: returned b'abc' -> observed: returned b''" \
        in compare.stdout
    # the matrix: one row where the ports did different things, with what each did
    import json

    one = json.loads(runs["one"].read_text())
    other = json.loads(runs["other"].read_text())
    other["port"] = "unix-other"
    runs["other"].write_text(json.dumps(other))
    report = subprocess.run([sys.executable, "-m", "mpconform.cli", "report", str(runs["one"]), str(runs["other"])],
                            cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert report.returncode == 0, report.stderr
    rows = [line for line in report.stdout.splitlines() if line.startswith("| `RingIO.read.edge.")]
    assert rows == ["| `RingIO.read.edge.nbytes.minus_one` | 🔎 returned b'abc' | 🔎 returned b'' |"], rows
    assert one["summary"]["observed"] == len(one["results"]) and one["summary"]["fail"] == 0
    junit = (tmp_path / "one.xml").read_text()
    assert "<failure" not in junit and "<error" not in junit
    assert "<system-out>observed: returned b'abc'</system-out>" in junit


def test_a_port_that_leaves_the_heap_locked_after_a_call_fails_that_edge(tmp_path):
    # the oracle's "usable afterwards" includes an allocation: a call that returns with the
    # heap still locked fails there, whatever the call itself returned
    wrong = ("def _kbd_intr(c):\n    _real.kbd_intr(c) if type(c) is int and -1 <= c <= 255 else None\n"
             "    if c == -1:\n        _real.heap_lock()\n_port.kbd_intr = _kbd_intr\n")
    results = _run(tmp_path, wrong, "kbd_intr.edge.chr.*")
    assert results["kbd_intr.edge.chr.value_m1"].outcome == "fail"
    assert "usable 3" in results["kbd_intr.edge.chr.value_m1"].detail  # the line that did not come
    assert {k: r.outcome for k, r in results.items() if k != "kbd_intr.edge.chr.value_m1"} == \
        {k: "observed" for k in results if k != "kbd_intr.edge.chr.value_m1"}


def test_where_the_docs_define_the_result_a_port_returning_otherwise_fails(tmp_path):
    # read(nbytes) reads at most nbytes: a read that ignores its count breaks the edges where
    # the ring holds more than asked (0 and 1 of the 3 bytes the case's ring holds)
    wrong = "class _Greedy(_RingIO):\n    def read(self, *args):\n        return self._r.read()\n_port.RingIO = _Greedy\n"
    results = _run(tmp_path, wrong, "RingIO.read.edge.nbytes.*")
    assert results["RingIO.read.edge.nbytes.zero"].outcome == "fail"
    assert results["RingIO.read.edge.nbytes.one"].outcome == "fail"
    assert "NOT as documented: a bytes object of at most nbytes bytes" in results["RingIO.read.edge.nbytes.one"].detail
    # a count the docs do not define (negative, None) is still only observed, on this port too
    assert results["RingIO.read.edge.nbytes.minus_one"].outcome == "observed"
    faithful = _run(tmp_path, "", "RingIO.read.edge.nbytes.one")
    assert faithful["RingIO.read.edge.nbytes.one"].outcome == "observed"
    assert faithful["RingIO.read.edge.nbytes.one"].detail == "returned b'a' (as documented)"
