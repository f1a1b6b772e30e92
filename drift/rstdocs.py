"""Read MicroPython's Sphinx reStructuredText with docutils.

docutils knows plain reST; the Sphinx directives and roles the library docs use
are registered here (description directives such as `function`/`class`/`method`
become `desc` nodes holding their body; cross-reference roles become their
displayed text; Sphinx-only containers keep their content), so nothing is
dropped or misparsed. Directive groups written back to back share the body of
the last one (`heap_lock()`, `heap_unlock()`, `heap_locked()`), and repeated
signatures of one name are one member (`RingIO(size)` / `RingIO(buffer)`)."""

from __future__ import annotations

import io
import re

from docutils import nodes, utils
from docutils.parsers.rst import Directive, Parser, directives, roles

from mpconform.drift.docmodel import DocMember, DocModule, DocReadError, Passage, collapse, split_signature

DESC_KINDS = (
    "function", "class", "method", "data", "attribute", "exception", "decorator",
    "staticmethod", "classmethod", "property", "const",
)
CLASS_KINDS = ("class", "exception")


class desc(nodes.Element):  # noqa: N801 - docutils node classes are lower case by convention
    """One description directive: attributes kind, signatures, line, span (source line offsets)."""


class module_marker(nodes.Element):  # noqa: N801
    """`.. module::` / `.. currentmodule::`: sets the documented module."""


class _AnyOptions(dict):
    """Sphinx directives take many options (:noindex:, :synopsis:, :platform: ...); keep them all."""

    def __missing__(self, key):
        return directives.unchanged


def _span(directive: Directive) -> set[int]:
    """0-based source lines a directive occupies (its own lines and its content)."""
    start = directive.lineno - 1
    return set(range(start, start + len(directive.block_text.splitlines()))) | {o for _, o in directive.content.items}


class DescDirective(Directive):
    has_content = True
    required_arguments = 1
    optional_arguments = 0
    final_argument_whitespace = True
    option_spec = _AnyOptions(noindex=directives.flag, **{"no-index": directives.flag})

    def run(self):
        kind = self.name.split(":")[-1]
        node = desc(self.block_text)
        node["kind"] = kind
        node["signatures"] = [collapse(s) for s in self.arguments[0].splitlines() if s.strip()]
        node["noindex"] = "noindex" in self.options or "no-index" in self.options
        node["line"] = self.lineno
        node["span"] = _span(self)
        node["content"] = list(zip(self.content.items, self.content, strict=False))
        node.source, node.line = self.state_machine.get_source_and_line(self.lineno)
        if self.content:
            self.state.nested_parse(self.content, self.content_offset, node)
        return [node]


class ModuleDirective(Directive):
    has_content = True
    required_arguments = 1
    final_argument_whitespace = True
    option_spec = _AnyOptions(noindex=directives.flag)

    def run(self):
        node = module_marker()
        node["module"] = self.arguments[0].strip()
        node["line"] = self.lineno
        return [node]


class ContainerDirective(Directive):
    """Sphinx directives whose content is ordinary text (versionadded, seealso, only ...)."""

    has_content = True
    optional_arguments = 1
    final_argument_whitespace = True
    option_spec = _AnyOptions()

    def run(self):
        node = nodes.container()
        if self.arguments and self.name in ("versionadded", "versionchanged", "deprecated"):
            node += nodes.paragraph(text=f"{self.name} {self.arguments[0]}")
        if self.content:
            self.state.nested_parse(self.content, self.content_offset, node)
        return [node]


class CodeDirective(Directive):
    has_content = True
    optional_arguments = 1
    option_spec = _AnyOptions()

    def run(self):
        text = "\n".join(self.content)
        return [nodes.literal_block(text, text)]


class IgnoredDirective(Directive):
    """Directives with nothing for a reader of one page (toctree, index, highlight ...)."""

    has_content = True
    optional_arguments = 10
    final_argument_whitespace = True
    option_spec = _AnyOptions()

    def run(self):
        return []


