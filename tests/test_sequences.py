"""Model-based sequences (spec/models, generator/sequences.py): the same seed gives the
same program and the same sequence everywhere, a wrong port fails with the shrunk
sequence, and a bad model file is one clear line."""

from __future__ import annotations

import fnmatch
import re
import subprocess
import sys
import types

import pytest

from mpconform.generator.render import render_tests
from mpconform.generator.sequences import EXPECT
from mpconform.generator.spec import load_spec
from mpconform.runners.plugins.unix import find_micropython
from tests.conftest import ROOT, snapshot
from tests.test_wrong_ports import full_suite  # noqa: F401 (a fixture)
from tests.wrong_ports.catalogue import WRONG_PORTS
from tests.wrong_ports.unix_runs import run_with_prelude

MODEL_IDS = re.compile(r"^[A-Za-z_]+\.model\.seed\d+$")


def _models(spec) -> dict:
    return {b.id: b for b in spec.behaviours if MODEL_IDS.match(b.id)}


def test_every_model_seed_is_a_behaviour_with_its_apis_requirements():
    spec = load_spec(ROOT)
    models = _models(spec)
    assert {"RingIO.model.seed1", "heap_lock.model.seed1", "schedule.model.seed1"} <= set(models)
    apis = {a.name: a for a in spec.apis}
    for b in models.values():
        assert b.expect == [EXPECT] and b.source.startswith("spec/models/")
        assert set(apis[b.api].requires) <= set(b.requires)
    assert "time_sleep_ms" in models["schedule.model.seed1"].requires  # the model's own, added


def test_same_seed_gives_byte_identical_programs_across_compiles():
    first, second = _models(load_spec(ROOT)), _models(load_spec(ROOT))
    assert {k: b.program for k, b in first.items()} == {k: b.program for k, b in second.items()}
    committed = render_tests(load_spec(ROOT))
    for bid in first:
        assert (ROOT / "suites" / "tests" / f"{bid}.py").read_bytes() == committed[f"suites/tests/{bid}.py"]
    # seeds differ only in their seed: the rest of the program is shared
    a, b = first["RingIO.model.seed1"].program, first["RingIO.model.seed2"].program
    assert a != b and a.replace("seed 1", "seed 2").replace("_s = [1]", "_s = [2]") == b


def _sequence_program(program: str) -> str:
    """The program up to its run, printing the configuration and the sequence instead."""
    head = program[:program.index("\nf = _run(c, ops)\n")]
    return head + "\nprint(describe(c), repr(ops))\n"


@pytest.mark.parametrize("bid", ["RingIO.model.seed1", "heap_lock.model.seed2", "schedule.model.seed1"])
def test_the_sequence_is_the_same_on_micropython_and_cpython(bid, tmp_path):
    # The PRNG is the program's own, in small ints: CPython, which shares no code with
    # the port, builds the same sequence from the same seed.
    source = _sequence_program(_models(load_spec(ROOT))[bid].program)
    path = tmp_path / "seq.py"
    path.write_text(source)
    on_port = subprocess.run([find_micropython(), str(path)], capture_output=True, text=True, timeout=30)
    assert on_port.returncode == 0, on_port.stderr
    namespace: dict = {"__name__": "seq"}
    saved = sys.modules.get("micropython")
    sys.modules["micropython"] = types.ModuleType("micropython")  # imported, never called here
    try:
        out = []
        namespace["print"] = lambda *a: out.append(" ".join(map(str, a)))
        exec(compile(source, str(path), "exec"), namespace)
    finally:
        if saved is None:
            del sys.modules["micropython"]
        else:
            sys.modules["micropython"] = saved
    assert on_port.stdout.strip() == out[0]
    assert out[0].count("(") >= 8  # a real sequence (every model has 8 or more operations)


MODEL_WRONG_PORTS = sorted(name for name, port in WRONG_PORTS.items()
                           if all(MODEL_IDS.match(bid) for bid in port["must_fail"]))


