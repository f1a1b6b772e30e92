"""The probe's report cached by what the runner runs: a second run on the same binary
and prelude takes it from the cache, a changed binary or prelude is probed again, and
the cached report is exactly the one a probe gives."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import pytest

from mpconform.runners.plugins.board import BoardRunner
from mpconform.runners.plugins.unix import UnixRunner, find_micropython
from mpconform.runners.run.harness import Suite
from mpconform.runners.run.probe import run_probe
from mpconform.runners.run.probe_cache import cached_probe, probe_key

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("MPCONFORM_CACHE", str(folder))
    return folder / "probes"


@pytest.fixture
def binary(tmp_path) -> Path:
    """A copy of the real unix binary, to change."""
    path = tmp_path / "bin" / "micropython"
    path.parent.mkdir()
    shutil.copy2(find_micropython(), path)
    return path


def _one_test() -> str:
    tests = json.loads((ROOT / "suites" / "unix" / "manifest.json").read_text())["tests"]
    return next(t["id"] for t in tests if t["status"] == "run" and not t.get("interact") and not t.get("repl"))


def _counting_prelude(tmp_path: Path, log: Path, extra: str = "") -> Path:
    """A prelude that notes every program the port starts (probe programs and tests alike)."""
    prelude = tmp_path / "prelude.py"
    prelude.write_text(f"_f = open({str(log)!r}, 'a')\n_f.write('x\\n')\n_f.close()\n{extra}")
    return prelude


def test_second_run_takes_the_cached_probe_and_a_change_probes_again(cli, root, tmp_path, cache, binary):
    log = tmp_path / "starts.log"
    prelude = _counting_prelude(tmp_path, log)
    test = _one_test()

    def run(n: int) -> tuple[int, dict]:
        before = len(log.read_text().splitlines()) if log.exists() else 0
        status, out, _ = cli("--root", root, "run", "unix", "--detect", "--micropython", binary, "--prelude", prelude,
                             "-k", test, "--json", tmp_path / f"r{n}.json")
        assert status == 0, out
        doc = json.loads((tmp_path / f"r{n}.json").read_text())
        return len(log.read_text().splitlines()) - before - 1, doc  # less the test itself

    probed, first = run(1)
    assert probed >= 2  # the probe ran: identity and features, the typed probe on its own
    assert len(list(cache.glob("*.json"))) == 1
    again, second = run(2)
    assert again == 0  # from the cache: the port started for the test only
    for key in ("implementation", "features", "feature_notes", "limits"):
        assert second.get(key) == first.get(key)

    with binary.open("ab") as fh:  # another binary: a line more at its end (it still runs)
        fh.write(b"\n# another build\n")
    assert run(3)[0] == probed
    assert run(4)[0] == 0
    _counting_prelude(tmp_path, log, extra="# another prelude\n")  # what runs before each program changed
    assert run(5)[0] == probed
    assert len(list(cache.glob("*.json"))) == 3


def test_the_cached_report_is_the_probe_report(tmp_path, cache):
    suite = Suite.load(ROOT / "suites" / "unix")
    probes = suite.feature_probes()
    with UnixRunner({}) as runner:
        fresh = run_probe(runner, tmp_path, probes)
        stored = cached_probe(runner, tmp_path, probes)
        cached = cached_probe(runner, tmp_path, probes)
    assert len(list(cache.glob("*.json"))) == 1
    assert cached.identity == fresh.identity and stored.identity == fresh.identity
    assert type(cached.identity["version"]) is type(fresh.identity["version"])  # a tuple stays a tuple
    as_dicts = {name: dataclasses.asdict(a) for name, a in fresh.features.items()}
    assert {name: dataclasses.asdict(a) for name, a in cached.features.items()} == as_dicts
    assert {name: dataclasses.asdict(a) for name, a in stored.features.items()} == as_dicts


def test_a_probe_that_timed_out_is_not_kept(tmp_path, cache, binary):
    prelude = tmp_path / "hang.py"
    prelude.write_text("while True:\n    pass\n")
    with UnixRunner({"micropython": str(binary), "prelude": str(prelude)}) as runner:
        report = cached_probe(runner, tmp_path, [], timeout_s=1.0)
    assert "probe_error" in report.identity
    assert not cache.exists() or not list(cache.glob("*.json"))


def test_a_wrapper_script_is_keyed_on_the_binary_it_names(tmp_path, binary):
    script = tmp_path / "micropython"
    script.write_text(f'#!/bin/sh\nexec "{binary}" "$@" < /dev/stdin\n')  # a device is not read
    script.chmod(0o755)
    before = probe_key(UnixRunner({"micropython": str(script)}), [])
    with binary.open("ab") as fh:
        fh.write(b"\n# another build\n")
    assert before is not None and probe_key(UnixRunner({"micropython": str(script)}), []) != before


def test_a_board_on_a_line_is_never_cached():
    board = BoardRunner({"device": "/dev/ttyACM9"})
    assert probe_key(board, []) is None  # its firmware can change behind the line
