"""The release history (spec/history.yaml): the first upstream release that has each
feature, and for behaviours whose claim held later than their features, the release
that made it hold (`since`) and the first release whose docs state it (`documented`).
Each entry keeps its evidence (a git pickaxe string, the path it is searched in, the
commit that introduced it) so tools/since.py can re-derive it from upstream's history.
Loaded with line numbers and checked against the spec: a malformed entry is a
`file:line: field: message` error like any spec file."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path

from mpconform.core.errors import SourceError, SourceErrors
from mpconform.core.manifest import UNRELEASED, release_key
from mpconform.generator.spec import Spec
from mpconform.generator.yamlsource import YamlDoc, load_yaml

# A spec names a few dozen releases, compared for every behaviour of every port.
_release_key = functools.lru_cache(maxsize=None)(release_key)

HISTORY_FILE = "spec/history.yaml"
RELEASE = re.compile(r"v[0-9]+\.[0-9]+(\.[0-9]+)?")  # a release tag: no -preview, no -rc
COMMIT = re.compile(r"[0-9a-f]{40}")
EVIDENCE_KEYS = {"pickaxe": str, "path": str, "commit": str}
ENTRY_KEYS = ("since", "evidence", "documented", "documented_evidence", "note")


@dataclass(frozen=True)
class Evidence:
    pickaxe: str  # the string `git log -S` looks for
    path: str  # where, in upstream's tree
    commit: str  # the first commit that changed the string's count there

    def to_json(self) -> dict:
        return {"pickaxe": self.pickaxe, "path": self.path, "commit": self.commit}


@dataclass(frozen=True)
class Entry:
    name: str  # feature name or behaviour id
    kind: str  # "features" or "behaviours"
    since: str
    evidence: Evidence
    documented: str | None = None
    documented_evidence: Evidence | None = None
    note: str = ""
    source: str = ""  # "spec/history.yaml:12"


@dataclass
class History:
    file: str = HISTORY_FILE
    features: dict[str, Entry] = field(default_factory=dict)
    behaviours: dict[str, Entry] = field(default_factory=dict)

    def entries(self) -> list[Entry]:
        return [*self.features.values(), *self.behaviours.values()]

    def behaviour_since(self, behaviour_id: str, requires) -> str | None:
        """The first release where the behaviour can hold: the latest of its own `since`
        and those of the features it needs."""
        return self._latest("since", behaviour_id, requires)

    def behaviour_documented(self, behaviour_id: str, requires) -> str | None:
        """The first release whose docs state it: the latest `documented` recorded for it
        or for the features it needs (None when none is recorded)."""
        return self._latest("documented", behaviour_id, requires)

    def _latest(self, attr: str, behaviour_id: str, requires) -> str | None:
        entries = [self.features[f] for f in requires if f in self.features]
        if behaviour_id in self.behaviours:
            entries.append(self.behaviours[behaviour_id])
        found = [getattr(e, attr) for e in entries if getattr(e, attr)]
        return max(found, key=_release_key) if found else None


def _evidence(doc: YamlDoc, path: tuple, raw, errors: list[SourceError]) -> Evidence | None:
    if not isinstance(raw, dict):
        errors.append(doc.error(path, "expected a mapping with pickaxe, path and commit"))
        return None
    ok = True
    for key in raw:
        if key not in EVIDENCE_KEYS:
            errors.append(doc.error(path + (key,), f"unknown field (expected one of {', '.join(EVIDENCE_KEYS)})"))
            ok = False
    for key in EVIDENCE_KEYS:
        if key not in raw:
            errors.append(doc.error(path, f"missing required field '{key}'"))
            ok = False
        elif not isinstance(raw[key], str) or not raw[key]:
            errors.append(doc.error(path + (key,), "expected a non-empty string"))
            ok = False
    if ok and not COMMIT.fullmatch(raw["commit"]):
        errors.append(doc.error(path + ("commit",), f"'{raw['commit']}' is not a 40-digit commit id"))
        ok = False
    return Evidence(raw["pickaxe"], raw["path"], raw["commit"]) if ok else None


def _release(doc: YamlDoc, path: tuple, value, errors: list[SourceError]) -> str | None:
    if not isinstance(value, str) or not (RELEASE.fullmatch(value) or value == UNRELEASED):
        errors.append(doc.error(path, f"'{value}' is not an upstream release tag like v1.22.0 (or {UNRELEASED})"))
        return None
    return value


def _entry(doc: YamlDoc, kind: str, name: str, raw, errors: list[SourceError]) -> Entry | None:
    path = (kind, name)
    if not isinstance(raw, dict):
        errors.append(doc.error(path, "expected a mapping with since and evidence"))
        return None
    before = len(errors)
    for key in raw:
        if key not in ENTRY_KEYS:
            errors.append(doc.error(path + (key,), f"unknown field (expected one of {', '.join(ENTRY_KEYS)})"))
    for key in ("since", "evidence"):
        if key not in raw:
            errors.append(doc.error(path, f"missing required field '{key}'"))
    since = _release(doc, path + ("since",), raw["since"], errors) if "since" in raw else None
    evidence = _evidence(doc, path + ("evidence",), raw["evidence"], errors) if "evidence" in raw else None
    documented = documented_evidence = None
    if "documented" in raw:
        documented = _release(doc, path + ("documented",), raw["documented"], errors)
        if "documented_evidence" not in raw:
            errors.append(doc.error(path, "missing required field 'documented_evidence' (documented needs its evidence)"))
        else:
            documented_evidence = _evidence(doc, path + ("documented_evidence",), raw["documented_evidence"], errors)
    elif "documented_evidence" in raw:
        errors.append(doc.error(path + ("documented_evidence",), "given without 'documented'"))
    if "note" in raw and not isinstance(raw["note"], str):
        errors.append(doc.error(path + ("note",), "expected a string"))
    if documented and since and release_key(documented) < release_key(since):
        errors.append(doc.error(path + ("documented",), f"{documented} is before since {since}"))
    if len(errors) > before:
        return None
    return Entry(name, kind, since, evidence, documented, documented_evidence, raw.get("note", ""),
                 f"{doc.file}:{doc.line(path)}")


def parse_history(doc: YamlDoc, spec: Spec) -> History:
    """Check a loaded history against the spec; raises SourceErrors listing every problem."""
    errors: list[SourceError] = []
    history = History(doc.file)
    data = doc.data if doc.data is not None else {}
    if not isinstance(data, dict):
        raise SourceErrors([SourceError(doc.file, 1, "", "expected a mapping at the top of the file")])
    known = {"features": set(spec.features), "behaviours": {b.id for b in spec.behaviours}}
    for key in data:
        if key not in known:
            errors.append(doc.error((key,), "unknown section (expected features or behaviours)"))
    for kind, names in known.items():
        section = data.get(kind) or {}
        if not isinstance(section, dict):
            errors.append(doc.error((kind,), "expected a mapping of names to entries"))
            continue
        what = "feature" if kind == "features" else "behaviour"
        for name, raw in section.items():
            if name not in names:
                errors.append(doc.error((kind, name), f"unknown {what} '{name}'"))
                continue
            entry = _entry(doc, kind, name, raw, errors)
            if entry:
                getattr(history, kind)[name] = entry
    if errors:
        raise SourceErrors(errors)
    return history


def load_history(root: Path, spec: Spec) -> History:
    """spec/history.yaml checked against the spec; an empty History when the file is absent."""
    path = root / HISTORY_FILE
    if not path.exists():
        return History()
    try:
        doc = load_yaml(path, HISTORY_FILE)
    except SourceError as exc:
        raise SourceErrors([exc]) from None
    return parse_history(doc, spec)