@pytest.mark.parametrize("name", MODEL_WRONG_PORTS)
def test_wrong_port_fails_with_the_shrunk_sequence(name, full_suite, tmp_path):  # noqa: F811
    port = WRONG_PORTS[name]
    results = run_with_prelude(full_suite, tmp_path, port["code"],
                               select=lambda t: any(fnmatch.fnmatchcase(t.id, p) for p in port["select"]))
    for bid in port["must_fail"]:
        result = results[bid]
        assert result.outcome == "fail", (bid, result.detail)
        found = re.search(r"minimal failing sequence \((\d+) of (\d+) operations\): ([^\n]*)", result.detail)
        assert found, result.detail
        shrunk, original = int(found.group(1)), int(found.group(2))
        assert 1 <= shrunk < original, found.group(0)
        assert found.group(3).count("(") >= shrunk  # each operation shown with its arguments
        assert "diverges at " in result.detail


def test_wrong_model_ports_cover_every_model():
    spec = load_spec(ROOT)
    broken = {bid for name in MODEL_WRONG_PORTS for bid in WRONG_PORTS[name]["must_fail"]}
    assert broken == set(_models(spec))


GOOD_MODEL = """\
models:
  - api: heap_lock
    cites: {section: "heap_lock()", quote: "the lock-depth will increase"}
    claim: A tiny model.
    operations:
      - {name: lock, doc: "heap_lock()"}
    generate: |
      def config(rand):
          return ()
      def config_ok(c):
          return 1
      def describe(c):
          return 'x'
      def operation(rand, c):
          return ('lock',)
    reference: |
      class Model:
          def __init__(self, c):
              pass
          def allows(self, op):
              return False
          def lock(self):
              return None
    subject: |
      class Subject:
          def __init__(self, c):
              pass
          def lock(self):
              return None
          def close(self):
              pass
    seeds: [7]
    length: 3
"""

MODEL_CASES = {
    "unknown_api": ("api: heap_lock", "api: heap_lox", 2, r"models\[0\]\.api: unknown api 'heap_lox'"),
    "missing_method": ("          def close(self):\n              pass\n", "", 25,
                       r"models\[0\]\.subject: class Subject has no method close"),
    "operation_not_in_model": ("          def lock(self):\n              return None\n", "", 17,
                               r"models\[0\]\.reference: class Model has no method lock"),
    "does_not_parse": ("return ('lock',)", "return ('lock',", 15, r"models\[0\]\.generate: does not parse"),
    "unknown_feature": ("    seeds: [7]", "    requires: [warp_drive]\n    seeds: [7]", 32,
                        r"models\[0\]\.requires\[0\]: unknown feature 'warp_drive'"),
    "bad_seed": ("seeds: [7]", "seeds: [0]", 32, r"models\[0\]\.seeds\[0\]: 0 is less than the minimum of 1"),
    "f_string": ("return 'x'", "return f'x'", 13, r"models\[0\]\.generate: uses f-strings"),
    "duplicate_id": ("seeds: [7]", "seeds: [1]", 32, r"duplicate behaviour id 'heap_lock\.model\.seed1'"),
}


@pytest.mark.parametrize("case", sorted(MODEL_CASES))
def test_malformed_model_reports_file_line_field_and_writes_nothing(case, project_copy, cli):
    old, new, line, pattern = MODEL_CASES[case]
    assert old in GOOD_MODEL
    (project_copy / "spec" / "models" / "zz.yaml").write_text(GOOD_MODEL.replace(old, new, 1))
    before = snapshot(project_copy)
    status, out, err = cli("--root", project_copy, "compile")
    assert status == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"spec/models/zz.yaml:{line}: "), lines[0]
    assert re.search(pattern, lines[0]), lines[0]
    assert snapshot(project_copy) == before
    assert out == ""


def test_the_good_model_compiles(project_copy, cli):
    (project_copy / "spec" / "models" / "zz.yaml").write_text(GOOD_MODEL)
    status, _, err = cli("--root", project_copy, "compile")
    assert status == 0, err
    assert (project_copy / "suites" / "tests" / "heap_lock.model.seed7.py").is_file()
