"""The typed manifest and results document: each read and written in one place, the
committed bytes kept, an unknown format refused in one line naming the file."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from mpconform.core.model import MANIFEST_FORMAT, ManifestError, manifest_bytes, read_manifest
from mpconform.core.results import ResultsDocument, ResultsFileError, RunResult, load_document

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("path", sorted((ROOT / "suites").glob("*/manifest.json")), ids=lambda p: p.parent.name)
def test_every_committed_manifest_reads_and_writes_back_to_its_bytes(path):
    assert manifest_bytes(read_manifest(path)) == path.read_bytes()


def test_a_manifest_of_another_format_is_refused_naming_the_file(tmp_path, cli):
    project = tmp_path / "project"
    for name in ("spec", "ports", "suites"):
        shutil.copytree(ROOT / name, project / name)
    manifest = project / "suites" / "unix" / "manifest.json"
    data = json.loads(manifest.read_text())
    data["format"] = MANIFEST_FORMAT + 1
    manifest.write_text(json.dumps(data))
    with pytest.raises(ManifestError, match="format 3"):
        read_manifest(manifest)
    status, out, err = cli("--root", project, "run", "unix", "-k", "heap_unlock")
    assert status == 2 and out == ""
    assert err.strip().count("\n") == 0 and str(manifest) in err and "mpconform compile" in err


def test_a_manifest_missing_what_a_run_needs_is_one_line(tmp_path):
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps({"format": MANIFEST_FORMAT, "port": "p", "tests": []}))  # no runner
    with pytest.raises(ManifestError) as caught:
        read_manifest(path)
    assert str(caught.value).startswith(f"{path}: ") and "\n" not in str(caught.value)


def test_a_results_document_reads_back_as_written(tmp_path, cli):
    out = tmp_path / "r.json"
    status, _, err = cli("run", "unix", "-k", "heap_lock", "--json", out)
    assert status == 0, err
    written = json.loads(out.read_text())
    doc = load_document(out)
    assert doc.to_json() == written  # every key and value: what users' tools read
    assert {"features", "feature_notes", "detect", "provenance", "firmware"} <= set(written)
    assert all(isinstance(r, RunResult) for r in doc.results) and doc.summary == written["summary"]


def test_a_results_row_without_an_outcome_is_one_line(tmp_path):
    path = tmp_path / "r.json"
    path.write_text(json.dumps({"port": "unix", "results": [{"id": "a.b"}]}))
    with pytest.raises(ResultsFileError, match=r"r\.json: results\[0\]: needs an 'id' and an 'outcome'"):
        load_document(path)
    assert ResultsDocument.from_json({"port": "unix", "results": []}).summary["pass"] == 0


def test_the_pytest_plugin_refuses_another_format_in_one_line(tmp_path):
    import os
    import subprocess
    import sys

    project = tmp_path / "project"
    for name in ("spec", "ports", "suites"):
        shutil.copytree(ROOT / name, project / name)
    manifest = project / "suites" / "unix" / "manifest.json"
    manifest.write_text(json.dumps({**json.loads(manifest.read_text()), "format": 1}))
    env = {**os.environ, "MPCONFORM_ROOT": str(project)}
    done = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--mp-port", "unix"],
                          cwd=project, capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 4, done.stdout + done.stderr  # pytest's usage error
    assert f"{manifest}: manifest format 1" in done.stderr
