"""The statement map (spec/statements.yaml): every statement the module's docs
make, section by section, each either covered by behaviours or not testable
with a reason. Loaded with line numbers and checked against the spec, so a
malformed map is a `file:line: field: message` error like any spec file."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from mpconform.core.errors import SourceError, SourceErrors
from mpconform.core.wholematch import SchemaChecker
from mpconform.generator.spec import Spec
from mpconform.generator.yamlsource import YamlDoc, load_yaml

STATEMENTS_FILE = "spec/statements.yaml"
SCHEMA_FILE = "spec/statements.schema.json"

COVERED, NOT_TESTABLE, NOT_COVERED = "covered", "not-testable", "not-covered"


@dataclass(frozen=True)
class Statement:
    id: str
    section: str  # an api's doc_section
    quote: str  # a few words of the docs, to find the statement again
    says: str  # the statement in the project's own words
    covered_by: tuple[str, ...]
    not_testable: str | None  # the reason, when nothing can check it
    source: str  # "spec/statements.yaml:12"

    @property
    def status(self) -> str:
        if self.not_testable is not None:
            return NOT_TESTABLE
        return COVERED if self.covered_by else NOT_COVERED

    def to_json(self) -> dict:
        out = {"id": self.id, "quote": self.quote, "says": self.says, "status": self.status,
               "covered_by": list(self.covered_by), "source": self.source}
        if self.not_testable is not None:
            out["not_testable"] = self.not_testable
        return out


@dataclass
class StatementMap:
    file: str
    statements: list[Statement] = field(default_factory=list)

    def sections(self) -> list[tuple[str, list[Statement]]]:
        """Statements grouped by section, sections in the order the map first names them."""
        groups: dict[str, list[Statement]] = {}
        for st in self.statements:
            groups.setdefault(st.section, []).append(st)
        return list(groups.items())

    def summary(self) -> dict[str, int]:
        statuses = [st.status for st in self.statements]
        counts = {s: statuses.count(s) for s in (COVERED, NOT_TESTABLE, NOT_COVERED)}
        return {"statements": len(statuses), **counts, "testable": counts[COVERED] + counts[NOT_COVERED]}

    def to_json(self) -> dict:
        return {
            "file": self.file,
            "sections": [{"section": name, "statements": [st.to_json() for st in sts]} for name, sts in self.sections()],
            "summary": self.summary(),
        }


def load_statement_schema(root: Path) -> SchemaChecker:
    return SchemaChecker(json.loads((root / SCHEMA_FILE).read_text(encoding="utf-8")))


def _schema_errors(validator: SchemaChecker, doc: YamlDoc) -> list[SourceError]:
    errors = []
    for err in sorted(validator.iter_errors(doc.data), key=lambda e: list(map(str, e.absolute_path))):
        message = err.message
        if err.validator == "oneOf":
            message = "needs exactly one of 'covered_by' (behaviour ids, [] while none exists) or 'not_testable' (a reason)"
        elif len(message) > 200:
            message = message[:200] + "..."
        errors.append(doc.error(tuple(err.absolute_path), message))
    return errors


def load_statements(root: Path, spec: Spec) -> StatementMap:
    """Load spec/statements.yaml and check it against the spec. Raises SourceErrors,
    one `file:line: field: message` per problem."""
    try:
        doc = load_yaml(root / STATEMENTS_FILE, STATEMENTS_FILE)
    except SourceError as exc:
        raise SourceErrors([exc]) from None
    if not isinstance(doc.data, dict):
        raise SourceErrors([SourceError(STATEMENTS_FILE, 1, "", "expected a mapping with 'statements' at the top of the file")])
    errors = _schema_errors(load_statement_schema(root), doc)
    if errors:
        raise SourceErrors(errors)

    sections = {api.doc_section for api in spec.apis}
    behaviours = {b.id for b in spec.behaviours}
    seen: dict[str, str] = {}
    statements = []
    for i, raw in enumerate(doc.data["statements"]):
        path = ("statements", i)
        where = f"{doc.file}:{doc.line(path)}"
        sid = raw["id"]
        if sid in seen:
            errors.append(doc.error(path + ("id",), f"duplicate statement id '{sid}' (first at {seen[sid]})"))
        else:
            seen[sid] = where
        if raw["section"] not in sections:
            errors.append(doc.error(path + ("section",), f"unknown section '{raw['section']}' "
                                                         "(not the doc_section of any api in spec/apis)"))
        for j, bid in enumerate(raw.get("covered_by", [])):
            if bid not in behaviours:
                errors.append(doc.error(path + ("covered_by", j), f"unknown behaviour '{bid}'"))
        statements.append(Statement(id=sid, section=raw["section"], quote=raw["quote"], says=raw["says"],
                                    covered_by=tuple(raw.get("covered_by", ())), not_testable=raw.get("not_testable"),
                                    source=where))
    if errors:
        raise SourceErrors(errors)
    return StatementMap(file=doc.file, statements=statements)
