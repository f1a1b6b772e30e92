"""Read the non-reST copies of the module docs the project started from.

Two shapes, both read by line structure (neither is real CommonMark: the
Markdown one writes `#####<function>micropython.x(sig)</function>` with no space
after the hashes, so a Markdown parser would not see headings there):

- markdown: `#` headings; a heading whose text is a signature (optionally in
  `<function>`/`<class>`/`<method>` tags or backticks) starts a member, any
  other heading ends one; fenced code is body text, never a heading.
- text: a line `module.name(sig)` (or `class module.Name(sig)`, or
  `Class.method(sig)` once Class is known) starts a member; a short Title-case
  line of letters alone ("Functions", "Classes") ends one.

Signature lines back to back (nothing but blank lines between) share the body
that follows the last of them, as in the reST."""

from __future__ import annotations

import re
from collections import Counter

from mpconform.drift.docmodel import DocMember, DocModule, Passage, collapse, split_signature

_TAGGED = re.compile(r"^<(?P<kind>function|class|method|data|exception)>\s*(?P<sig>.*?)\s*</(?P=kind)>\s*$")
_DOTTED_SIG = re.compile(r"^(?:(?P<cls>class|exception)\s+)?(?P<prefix>[A-Za-z_]\w*)\.(?P<rest>[A-Za-z_][\w.]*\s*\(.*\))\s*$")
_BARE_SIG = re.compile(r"^(?:(?P<cls>class|exception)\s+)?(?P<rest>[A-Za-z_][\w.]*\s*\(.*\))\s*$")
_HEADING_WORDS = re.compile(r"^[A-Z][A-Za-z ]{0,38}$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_MD_HEADING = re.compile(r"^(#{1,6})\s*(.*?)\s*#*\s*$")


def strip_inline_markup(text: str) -> str:
    """Markdown inline markup to the text a reader sees: code spans, emphasis, tags."""
    text = re.sub(r"<[^<>\n]+>", "", text)
    text = text.replace("**", "").replace("__", "")
    text = re.sub(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])", r"\1", text)
    return text.replace("`", "")


def _module_of(lines: list[str]) -> str | None:
    """The prefix most member lines share ('micropython' in 'micropython.const(expr)')."""
    counts: Counter = Counter()
    for line in lines:
        body = line.strip().lstrip("#").strip()
        m = _TAGGED.match(body)
        if m:
            body = m.group("sig")
        m = _DOTTED_SIG.match(body.strip("`"))
        if m:
            counts[m.group("prefix")] += 1
    if not counts:
        return None
    return counts.most_common(1)[0][0]


class _Builder:
    def __init__(self, path: str, module: str | None, strip_markup: bool):
        self.path = path
        self.module = module
        self.strip_markup = strip_markup
        self.members: list[DocMember] = []
        self.warnings: list[str] = []
        self.classes: set[str] = set()
        self.group: list[tuple[str, str, int]] = []  # (kind, signature, line)
        self.body: list[str] = []
        self.numbered: list[tuple[int, str, bool]] = []  # (line number, line, inside fenced code)

    def signature(self, text: str, kind_hint: str | None) -> tuple[str, str] | None:
        """(kind, signature without module prefix) when `text` documents a member."""
        text = text.strip().strip("`").strip()
        m = _DOTTED_SIG.match(text)
        if m and m.group("prefix") == self.module:
            sig, cls = m.group("rest"), m.group("cls")
        elif m and m.group("prefix") in self.classes:
            sig, cls = f"{m.group('prefix')}.{m.group('rest')}", None
        elif kind_hint and _BARE_SIG.match(text):
            b = _BARE_SIG.match(text)
            sig, cls = b.group("rest"), b.group("cls")
        else:
            return None
        name, _ = split_signature(sig)
        if kind_hint:
            kind = kind_hint
        elif cls:
            kind = "class"
        elif "." in name:
            kind = "method"
        else:
            kind = "function"
        if kind == "class":
            self.classes.add(name)
        return kind, collapse(sig)

    def start(self, kind: str, sig: str, line: int) -> None:
        if self.group and any(s.strip() for s in self.body):
            self.finish()
        self.group.append((kind, sig, line))

    def finish(self) -> None:
        if not self.group:
            self.body = []
            return
        raw = collapse("\n".join(self.body))
        text = collapse(strip_inline_markup("\n".join(self.body))) if self.strip_markup else raw
        section = self.group[0][1]
        passages = self.passages()
        by_name: dict[str, DocMember] = {}
        for kind, sig, line in self.group:
            name, _ = split_signature(sig)
            if name in by_name:
                by_name[name].signatures.append(sig)
                continue
            by_name[name] = DocMember(name=name, kind=kind, signatures=[sig], section=section, text=text, raw=raw, line=line,
                                      passages=passages)
            self.members.append(by_name[name])
        self.group, self.body, self.numbered = [], [], []

    def passages(self) -> list[Passage]:
        """Paragraphs (runs of lines between blank lines), fenced code left out; a
        run of `|` lines is a table, one unit."""
        out: list[Passage] = []
        run: list[tuple[int, str]] = []

        def flush():
            if run:
                joined = "\n".join(line for _, line in run)
                text = collapse(strip_inline_markup(joined) if self.strip_markup else joined)
                whole = all(line.lstrip().startswith("|") for _, line in run)
                out.append(Passage(text, run[0][0], whole=whole))
                run.clear()

        for number, line, code in self.numbered:
            if code or not line.strip():
                flush()
            else:
                run.append((number, line))
        flush()
        return out

    def text(self, line: str, number: int = 0, code: bool = False) -> None:
        if self.group:
            self.body.append(line)
            self.numbered.append((number, line, code))


def parse_seed(text: str, path: str, fmt: str) -> DocModule:
    lines = text.splitlines()
    module = _module_of(lines)
    b = _Builder(path, module, strip_markup=fmt == "markdown")
    in_fence = False
    for number, line in enumerate(lines, 1):
        if fmt == "markdown":
            if _FENCE.match(line):
                in_fence = not in_fence
                continue
            heading = None if in_fence else _MD_HEADING.match(line)
            if heading:
                content = heading.group(2)
                tagged = _TAGGED.match(content)
                found = b.signature(tagged.group("sig"), tagged.group("kind")) if tagged else b.signature(content, None)
                if found:
                    b.start(*found, number)
                else:
                    b.finish()
                continue
            b.text(line, number, in_fence)
        else:
            stripped = line.strip()
            found = b.signature(stripped, None) if line[:1].strip() or stripped.startswith("class ") else None
            if found:
                b.start(*found, number)
                continue
            prev_blank = number == 1 or not lines[number - 2].strip()
            next_blank = number == len(lines) or not lines[number].strip()
            if _HEADING_WORDS.match(line) and prev_blank and next_blank:
                b.finish()
                continue
            b.text(line, number)
    b.finish()
    return DocModule(path=path, format=fmt, module=module, members=b.members, warnings=b.warnings)
