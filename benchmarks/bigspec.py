"""A temporary copy of the project with its spec grown to about N behaviours: every
behaviour copied under new ids (`<api>.<name>_copyK`). Built at bench time from the
real spec, never committed; the caller removes the directory."""

from __future__ import annotations

import copy
import shutil
from pathlib import Path

import yaml

COPIED = ("spec", "ports", "suites")


def behaviour_count(root: Path) -> int:
    files = sorted((root / "spec" / "apis").glob("*.yaml"))
    return sum(len(api.get("behaviours", [])) for f in files for api in yaml.safe_load(f.read_text())["apis"])


def grow_spec(root: Path, dest: Path, behaviours: int = 5000) -> int:
    """Copy the project's data into `dest` and grow its spec; return the behaviour count."""
    for name in COPIED:
        shutil.copytree(root / name, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
    copies = max(1, round(behaviours / behaviour_count(root))) - 1
    total = 0
    for path in sorted((dest / "spec" / "apis").glob("*.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        for api in doc["apis"]:
            originals = api.get("behaviours", [])
            grown = list(originals)
            for k in range(1, copies + 1):
                for b in originals:
                    # a deep copy: shared values would be dumped as YAML aliases, which the spec refuses
                    grown.append({**copy.deepcopy(b), "id": f"{b['id']}_copy{k}"})
            api["behaviours"] = grown
            total += len(grown)
        path.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=1000), encoding="utf-8")
    return total
