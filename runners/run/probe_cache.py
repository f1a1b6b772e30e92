"""The probe's report kept between runs, so a run on the same firmware starts at once.

The key is a digest of everything that decides the report: this tool's probe code, the
device programs it sends (runners/run/device/) and the runner's code, the spec's probes,
the runner and its options, MICROPYPATH, and the content of every file the runner names
as what it runs (the unix binary and prelude, the QEMU firmware, the WebAssembly module
with its companion files). Change any of them and the report is made again. A runner
that names no such file (a board on a serial line, whose firmware can change behind
the line) is probed every time. A binary that is a script (the PyPI wheel's entry
point, a wrapper) is keyed also on when it was written (a reinstall writes it again)
and on the files it names by absolute path. Only a probe whose every execution ended
by itself is kept: a timeout, a crash or a lost port is not an answer to keep."""

from __future__ import annotations

import ast
import dataclasses
import hashlib
import json
import os
import re
import sys
from pathlib import Path

from mpconform.core.atomicfile import WriteError, write_atomic
from mpconform.core.cachedir import cache_dir
from mpconform.runners.run import probe as probe_module
from mpconform.runners.run.probe import Answer, FeatureProbe, ProbeReport, run_probe

FORMAT = 1  # bumped when what is stored changes
FILE_KEYS = ("binary", "prelude", "firmware", "module")  # target fields naming what runs
KEEP = 64  # reports kept; the oldest go (each test's temporary binary makes one)
ENVIRONMENT = ("MICROPYPATH",)  # the unix port's module search path: what `import x` finds


def cached_probe(runner, workdir: Path, probes: list[FeatureProbe], timeout_s: float = 10.0) -> ProbeReport:
    """run_probe's report: from the cache when this firmware was probed so before."""
    key = probe_key(runner, probes)
    if key is None:
        return run_probe(runner, workdir, probes, timeout_s)
    path = cache_dir("probes", f"{key}.json")
    report = _load(path)
    if report is not None:
        return report
    watched = _Watched(runner)
    report = run_probe(watched, workdir, probes, timeout_s)
    if watched.clean:
        _store(path, report)
    return report


def probe_key(runner, probes: list[FeatureProbe]) -> str | None:
    """The cache key, or None when the runner cannot name what it runs."""
    instances = getattr(runner, "instances", None) or [runner]  # a pool: emulators started alike, or boards
    named = [{k: t.get(k) for k in FILE_KEYS} for t in (i.describe_target() for i in instances)]
    target = named[0]
    if any(n != target for n in named[1:]):
        return None  # instances that run different files: no one answer
    files = [target[k] for k in FILE_KEYS if target.get(k)]
    if not files:
        return None
    digest = hashlib.sha256()

    def part(data: bytes) -> None:
        digest.update(len(data).to_bytes(8, "big") + data)

    part(f"mpconform-probe-cache {FORMAT}".encode())
    here = Path(probe_module.__file__).parent
    code = [Path(probe_module.__file__), *sorted((here / "device").glob("*.py")),  # the programs the port runs
            Path(sys.modules[type(instances[0]).__module__].__file__)]
    for source in code:
        part(source.read_bytes())
    part(repr([dataclasses.astuple(p) for p in probes]).encode())
    part(json.dumps([runner.name, runner.options, len(instances), {k: os.environ.get(k) for k in ENVIRONMENT}],
                    sort_keys=True, default=str).encode())
    for key in FILE_KEYS:
        if not target.get(key):
            continue
        for path in _companions(Path(target[key])) if key == "module" else [Path(target[key])]:
            try:
                data = path.read_bytes()
            except OSError:
                return None  # gone or unreadable: nothing to key on
            part(f"{key} {path.name}".encode())
            part(data)
            if key == "binary" and data.startswith(b"#!"):
                _script(path, data, part)
    return digest.hexdigest()


def _script(path: Path, text: bytes, part) -> None:
    """What else decides what a script runs: when it was written, and the files it names."""
    part(str(path.stat().st_mtime_ns).encode())
    for named in sorted(set(re.findall(rb"/[^\s'\"$;&|()<>`]+", text[:65536]))):
        file = Path(os.fsdecode(named))
        try:
            if file.is_file():  # never a device (/dev/stdin would wait)
                part(named + b" " + file.read_bytes())
        except OSError:
            pass


def _companions(module: Path) -> list[Path]:
    """A module and the files it loads beside it (micropython.mjs: micropython.wasm)."""
    try:
        return sorted(p for p in module.parent.iterdir() if p.stem == module.stem and p.is_file())
    except OSError:
        return [module]


class _Watched:
    """The runner, noting whether every execution ended by itself."""

    def __init__(self, runner):
        self._runner = runner
        self.clean = True

    def __getattr__(self, name):
        return getattr(self._runner, name)

    def execute(self, *args, **kwargs):
        return self._watch(self._runner.execute(*args, **kwargs))

    def execute_checked(self, *args, **kwargs):
        return self._watch(self._runner.execute_checked(*args, **kwargs))

    def _watch(self, ex):
        if ex.timed_out or ex.crashed or ex.error:
            self.clean = False
        return ex


def _to_json(report: ProbeReport) -> str:
    # Identity values are Python literals the port printed (tuples too): kept as their repr.
    return json.dumps({
        "format": FORMAT,
        "identity": {k: repr(v) for k, v in report.identity.items()},
        "features": {name: dataclasses.asdict(a) for name, a in report.features.items()},
    }, indent=1, sort_keys=True)


def _load(path: Path) -> ProbeReport | None:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        if doc.get("format") != FORMAT:
            return None
        identity = {k: ast.literal_eval(v) for k, v in doc["identity"].items()}
        features = {name: Answer(**fields) for name, fields in doc["features"].items()}
    except (OSError, ValueError, SyntaxError, TypeError, KeyError, AttributeError):
        return None  # absent or damaged: probe again (and replace it)
    return ProbeReport(identity, features)


def _store(path: Path, report: ProbeReport) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, _to_json(report))
        _prune(path.parent)
    except (OSError, WriteError):
        pass  # a cache that cannot be written costs the next run its probe, nothing more


def _prune(folder: Path) -> None:
    entries = []
    for p in folder.glob("*.json"):
        try:
            entries.append((p.stat().st_mtime, p))
        except OSError:
            pass
    for _, p in sorted(entries, reverse=True)[KEEP:]:
        try:
            p.unlink()
        except OSError:
            pass
