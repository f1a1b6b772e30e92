"""A profile that starts from another (`extends:`), in this project (unix-pty) or in a
user's own tree (`mpconform run --profile`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mpconform.cli import main

ROOT = Path(__file__).resolve().parents[1]


def _manifest(port: str) -> dict:
    return json.loads((ROOT / "suites" / port / "manifest.json").read_text())


def test_unix_pty_takes_the_unix_features_and_expectations():
    pty, unix = _manifest("unix-pty"), _manifest("unix")
    assert pty["features"] == unix["features"]
    assert pty["expectations"] == unix["expectations"]
    assert pty["runner"]["name"] == "board" and unix["runner"]["name"] == "unix"
    assert {t["id"]: t["status"] for t in pty["tests"]} == {t["id"]: t["status"] for t in unix["tests"]}


def _profile(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "mine" / "port.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(text)
    return path


def test_user_profile_without_ringio_skips_exactly_ringio(tmp_path, monkeypatch):
    monkeypatch.setenv("MPCONFORM_CACHE", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    path = _profile(tmp_path, "port: mine\nextends: unix\nfeatures:\n  ringio: {enabled: false, reason: left out of my build}\n")
    assert main(["--root", str(ROOT), "run", "--profile", str(path), "-j", "2", "--json", "mine.json"]) == 0
    assert main(["--root", str(ROOT), "run", "unix", "-j", "2", "--json", "unix.json"]) == 0
    mine = {r["id"]: r["outcome"] for r in json.loads((tmp_path / "mine.json").read_text())["results"]}
    unix = {r["id"]: r["outcome"] for r in json.loads((tmp_path / "unix.json").read_text())["results"]}
    changed = {bid for bid in unix if mine[bid] != unix[bid]}
    ringio = {t["id"] for t in _manifest("unix")["tests"] if t["api"].startswith("RingIO") and t["status"] != "skip"}
    assert ringio and changed == ringio
    assert all(mine[bid] == "skip" for bid in ringio)
    assert not (ROOT / "ports" / "mine").exists()  # nothing written into the project


@pytest.mark.parametrize("text, message", [
    ("port: mine\nextends: nosuch\n", "port.yaml:2: extends: unknown port 'nosuch'"),
    ("port: mine\nextends: unix\nfeatures:\n  nosuch: {enabled: false, reason: x}\n", "port.yaml:4: features.nosuch: unknown feature"),
    ("port: mine\nextends: unix\nrunner:\n  options: 5\n", "port.yaml:4: runner.options: 5 is not of type 'object'"),
    ("port: mine\ndescription: no runner and nothing to extend\n", "'runner' is a required property"),
    ("port: mine\nextends: unix\nfeatures:\n  ringio: {enabled: false, reason: x}\nexpectations:\n"
     "  RingIO.write.returns_count: {outcome: xfail, reason: y}\n",
     "port.yaml:6: expectations.RingIO.write.returns_count: behaviour is already skipped"),
])
def test_bad_user_profile_is_a_file_line_error(tmp_path, monkeypatch, capsys, text, message):
    monkeypatch.setenv("MPCONFORM_CACHE", str(tmp_path / "cache"))
    path = _profile(tmp_path, text)
    assert main(["--root", str(ROOT), "run", "--profile", str(path)]) == 2
    assert message in capsys.readouterr().err


def test_profile_that_is_missing_or_for_another_port(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MPCONFORM_CACHE", str(tmp_path / "cache"))
    assert main(["--root", str(ROOT), "run", "--profile", str(tmp_path / "none.yaml")]) == 2
    assert "no such file" in capsys.readouterr().err
    path = _profile(tmp_path, "port: mine\nextends: unix\n")
    assert main(["--root", str(ROOT), "run", "unix", "--profile", str(path)]) == 2
    assert "is for port 'mine'" in capsys.readouterr().err
    assert main(["--root", str(ROOT), "run"]) == 2
