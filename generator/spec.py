"""Read spec/: validate every file against spec/schema.json, check what a schema
cannot (unique ids, known features, programs that parse, regexes that compile),
and resolve it into the model the templates and the runners use."""

from __future__ import annotations

import ast
import json
import re
import warnings
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from mpconform.core.errors import SourceError, SourceErrors
from mpconform.core.manifest import WILDCARD_LINE
from mpconform.core.model import DocCitation
from mpconform.core.wholematch import SchemaChecker
from mpconform.generator.syntaxcache import KnownPrograms, cache_file
from mpconform.generator.yamlsource import YamlDoc, load_yaml


@dataclass(frozen=True)
class Feature:
    name: str
    description: str
    macros: tuple  # of dicts {name, value, default}
    implies: tuple
    probe: str = ""  # body of a MicroPython function: is the build configured with it?
    probe_output: str = ""  # regex over what the probe prints, when that decides instead
    skeleton: str = ""  # why `mpconform scaffold`'s host skeleton leaves it out (it needs port code)
    probe_output_tells: str = ""  # regex: printed output not matching it cannot tell
    probe_interact: tuple = ()  # ((after, send), ...): input sent while the probe runs


@dataclass(frozen=True)
class Limit:
    """An implementation limit a behaviour may lean on (a queue's depth, say), and how to measure it."""

    name: str
    description: str
    macros: tuple  # of dicts {name, default}
    requires: tuple  # features without which there is nothing to measure
    documented_minimum: int  # what the docs promise every port
    measures_up_to: int  # the probe tells "at least this much" beyond here
    probe: str  # body of a MicroPython function returning the measured value


@dataclass
class Behaviour:
    id: str
    api: str
    cites: DocCitation
    claim: str
    program: str
    expect: list[str]
    match: str  # "exact", "regex", or "observe" (regex lines; a match is an observation: generator/edges.py)
    requires: tuple  # resolved: api + behaviour + implied features, sorted
    timeout_s: float | None
    source: str  # "spec/apis/x.yaml:12"
    interact: tuple = ()  # ((after, send), ...): input sent while the test runs
    needs: dict = field(default_factory=dict)  # limit -> least value the program needs
    dropped: dict = field(default_factory=dict)  # api-level feature -> why this claim does not need it
    control: str = ""  # for a "does not happen" claim: what the program shows does happen
    repl: tuple = ()  # lines typed at the friendly REPL after the program ends
    reproducer: str = ""  # a generated edge case's call alone (generator/edges.py), for findings
    edge_param: str = ""  # the parameter a generated edge case tries ("" for others, and for a context case)


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
    limits: dict[str, Limit] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    #: each file as parsed, with the line of every value, for checks after loading
    sources: dict[str, YamlDoc] = field(default_factory=dict, repr=False, compare=False)
    digest: str | None = field(default=None, repr=False, compare=False)  # set by render.spec_digest

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
                    **({"probe_output_tells": f.probe_output_tells} if f.probe_output_tells else {}),
                }
                for f in self.features.values()
            },
            **({"limits": {lim.name: limit_json(lim) for lim in self.limits.values()}} if self.limits else {}),
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
                    **({"needs": dict(b.needs)} if b.needs else {}),
                    **({"drop_requires": dict(b.dropped)} if b.dropped else {}),
                    "match": b.match,
                    "interact": [{"after": a, "send": s} for a, s in b.interact],
                    "control": b.control,
                    "repl": list(b.repl),
                    "source": b.source,
                }
                for b in self.behaviours
            ],
        }


def limit_json(limit: Limit) -> dict:
    return {
        "description": limit.description,
        "macros": list(limit.macros),
        "requires": list(limit.requires),
        "documented_minimum": limit.documented_minimum,
        "measures_up_to": limit.measures_up_to,
        "probe": limit.probe,
    }


def _schema_errors(validator: SchemaChecker, doc: YamlDoc) -> list[SourceError]:
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


def _check_program(doc: YamlDoc, path: tuple, program: str, programs: KnownPrograms) -> list[SourceError]:
    try:
        programs.check(program)  # (CPython's warnings on the code: see load_spec)
    except SyntaxError as exc:
        start = doc.line(path + ("<content>",)) or doc.line(path)
        line = start + (exc.lineno or 1) - 1
        return [SourceError(doc.file, line, doc.error(path, "").field, f"program does not parse: {exc.msg}")]
    return []


# Probes run on the oldest and smallest builds: syntax those cannot compile would stop
# every probe (the probe program is one file).
_PROBE_SYNTAX = {ast.JoinedStr: "f-strings", ast.Slice: "slices", ast.NamedExpr: "':='", ast.MatchValue: "match"}


