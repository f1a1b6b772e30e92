"""Build small throwaway suites through the manifest model, for runner and harness tests."""

from __future__ import annotations

import stat
from pathlib import Path

from mpconform.core.model import (
    DocCitation,
    Expectation,
    FeatureDecl,
    FeatureSetting,
    Manifest,
    RunnerSpec,
    TestEntry,
    write_manifest,
)


def make_suite(directory: Path, tests: list[dict], runner_options: dict | None = None, port: str = "scratch") -> Path:
    """tests: dicts with id, program, expect (lines) and optionally match, timeout_s,
    `absent` ({feature: why}: it requires features the profile turns off, so the run
    skips it) and `xfail` (why: an expectation of the profile)."""
    directory.mkdir(parents=True, exist_ok=True)
    entries, features, expectations = [], {}, {}
    for t in tests:
        for name, why in t.get("absent", {}).items():
            features[name] = FeatureDecl(description=name, probe="", profile=FeatureSetting(False, why))
        if t.get("xfail"):
            expectations[t["id"]] = Expectation(t["xfail"])
        entry = TestEntry(
            id=t["id"], api=t["id"].split(".")[0], file=f"{t['id']}.py", match=t.get("match", "exact"),
            requires=tuple(t.get("absent", ())), doc=DocCitation("s", "q"), source="test", timeout_s=t.get("timeout_s"),
        )
        (directory / entry.file).write_text(t["program"])
        (directory / (entry.file + ".exp")).write_text("".join(line + "\n" for line in t["expect"]))
        entries.append(entry)
    manifest = Manifest(port=port, runner=RunnerSpec("unix", runner_options or {}), tests=tuple(entries),
                        features=features, expectations=expectations)
    write_manifest(directory / "manifest.json", manifest)
    return directory


def fake_port(folder: Path, body: str, name: str = "fake-micropython") -> str:
    """An executable shell script in `folder` that stands for a port's binary: `body`
    after its #! line. Returns its path."""
    path = folder / name
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)
