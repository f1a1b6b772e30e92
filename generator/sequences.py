"""Model-based sequences (spec/models/*.yaml): each model of a stateful API, with each of
its seeds, becomes the behaviour `<api>.model.seed<N>`, whose program runs a sequence of
operations built from the seed on the real API and on the model side by side, and on the
first divergence shrinks the sequence on the device and prints it."""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass
from pathlib import Path

import jinja2

from mpconform.core.errors import SourceError
from mpconform.core.model import DocCitation
from mpconform.core.wholematch import SchemaChecker
from mpconform.generator.render import environment
from mpconform.generator.spec import Api, Behaviour, _check_needs, _feature_closure, _schema_errors
from mpconform.generator.yamlsource import YamlDoc, load_yaml

MODELS_DIR = "spec/models"
SCHEMA_FILE = "spec/models.schema.json"
EXPECT = "model ok"

# What the driver calls in each source of a model: (source, kind, name, methods).
_DEFINES = (
    ("generate", ast.FunctionDef, "config", ()),
    ("generate", ast.FunctionDef, "config_ok", ()),
    ("generate", ast.FunctionDef, "describe", ()),
    ("generate", ast.FunctionDef, "operation", ()),
    ("reference", ast.ClassDef, "Model", ("allows",)),
    ("subject", ast.ClassDef, "Subject", ("close",)),
)
# Small boards run these programs: syntax their compilers lack would stop them all.
_OLD_SYNTAX = {ast.JoinedStr: "f-strings", ast.NamedExpr: "':='", ast.MatchValue: "match"}


@dataclass(frozen=True)
class Operation:
    name: str
    args: tuple[str, ...]
    doc: str


@dataclass(frozen=True)
class Model:
    api: str
    cites: DocCitation
    claim: str
    operations: tuple[Operation, ...]
    generate: str
    reference: str
    subject: str
    requires: tuple  # resolved: the api's, the model's own, and what they imply
    needs: dict  # limit -> least value: the program is large for a small board's heap
    seeds: tuple[int, ...]
    length: int
    timeout_s: float | None
    source: str  # "spec/models/ringio.yaml:4"

    def behaviour_id(self, seed: int) -> str:
        return f"{self.api}.model.seed{seed}"


def model_files(root: Path) -> list[Path]:
    return sorted((root / MODELS_DIR).glob("*.yaml"))


def load_models(root: Path, apis: list[Api], features: dict, limits: dict, seen: dict[str, str],
                errors: list[SourceError]) -> list[Model]:
    """Read and check every model file; add each model's behaviours to its api. Problems
    go to `errors` (file, line, field); `seen` is behaviour id -> where first defined."""
    files = model_files(root)
    if not files:
        return []
    checker = SchemaChecker(json.loads((root / SCHEMA_FILE).read_text(encoding="utf-8")))
    by_name = {a.name: a for a in apis}
    env = environment()
    models = []
    for path in files:
        rel = path.relative_to(root).as_posix()
        try:
            doc = load_yaml(path, rel)
        except SourceError as exc:
            errors.append(exc)
            continue
        if not isinstance(doc.data, dict):
            errors.append(SourceError(rel, 1, "", "expected a mapping with 'models' at the top of the file"))
            continue
        schema_errors = _schema_errors(checker, doc)
        if schema_errors:
            errors.extend(schema_errors)
            continue
        for mi, raw in enumerate(doc.data["models"]):
            model = _load_model(doc, ("models", mi), raw, by_name, features, limits, errors)
            if model is None:
                continue
            models.append(model)
            for si, behaviour in enumerate(model_behaviours(model, env)):
                if behaviour.id in seen:
                    errors.append(doc.error(("models", mi, "seeds", si),
                                            f"duplicate behaviour id '{behaviour.id}' (first at {seen[behaviour.id]})"))
                    continue
                seen[behaviour.id] = behaviour.source
                by_name[model.api].behaviours.append(behaviour)
    return models