def _check_probe(doc: YamlDoc, path: tuple, feature: Feature | Limit) -> list[SourceError]:
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
    for key in ("probe_output", "probe_output_tells"):
        regex = getattr(feature, key, "")
        if regex:
            try:
                re.compile(regex)
            except re.error as exc:
                errors.append(doc.error(path + (key,), f"bad regex: {exc}"))
    return errors


def load_schema(root: Path) -> SchemaChecker:
    return SchemaChecker(json.loads((root / "spec" / "schema.json").read_text(encoding="utf-8")))


def spec_files(root: Path) -> list[Path]:
    return [root / "spec" / "micropython.yaml", *sorted((root / "spec" / "apis").glob("*.yaml"))]


def load_spec(root: Path) -> Spec:
    """Load and check the whole spec. Raises SourceErrors listing every problem found."""
    docs = _read_files(root, load_schema(root))
    _check_placement(docs)
    module_doc = docs[0]
    errors: list[SourceError] = []
    features = _load_features(module_doc, errors)
    limits = _load_limits(module_doc, features, errors)
    seen = _Seen(programs=KnownPrograms(cache_file()))
    known = _Known(features, limits)
    with warnings.catch_warnings():  # CPython's warnings on the programs' code are not the spec's business
        warnings.simplefilter("ignore")
        apis = [_load_api(doc, ai, raw, known, seen, errors)
                for doc in docs for ai, raw in enumerate(doc.data.get("apis", []))]
    seen.programs.save()
    from mpconform.generator.sequences import load_models  # it builds Behaviours: imported here, not at the top

    load_models(root, apis, features, limits, seen.behaviours, errors)  # spec/models: <api>.model.seed<N> behaviours
    _check_kinds(docs, apis, errors)
    if not apis and not errors:
        errors.append(SourceError("spec/apis", None, "apis", "no API files found"))
    if errors:
        raise SourceErrors(errors)
    return Spec(
        module=module_doc.data["module"],
        doc=module_doc.data["doc"],
        features=features,
        apis=apis,
        limits=limits,
        files=[d.file for d in docs],
        sources={d.file: d for d in docs},
    )


def _read_files(root: Path, validator: SchemaChecker) -> list[YamlDoc]:
    """Every spec file parsed (once) and valid against the schema, or SourceErrors."""
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
    return docs


MODULE_KEYS = ("module", "doc", "features")
MODULE_ONLY = (*MODULE_KEYS, "limits")  # optional, but only in spec/micropython.yaml


def _check_placement(docs: list[YamlDoc]) -> None:
    """Module facts are in spec/micropython.yaml, and only there."""
    errors = [docs[0].error((), f"missing required field '{key}'") for key in MODULE_KEYS if key not in docs[0].data]
    errors += [doc.error((key,), "belongs in spec/micropython.yaml only") for doc in docs[1:] for key in MODULE_ONLY
               if key in doc.data]
    if errors:
        raise SourceErrors(errors)


def _load_features(doc: YamlDoc, errors: list[SourceError]) -> dict[str, Feature]:
    features = {
        name: Feature(
            name, f["description"], tuple(f["macros"]), tuple(f.get("implies", ())), f["probe"], f.get("probe_output", ""),
            f.get("skeleton", ""), f.get("probe_output_tells", ""),
            tuple((s["after"], s["send"]) for s in f.get("probe_interact", ())),
        )
        for name, f in doc.data["features"].items()
    }
    for name, f in features.items():
        errors.extend(_check_probe(doc, ("features", name), f))
    for name, f in features.items():
        for i, implied in enumerate(f.implies):
            if implied not in features:
                errors.append(doc.error(("features", name, "implies", i), f"unknown feature '{implied}'"))
    return features


def _load_limits(doc: YamlDoc, features: dict[str, Feature], errors: list[SourceError]) -> dict[str, Limit]:
    limits = {}
    for name, raw in doc.data.get("limits", {}).items():
        path = ("limits", name)
        if name in features:
            errors.append(doc.error(path, f"'{name}' is a feature already: a limit needs a name of its own"))
        limit = Limit(name, raw["description"], tuple(raw["macros"]), tuple(raw.get("requires", ())),
                      raw["documented_minimum"], raw["measures_up_to"], raw["probe"])
        _check_features(doc, path + ("requires",), list(limit.requires), features, errors)
        errors.extend(_check_probe(doc, path, limit))
        if limit.measures_up_to <= limit.documented_minimum:
            errors.append(doc.error(path + ("measures_up_to",), "must be above documented_minimum (or nothing needs measuring)"))
        limits[name] = limit
    return limits


@dataclass(frozen=True)
class _Known:
    """The vocabulary behaviours may name: features and limits."""

    features: dict
    limits: dict


@dataclass
class _Seen:
    """What the load has met: where each api name and behaviour id was first defined (to
    report duplicates), and which programs compile."""

    apis: dict[str, str] = field(default_factory=dict)
    behaviours: dict[str, str] = field(default_factory=dict)
    programs: KnownPrograms = field(default_factory=KnownPrograms)


