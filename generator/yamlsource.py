"""Load YAML while remembering the line of every value, so errors can name it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from mpconform.core.errors import SourceError
from mpconform.core.inputfile import MAX_DEPTH, InputFileError, depth_problem, read_bytes

_SURROGATE = re.compile("[\ud800-\udfff]")  # YAML's \u escapes can make them; UTF-8 cannot hold them

Path_ = tuple  # a path into the document: keys and list indices


def field_name(path: Path_) -> str:
    """Render ('apis', 0, 'behaviours', 2, 'id') as apis[0].behaviours[2].id."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


@dataclass
class YamlDoc:
    """A parsed YAML file: its data and the 1-based line of each path in it."""

    file: str
    data: Any
    lines: dict = field(default_factory=dict)

    def line(self, path: Path_) -> int | None:
        """Line of `path`, or of its nearest ancestor that has one."""
        path = tuple(path)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get((), 1)

    def error(self, path: Path_, message: str) -> SourceError:
        return SourceError(self.file, self.line(path), field_name(path), message)


# libyaml's parser, when PyYAML was built with it: the same nodes with the same marks,
# many times faster. Its error messages differ, so a file it rejects is parsed again by
# the pure-Python loader, whose message is the one reported.
STR_TAG = "tag:yaml.org,2002:str"
_C_LOADER = getattr(yaml, "CSafeLoader", None)


if _C_LOADER is not None:
    class _CLoader(_C_LOADER):  # type: ignore[misc, valid-type]
        """libyaml's safe loader, with SafeLoader's tag resolution made shorter for the
        untagged scalars that are most of a spec (libyaml asks for each one): the same
        resolvers, by first character, with no list built per scalar."""

        _by_first = {first: tuple(found) for first, found in _C_LOADER.yaml_implicit_resolvers.items()}
        _plain_only = None not in _C_LOADER.yaml_implicit_resolvers and not _C_LOADER.yaml_path_resolvers

        def resolve(self, kind, value, implicit):
            if kind is not yaml.ScalarNode or not self._plain_only:
                return super().resolve(kind, value, implicit)
            if implicit[0]:
                for tag, regexp in self._by_first.get(value[:1], ()):
                    if regexp.match(value):
                        return tag
            return STR_TAG


FAST_LOADER = _CLoader if _C_LOADER is not None else yaml.SafeLoader


def load_yaml(path: Path, display: str | None = None) -> YamlDoc:
    """Parse `path`; raise SourceError (with line) on bad bytes, bad YAML, duplicate keys,
    aliases or lone surrogates."""
    name = display or str(path)
    try:
        raw = read_bytes(path)
    except InputFileError as exc:
        raise SourceError(name, None, "", str(exc).split(": ", 1)[-1]) from None
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise SourceError(name, 1, "", "UTF-16 text; save it as UTF-8")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise SourceError(name, line, "", f"not UTF-8: {exc.reason}") from None
    doc = _parse(text, name)
    if depth_problem(doc.data):
        raise SourceError(name, _too_deep_line(text), "", f"nested more than {MAX_DEPTH} deep")
    return doc


def _too_deep_line(text: str) -> int | None:
    """Where the nesting first goes past MAX_DEPTH, from the parser's events (which it
    produces without recursing, unlike the composer)."""
    depth = 0
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):  # libyaml stops at its own limit before saying where
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                depth += 1
                if depth > MAX_DEPTH:
                    return event.start_mark.line + 1
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                depth -= 1
    except yaml.YAMLError:
        pass
    return None


def _parse(text: str, name: str) -> YamlDoc:
    if FAST_LOADER is not yaml.SafeLoader:
        try:
            return _load_text(FAST_LOADER, text, name)
        except yaml.YAMLError:
            pass  # reported below, in the pure-Python loader's words
        except RecursionError:
            raise SourceError(name, _too_deep_line(text), "", f"nested more than {MAX_DEPTH} deep") from None
    try:
        return _load_text(yaml.SafeLoader, text, name)
    except RecursionError:
        raise SourceError(name, _too_deep_line(text), "", f"nested more than {MAX_DEPTH} deep") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise SourceError(name, line, "", f"invalid YAML: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise SourceError(name, None, "", f"invalid YAML: {exc}") from None


def _load_text(loader_class, text: str, name: str) -> YamlDoc:
    loader = loader_class(text)
    try:
        node = loader.get_single_node()
        doc = YamlDoc(name, None)
        if node is not None:
            # Only a \u or \U escape can make a lone surrogate (the text itself is UTF-8),
            # and only a text that defines an anchor (&) can have aliases.
            escapes = "\\u" in text or "\\U" in text
            seen: set[int] | None = set() if "&" in text else None
            doc.data = _build(loader, node, (), doc, seen, escapes)
        return doc
    finally:
        loader.dispose()


def _scalar(loader, node: yaml.Node):
    # Plain strings are most of a spec: take them as they are, skip the constructor.
    if node.tag == STR_TAG and isinstance(node, yaml.ScalarNode):
        return node.value
    return loader.construct_object(node, deep=True)


# Keys the constructor rewrites before it builds a mapping: '<<' (merge) and '=' (value)
_REWRITTEN_KEYS = ("tag:yaml.org,2002:merge", "tag:yaml.org,2002:value")
_BLOCK_STYLES = ("|", ">")


def _build(loader, node: yaml.Node, path: Path_, doc: YamlDoc, seen: set[int] | None, escapes: bool) -> Any:
    # An alias is the anchored node met a second time. Spec and profiles have no use for
    # aliases, and nested ones expand exponentially (a 600-byte file could take minutes).
    if seen is not None:
        if id(node) in seen:
            raise SourceError(doc.file, node.start_mark.line + 1, field_name(path),
                              f"YAML alias of the value at line {node.start_mark.line + 1} not allowed: "
                              "write the value out")
        seen.add(id(node))
    lines = doc.lines
    if path not in lines:
        lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        if any(key_node.tag in _REWRITTEN_KEYS for key_node, _ in node.value):
            loader.flatten_mapping(node)
        # a value that is a one-line string needs none of the checks below (its line is its key's)
        plain = seen is None and not escapes
        out: dict = {}
        for key_node, value_node in node.value:
            key = key_node.value if key_node.tag == STR_TAG and isinstance(key_node, yaml.ScalarNode) \
                else _scalar(loader, key_node)
            if not isinstance(key, (str, int, float, bool)) and key is not None:
                raise SourceError(doc.file, key_node.start_mark.line + 1, field_name(path), "mapping keys must be scalars")
            if key in out:
                raise SourceError(doc.file, key_node.start_mark.line + 1, field_name(path + (key,)), "duplicate key")
            key_path = path + (key,)
            lines[key_path] = key_node.start_mark.line + 1
            if plain and value_node.tag == STR_TAG and value_node.__class__ is yaml.ScalarNode \
                    and value_node.style not in _BLOCK_STYLES:
                out[key] = value_node.value
            else:
                out[key] = _build(loader, value_node, key_path, doc, seen, escapes)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_build(loader, item, path + (i,), doc, seen, escapes) for i, item in enumerate(node.value)]
    value = _scalar(loader, node)
    if escapes and isinstance(value, str):
        bad = _SURROGATE.search(value)
        if bad:
            raise SourceError(doc.file, node.start_mark.line + 1, field_name(path),
                              f"lone surrogate \\u{ord(bad.group()):04x}: not a character, cannot be written as UTF-8")
    if isinstance(node, yaml.ScalarNode) and node.style in _BLOCK_STYLES:
        # A block scalar's content starts on the line after its indicator.
        lines[path + ("<content>",)] = node.start_mark.line + 2
    return value
