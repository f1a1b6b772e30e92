"""A port's suite as a folder upstream's `tests/run-tests.py` runs as it is: each test
program with its `.exp`, and a note of what could not go (run-tests.py matches its
own short list of files by regex, so a behaviour whose output is matched by regex,
one that needs input while it runs, and one the profile skips stay out, each with
its reason in `mpconform-export.json`)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from mpconform.core.atomicfile import write_atomic
from mpconform.core.model import TestEntry
from mpconform.runners.run.harness import Suite

NOTE = "mpconform-export.json"


def why_left_out(test: TestEntry) -> str | None:
    if test.status == "skip":
        return test.reason
    if test.match != "exact":
        return "its output is matched by regex, which run-tests.py does only for its own files"
    if test.interact:
        return "it needs input sent while it runs"
    if test.repl:
        return "it types at the friendly REPL after the program, which run-tests.py never enters"
    return None


def export(suite: Suite, target: Path) -> dict:
    """Write the folder; returns the note (what went, as run or expected to fail, and what stayed out)."""
    target.mkdir(parents=True, exist_ok=True)
    if any(target.iterdir()) and not (target / NOTE).is_file():
        raise FileExistsError(f"{target}: not empty and not an earlier export; choose an empty folder")
    for old in target.glob("*.py*"):  # an earlier export of the same folder
        old.unlink()
    note: dict = {"port": suite.manifest.port, "spec_digest": suite.manifest.spec_digest or None,
                  "exported": {}, "left_out": {}}
    for test in suite.tests():
        why = why_left_out(test)
        if why:
            note["left_out"][test.id] = why
            continue
        source = suite.directory / test.file
        shutil.copyfile(source, target / f"{test.id}.py")
        shutil.copyfile(source.with_name(source.name + ".exp"), target / f"{test.id}.py.exp")
        # run-tests.py knows no expected failures: these fail there, as they do here
        note["exported"][test.id] = "xfail" if test.status == "xfail" else "run"
    write_atomic(target / NOTE, json.dumps(note, indent=1, sort_keys=True) + "\n")
    return note
