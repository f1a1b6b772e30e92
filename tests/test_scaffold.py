"""C scaffolding from the spec: golden files, hostile spec text, the spec checks,
and the `scaffold` / `bringup` commands (the latter on a real run of the unix port)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from mpconform.cli import main
from mpconform.core.errors import SourceErrors
from mpconform.generator import scaffold
from mpconform.generator.compiler import build
from mpconform.generator.profiles import Profile
from mpconform.generator.spec import load_spec

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden" / "scaffold"
UPDATE = os.environ.get("MPCONFORM_UPDATE_GOLDEN") == "1"
needs_gcc = pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc not installed: the C checks need a compiler")


def _copy_root(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    shutil.copytree(ROOT / "spec", root / "spec")
    shutil.copytree(ROOT / "ports", root / "ports", ignore=shutil.ignore_patterns("scaffold"))
    return root


def _golden_files() -> dict[str, bytes]:
    spec = load_spec(ROOT)
    disabled = scaffold.skeleton_disabled(spec, None, ["kbd_intr", "float"])
    files = {f"skeleton/{k}": v for k, v in scaffold.render_skeleton(spec, "golden", disabled).items()}
    profile = Profile(port="golden-port", description="a profile for the golden files", runner="unix",
                      runner_options={}, disabled={"heap_locked": "not built", "scheduler": "no IRQs yet"},
                      expectations={}, source="tests/test_scaffold.py")
    for path, content in scaffold.render_scaffold(spec, profile).items():
        files["profile/" + path.rsplit("/", 1)[1]] = content
    return files


def test_golden_files():
    files = _golden_files()
    if UPDATE:
        shutil.rmtree(GOLDEN, ignore_errors=True)
        for rel, content in files.items():
            (GOLDEN / rel).parent.mkdir(parents=True, exist_ok=True)
            (GOLDEN / rel).write_bytes(content)
    on_disk = {p.relative_to(GOLDEN).as_posix() for p in GOLDEN.rglob("*") if p.is_file()}
    assert on_disk == set(files), "golden files differ in name; rerun with MPCONFORM_UPDATE_GOLDEN=1 after checking"
    for rel, content in files.items():
        assert (GOLDEN / rel).read_bytes() == content, f"{rel} differs from its golden copy (MPCONFORM_UPDATE_GOLDEN=1)"
    assert files == _golden_files(), "rendering is not deterministic"


def test_scaffold_follows_the_profile():
    files = _golden_files()
    header = files["profile/mpconfigport_micropython.h"].decode()
    assert "#define MICROPY_PY_MICROPYTHON_HEAP_LOCKED (0)" in header
    assert "#define MICROPY_ENABLE_SCHEDULER (0)" in header
    assert "#define MICROPY_KBD_EXCEPTION (1)" in header
    # scheduler_static_nodes implies scheduler, so it is off too, with the reason said.
    assert "#define MICROPY_SCHEDULER_STATIC_NODES (0)" in header
    stubs = files["profile/mphalport_micropython.c"].decode()
    assert "mpconform-stub: mp_hal_set_interrupt_char" in stubs
    assert "mpconform-stub: mp_event_handle_nowait" not in stubs  # only schedule() needs it, and it is off


HOSTILE = "evil */ #define MICROPY_PWNED (1) /* \" \\ ??/\n#error injected\n{{ 7*7 }} \u00e9\u0001"


def _scaffold_outputs(root: Path) -> dict[str, str]:
    _, _, outputs = build(root)
    return {k: v.decode("ascii") for k, v in outputs.files.items() if k.startswith("ports/unix/scaffold/")}


def _inject(root: Path, rel: str, old: str, text: str) -> None:
    path = root / rel
    source = path.read_text(encoding="utf-8")
    assert source.count(old) == 1, f"{old!r} not found once in {rel}"
    path.write_text(source.replace(old, old.split(":")[0] + ": " + json.dumps(text)), encoding="utf-8")


def _code_of(tmp_path: Path, text: str) -> str:
    path = tmp_path / "x.c"
    path.write_text(text, encoding="ascii")
    res = subprocess.run(["gcc", "-std=c99", "-trigraphs", "-fpreprocessed", "-dD", "-E", "-P", str(path)],
                         capture_output=True, text=True, check=True)
    return "\n".join(line.rstrip() for line in res.stdout.splitlines() if line.strip())


def _macros(tmp_path: Path, header: str) -> set[str]:
    path = tmp_path / "h.c"
    path.write_text(header, encoding="ascii")
    res = subprocess.run(["gcc", "-std=c99", "-trigraphs", "-Wall", "-Werror", "-dM", "-E", str(path)],
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    base = subprocess.run(["gcc", "-std=c99", "-dM", "-E", "-"], input="", capture_output=True, text=True).stdout
    return set(res.stdout.splitlines()) - set(base.splitlines())


@needs_gcc
def test_hostile_spec_text_stays_in_comments(tmp_path):
    benign_root = _copy_root(tmp_path / "a")
    hostile_root = _copy_root(tmp_path / "b")
    for root, text in ((benign_root, "plain"), (hostile_root, HOSTILE)):
        _inject(root, "spec/micropython.yaml", "description: micropython.heap_locked() exists.", text)
        _inject(root, "spec/micropython.yaml", "description: micropython.kbd_intr() exists and the port raises "
                "KeyboardInterrupt on the interrupt character.", text)
        _inject(root, "spec/apis/kbd_intr.yaml", "description: Port HAL function that records the interrupt "
                "character (-1 meaning none) for the stdin/UART receive path.", text)
    benign, hostile = _scaffold_outputs(benign_root), _scaffold_outputs(hostile_root)
    assert set(benign) == set(hostile) and benign != hostile
    for rel in benign:
        assert _code_of(tmp_path, hostile[rel]) == _code_of(tmp_path, benign[rel]), rel
        assert "MICROPY_PWNED" not in _code_of(tmp_path, hostile[rel])
    header = "ports/unix/scaffold/mpconfigport_micropython.h"
    macros = _macros(tmp_path, hostile[header])
    assert macros == _macros(tmp_path, benign[header])
    assert "#define MICROPY_KBD_EXCEPTION (1)" in macros


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("{name: MICROPY_PY_MICROPYTHON_RINGIO, value: 1,", "{name: MICROPY_PY_MICROPYTHON_RINGIO, value: '1; int x',",
         "macro value '1; int x' must be an integer or one C identifier"),
        ("{name: MICROPY_PY_MICROPYTHON_HEAP_LOCKED, value: 1,", "{name: MICROPY_ENABLE_GC, value: 2,",
         "MICROPY_ENABLE_GC is 2 here but 1 in feature 'gc'"),
    ],
)
def test_spec_checks_name_file_and_line(tmp_path, capsys, old, new, message):
    root = _copy_root(tmp_path)
    path = root / "spec" / "micropython.yaml"
    text = path.read_text()
    assert text.count(old) == 1
    path.write_text(text.replace(old, new))
    line = text[: text.index(old)].count("\n") + 1
    with pytest.raises(SourceErrors) as exc:
        build(root)
    assert [str(e) for e in exc.value.errors] == [str(exc.value.errors[0])]
    assert str(exc.value.errors[0]).startswith(f"spec/micropython.yaml:{line}:")
    assert message in str(exc.value.errors[0])


def test_unknown_hook_is_refused(tmp_path):
    root = _copy_root(tmp_path)
    path = root / "spec" / "apis" / "kbd_intr.yaml"
    path.write_text(path.read_text().replace("- hook: mp_hal_set_interrupt_char", "- hook: mp_hal_made_up"))
    with pytest.raises(SourceErrors, match=r"spec/apis/kbd_intr.yaml:\d+: .*hook 'mp_hal_made_up' has no C role"):
        build(root)


def test_scaffold_command_writes_port_and_profile(tmp_path, capsys):
    from mpconform.generator.compiler import build_profile

    root = _copy_root(tmp_path)
    out = tmp_path / "newport"
    assert main(["--root", str(root), "scaffold", "newport", "--out", str(out), "--disable", "ringio"]) == 0
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["Makefile", "main.c", "mpconfigport.h", "mphalport.h", "mphalport.c", "qstrdefsport.h",
         "mpconfigport_micropython.h", "port.yaml"])
    assert "#define MICROPY_PY_MICROPYTHON_RINGIO (0)" in (out / "mpconfigport_micropython.h").read_text()
    assert not (root / "ports" / "newport").exists()  # the profile is the maintainer's, beside the sources
    assert not (root / "suites").exists()  # nothing of this project was regenerated
    build_profile(root, out / "port.yaml", tmp_path / "cache")
    manifest = json.loads((tmp_path / "cache" / "suites" / "newport" / "manifest.json").read_text())
    skipped = {t["id"] for t in manifest["tests"] if t["status"] == "skip"}
    spec = load_spec(root)
    no_skeleton = {name for name, f in spec.features.items() if f.skeleton}
    expected = {b.id for b in spec.behaviours if b.api.startswith("RingIO") or set(b.requires) & no_skeleton}
    assert skipped == expected and any(i.startswith("RingIO") for i in skipped)
    assert manifest["runner"]["options"]["micropython"] == str(out / "build" / "newport")
    capsys.readouterr()
    # A second scaffold would overwrite the maintainer's work: refused without --force.
    assert main(["--root", str(root), "scaffold", "newport", "--out", str(out)]) == 2
    assert "exists" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--disable", "nope"], "unknown feature 'nope'"),
        (["--disable", "compiler"], "feature 'compiler' cannot be disabled"),
        (["--features", "gc,nope"], "unknown feature 'nope'"),
    ],
)
def test_scaffold_bad_arguments_are_one_line(tmp_path, capsys, args, message):
    root = _copy_root(tmp_path)
    assert main(["--root", str(root), "scaffold", "p", "--out", str(tmp_path / "p"), *args]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert not (tmp_path / "p").exists()


def test_bad_port_name(tmp_path, capsys):
    root = _copy_root(tmp_path)
    assert main(["--root", str(root), "scaffold", "Bad-Name", "--out", str(tmp_path / "p")]) == 2
    assert "port name 'Bad-Name'" in capsys.readouterr().err


def test_bringup_names_macro_for_the_unix_ports_skips(tmp_path, capsys):
    """A real run of the PyPI unix port: heap_locked is off in its profile, so bringup
    must name MICROPY_PY_MICROPYTHON_HEAP_LOCKED, and the hooks with their stubs."""
    results = tmp_path / "unix.json"
    assert main(["--root", str(ROOT), "run", "unix", "-k", "heap_lock*", "--json", str(results)]) == 0
    capsys.readouterr()
    assert main(["--root", str(ROOT), "bringup", str(results), "--json"]) == 0
    todo = json.loads(capsys.readouterr().out)
    by_api = {a["api"]: a for a in todo["apis"]}
    assert set(by_api) == {"heap_locked"}  # heap_lock and heap_unlock passed
    macros = [m["name"] for f in by_api["heap_locked"]["features"] for m in f["macros"]]
    assert macros == ["MICROPY_PY_MICROPYTHON_HEAP_LOCKED"]
    assert main(["--root", str(ROOT), "bringup", str(results)]) == 0
    text = capsys.readouterr().out
    assert "heap_locked: 6 skip" in text and "#define MICROPY_PY_MICROPYTHON_HEAP_LOCKED (1)" in text


def test_bringup_lists_stubs_left(tmp_path, capsys):
    root = _copy_root(tmp_path)
    assert main(["--root", str(root), "compile"]) == 0
    doc = {"port": "unix", "results": [{"id": "kbd_intr.disable_returns_none", "outcome": "fail"}]}
    (tmp_path / "r.json").write_text(json.dumps(doc))
    capsys.readouterr()
    assert main(["--root", str(root), "bringup", str(tmp_path / "r.json"), "--json"]) == 0
    hooks = {h["hook"]: h["status"] for h in json.loads(capsys.readouterr().out)["apis"][0]["hooks"]}
    assert hooks["mp_hal_set_interrupt_char"] == "stub"
    # The maintainer implements it and deletes the mark: no longer a stub.
    stub_file = root / "ports" / "unix" / "scaffold" / "mphalport_micropython.c"
    stub_file.write_text(stub_file.read_text().replace("mpconform-stub: mp_hal_set_interrupt_char", "done"))
    assert main(["--root", str(root), "bringup", str(tmp_path / "r.json"), "--json"]) == 0
    hooks = {h["hook"]: h["status"] for h in json.loads(capsys.readouterr().out)["apis"][0]["hooks"]}
    assert hooks["mp_hal_set_interrupt_char"] == "present"


def test_bringup_bad_input_is_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert main(["--root", str(ROOT), "bringup", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"mpconform: {bad}:1: not JSON") and err.count("\n") == 1
    bad.write_text("[]")
    assert main(["--root", str(ROOT), "bringup", str(bad)]) == 2
    assert "not an mpconform results file" in capsys.readouterr().err


def test_sources_data_is_checked_with_file_and_line(tmp_path, monkeypatch):
    """sources.yaml names macros of the spec and plain .c paths; a slip is one error with its line."""
    bad = tmp_path / "sources.yaml"
    bad.write_text("MICROPY_PY_SELECT: [extmod/modselect.c]\nMICROPY_PY_NOPE: [extmod/x.c]\n"
                   "MICROPY_PY_TIME: [../outside.c]\n")
    monkeypatch.setattr(scaffold, "SOURCES_FILE", bad)
    with pytest.raises(SourceErrors) as exc:
        scaffold.check_spec(load_spec(ROOT))
    assert [str(e) for e in exc.value.errors] == [
        "generator/templates/scaffold/sources.yaml:2: MICROPY_PY_NOPE: 'MICROPY_PY_NOPE' is no macro of a feature "
        "in spec/micropython.yaml",
        "generator/templates/scaffold/sources.yaml:3: MICROPY_PY_TIME[0]: '../outside.c' must be a relative path to a .c file",
    ]


def test_sources_data_names_files_upstream_has(upstream, tmp_path):
    """Every file sources.yaml and hooks.yaml name exists in the upstream tree, and a port whose
    build includes upstream's makefiles (ports/unix: extmod/extmod.mk) or names files behind
    $(addprefix ...) (ports/stm32) is read as compiling them."""
    from mpconform.reports.port_tree import PortTree

    named = [p for files in scaffold.load_sources().values() for p in files]
    named += [role["source"] for role in scaffold.load_hooks().values() if role.get("source")]
    assert named and [p for p in named if not (upstream / p).is_file()] == []
    unix = PortTree.read(upstream / "ports" / "unix")
    assert unix.compiles("extmod/modselect.c") and unix.compiles("extmod/modtime.c")
    assert unix.compiles("extmod/not_a_module.c") is False
    stm32 = PortTree.read(upstream / "ports" / "stm32")
    assert stm32.compiles("shared/runtime/interrupt_char.c")
    assert PortTree.read(tmp_path).compiles("extmod/modselect.c") is None  # no build file: not known