XREF_ROLES = (
    "ref", "mod", "func", "class", "meth", "data", "attr", "exc", "obj", "const", "term",
    "doc", "any", "envvar", "option", "keyword", "program", "numref", "token",
)
TEXT_ROLES = ("file", "samp", "kbd", "command", "dfn", "guilabel", "menuselection", "mailheader", "makevar", "mimetype",
              "newsgroup", "regexp", "abbr", "pep", "rfc")


def _xref_display(text: str) -> str:
    text = utils.unescape(text)
    m = re.match(r"^(.*?)\s*<([^<>]*)>$", text, re.S)
    if m and m.group(1):
        return m.group(1)
    target = m.group(2) if m else text
    target = target.lstrip("!")
    if target.startswith("~"):
        target = target[1:].rsplit(".", 1)[-1]
    return target


def xref_role(name, rawtext, text, lineno, inliner, options=None, content=None):
    return [nodes.literal(rawtext, _xref_display(text))], []


def text_role(name, rawtext, text, lineno, inliner, options=None, content=None):
    return [nodes.inline(rawtext, utils.unescape(text))], []


_REGISTERED = False


def register_sphinx_markup() -> None:
    """Teach docutils the Sphinx directives and roles (idempotent; docutils' registries are global)."""
    global _REGISTERED
    if _REGISTERED:
        return
    for kind in DESC_KINDS:
        for name in (kind, f"py:{kind}"):
            directives.register_directive(name, DescDirective)
    for name in ("module", "py:module", "currentmodule", "py:currentmodule"):
        directives.register_directive(name, ModuleDirective)
    for name in ("versionadded", "versionchanged", "deprecated", "seealso", "only", "centered", "hlist", "glossary",
                 "productionlist", "tabularcolumns"):
        directives.register_directive(name, ContainerDirective)
    for name in ("code-block", "sourcecode", "doctest", "testcode"):
        directives.register_directive(name, CodeDirective)
    for name in ("toctree", "index", "highlight", "literalinclude", "sectionauthor", "moduleauthor", "codeauthor",
                 "default-domain", "automodule", "autofunction", "autoclass", "automethod", "autodata"):
        directives.register_directive(name, IgnoredDirective)
    for name in XREF_ROLES:
        for full in (name, f"py:{name}", f"std:{name}"):
            roles.register_local_role(full, xref_role)
    for name in TEXT_ROLES:
        roles.register_local_role(name, text_role)
    _REGISTERED = True


def _settings():
    try:
        from docutils.frontend import get_default_settings

        settings = get_default_settings(Parser)
    except ImportError:  # docutils < 0.19
        from docutils.frontend import OptionParser

        settings = OptionParser(components=(Parser,)).get_default_values()
    settings.report_level = 5  # nothing to stderr: messages are collected below
    settings.halt_level = 5
    settings.warning_stream = io.StringIO()
    settings.file_insertion_enabled = False  # never read other files named by the input
    settings.raw_enabled = False
    settings.line_length_limit = 100_000
    return settings


def _plain_text(node: nodes.Node) -> str:
    """What a reader sees in `node`, nested members and parser messages left out."""
    parts: list[str] = []

    def walk(n):
        if isinstance(n, (desc, nodes.system_message, nodes.comment, module_marker)):
            return
        if isinstance(n, nodes.Text):
            parts.append(n.astext())
            return
        block = not isinstance(n, nodes.Inline)
        if block:
            parts.append(" ")
        for child in n.children:
            walk(child)
        if block:
            parts.append(" ")

    for child in node.children:
        walk(child)
    return collapse("".join(parts))


def _passages(body: desc) -> list[Passage]:
    """The section's paragraphs and tables in order; code examples and nested members left out."""
    out: list[Passage] = []

    def walk(n):
        if isinstance(n, (desc, nodes.system_message, nodes.comment, module_marker, nodes.literal_block,
                          nodes.doctest_block)):
            return
        if isinstance(n, nodes.table):
            out.append(Passage(_plain_text(n), _line_of(n), whole=True))
        elif isinstance(n, nodes.TextElement):
            text = _plain_text(n)
            if text:
                out.append(Passage(text, _line_of(n)))
        elif isinstance(n, nodes.Element):
            for child in n.children:
                walk(child)

    for child in body.children:
        walk(child)
    return out


