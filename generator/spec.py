"""Read spec/: validate every file against spec/schema.json, check what a schema
cannot (unique ids, known features, programs that parse, regexes that compile),
and resolve it into the model the templates and the runners use."""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from jsonschema import Draft202012Validator

from .errors import SourceError, SourceErrors
from .manifest import WILDCARD_LINE
from .yamlsource import YamlDoc, load_yaml


@dataclass(frozen=True)
class Citation:
    section: str
    quote: str


@dataclass(frozen=True)
class Feature:
    name: str
    description: str
    macros: tuple  # of dicts {name, value, default}
    implies: tuple
    probe: str = ""  # body of a MicroPython function: is the build configured with it?
    probe_output: str = ""  # regex over what the probe prints, when that decides instead
    skeleton: str = ""  # why `mpconform scaffold`'s host skeleton leaves it out (it needs port code)


@dataclass
class Behaviour:
    id: str
    api: str
    cites: Citation
    claim: str
    program: str
    expect: list[str]
    match: str  # "exact" or "regex"
    requires: tuple  # resolved: api + behaviour + implied features, sorted
    timeout_s: float | None
    source: str  # "spec/apis/x.yaml:12"
    interact: tuple = ()  # ((after, send), ...): input sent while the test runs


@dataclass
class Api:
    name: str
    kind: str
    doc_section: str
    summary: str
    params: list
    alt_params: list | None
    returns: str | None
    requires: tuple
    obligations: list
    doc_digest: str | None
    behaviours: list[Behaviour]
    source: str


@dataclass
class Spec:
    module: str
    doc: dict
    features: dict[str, Feature]
    apis: list[Api]
    files: list[str] = field(default_factory=list)

    @cached_property
    def behaviours(self) -> list[Behaviour]:
        return [b for api in self.apis for b in api.behaviours]

    def to_json(self) -> dict:
        """The resolved spec as plain data (`mpconform spec --json`)."""
        return {
            "module": self.module,
            "doc": self.doc,
            "features": {
                f.name: {
                    "description": f.description,
                    "macros": list(f.macros),
                    "implies": list(f.implies),
                    "probe": f.probe,
                    "probe_output": f.probe_output,
                }
                for f in self.features.values()
            },
            "apis": [
                {
                    "name": a.name,
                    "kind": a.kind,
                    "doc_section": a.doc_section,
                    "summary": a.summary,
                    "params": a.params,
                    "alt_params": a.alt_params,
                    "returns": a.returns,
                    "requires": list(a.requires),
                    "obligations": a.obligations,
                    "doc_digest": a.doc_digest,
                    "source": a.source,
                    "behaviours": [b.id for b in a.behaviours],
                }
                for a in self.apis
            ],
            "behaviours": [
                {
                    "id": b.id,
                    "api": b.api,
                    "doc": {"section": b.cites.section, "quote": b.cites.quote},
                    "claim": b.claim,
                    "requires": list(b.requires),
                    "match": b.match,
                    "interact": [{"after": a, "send": s} for a, s in b.interact],
                    "source": b.source,
                }
                for b in self.behaviours
            ],
        }


def _schema_errors(validator: Draft202012Validator, doc: YamlDoc) -> list[SourceError]:
    errors = []
    for err in sorted(validator.iter_errors(doc.data), key=lambda e: list(map(str, e.absolute_path))):
        path = tuple(err.absolute_path)
        message = err.message
        if err.validator == "oneOf" and path and "behaviours" in path:
            message = "needs exactly one of 'expect' or 'expect_regex'"
        elif len(message) > 200:
            message = message[:200] + "..."
        errors.append(doc.error(path, message))
    return errors


def _feature_closure(names, features: dict[str, Feature]) -> tuple:
    seen: set[str] = set()
    todo = list(names)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        if name in features:
            todo.extend(features[name].implies)
    return tuple(sorted(seen))


