"""Build the scaffolded port against an upstream MicroPython tree (the `upstream`
fixture: $MICROPY_DIR or the shared snapshot) and run the suite on it: with every
feature on, every behaviour the skeleton does not leave out passes; the features
left out are skipped and `bringup` names their macros; a feature whose source file
is taken out of the Makefile is missing, and `bringup` names the file.

Each build is cached under build_home("scaffold", ...), keyed by the tree and by a
digest of the scaffold's own files, so a second run builds nothing."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import select
import shutil
import subprocess
import termios
import time
from pathlib import Path

import pytest
import yaml

from mpconform.cli import main
from mpconform.generator.spec import load_spec
from mpconform.runners.install.upstream import build_home, log_tail, run_make

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(shutil.which("make") is None or shutil.which("gcc") is None, reason="needs make and gcc")

# Not float: mem_info.verbose_map_uses_documented_symbols puts a float on the heap
# without requiring the feature (a spec gap this build found; behaviours are not ours to edit).
LEFT_OUT = ["heap_locked", "kbd_intr", "scheduler", "emergency_exception_buf", "ringio"]
# The file the broken port's Makefile loses, and the feature that needs it.
REMOVED, REMOVED_MACRO, REMOVED_FEATURE = "extmod/modselect.c", "MICROPY_PY_SELECT", "select_poll"


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("root")
    shutil.copytree(ROOT / "spec", root / "spec")
    shutil.copytree(ROOT / "ports", root / "ports", ignore=shutil.ignore_patterns("scaffold"))
    return root


def _digest(out: Path) -> str:
    """The scaffold's sources (not its profile, which names where it was written)."""
    h = hashlib.sha256()
    for path in sorted(p for p in out.iterdir() if p.is_file() and p.name != "port.yaml"):
        h.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()[:12]


def _build(upstream: Path, out: Path, name: str) -> Path:
    """The port's binary, built once per tree and scaffold content; the profile is pointed at it."""
    home = build_home("scaffold", f"{name}-{_digest(out)}", upstream)
    binary = home / name
    if not binary.is_file():
        home.mkdir(parents=True, exist_ok=True)
        log = home / "build.log"
        log.write_text("")
        start = time.monotonic()
        ok = run_make(["make", "-C", str(out), "-j2", f"MICROPY_DIR={upstream}", f"BUILD={home / 'build'}"], log)
        assert ok, log_tail(log, 40)
        print(f"{name}: built in {time.monotonic() - start:.1f} s")
        assert "warning:" not in log.read_text()
        tmp = home / f".{name}.tmp"
        shutil.copy2(home / "build" / name, tmp)
        tmp.replace(binary)  # whole or absent: a cached binary is a finished one
    profile = out / "port.yaml"
    doc = yaml.safe_load(profile.read_text())
    doc["runner"]["options"]["micropython"] = str(binary)
    profile.write_text(yaml.safe_dump(doc, sort_keys=False))
    return binary


def _scaffold(root: Path, upstream: Path, tmp: Path, name: str, *extra: str, edit=None) -> Path:
    out = tmp / name
    assert main(["--root", str(root), "scaffold", name, "--out", str(out), *extra]) == 0
    if edit:
        edit(out)
    _build(upstream, out, name)
    return out


def _without_removed(out: Path) -> None:
    makefile = out / "Makefile"
    text = makefile.read_text()
    line = f"SRC_C += {REMOVED}\n"
    assert text.count(line) == 1, "the scaffold's Makefile names each feature's file on a line of its own"
    makefile.write_text(text.replace(line, ""))


@pytest.fixture(scope="module")
def fullport(root, upstream, tmp_path_factory) -> Path:
    return _scaffold(root, upstream, tmp_path_factory.mktemp("full"), "fullport")


@pytest.fixture(scope="module")
def partport(root, upstream, tmp_path_factory) -> Path:
    return _scaffold(root, upstream, tmp_path_factory.mktemp("part"), "partport", "--disable", ",".join(LEFT_OUT))


@pytest.fixture(scope="module")
def brokenport(root, upstream, tmp_path_factory) -> Path:
    return _scaffold(root, upstream, tmp_path_factory.mktemp("broken"), "brokenport", edit=_without_removed)


