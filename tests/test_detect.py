"""Feature detection: the probe program on the real unix port, a build without the
micropython module, probes that hang, and what a run does with the answers."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest
import yaml

from mpconform.core.manifest import Capabilities, FeatureState, merge_probe, plan, profile_features
from mpconform.core.model import FeatureDecl, FeatureSetting, InteractStep, TestEntry
from mpconform.runners.plugins.qemu import QemuRunner
from mpconform.runners.plugins.unix import UnixRunner, find_micropython
from mpconform.runners.run.harness import Suite
from mpconform.runners.run.probe import LIMIT, Answer, FeatureProbe, program, run_probe
from tests.qemukit import MICROBIT
from tests.suitekit import fake_port


def _wrapper(tmp_path: Path, sed: str) -> str:
    """A `micropython` that runs each script after a sed edit: a build that differs."""
    return fake_port(tmp_path, f'tmp="$(mktemp -d)"\ntrap \'rm -rf "$tmp"\' EXIT\n'
                     f'sed -e {shlex.quote(sed)} "$1" > "$tmp/$1"\ncd "$tmp" && {find_micropython()} "$1"\n',
                     "micropython-variant")


@pytest.fixture
def no_module_binary(tmp_path) -> str:
    # Every `import micropython` names a module that does not exist, as on a build
    # configured without MICROPY_PY_MICROPYTHON (upstream's minimal variant).
    return _wrapper(tmp_path, "s/import micropython\\b/import no_micropython_module_here/g")


def test_detect_reports_each_feature_with_evidence(cli, root):
    status, out, _ = cli("--root", root, "detect", "unix", "--json")
    assert status == 0
    doc = json.loads(out)
    features = doc["features"]
    spec = json.loads((root / "suites" / "unix" / "manifest.json").read_text())["features"]
    assert set(features) == set(spec)  # every feature of the spec gets an answer
    assert features["micropython_module"]["enabled"] is True
    assert features["ringio"] == {"enabled": True, "source": "probe", "evidence": "micropython.RingIO"}
    # Configured off in the PyPI build: said so, with what the probe saw.
    assert features["heap_locked"]["enabled"] is False
    assert "32 bytes" in features["gc_32bit_blocks"]["evidence"]
    assert features["stack_check"]["enabled"] is True  # decided from what mem_info() printed
    assert doc["implementation"]["name"] == "micropython"


def test_probe_program_uses_no_syntax_small_builds_lack(root):
    import ast

    probes = Suite.load(root / "suites" / "unix").feature_probes()
    assert any(p.kind == LIMIT for p in probes)
    tree = ast.parse(program(probes))
    banned = (ast.JoinedStr, ast.Slice, ast.NamedExpr)
    assert not [type(n).__name__ for n in ast.walk(tree) if isinstance(n, banned)]


def test_hanging_probe_is_unknown_and_the_others_still_answer(tmp_path):
    probes = [
        FeatureProbe("before", "return True, 'first'"),
        FeatureProbe("hangs", "while True:\n    pass"),
        FeatureProbe("after", "return False, 'third'"),
    ]
    with UnixRunner({}) as runner:
        report = run_probe(runner, tmp_path, probes, timeout_s=1.0)
    assert report.features["before"] == Answer(True, "first")
    assert report.features["after"] == Answer(False, "third")
    assert report.features["hangs"].enabled is None
    assert "stopped the port" in report.features["hangs"].evidence
    assert report.identity["name"] == "micropython"


def test_probe_that_raises_cannot_tell_and_import_error_means_absent(tmp_path):
    probes = [
        FeatureProbe("raises", "raise OSError(5)"),
        FeatureProbe("missing_module", "import no_such_module_anywhere\nreturn True"),
        FeatureProbe("exits", "raise SystemExit(3)"),
        FeatureProbe("by_output", "print('limit 100 out of 200')", r"\d+ out of \d+"),
        FeatureProbe("by_output_absent", "print('nothing here')", r"\d+ out of \d+"),
    ]
    with UnixRunner({}) as runner:
        report = run_probe(runner, tmp_path, probes, timeout_s=5.0)
    f = report.features
    assert f["raises"].enabled is None and "OSError" in f["raises"].evidence
    assert f["missing_module"].enabled is False and "ImportError" in f["missing_module"].evidence
    assert f["exits"].enabled is None
    assert f["by_output"].enabled is True
    assert f["by_output_absent"].enabled is False


def test_build_without_micropython_module_skips_everything_with_detect(cli, root, no_module_binary, tmp_path):
    out_json = tmp_path / "r.json"
    status, out, _ = cli("--root", root, "run", "unix", "--micropython", no_module_binary, "--detect", "-j", "2",
                         "--json", out_json)
    assert status == 0, out
    assert "has no micropython module" in out
    doc = json.loads(out_json.read_text())
    assert doc["features"]["micropython_module"] == {
        "enabled": False, "source": "probe", "evidence": doc["features"]["micropython_module"]["evidence"]}
    assert {r["outcome"] for r in doc["results"]} == {"skip"}
    assert all("micropython_module absent" in r["detail"] for r in doc["results"])
    assert doc["detect"] is True


def test_without_detect_the_disagreement_is_printed_and_recorded(cli, root, no_module_binary, tmp_path):
    out_json = tmp_path / "r.json"
    status, out, _ = cli("--root", root, "run", "unix", "--micropython", no_module_binary, "-k", "stack_use.*",
                         "--json", out_json)
    assert status == 1  # the profile says the module is there: its behaviours fail
    assert "micropython_module: profile says present, the port's probe says absent" in out
    doc = json.loads(out_json.read_text())
    assert doc["features"]["micropython_module"]["source"] == "profile"
    assert any("micropython_module" in note for note in doc["feature_notes"])
    failed = [r for r in doc["results"] if r["outcome"] == "fail"]
    assert failed and all("needs: " in r["detail"] and "MICROPY_PY_MICROPYTHON=1" in r["detail"] for r in failed)


def test_drift_port_runs_on_a_build_without_the_module(cli, root, no_module_binary):
    status, out, err = cli("--root", root, "drift", "port", "unix", "--micropython", no_module_binary)
    assert status in (0, 1), err
    assert "Traceback" not in out + err


def test_detect_on_a_port_that_cannot_start_exits_2(cli, root, tmp_path):
    status, _, err = cli("--root", root, "detect", "unix", "--micropython", tmp_path / "nothing-here")
    assert status == 2
    assert "micropython binary not found" in err


def test_detect_write_records_answers_and_keeps_comments(cli, project_copy, no_module_binary):
    profile = project_copy / "ports" / "unix" / "port.yaml"
    before = profile.read_text()
    status, _, err = cli("--root", project_copy, "detect", "unix", "--micropython", no_module_binary, "--write")
    assert status == 0, err
    after = profile.read_text()
    assert "# The unix port, 'standard' variant" in after  # comments kept
    setting = yaml.safe_load(after)["features"]["micropython_module"]
    assert setting["enabled"] is False and setting["reason"].startswith("detected by `mpconform detect`")
    assert after != before
    manifest = json.loads((project_copy / "suites" / "unix" / "manifest.json").read_text())
    assert all(t["status"] == "skip" for t in manifest["tests"])  # recompiled


def test_status_decided_from_probed_features():
    declared = {"a": FeatureDecl(), "b": FeatureDecl(implies=("a",))}
    profile = profile_features({"a": FeatureDecl(profile=FeatureSetting(False, "said so")), "b": FeatureDecl()})
    found = merge_probe(profile, {"a": Answer(True, "a exists"), "b": Answer(None, "could not tell")}, declared)
    assert found["a"] == FeatureState(True, "probe", "a exists")
    assert found["b"].enabled is True and found["b"].source == "profile"
    absent = merge_probe(profile, {"a": Answer(False, "no a"), "b": Answer(True, "b exists")}, declared)
    assert absent["b"].enabled is False and "needs a" in absent["b"].evidence
    every = Capabilities()
    test = TestEntry("x.y", requires=("b",))
    assert plan(test, found, {}, every, None, {}).kind == "run"
    assert plan(test, absent, {}, every, None, {}).kind == "skip"
    interactive = TestEntry("x.z", interact=(InteractStep("ready", "\x03"),))
    skipped = plan(interactive, found, {}, Capabilities(can_interact=False, runner_name="webassembly"), None, {})
    assert skipped.kind == "skip" and "webassembly runner cannot" in skipped.reason
    later = TestEntry("x.w", since="v1.24.0")
    assert plan(later, found, {}, every, "v1.22.0", {}).kind == "skip"
    assert plan(later, found, {}, every, "v1.24.0", {}).kind == "run"


def test_unix_runner_delivers_ctrl_c_as_a_terminal_would(tmp_path):
    script = tmp_path / "t.py"
    script.write_text(
        # the marker is printed inside the try: an interrupt sent on seeing it is always caught
        "import time\ntry:\n    print('ready')\n    for i in range(300):\n        time.sleep_ms(10)\n"
        "    print('no interrupt')\nexcept KeyboardInterrupt:\n    print('KeyboardInterrupt')\n"
        "import sys\nprint(repr(sys.stdin.read(2)))\n"
    )
    with UnixRunner({}) as runner:
        ex = runner.execute(script, 5.0, interact=(("ready", "\x03"), ("KeyboardInterrupt", "ab")))
    assert ex.output.splitlines() == ["ready", "KeyboardInterrupt", "'ab'"]
    assert ex.exit_code == 0


@pytest.mark.parametrize(
    ("probe", "message"),
    [
        ("return f'{sys.platform}' != ''", "probe uses f-strings, which small builds cannot compile"),
        ("return sys.platform[:2] == 'li'", "probe uses slices, which small builds cannot compile"),
        ("return (", "probe does not parse"),
    ],
)
def test_a_probe_small_builds_cannot_compile_is_a_file_line_error(cli, project_copy, probe, message):
    path = project_copy / "spec" / "micropython.yaml"
    text = path.read_text()
    old = "      return hasattr(micropython, 'RingIO'), 'micropython.RingIO'\n"
    assert old in text
    path.write_text(text.replace(old, f"      {probe}\n"))
    line = text[: text.index(old)].count("\n")
    status, _, err = cli("--root", project_copy, "compile")
    assert status == 2
    first = err.strip().splitlines()[0]
    assert first.startswith("spec/micropython.yaml:") and "features.ringio.probe" in first and message in first, err
    assert int(first.split(":")[1]) in (line, line + 1), (first, line)


def test_implied_absence_answers_without_running_and_unknown_spreads(tmp_path):
    probes = [  # listed before what they imply: the probe runs them after it
        FeatureProbe("needs_absent", "raise OSError('must not run')", implies=("absent",)),
        FeatureProbe("needs_unknown", "return True, 'ran'", implies=("unknown",)),
        FeatureProbe("needs_present", "return True, 'ran'", implies=("present",)),
        FeatureProbe("absent", "return False, 'not here'"),
        FeatureProbe("unknown", "raise OSError(5)"),
        FeatureProbe("present", "return True, 'here'"),
    ]
    with UnixRunner({}) as runner:
        f = run_probe(runner, tmp_path, probes, timeout_s=5.0).features
    assert f["needs_absent"] == Answer(False, "needs absent, which is absent")
    assert f["needs_unknown"].enabled is None and "needs unknown" in f["needs_unknown"].evidence
    assert f["needs_present"] == Answer(True, "ran")


def test_a_probe_out_of_memory_beside_others_is_sent_again_alone(tmp_path):
    # `_known` holds the answers given so far in a program of several probes (a probe sent
    # alone has none): crowded, it "runs out of heap".
    crowded = "if globals().get('_known'):\n    raise MemoryError('crowded')\nreturn True, 'alone'"
    probes = [FeatureProbe("first", "return True, 'first'"), FeatureProbe("crowded", crowded),
              FeatureProbe("after", "return True, 'after'", implies=("crowded",))]
    with UnixRunner({}) as runner:
        f = run_probe(runner, tmp_path, probes, timeout_s=5.0).features
    assert f["crowded"] == Answer(True, "alone")
    assert f["after"] == Answer(True, "after")  # what depends on it went again too, after it
    with UnixRunner({}) as runner:
        alone = run_probe(runner, tmp_path, [FeatureProbe("always", "raise MemoryError('x')")], timeout_s=5.0)
    assert alone.features["always"].enabled is None and "MemoryError" in alone.features["always"].evidence


def test_a_limit_probe_answers_a_number(tmp_path):
    probes = [
        FeatureProbe("three", "return 3, 'counted three'", kind=LIMIT, up_to=8),
        FeatureProbe("capped", "return UP_TO, 'stopped counting'", kind=LIMIT, up_to=8),
        FeatureProbe("not_a_count", "return 'many'", kind=LIMIT, up_to=8),
        FeatureProbe("nothing_to_measure", "return 1", kind=LIMIT, up_to=8, implies=("gone",)),
        FeatureProbe("gone", "return False, 'absent'"),
    ]
    with UnixRunner({}) as runner:
        f = run_probe(runner, tmp_path, probes, timeout_s=5.0).features
    assert f["three"] == Answer(True, "counted three", value=3)
    assert f["capped"] == Answer(True, "stopped counting", value=8, at_least=True)
    assert f["not_a_count"].value is None and "not a count" in f["not_a_count"].evidence
    assert f["nothing_to_measure"].value is None and "needs gone" in f["nothing_to_measure"].evidence


def test_tracebacks_are_read_on_the_host_under_the_native_emitter(cli, root):
    # -X emit=native: plain code has no line numbers, a @micropython.bytecode function has.
    suite = Suite.load(root / "suites" / "unix")
    wanted = [p for p in suite.feature_probes() if p.name in ("bytecode", "source_line")]
    answers = {}
    for args in ([], ["-X", "emit=native"]):
        import tempfile

        with UnixRunner({"args": args}) as runner, tempfile.TemporaryDirectory() as tmp:
            answers[bool(args)] = run_probe(runner, Path(tmp), wanted, timeout_s=10.0).features
    assert answers[False]["bytecode"].enabled is True and answers[False]["source_line"].enabled is True
    assert answers[True]["bytecode"].enabled is False, answers[True]["bytecode"]
    assert answers[True]["source_line"].enabled is True


def test_a_traceback_without_line_numbers_cannot_tell_the_emitter(tmp_path):
    # What the bytecode probe prints on a build without MICROPY_ENABLE_SOURCE_LINE.
    probe = FeatureProbe("bytecode", "print('mpconform-forced')\nprint('  File \"<string>\", in f')\n"
                         "print('mpconform-plain')\nprint('  File \"<stdin>\", in _show')",
                         r"mpconform-plain\n(.*\n)*.*, line \d+", output_tells=r"mpconform-forced\n(.*\n)*.*, line \d+(.*\n)*mpconform-plain")
    with UnixRunner({}) as runner:
        f = run_probe(runner, tmp_path, [probe], timeout_s=5.0).features
    assert f["bytecode"].enabled is None and "nothing that tells" in f["bytecode"].evidence


@pytest.mark.skipif(QemuRunner.unavailable_reason(MICROBIT) is not None,
                    reason="needs qemu-system-arm and Debian's firmware-microbit-micropython (mpconform install qemu)")
def test_detect_decides_every_feature_on_a_10_kb_heap(cli, root):
    status, out, err = cli("--root", root, "detect", "qemu-microbit", "--json")
    assert status == 0, err
    doc = json.loads(out)
    unknown = {n: f["evidence"] for n, f in doc["features"].items() if f["enabled"] is None}
    assert unknown == {}
    f = doc["features"]
    # const() is a run-time function there (the profile says so): the parser takes const(y)
    assert f["const"]["enabled"] is False and "const(y)" in f["const"]["evidence"]
    assert f["const_tuple"]["evidence"] == "needs const, which is absent"
    assert f["scheduler_static_nodes"]["evidence"] == "needs scheduler, which is absent"
    assert f["source_line"]["enabled"] is True and f["bytecode"]["enabled"] is True
    assert doc["limits"]["schedule_queue"]["value"] is None  # no scheduler: nothing to measure