def _check_program(doc: YamlDoc, path: tuple, program: str) -> list[SourceError]:
    try:
        ast.parse(program)
    except SyntaxError as exc:
        start = doc.line(path + ("<content>",)) or doc.line(path)
        line = start + (exc.lineno or 1) - 1
        return [SourceError(doc.file, line, doc.error(path, "").field, f"program does not parse: {exc.msg}")]
    return []


# Probes run on the oldest and smallest builds: syntax those cannot compile would stop
# every probe (the probe program is one file).
_PROBE_SYNTAX = {ast.JoinedStr: "f-strings", ast.Slice: "slices", ast.NamedExpr: "':='", ast.MatchValue: "match"}


def _check_probe(doc: YamlDoc, path: tuple, feature: Feature) -> list[SourceError]:
    body = "".join("    " + line + "\n" for line in feature.probe.splitlines())
    try:
        tree = ast.parse("def probe():\n" + body)
    except SyntaxError as exc:
        start = doc.line(path + ("probe", "<content>")) or doc.line(path + ("probe",))
        line = (start or 0) + max((exc.lineno or 2) - 2, 0)
        return [SourceError(doc.file, line, doc.error(path + ("probe",), "").field, f"probe does not parse: {exc.msg}")]
    errors = []
    for node in ast.walk(tree):
        if type(node) in _PROBE_SYNTAX:
            what = _PROBE_SYNTAX[type(node)]
            errors.append(doc.error(path + ("probe",), f"probe uses {what}, which small builds cannot compile"))
            break
    if feature.probe_output:
        try:
            re.compile(feature.probe_output)
        except re.error as exc:
            errors.append(doc.error(path + ("probe_output",), f"bad regex: {exc}"))
    return errors