@pytest.fixture(autouse=True)
def _own_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("MPCONFORM_CACHE", str(tmp_path / "cache"))


def _run(root: Path, out: Path, results: Path, *extra: str) -> dict:
    main(["--root", str(root), "run", "--profile", str(out / "port.yaml"), "-j", "2", "--json", str(results), *extra])
    return json.loads(results.read_text())


def _bringup(root: Path, results: Path, out: Path, capsys, *extra: str) -> str:
    capsys.readouterr()
    assert main(["--root", str(root), "bringup", str(results), "--port-dir", str(out), *extra]) == 0
    return capsys.readouterr().out


def _manifest(name: str) -> dict:
    """The suite `run --profile` compiled for the scaffolded port, in the cache."""
    found = list(Path(os.environ["MPCONFORM_CACHE"]).glob(f"profiles/*/suites/{name}/manifest.json"))
    assert len(found) == 1, found
    return json.loads(found[0].read_text())


def test_all_features_on_pass(root, fullport, tmp_path, capsys):
    doc = _run(root, fullport, tmp_path / "full.json")
    outcomes = {r["id"]: r["outcome"] for r in doc["results"]}
    spec = load_spec(root)
    assert len(outcomes) == len(spec.behaviours)
    # Everything passes but what needs a feature the skeleton leaves out (spec: `skeleton:`).
    no_skeleton = {name for name, f in spec.features.items() if f.skeleton}
    # and what types at the friendly REPL: the unix runner runs programs, it never reaches a prompt
    ran = {b.id: "observed" if b.match == "observe" else "pass" for b in spec.behaviours}  # an edge case is observed
    expected = {b.id: "skip" if set(b.requires) & no_skeleton or b.repl else ran[b.id] for b in spec.behaviours}
    assert outcomes == expected, {k: v for k, v in outcomes.items() if v != expected[k]}
    assert doc["implementation"]["platform"] == "fullport"


def test_probe_finds_every_macro_the_config_turns_on(root, fullport, tmp_path, capsys):
    """With --detect, the probe agrees with the profile, and bringup finds every macro the
    config turns on present, with nothing missing."""
    doc = _run(root, fullport, tmp_path / "detect.json", "--detect")
    assert doc["feature_notes"] == []
    assert all(r["outcome"] in ("pass", "observed", "skip") for r in doc["results"])
    todo = json.loads(_bringup(root, tmp_path / "detect.json", fullport, capsys, "--json"))
    rows = {m["name"]: m for m in todo["macros"]}
    on = {n for n, m in rows.items() if m["config"] == "on"}
    assert {"MICROPY_PY_SELECT", "MICROPY_KBD_EXCEPTION", "MICROPY_PY_SYS_STDFILES", "MICROPY_PY_TIME"} <= on
    assert {n: rows[n]["probe"] for n in on} == {n: "found" for n in on}
    assert [m for m in todo["macros"] if m["missing"]] == []
    compiled = {s["file"]: s["compiled"] for m in todo["macros"] for s in m["sources"] if m["config"] == "on"}
    assert compiled and all(compiled.values()), compiled


def test_features_left_out_are_skipped_and_named_by_bringup(root, partport, tmp_path, capsys):
    doc = _run(root, partport, tmp_path / "partport.json")
    spec = load_spec(root)
    manifest = _manifest("partport")
    # What the left-out features take with them (scheduler_static_nodes implies scheduler).
    off = {f for t in manifest["tests"] for f in t["requires"] if f"feature {f} absent" in (t["reason"] or "")}
    assert set(LEFT_OUT) <= off
    for b in spec.behaviours:
        outcome = next(r["outcome"] for r in doc["results"] if r["id"] == b.id)
        ran = "observed" if b.match == "observe" else "pass"  # an edge case is observed
        assert outcome == ("skip" if set(b.requires) & off or b.repl else ran), b.id
    todo = json.loads(_bringup(root, tmp_path / "partport.json", partport, capsys, "--json"))
    named = {m["name"] for a in todo["apis"] for f in a["features"] if f["disabled"] for m in f["macros"]}
    rows = {m["name"]: m for m in todo["macros"]}
    for feature in LEFT_OUT:
        for macro in spec.features[feature].macros:
            assert macro["name"] in named, (feature, macro["name"])
            assert rows[macro["name"]]["config"] in ("off", "default"), macro["name"]
    stubs = [h for a in todo["apis"] for h in a["hooks"] if h["status"] == "stub"]
    assert not stubs  # the skeleton implements every hook it has


