"""Build small throwaway suites in the manifest format, for runner and harness tests."""

from __future__ import annotations

import json
from pathlib import Path


def make_suite(directory: Path, tests: list[dict], runner_options: dict | None = None, port: str = "scratch") -> Path:
    """tests: dicts with id, program, expect (lines) and optionally status, reason, match."""
    directory.mkdir(parents=True, exist_ok=True)
    entries = []
    for t in tests:
        status = t.get("status", "run")
        entry = {
            "id": t["id"], "api": t["id"].split(".")[0], "status": status, "reason": t.get("reason", ""),
            "issue": "", "match": t.get("match", "exact"), "requires": [], "doc": {"section": "s", "quote": "q"},
            "source": "test", "timeout_s": t.get("timeout_s"), "file": None,
        }
        if status != "skip":
            entry["file"] = f"{t['id']}.py"
            (directory / entry["file"]).write_text(t["program"])
            (directory / (entry["file"] + ".exp")).write_text("".join(line + "\n" for line in t["expect"]))
        entries.append(entry)
    manifest = {"format": 1, "port": port, "runner": {"name": "unix", "options": runner_options or {}}, "tests": entries}
    (directory / "manifest.json").write_text(json.dumps(manifest))
    return directory