def _check_features(doc: YamlDoc, path: tuple, names: list, features: dict, errors: list[SourceError]) -> None:
    for i, feat in enumerate(names):
        if feat not in features:
            errors.append(doc.error(path + (i,), f"unknown feature '{feat}'"))


def _load_api(doc: YamlDoc, ai: int, raw: dict, known: _Known, seen: _Seen, errors: list[SourceError]) -> Api:
    features = known.features
    apath = ("apis", ai)
    where = f"{doc.file}:{doc.line(apath)}"
    name = raw["name"]
    if name in seen.apis:
        errors.append(doc.error(apath + ("name",), f"duplicate api '{name}' (first at {seen.apis[name]})"))
    seen.apis[name] = where
    _check_features(doc, apath + ("requires",), raw["requires"], features, errors)
    behaviours = [_load_behaviour(doc, apath + ("behaviours", bi), rb, raw, known, seen, errors)
                  for bi, rb in enumerate(raw["behaviours"])]
    behaviours += _load_edges(doc, apath, raw, known, seen, errors)
    return Api(
        name=name,
        kind=raw["kind"],
        doc_section=raw["doc_section"],
        summary=raw.get("summary", ""),
        params=raw["params"],
        alt_params=raw.get("alt_params"),
        returns=raw.get("returns"),
        requires=_feature_closure(raw["requires"], features),
        obligations=raw.get("obligations", []),
        doc_digest=raw.get("doc_digest"),
        behaviours=behaviours,
        source=where,
    )


def _load_behaviour(doc: YamlDoc, bpath: tuple, rb: dict, api: dict, known: _Known, seen: _Seen,
                    errors: list[SourceError]) -> Behaviour:
    features = known.features
    name, bid = api["name"], rb["id"]
    where = f"{doc.file}:{doc.line(bpath)}"
    if bid in seen.behaviours:
        errors.append(doc.error(bpath + ("id",), f"duplicate behaviour id '{bid}' (first at {seen.behaviours[bid]})"))
    seen.behaviours[bid] = where
    if not bid.startswith(name + ".") or bid.count(".") != name.count(".") + 1:
        errors.append(doc.error(bpath + ("id",), f"behaviour id must be '{name}.<name>'"))
    _check_features(doc, bpath + ("requires",), rb.get("requires", []), features, errors)
    errors.extend(_check_program(doc, bpath + ("program",), rb["program"], seen.programs))
    for si, step in enumerate(rb.get("interact", [])):
        if any(ord(c) > 255 for c in step["send"]):
            errors.append(doc.error(bpath + ("interact", si, "send"), "characters above \\xff are not bytes"))
    match = "regex" if "expect_regex" in rb else "exact"
    key = "expect_regex" if match == "regex" else "expect"
    expect = rb[key]
    errors.extend(_check_expect(doc, bpath + (key,), expect, match))
    program = rb["program"]
    dropped = dict(rb.get("drop_requires", {}))
    requires = _requires(doc, bpath, api, rb, dropped, features, errors)
    needs = dict(rb.get("needs", {}))
    errors.extend(_check_needs(doc, bpath + ("needs",), needs, requires, known.limits))
    return Behaviour(
        id=bid,
        api=name,
        cites=DocCitation(rb["cites"]["section"], rb["cites"]["quote"]),
        claim=rb["claim"],
        program=program if program.endswith("\n") else program + "\n",
        expect=list(expect),
        match=match,
        requires=requires,
        timeout_s=rb.get("timeout_s"),
        source=where,
        interact=tuple((step["after"], step["send"]) for step in rb.get("interact", [])),
        needs=needs,
        dropped=dropped,
        control=rb.get("control", ""),
        repl=tuple(rb.get("repl", ())),
    )