def test_bringup_names_the_source_file_a_feature_lacks(root, brokenport, tmp_path, capsys):
    """The Makefile without extmod/modselect.c: the port builds, select is missing at run time
    (its behaviours fail), and bringup names the file, in JSON and text, with or without --detect."""
    doc = _run(root, brokenport, tmp_path / "broken.json")
    spec = load_spec(root)
    needs_select = {b.id for b in spec.behaviours if REMOVED_FEATURE in b.requires}
    assert needs_select
    assert {r["outcome"] for r in doc["results"] if r["id"] in needs_select} == {"fail"}
    _run(root, brokenport, tmp_path / "detected.json", "--detect")
    for results in ("broken.json", "detected.json"):
        todo = json.loads(_bringup(root, tmp_path / results, brokenport, capsys, "--json"))
        row = next(m for m in todo["macros"] if m["name"] == REMOVED_MACRO)
        assert row["config"] == "on"
        assert row["probe"] == ("absent" if results == "detected.json" else "not probed")
        assert [(m["kind"], m["file"]) for m in row["missing"]] == [("source", REMOVED)]
        assert REMOVED in row["next"] and "Makefile" in row["next"]
        others = [m["name"] for m in todo["macros"] if m["missing"]]
        assert others == [REMOVED_MACRO]
        text = _bringup(root, tmp_path / results, brokenport, capsys)
        line = next(ln for ln in text.splitlines() if ln.strip().startswith(f"{REMOVED_MACRO} ("))
        assert ": on in the config" in line
        assert f"missing: {REMOVED} is compiled by no build file of the port" in text
        assert f"{REMOVED_MACRO} is on in the config: add {REMOVED} to SRC_C in" in text  # under the failing APIs too


def _take_terminal() -> None:  # in the child, after setsid: the pty becomes its controlling terminal
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def _pty_run(binary: Path, script: Path, send: bytes) -> str:
    """Run the port on a terminal, type `send` once it says ready, and return what it printed."""
    master, slave = os.openpty()
    proc = subprocess.Popen([str(binary), script.name], cwd=script.parent, stdin=slave, stdout=slave,
                            stderr=slave, start_new_session=True, preexec_fn=_take_terminal)
    os.close(slave)
    out = b""
    sent = False
    deadline = time.monotonic() + 20
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.5)
            if ready:
                try:
                    chunk = os.read(master, 4096)
                except OSError:  # the port exited and closed the terminal
                    break
                if not chunk:
                    break
                out += chunk
            if not sent and b"ready" in out:
                os.write(master, send)
                sent = True
            if b"after" in out:
                break
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    return out.decode("latin-1").replace("\r", "")


WAIT = """\
import micropython, sys, time
micropython.kbd_intr({char})
try:
    print('ready')
    for i in range(200):
        time.sleep_ms(10)
    print('no interrupt', repr(sys.stdin.read(1)))
except KeyboardInterrupt:
    print('KeyboardInterrupt')
micropython.kbd_intr(3)
print('after')
"""


@pytest.mark.parametrize(
    ("char", "send", "expect"),
    [
        (27, b"\x1b", "KeyboardInterrupt"),  # the character chosen, as it arrives on the terminal
        (3, b"\x03", "KeyboardInterrupt"),  # Ctrl-C typed on the port's controlling terminal
        (-1, b"\x03", "no interrupt '\\x03'"),  # capture off: Ctrl-C is ordinary input
        (27, b"\x03", "no interrupt '\\x03'"),
    ],
)
def test_interrupt_character_on_a_terminal(fullport, tmp_path, char, send, expect):
    """The suite's runner sends input through a pipe and Ctrl-C as a signal; on a terminal
    the port reads every key as a byte, as a board's UART does."""
    binary = Path(yaml.safe_load((fullport / "port.yaml").read_text())["runner"]["options"]["micropython"])
    script = tmp_path / "wait.py"
    script.write_text(WAIT.format(char=char))
    out = _pty_run(binary, script, send)
    assert out.splitlines() == ["ready", expect, "after"], out
