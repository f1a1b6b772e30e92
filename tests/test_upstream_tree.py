"""The checks that need an upstream MicroPython tree, run against one ($MICROPY_DIR,
else the shared snapshot as CI has it; see tests/upstreamkit.py): the current docs
against the spec, and a natively built unix port judged by its own probe."""

from __future__ import annotations

import json
from pathlib import Path

from mpconform.runners.install.upstream import tree_digest

UNEXPECTED = ("fail", "xpass", "timeout", "crash", "error")


def test_upstream_docs_have_no_drift_from_the_spec(upstream, cli):
    status, out, err = cli("drift", "docs", upstream / "docs" / "library" / "micropython.rst")
    assert status == 0, out + err
    assert "no drift" in out


def test_native_unix_build_run_with_detect_has_no_unexpected_outcome(native_unix, upstream, cli, tmp_path):
    results = tmp_path / "native.json"
    status, out, err = cli("run", "unix", "--micropython", native_unix, "--detect", "-j", "2", "--json", results)
    doc = json.loads(results.read_text())
    bad = {r["id"]: (r["outcome"], r.get("detail")) for r in doc["results"] if r["outcome"] in UNEXPECTED}
    assert status == 0 and not bad, (bad, err[-2000:])
    # the standard variant has the whole module but heap_locked and the static nodes:
    # a probe that found less would skip what should run
    assert doc["summary"]["pass"] >= 110, doc["summary"]
    # the results say which binary ran, and it reports the tree's release
    assert [Path(t["binary"]) for t in doc["provenance"]["targets"]] == [native_unix] * len(doc["provenance"]["targets"])
    version = (upstream / "py" / "mpconfig.h").read_text()
    assert f"#define MICROPY_VERSION_MINOR {doc['implementation']['version'][1]}\n" in version


def test_builds_are_cached_by_the_trees_digest(native_unix, upstream):
    assert tree_digest(upstream) in native_unix.parent.name