def _load_edges(doc: YamlDoc, apath: tuple, api: dict, known_: _Known, seen: _Seen,
                errors: list[SourceError]) -> list[Behaviour]:
    """The api's generated edge behaviours (generator/edges.py), after checking each call
    form names only documented parameters and gives a program that parses."""
    from mpconform.generator.edges import HEAP_WORDS, edge_programs, form_params

    features = known_.features
    # a program of this size does not compile on the smallest heaps: where the spec measures
    # heaps, a smaller one skips the cases with its size instead of failing them all
    heap = HEAP_WORDS if "heap_words" in known_.limits and "gc" in features else None

    known = {p["name"] for p in [*api["params"], *(api.get("alt_params") or [])]}
    bad = False
    for fi, form in enumerate(api.get("edges", [])):
        fpath = apath + ("edges", fi)
        names = form_params(form, api)
        unknown = [name for name in names if name not in known]
        for name in unknown:
            errors.append(doc.error(fpath + ("params",), f"'{name}' is not a documented parameter of {api['name']}"))
        if unknown:
            bad = True
            continue  # (its call names what it should pass: one error, not two)
        try:
            form["call"].format(**{n: n for n in names})
            form.get("exercise", "").format(result="result")
        except (KeyError, IndexError, ValueError) as exc:
            errors.append(doc.error(fpath + ("call",), f"names something that is not a parameter it passes: {exc}"))
            bad = True
    if bad:
        return []
    out = []
    for edge in edge_programs(api):
        fpath = apath + ("edges", edge.form_index)
        where = f"{doc.file}:{doc.line(fpath)}"
        if edge.id in seen.behaviours:
            errors.append(doc.error(fpath, f"duplicate behaviour id '{edge.id}' (first at {seen.behaviours[edge.id]})"))
            continue
        seen.behaviours[edge.id] = where
        problems = _check_program(doc, fpath + ("call",), edge.program, seen.programs)
        if problems:
            errors.extend(problems)
            continue
        out.append(Behaviour(
            id=edge.id, api=api["name"], cites=edge.cites, claim=edge.claim, program=edge.program,
            expect=list(edge.expect), match="observe",
            requires=_feature_closure([*api["requires"], *edge.requires, *(["gc"] if heap else [])], features),
            needs={"heap_words": heap} if heap else {},
            timeout_s=None, source=where, reproducer=edge.reproducer, edge_param=edge.param,
        ))
    return out


def _requires(doc: YamlDoc, bpath: tuple, api: dict, rb: dict, dropped: dict, features: dict,
              errors: list[SourceError]) -> tuple:
    """The api's requires (less what the behaviour drops) and its own, with what they imply.
    A dropped feature must be one the api requires, and nothing kept may bring it back."""
    own = list(rb.get("requires", []))
    for name in dropped:
        path = bpath + ("drop_requires", name)
        if name not in api["requires"]:
            errors.append(doc.error(path, f"'{name}' is not in the api's requires: there is nothing to drop"))
        elif name in own:
            errors.append(doc.error(path, f"'{name}' is both dropped and required"))
    kept = [f for f in api["requires"] if f not in dropped] + own
    requires = _feature_closure(kept, features)
    for name in dropped:
        if name in requires and name in api["requires"] and name not in own:
            via = sorted(f for f in kept if f != name and name in _feature_closure([f], features))
            errors.append(doc.error(bpath + ("drop_requires", name),
                                    f"'{name}' is still required through {', '.join(via)}, which implies it"))
    return requires


def _check_needs(doc: YamlDoc, path: tuple, needs: dict, requires: tuple, limits: dict) -> list[SourceError]:
    errors = []
    for name, value in needs.items():
        limit = limits.get(name)
        if limit is None:
            known = ", ".join(sorted(limits)) or "none"
            errors.append(doc.error(path + (name,), f"unknown limit '{name}' (known limits: {known})"))
            continue
        if value <= limit.documented_minimum:
            errors.append(doc.error(path + (name,), f"{value} is within the documented minimum "
                                                   f"({limit.documented_minimum}): every port has it, so drop the need"))
        if value > limit.measures_up_to:
            errors.append(doc.error(path + (name,), f"{value} is more than the probe measures "
                                                   f"({limit.measures_up_to}): it could never be known to hold"))
        missing = [f for f in limit.requires if f not in requires]
        if missing:
            errors.append(doc.error(path + (name,), f"the limit is only measured with {', '.join(missing)}, "
                                                   "which this behaviour does not require"))
    return errors


def _check_expect(doc: YamlDoc, path: tuple, expect: list, match: str) -> list[SourceError]:
    errors = []
    for li, line in enumerate(expect):
        if "\n" in line or "\r" in line:
            errors.append(doc.error(path + (li,), "an expected line cannot hold a line break"))
        if match == "regex" and line != WILDCARD_LINE:
            try:
                re.compile(line)
            except re.error as exc:
                errors.append(doc.error(path + (li,), f"bad regex: {exc}"))
    return errors


def _check_kinds(docs: list[YamlDoc], apis: list[Api], errors: list[SourceError]) -> None:
    """Methods are '<Class>.<method>' after a class api; only methods have dotted names."""
    classes = {a.name for a in apis if a.kind == "class"}
    for doc in docs:
        for ai, raw in enumerate(doc.data.get("apis", [])):
            owner, _, _ = raw["name"].partition(".")
            if raw["kind"] == "method" and ("." not in raw["name"] or owner not in classes):
                errors.append(doc.error(("apis", ai, "name"), "a method is named '<Class>.<method>' after a class api"))
            if raw["kind"] != "method" and "." in raw["name"]:
                errors.append(doc.error(("apis", ai, "kind"), "a dotted name must have kind 'method'"))