def _load_model(doc: YamlDoc, path: tuple, raw: dict, apis: dict[str, Api], features: dict, limits: dict,
                errors: list[SourceError]) -> Model | None:
    before = len(errors)
    api = apis.get(raw["api"])
    if api is None:
        errors.append(doc.error(path + ("api",), f"unknown api '{raw['api']}' (not in spec/apis)"))
    for i, name in enumerate(raw.get("requires", [])):
        if name not in features:
            errors.append(doc.error(path + ("requires", i), f"unknown feature '{name}'"))
    operations = tuple(Operation(o["name"], tuple(o.get("args", ())), o["doc"]) for o in raw["operations"])
    names = [o.name for o in operations]
    for i, name in enumerate(names):
        if name in names[:i]:
            errors.append(doc.error(path + ("operations", i, "name"), f"duplicate operation '{name}'"))
    trees = {}
    for key in ("generate", "reference", "subject"):
        tree = _parse(doc, path + (key,), raw[key], errors)
        if tree is not None:
            trees[key] = tree
    for key, kind, name, methods in _DEFINES:
        if key not in trees:
            continue
        wanted = methods + (tuple(names) if name in ("Model", "Subject") else ())
        _check_defines(doc, path + (key,), trees[key], kind, name, wanted, errors)
    if api is None:
        return None
    requires = _feature_closure(list(api.requires) + list(raw.get("requires", [])), features)
    needs = dict(raw.get("needs", {}))
    errors.extend(_check_needs(doc, path + ("needs",), needs, requires, limits))
    if len(errors) > before:
        return None
    return Model(
        api=api.name,
        cites=DocCitation(raw["cites"]["section"], raw["cites"]["quote"]),
        claim=raw["claim"],
        operations=operations,
        generate=_block(raw["generate"]),
        reference=_block(raw["reference"]),
        subject=_block(raw["subject"]),
        requires=requires,
        needs=needs,
        seeds=tuple(raw["seeds"]),
        length=raw["length"],
        timeout_s=raw.get("timeout_s"),
        source=f"{doc.file}:{doc.line(path)}",
    )


def _block(text: str) -> str:
    return text if text.endswith("\n") else text + "\n"


def _parse(doc: YamlDoc, path: tuple, text: str, errors: list[SourceError]) -> ast.Module | None:
    try:
        tree = ast.parse(text)
    except SyntaxError as exc:
        errors.append(_at(doc, path, exc.lineno, f"does not parse: {exc.msg}"))
        return None
    for node in ast.walk(tree):
        if type(node) in _OLD_SYNTAX:
            errors.append(_at(doc, path, getattr(node, "lineno", None),
                              f"uses {_OLD_SYNTAX[type(node)]}, which small builds cannot compile"))
            return None
    return tree


def _at(doc: YamlDoc, path: tuple, lineno: int | None, message: str) -> SourceError:
    """An error at a line of a source block (its first line when lineno is None)."""
    start = doc.line(path + ("<content>",)) or doc.line(path) or 1
    return SourceError(doc.file, start + (lineno or 1) - 1, doc.error(path, "").field, message)


def _check_defines(doc: YamlDoc, path: tuple, tree: ast.Module, kind: type, name: str, methods: tuple,
                   errors: list[SourceError]) -> None:
    node = next((n for n in tree.body if isinstance(n, kind) and getattr(n, "name", None) == name), None)
    what = "class" if kind is ast.ClassDef else "function"
    if node is None:
        errors.append(doc.error(path, f"must define {what} {name}"))
        return
    defined = {n.name for n in getattr(node, "body", ()) if isinstance(n, ast.FunctionDef)}
    missing = [m for m in methods if m not in defined]
    if missing:
        errors.append(_at(doc, path, node.lineno, f"class {name} has no method {', '.join(missing)}"))


def model_behaviours(model: Model, env: jinja2.Environment | None = None) -> list[Behaviour]:
    """One behaviour per seed, in the order the seeds are listed."""
    template = (env or environment()).get_template("suite/model.py.j2")
    return [
        Behaviour(
            id=model.behaviour_id(seed),
            api=model.api,
            cites=model.cites,
            claim=f"{model.claim} (the sequence of seed {seed}, {model.length} operations)",
            program=template.render(m=model, seed=seed),
            expect=[EXPECT],
            match="exact",
            requires=model.requires,
            needs=dict(model.needs),
            timeout_s=model.timeout_s,
            source=model.source,
        )
        for seed in model.seeds
    ]