def _line_of(node: nodes.Node) -> int | None:
    """The source line of a block (docutils sets it on some nodes only: ask the first that has it)."""
    for n in node.findall(include_self=True):
        if getattr(n, "line", None):
            return n.line
    return None


def _nested_desc_spans(node: desc) -> set[int]:
    spans: set[int] = set()
    for n in node.findall(desc, include_self=False):
        spans |= n["span"]
    return spans


def _raw_text(node: desc) -> str:
    skip = _nested_desc_spans(node)
    return collapse("\n".join(line for (_, offset), line in node["content"] if offset not in skip))


def _strip_module(signature: str, module: str | None) -> str:
    if module and signature.startswith(module + "."):
        return signature[len(module) + 1:]
    return signature


def _groups(parent: nodes.Element) -> list[list[desc]]:
    """Back-to-back desc siblings whose leading ones have no body share the last one's body."""
    groups: list[list[desc]] = []
    pending: list[desc] = []
    for child in parent.children:
        if isinstance(child, desc):
            pending.append(child)
            if len(child.children):
                groups.append(pending)
                pending = []
        else:
            if pending:
                groups.append(pending)
                pending = []
    if pending:
        groups.append(pending)
    return groups


def _collect(parent: nodes.Element, module: list, owner: str | None, path: str, out: list[DocMember],
             warnings: list[str]) -> None:
    for child in parent.children:
        if isinstance(child, module_marker):
            module[0] = child["module"]
    for group in _groups(parent):
        body = group[-1]
        sigs = [_strip_module(s, module[0]) for d in group for s in d["signatures"]]
        section = sigs[0]
        text, raw = _plain_text(body), _raw_text(body)
        passages = _passages(body)
        by_name: dict[str, DocMember] = {}
        for d in group:
            for sig in d["signatures"]:
                sig = _strip_module(sig, module[0])
                try:
                    name, _ = split_signature(sig)
                except ValueError:
                    warnings.append(f"{path}:{d['line']}: {d['kind']} directive: cannot read signature {sig!r}; skipped")
                    continue
                kind = d["kind"]
                if owner and "." not in name:
                    name = f"{owner}.{name}"
                    sig = f"{owner}.{sig}"
                if owner and kind == "function":
                    kind = "method"
                if name in by_name:
                    by_name[name].signatures.append(sig)
                    continue
                member = DocMember(name=name, kind=kind, signatures=[sig], section=section, text=text, raw=raw,
                                   line=d["line"], passages=passages)
                by_name[name] = member
                out.append(member)
        for d in group:
            cls = next((m.name for m in by_name.values() if d["kind"] in CLASS_KINDS), None)
            _collect(d, module, cls or owner, path, out, warnings)
    for child in parent.children:
        if not isinstance(child, desc) and isinstance(child, nodes.Element):
            _collect(child, module, owner, path, out, warnings)


def _message_text(msg: nodes.system_message) -> str:
    first = msg.children[0].astext() if msg.children else ""
    m = re.match(r'Unknown directive type "([^"]+)"', first)
    if m:
        return f"unknown directive '{m.group(1)}'; its content is not read"
    m = re.match(r'Unknown interpreted text role "([^"]+)"', first)
    if m:
        return f"unknown role '{m.group(1)}'; its text is kept as written"
    return collapse(first)


def parse_rst(text: str, path: str) -> DocModule:
    register_sphinx_markup()
    document = utils.new_document(path, _settings())
    messages: list[nodes.system_message] = []
    document.reporter.attach_observer(lambda msg: messages.append(msg))
    try:
        Parser().parse(text, document)
    except Exception as exc:  # docutils raises plain exceptions on pathological input
        raise DocReadError(f"{path}: docutils could not parse it: {type(exc).__name__}: {exc}") from None
    warnings = []
    seen = set()
    for msg in messages:
        if msg["level"] < 2:
            continue
        line = msg.get("line")
        entry = f"{path}:{line}: {_message_text(msg)}" if line else f"{path}: {_message_text(msg)}"
        if entry not in seen:
            seen.add(entry)
            warnings.append(entry)
    module = [None]
    members: list[DocMember] = []
    _collect(document, module, None, path, members, warnings)
    return DocModule(path=path, format="rst", module=module[0], members=members, warnings=warnings)
