"""Outcomes of a run by behaviour id, and which differences between two ports' runs a
profile explains."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from mpconform.core.results import load_document

ROOT = Path(__file__).resolve().parents[1]


def outcomes(path: Path) -> dict[str, str]:
    """Behaviour id -> outcome, from a results file (read as every command reads one)."""
    return {r.id: r.outcome for r in load_document(path).results}


def typed_at_a_prompt(port: str) -> set[str]:
    """What only a runner at a REPL prompt can run: the unix runner skips it, a board types it."""
    manifest = json.loads((ROOT / "suites" / port / "manifest.json").read_text())
    return {t["id"] for t in manifest["tests"] if t.get("repl")}


def differences_explained(port: str) -> set[str]:
    """Where `port` may differ from the unix runner: its profile's expectations, and the REPL's tests."""
    profile = yaml.safe_load((ROOT / "ports" / port / "port.yaml").read_text())
    return set(profile.get("expectations") or {}) | typed_at_a_prompt(port)