def load_schema(root: Path) -> Draft202012Validator:
    schema = json.loads((root / "spec" / "schema.json").read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def spec_files(root: Path) -> list[Path]:
    return [root / "spec" / "micropython.yaml", *sorted((root / "spec" / "apis").glob("*.yaml"))]


def load_spec(root: Path) -> Spec:
    """Load and check the whole spec. Raises SourceErrors listing every problem found."""
    validator = load_schema(root)
    docs: list[YamlDoc] = []
    errors: list[SourceError] = []
    for path in spec_files(root):
        rel = path.relative_to(root).as_posix()
        try:
            doc = load_yaml(path, rel)
        except SourceError as exc:
            errors.append(exc)
            continue
        if not isinstance(doc.data, dict):
            errors.append(SourceError(rel, 1, "", "expected a mapping at the top of the file"))
            continue
        schema_errors = _schema_errors(validator, doc)
        errors.extend(schema_errors)
        if not schema_errors:
            docs.append(doc)
    if errors:
        raise SourceErrors(errors)

    module_doc = docs[0]
    for key in ("module", "doc", "features"):
        if key not in module_doc.data:
            errors.append(module_doc.error((), f"missing required field '{key}'"))
    for doc in docs[1:]:
        for key in ("module", "doc", "features"):
            if key in doc.data:
                errors.append(doc.error((key,), "belongs in spec/micropython.yaml only"))
    if errors:
        raise SourceErrors(errors)

    features = {
        name: Feature(
            name, f["description"], tuple(f["macros"]), tuple(f.get("implies", ())), f["probe"], f.get("probe_output", ""),
            f.get("skeleton", ""),
        )
        for name, f in module_doc.data["features"].items()
    }
    for name, f in features.items():
        errors.extend(_check_probe(module_doc, ("features", name), f))
    for name, f in features.items():
        for i, implied in enumerate(f.implies):
            if implied not in features:
                errors.append(module_doc.error(("features", name, "implies", i), f"unknown feature '{implied}'"))

    apis: list[Api] = []
    api_names: dict[str, str] = {}
    behaviour_ids: dict[str, str] = {}
    for doc in docs:
        for ai, raw in enumerate(doc.data.get("apis", [])):
            apath = ("apis", ai)
            where = f"{doc.file}:{doc.line(apath)}"
            name = raw["name"]
            if name in api_names:
                errors.append(doc.error(apath + ("name",), f"duplicate api '{name}' (first at {api_names[name]})"))
            api_names[name] = where
            for ri, feat in enumerate(raw["requires"]):
                if feat not in features:
                    errors.append(doc.error(apath + ("requires", ri), f"unknown feature '{feat}'"))
            api_requires = _feature_closure(raw["requires"], features)
            behaviours = []
            for bi, rb in enumerate(raw["behaviours"]):
                bpath = apath + ("behaviours", bi)
                bid = rb["id"]
                bwhere = f"{doc.file}:{doc.line(bpath)}"
                if bid in behaviour_ids:
                    errors.append(doc.error(bpath + ("id",), f"duplicate behaviour id '{bid}' (first at {behaviour_ids[bid]})"))
                behaviour_ids[bid] = bwhere
                if not bid.startswith(name + ".") or bid.count(".") != name.count(".") + 1:
                    errors.append(doc.error(bpath + ("id",), f"behaviour id must be '{name}.<name>'"))
                for ri, feat in enumerate(rb.get("requires", [])):
                    if feat not in features:
                        errors.append(doc.error(bpath + ("requires", ri), f"unknown feature '{feat}'"))
                errors.extend(_check_program(doc, bpath + ("program",), rb["program"]))
                for si, step in enumerate(rb.get("interact", [])):
                    if any(ord(c) > 255 for c in step["send"]):
                        errors.append(doc.error(bpath + ("interact", si, "send"), "characters above \\xff are not bytes"))
                match = "regex" if "expect_regex" in rb else "exact"
                expect = rb.get("expect_regex", rb.get("expect"))
                key = "expect_regex" if match == "regex" else "expect"
                for li, line in enumerate(expect):
                    lpath = bpath + (key, li)
                    if "\n" in line or "\r" in line:
                        errors.append(doc.error(lpath, "an expected line cannot hold a line break"))
                    if match == "regex" and line != WILDCARD_LINE:
                        try:
                            re.compile(line)
                        except re.error as exc:
                            errors.append(doc.error(lpath, f"bad regex: {exc}"))
                behaviours.append(
                    Behaviour(
                        id=bid,
                        api=name,
                        cites=Citation(rb["cites"]["section"], rb["cites"]["quote"]),
                        claim=rb["claim"],
                        program=rb["program"] if rb["program"].endswith("\n") else rb["program"] + "\n",
                        expect=list(expect),
                        match=match,
                        requires=_feature_closure(list(raw["requires"]) + list(rb.get("requires", [])), features),
                        timeout_s=rb.get("timeout_s"),
                        source=bwhere,
                        interact=tuple((step["after"], step["send"]) for step in rb.get("interact", [])),
                    )
                )
            apis.append(
                Api(
                    name=name,
                    kind=raw["kind"],
                    doc_section=raw["doc_section"],
                    summary=raw.get("summary", ""),
                    params=raw["params"],
                    alt_params=raw.get("alt_params"),
                    returns=raw.get("returns"),
                    requires=api_requires,
                    obligations=raw.get("obligations", []),
                    doc_digest=raw.get("doc_digest"),
                    behaviours=behaviours,
                    source=where,
                )
            )
    classes = {a.name for a in apis if a.kind == "class"}
    for doc in docs:
        for ai, raw in enumerate(doc.data.get("apis", [])):
            owner, _, _ = raw["name"].partition(".")
            if raw["kind"] == "method" and ("." not in raw["name"] or owner not in classes):
                errors.append(doc.error(("apis", ai, "name"), "a method is named '<Class>.<method>' after a class api"))
            if raw["kind"] != "method" and "." in raw["name"]:
                errors.append(doc.error(("apis", ai, "kind"), "a dotted name must have kind 'method'"))
    if not apis and not errors:
        errors.append(SourceError("spec/apis", None, "apis", "no API files found"))
    if errors:
        raise SourceErrors(errors)
    return Spec(
        module=module_doc.data["module"],
        doc=module_doc.data["doc"],
        features=features,
        apis=apis,
        files=[d.file for d in docs],
    )
