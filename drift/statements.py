"""Docs <-> statement map drift (part of `mpconform drift docs`).

How a statement is recognised in a copy of the docs:
  - each section's text is cut into units: every sentence of its paragraphs and
    list items, and every table as one unit; code examples are not units;
  - a statement's quote maps the first unit it occurs in (whitespace collapsed,
    markup removed, on word boundaries), and only that one: a new sentence that
    happens to repeat a quoted phrase is still reported (or, when it comes first,
    the sentence it displaced is), so the map cannot silently swallow it; a quote
    of fewer than three words maps only a unit it is the whole of (a list item
    such as `float`);
  - a unit no quote of its section maps is a statement the map does not know
    (`unmapped`); a statement whose quote is in no unit of its section is gone
    or reworded (`statement-quote-missing`).
"""

from __future__ import annotations

import re

from mpconform.drift.docmodel import DocMember, DocModule, collapse
from mpconform.drift.docs import Finding
from mpconform.drift.seeddocs import strip_inline_markup
from mpconform.generator.spec import Spec
from mpconform.generator.statements import StatementMap

# Words ending in a full stop that do not end a sentence.
_ABBREVIATIONS = {"e.g.", "eg.", "i.e.", "ie.", "etc.", "cf.", "vs.", "approx.", "no."}
_BOUNDARY = re.compile(r"[.!?]+[\"')\]]*\s+")
_SHORT_QUOTE_WORDS = 3
_EDGE_PUNCTUATION = " .,;:!?"


def sentences(text: str) -> list[str]:
    """Split a paragraph (markup removed) into sentences: after . ! ? and a space,
    unless the next word is an ordinary lower-case word, the word before is an
    abbreviation such as `e.g.`, or the dots are an ellipsis."""
    out, start = [], 0
    for m in _BOUNDARY.finditer(text):
        if m.group().startswith(".."):
            continue  # an ellipsis, as in "None, ... (Ellipsis)"
        rest = text[m.end():].split(maxsplit=1)
        if not rest:
            break  # only space follows: the tail below is the last sentence
        next_word = rest[0]
        if next_word[0].islower() and not re.search(r"[(_]", next_word):
            continue  # a lower-case word goes on the sentence; code such as `heap_locked()` may start one
        before = text[start: m.start() + 1].split()
        if before and before[-1].lstrip("(\"'").lower() in _ABBREVIATIONS:
            continue
        out.append(text[start: m.end()].strip())
        start = m.end()
    tail = text[start:].strip()
    if tail:
        out.append(tail)
    return out


def plain_quote(quote: str) -> str:
    """A quote as read: markup removed (reST literals and emphasis, Markdown code
    spans), whitespace collapsed."""
    return collapse(strip_inline_markup(re.sub(r"\*+([^*]+)\*+", r"\1", quote)))


def quote_maps(quote: str, unit: str) -> bool:
    """Does `quote` (as read) map the unit `unit` (as read)?"""
    q = plain_quote(quote)
    if not q:
        return False
    if len(q.split()) < _SHORT_QUOTE_WORDS:
        return q.strip(_EDGE_PUNCTUATION) == unit.strip(_EDGE_PUNCTUATION)
    pattern = (r"(?<!\w)" if q[0].isalnum() else "") + re.escape(q) + (r"(?!\w)" if q[-1].isalnum() else "")
    return re.search(pattern, unit) is not None


def units(member: DocMember) -> list[tuple[str, int | None]]:
    """(text, line) of every sentence and table of a section."""
    out = []
    for passage in member.passages:
        if passage.whole:
            out.append((passage.text, passage.line))
        else:
            out.extend((s, passage.line) for s in sentences(passage.text))
    return out


def _section_members(spec: Spec, doc: DocModule) -> dict[str, DocMember | None]:
    """Each spec section -> the docs' member holding it, found through the apis that
    own it (a renamed heading is a signature change, not a lost section); None when
    every owning api is gone from the docs (reported as `removed`)."""
    members = {m.name: m for m in doc.members}
    out: dict[str, DocMember | None] = {}
    for api in spec.apis:
        found = members.get(api.name)
        if out.get(api.doc_section) is None:
            out[api.doc_section] = found
    return out


def compare_statements(spec: Spec, statements: StatementMap, doc: DocModule) -> list[Finding]:
    findings: list[Finding] = []
    where = lambda line: f"{doc.path}:{line}" if line else doc.path  # noqa: E731
    by_section: dict[str, list] = {}
    for st in statements.statements:
        by_section.setdefault(st.section, []).append(st)
    sections = _section_members(spec, doc)
    for section, member in sections.items():
        if member is None:
            continue
        found = units(member)
        mapped: set[int] = set()
        for st in by_section.get(section, []):
            hit = next((i for i, (text, _) in enumerate(found) if quote_maps(st.quote, text)), None)
            if hit is None:
                findings.append(Finding("statement-quote-missing", st.id,
                                        f"quote {st.quote!r} is in no sentence of section {member.section}", st.source))
            else:
                mapped.add(hit)
        for i, (text, line) in enumerate(found):
            if i not in mapped:
                findings.append(Finding("unmapped", section, f"not in the statement map: {_clip(text)!r}", where(line)))
    return findings


def _clip(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
