"""Every input file, however deep, large or badly encoded, is one line naming the file
and exit 2 in every command that reads it - never a traceback, and in `compare` never
the exit 1 that means a regression."""

from __future__ import annotations

import json
import shutil

import pytest

DEEP_JSON = "[" * 100_000 + "]" * 100_000
GOOD = {"format": 1, "port": "unix", "implementation": {}, "summary": {},
        "results": [{"id": "const.folds_expression", "api": "const", "outcome": "pass", "duration_s": 0.1, "detail": ""}]}


def _files(tmp_path):
    files = {
        "deep.json": DEEP_JSON.encode(),
        "deep.jsonl": DEEP_JSON.encode() + b"\n",
        "utf16.json": json.dumps(GOOD).encode("utf-16"),
        "latin1.json": json.dumps(GOOD).replace("const", "c\u00f6nst").encode("latin-1"),
        "bigint.json": json.dumps(GOOD).replace("0.1", "9" * 5000).encode(),
    }
    out = {}
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
        out[name] = tmp_path / name
    return out


def _one_line(status, err, *, want=2):
    assert status == want, err
    assert "Traceback" not in err and "RecursionError" not in err
    assert len(err.strip().splitlines()) == 1, err


@pytest.mark.parametrize("name", ["deep.json", "utf16.json", "latin1.json", "bigint.json"])
@pytest.mark.parametrize("command", ["report", "compare", "bringup", "expectations"])
def test_a_bad_results_file_is_one_line(cli, tmp_path, name, command):
    path = _files(tmp_path)[name]
    good = tmp_path / "good.json"
    good.write_text(json.dumps(GOOD))
    args = {"report": ["report", path, "--markdown", tmp_path / "m.md"], "compare": ["compare", good, path],
            "bringup": ["bringup", path], "expectations": ["expectations", "update", "unix", path]}[command]
    status, out, err = cli(*args)
    _one_line(status, err)
    assert str(path) in err


def test_an_endless_file_ends_as_too_large(cli, tmp_path):
    status, out, err = cli("report", "/dev/zero", "--markdown", tmp_path / "m.md")
    _one_line(status, err)
    assert "/dev/zero" in err and "larger than" in err


@pytest.mark.parametrize("name", ["deep.json", "deep.jsonl", "utf16.json"])
def test_a_bad_resume_file_is_one_line(cli, tmp_path, name):
    path = _files(tmp_path)[name]
    status, out, err = cli("run", "unix", "-k", "const.folds_expression", "--resume", path)
    _one_line(status, err)
    assert str(path) in err


def test_a_duration_too_large_for_a_float_is_measured_again(cli, tmp_path):
    log = tmp_path / "r.jsonl"
    row = dict(GOOD["results"][0], duration_s=int("9" * 401))
    log.write_text(json.dumps({"header": {"port": "unix"}}) + "\n" + json.dumps(row) + "\n")
    status, out, err = cli("run", "unix", "-k", "const.folds_expression", "--resume", log, "--json", tmp_path / "new.json")
    assert status == 0 and "Traceback" not in err, err
    assert json.loads((tmp_path / "new.json").read_text())["summary"]["pass"] == 1


def _deep_yaml(depth: int) -> str:
    return "[" * depth + "]" * depth


def test_a_spec_nested_3000_deep_is_one_line(project_copy, cli):
    path = project_copy / "spec" / "apis" / "const.yaml"
    path.write_text(path.read_text().replace("claim: >-", "claim: " + _deep_yaml(3000) + "\n        claim_was: >-", 1))
    status, out, err = cli("--root", project_copy, "compile")
    _one_line(status, err)
    assert "const.yaml:" in err and "nested more than" in err


def test_a_profile_nested_1000_deep_is_one_line(tmp_path, cli):
    profile = tmp_path / "port.yaml"
    profile.write_text("port: mine\nextends: unix\ndescription: " + _deep_yaml(1000) + "\n")
    status, out, err = cli("run", "--profile", profile)
    _one_line(status, err)
    assert f"{profile}:3" in err and "nested more than" in err


def test_a_lab_record_nested_too_deep_is_one_line(tmp_path, cli):
    if shutil.which("labgrid-coordinator") is None:
        pytest.skip("labgrid is not installed")
    (tmp_path / "lab.json").write_text(DEEP_JSON)
    status, out, err = cli("lab", "status", "--state", tmp_path)
    _one_line(status, err)
