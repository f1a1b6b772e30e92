"""Every command that names a port takes the user's own profile (`--profile FILE`) in
its place, on the real unix port; a disabled feature turns off what needs it; bad
input (a bad profile, an empty selection, an unknown docs release) is exit 2."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

from tests.conftest import ROOT, snapshot

HERE = Path(__file__).resolve().parent

MINE = """\
# My port: unix-derived, built without RingIO.
port: mine
extends: unix
description: our unix-derived port
features:
  ringio: {enabled: false, reason: left out of our build}   # we think so, anyway
"""

# Imported before every program (the probe too): the port then has neither asyncio nor _thread.
HIDE_ASYNCIO_AND_THREADS = """\
import builtins
_import = builtins.__import__
def _hide(name, *args):
    if name in ('asyncio', '_thread'):
        raise ImportError("no module named '%s'" % name)
    return _import(name, *args)
builtins.__import__ = _hide
"""


@pytest.fixture
def mine(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("MPCONFORM_CACHE", str(tmp_path / "cache"))
    path = tmp_path / "myport" / "port.yaml"
    path.parent.mkdir()
    path.write_text(MINE)
    return path


def _manifest(port: str) -> dict:
    return json.loads((ROOT / "suites" / port / "manifest.json").read_text())


def test_ports_export_drift_and_detect_take_the_profile(mine, cli, tmp_path):
    project = snapshot(ROOT / "ports")
    ringio = {t["id"] for t in _manifest("unix")["tests"] if t["requires"] and "ringio" in t["requires"]}
    unix_skips = sum(t["status"] == "skip" for t in _manifest("unix")["tests"])
    assert ringio

    status, out, err = cli("ports", "--profile", mine)
    assert status == 0, err
    assert re.match(rf"mine +runner=unix +run=\d+ xfail=0 skip={unix_skips + len(ringio)} +our unix-derived port$", out.strip())

    status, out, err = cli("export", "--profile", mine, tmp_path / "exported")
    assert status == 0, err
    note = json.loads((tmp_path / "exported" / "mpconform-export.json").read_text())
    assert ringio <= set(note["left_out"]) and not ringio & set(note["exported"])
    assert "left out of our build" in note["left_out"][sorted(ringio)[0]]

    status, out, err = cli("drift", "port", "--profile", mine)
    assert status == cli("drift", "port", "unix")[0], err
    assert out.startswith("port mine: micropython ")

    status, out, err = cli("detect", "--profile", mine)
    assert status == 0, err
    assert "differs from the profile: ringio: profile says absent, the port's probe says present" in out
    # what the base profile (unix) already says absent is not a difference
    assert [line for line in out.splitlines() if line.startswith("differs")] == [
        "differs from the profile: ringio: profile says absent, the port's probe says present (micropython.RingIO)"]

    status, out, err = cli("detect", "--profile", mine, "--write")
    assert status == 0, err
    assert f"{mine}: ringio: now present (micropython.RingIO)" in err
    text = mine.read_text()
    assert text.startswith("# My port: unix-derived, built without RingIO.\nport: mine\n")
    assert "ringio: {enabled: true, reason: 'detected by `mpconform detect`: micropython.RingIO'} # we think so" in text
    assert "heap_locked" not in text  # the base's absent features are the base's: not copied
    assert cli("ports", "--profile", mine)[1].split()[4] == f"skip={unix_skips}"  # recompiled into the cache
    assert cli("detect", "--profile", mine, "--write")[2] == f"mpconform: {mine} already agrees with the probe\n"
    assert snapshot(ROOT / "ports") == project  # nothing written into the project


def test_expectations_update_and_bringup_take_the_profile(mine, cli, tmp_path):
    prelude = tmp_path / "prelude.py"
    prelude.write_text((HERE / "wrong_ports" / "faithful_port.py").read_text()
                       + "\n_port.const = lambda x: x + 1 if type(x) is int else x\n")
    results = tmp_path / "r.json"
    run = ("run", "--profile", mine, "-k", "const.runtime_call*", "--prelude", prelude, "--json", results)
    assert cli(*run)[0] == 1

    status, out, err = cli("expectations", "update", "--profile", mine, results)
    assert status == 0, err
    assert "added   const.runtime_call_returns_argument" in out
    assert f"mpconform: {mine}: 1 added" in out
    text = mine.read_text()
    assert text.startswith(MINE) and "const.runtime_call_returns_argument:\n    outcome: xfail\n" in text
    assert cli(*run)[0] == 0  # the cache was recompiled: now an expected failure

    status, out, err = cli("bringup", results, "--profile", mine)
    assert status == 0, err
    assert out.startswith(f"bring-up of port mine (stubs searched in {mine.parent})")
    status, _, err = cli("bringup", results, "--profile", ROOT / "ports" / "webassembly" / "port.yaml")
    assert status == 2 and "results of port 'mine', but --profile" in err and "is port 'webassembly'" in err


def test_a_disabled_feature_turns_off_what_needs_it(tmp_path, cli, monkeypatch):
    monkeypatch.setenv("MPCONFORM_CACHE", str(tmp_path / "cache"))
    profile = tmp_path / "port.yaml"
    profile.write_text("port: bare\nextends: unix\nfeatures:\n  asyncio: {enabled: false, reason: not in this build}\n"
                       "  thread: {enabled: false, reason: no threads here}\n")
    prelude = tmp_path / "hide.py"
    prelude.write_text(HIDE_ASYNCIO_AND_THREADS)
    results = tmp_path / "r.json"
    status, out, err = cli("run", "--profile", profile, "--prelude", prelude, "-k", "*asyncio*", "-k", "*thread*",
                           "--json", results)
    assert status == 0, out + err
    doc = json.loads(results.read_text())
    # the probe finds asyncio_streams, thread_gil, thread_without_gil absent, as the profile now says too
    assert doc["feature_notes"] == [], doc["feature_notes"]
    assert "disagree" not in out
    features = doc["features"]
    assert features["asyncio_streams"]["enabled"] is False and "needs asyncio" in features["asyncio_streams"]["evidence"]
    assert features["thread_without_gil"]["enabled"] is False and "needs thread" in features["thread_without_gil"]["evidence"]
    assert {r["outcome"] for r in doc["results"]} == {"skip"}
    # compiled: the behaviours that need them are skipped naming the cause
    manifest = json.loads(next((tmp_path / "cache").rglob("suites/bare/manifest.json")).read_text())
    streams = [t for t in manifest["tests"] if "asyncio_streams" in t["requires"]]
    assert streams and all("feature asyncio_streams absent: needs asyncio, which the profile turns off" in t["reason"]
                           for t in streams)


@pytest.mark.parametrize("command", [("run",), ("detect",), ("drift", "port"), ("ports",), ("export", "DIR"),
                                     ("expectations", "update", "RESULTS")])
def test_a_bad_profile_is_exit_2_with_file_line_and_a_suggestion(command, tmp_path, cli, monkeypatch):
    monkeypatch.setenv("MPCONFORM_CACHE", str(tmp_path / "cache"))
    profile = tmp_path / "port.yaml"
    profile.write_text("port: bad\nextends: unix\nfeatures:\n  asyncoi: {enabled: false, reason: typo}\n"
                       "  thread: {enabled: false, reason: none}\n  thread_gil: {enabled: true, reason: says so}\n")
    args = [a.replace("DIR", str(tmp_path / "out")).replace("RESULTS", str(tmp_path / "r.json")) for a in command]
    status, out, err = cli(*args[:2], "--profile", profile, *args[2:])
    assert (status, out) == (2, "")
    assert err.splitlines() == [
        f"{profile}:4: features.asyncoi: unknown feature 'asyncoi'; did you mean 'asyncio'?",
        f"{profile}:6: features.thread_gil.enabled: 'thread_gil' is enabled, but it needs thread, which the profile turns off",
    ]


def test_a_profile_for_another_port_is_refused(mine, cli):
    status, _, err = cli("export", "unix", "out", "--profile", mine)
    assert status == 2 and err.strip() == f"mpconform: --profile {mine} is for port 'mine', not 'unix'"
    status, _, err = cli("detect")
    assert status == 2 and err.strip() == "mpconform: name a PORT, or give --profile PATH/port.yaml"


def test_an_empty_selection_is_exit_2_not_a_pass(cli, tmp_path):
    results = tmp_path / "r.json"
    status, out, err = cli("run", "unix", "-k", "RingIO.no_such_thing*", "-k", "typo", "--json", results)
    assert (status, out) == (2, "")
    assert err.strip() == ("mpconform: -k RingIO.no_such_thing* -k typo: matches none of the "
                           f"{len(_manifest('unix')['tests'])} behaviours of port unix; nothing was run")
    assert not results.exists()


def test_an_unknown_docs_release_is_exit_2_naming_the_known_ones(cli):
    status, out, err = cli("run", "unix", "--docs", "v9.9.9")
    assert (status, out) == (2, "")
    assert err.startswith("mpconform: --docs v9.9.9: not a release spec/history.yaml knows (it records v1.0, ")
    assert "v1.28.0; a release up to v1.28.0 can be given)" in err


def test_version():
    done = subprocess.run([sys.executable, "-m", "mpconform.cli", "--version"], capture_output=True, text=True)
    assert (done.returncode, done.stdout, done.stderr) == (0, f"mpconform {metadata.version('mpconform')}\n", "")
