"""Docs <-> spec drift: what a copy of the docs says that the spec does not (or
no longer) encode, and recording the docs' section digests into spec/apis/*.yaml.

Findings, each naming one api or behaviour:
  removed            a spec api the docs no longer document
  added              a documented member the spec has no api for
  kind-changed       documented as another kind (function/class/method)
  signature-changed  parameters added, removed, renamed or made (non-)optional
  text-changed       the member's section text differs from the spec's doc_digest
  digest-missing     the spec records no doc_digest for the api yet
  quote-missing      a behaviour's cited quote is no longer in its section
  section-missing    a behaviour cites a section neither the spec nor the docs know
The statement map's findings (statement-quote-missing, unmapped) come from
drift/statements.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from mpconform.core.atomicfile import write_atomic
from mpconform.drift.docmodel import DocMember, DocModule, Param, collapse, format_signature, parse_params, spec_params
from mpconform.drift.seeddocs import strip_inline_markup
from mpconform.generator.spec import Api, Spec
from mpconform.generator.yamlsource import load_yaml

# Kinds that mean the same thing for a caller.
_KIND_ALIASES = {"exception": "class", "staticmethod": "method", "classmethod": "method", "attribute": "data"}


@dataclass
class Finding:
    kind: str
    subject: str  # api name or behaviour id
    message: str
    where: str = ""  # spec source or doc location

    def to_json(self) -> dict:
        return {"kind": self.kind, "subject": self.subject, "message": self.message, "where": self.where}


def _short(name: str) -> str:
    return name.rsplit(".", 1)[-1]


def _signature_changes(spec_params: list[Param], doc_params: list[Param]) -> list[str]:
    """What changed from the spec's parameter list to the docs', in words."""
    changes = []
    for i in range(max(len(spec_params), len(doc_params))):
        s = spec_params[i] if i < len(spec_params) else None
        d = doc_params[i] if i < len(doc_params) else None
        if s and d:
            if s.name != d.name:
                changes.append(f"parameter '{s.name}' renamed to '{d.name}'")
            if s.optional != d.optional:
                changes.append(f"parameter '{d.name}' now {'optional' if d.optional else 'required'}")
        elif d:
            changes.append(f"new {'optional' if d.optional else 'required'} parameter '{d.name}'")
        elif s:
            changes.append(f"parameter '{s.name}' removed")
    return changes


def _param_key(params: list[Param]) -> tuple:
    return tuple((p.name, p.optional) for p in params)


def _compare_signature(api: Api, member: DocMember) -> Finding | None:
    spec_lists = [spec_params(api.params)] + ([spec_params(api.alt_params)] if api.alt_params is not None else [])
    doc_lists = [parse_params(s) for s in member.signatures]
    if sorted(map(_param_key, spec_lists)) == sorted(map(_param_key, doc_lists)):
        return None
    name = _short(api.name)
    spec_text = " / ".join(format_signature(name, p) for p in spec_lists)
    doc_text = " / ".join(format_signature(name, p) for p in doc_lists)
    details = []
    if len(spec_lists) != len(doc_lists):
        details.append(f"{len(doc_lists)} documented form(s), the spec has {len(spec_lists)}")
    for s, d in zip(spec_lists, doc_lists, strict=False):
        details.extend(_signature_changes(s, d))
    detail = "; ".join(details) or "parameters differ"
    return Finding("signature-changed", api.name, f"spec {spec_text}, docs {doc_text}: {detail}", api.source)


def quote_found(quote: str, member: DocMember) -> bool:
    """The cited words are still in the section, compared with whitespace collapsed,
    either as written (with markup) or as read (markup removed on both sides)."""
    q = collapse(quote)
    if q in member.raw or q in member.text:
        return True
    plain = collapse(strip_inline_markup(re.sub(r"\*+([^*]+)\*+", r"\1", q)))
    return plain in member.text


def compare_docs(spec: Spec, doc: DocModule) -> list[Finding]:
    findings: list[Finding] = []
    where = lambda m: f"{doc.path}:{m.line}" if m.line else doc.path  # noqa: E731
    spec_names = {a.name for a in spec.apis}
    members = {m.name: m for m in doc.members}
    removed: set[str] = set()

    for api in spec.apis:
        member = members.get(api.name)
        if member is None:
            removed.add(api.name)
            n = len(api.behaviours)
            findings.append(Finding("removed", api.name,
                                    f"in the spec ({api.kind}, section {api.doc_section}, {n} behaviour(s)) "
                                    "but not documented", api.source))
            continue
        spec_kind = _KIND_ALIASES.get(api.kind, api.kind)
        doc_kind = _KIND_ALIASES.get(member.kind, member.kind)
        if spec_kind != doc_kind:
            findings.append(Finding("kind-changed", api.name, f"spec says {api.kind}, docs say {member.kind}", where(member)))
        sig = _compare_signature(api, member)
        if sig:
            findings.append(sig)

    # One text finding per documented section (a shared body covers several apis).
    by_section: dict[str, list[Api]] = {}
    for api in spec.apis:
        member = members.get(api.name)
        if member is not None:
            by_section.setdefault(member.section, []).append(api)
    for section, apis in by_section.items():
        member = members[apis[0].name]
        names = ", ".join(a.name for a in apis)
        missing = [a for a in apis if not a.doc_digest]
        changed = [a for a in apis if a.doc_digest and a.doc_digest != member.digest]
        if changed:
            findings.append(Finding("text-changed", ", ".join(a.name for a in changed),
                                    f"section {section} reads differently from its recorded digest "
                                    f"(review it, then `mpconform spec sync-digests`) [{names}]", where(member)))
        if missing:
            findings.append(Finding("digest-missing", ", ".join(a.name for a in missing),
                                    f"no doc_digest recorded for section {section}; run `mpconform spec sync-digests`",
                                    missing[0].source))

    for m in doc.members:
        if m.name not in spec_names:
            findings.append(Finding("added", m.name, f"documented {m.kind} {' / '.join(m.signatures)} has no api in the spec",
                                    where(m)))

    # Behaviours: a cited section is found through the api that owns it, so a
    # renamed heading (a signature change) does not also break every citation.
    owners: dict[str, list[str]] = {}
    for a in spec.apis:
        owners.setdefault(a.doc_section, []).append(a.name)
    for b in spec.behaviours:
        if b.api in removed:
            continue  # reported once, as the api's removal
        names = owners.get(b.cites.section, [])
        documented = [members[n] for n in ([b.api] if b.api in names else []) + names if n in members]
        if names and not documented:
            continue  # every api owning the section was removed: reported there
        member = documented[0] if documented else doc.section(b.cites.section)
        if member is None:
            findings.append(Finding("section-missing", b.id, f"cites section {b.cites.section}, which neither the spec "
                                    "nor the docs have", b.source))
        elif not quote_found(b.cites.quote, member):
            findings.append(Finding("quote-missing", b.id,
                                    f"quote {b.cites.quote!r} is no longer in section {member.section}", b.source))
    # Parameter domains cite the docs as behaviours do (their edge cases inherit the citation).
    for a in spec.apis:
        if a.name in removed:
            continue
        for p in [*a.params, *(a.alt_params or [])]:
            cites = (p.get("domain") or {}).get("cites")
            if not cites:
                continue
            member = members.get(a.name) if cites["section"] == a.doc_section else doc.section(cites["section"])
            member = member or doc.section(cites["section"])
            if member is None:
                findings.append(Finding("section-missing", f"{a.name}({p['name']})",
                                        f"the domain cites section {cites['section']}, which the docs do not have", a.source))
            elif not quote_found(cites["quote"], member):
                findings.append(Finding("quote-missing", f"{a.name}({p['name']})",
                                        f"domain quote {cites['quote']!r} is no longer in section {member.section}", a.source))
    return findings


# --- recording digests --------------------------------------------------------

@dataclass
class DigestChange:
    file: str
    api: str
    old: str | None
    new: str


def _edit_api_digest(lines: list[str], start: int, end: int, digest: str) -> bool:
    """Set `doc_digest:` inside the api item spanning lines[start:end] (0-based);
    insert it after `doc_section:` (same indentation) when absent. True if changed."""
    key_re = re.compile(r"^(\s*)(?:- )?doc_section\s*:")
    digest_re = re.compile(r"^(\s*)doc_digest\s*:\s*(\S*)\s*(#.*)?$")
    section_at = None
    for i in range(start, end):
        m = digest_re.match(lines[i])
        if m:
            if m.group(2) == digest:
                return False
            comment = f"  {m.group(3)}" if m.group(3) else ""
            lines[i] = f"{m.group(1)}doc_digest: {digest}{comment}"
            return True
        if section_at is None and key_re.match(lines[i]):
            section_at = i
    if section_at is None:
        return False
    line = lines[section_at]
    indent = len(line) - len(line.lstrip(" "))
    if line.lstrip().startswith("- "):
        indent += 2
    # A doc_section value may continue on following, deeper-indented lines.
    insert_at = section_at + 1
    while insert_at < end and lines[insert_at].strip() and len(lines[insert_at]) - len(lines[insert_at].lstrip(" ")) > indent:
        insert_at += 1
    lines.insert(insert_at, " " * indent + f"doc_digest: {digest}")
    return True


def sync_file(path: Path, rel: str, digests: dict[str, str]) -> list[DigestChange]:
    """Write the digests of the apis in one spec file, editing only doc_digest lines."""
    doc = load_yaml(path, rel)  # read fresh: someone may have edited the file meanwhile
    apis = doc.data.get("apis", []) if isinstance(doc.data, dict) else []
    text = path.read_text(encoding="utf-8")
    newline_at_end = text.endswith("\n")
    lines = text.split("\n")
    if newline_at_end:
        lines.pop()
    starts = [doc.line(("apis", i)) - 1 for i in range(len(apis))]
    changes = []
    # From the last api up, so insertions do not move the lines still to edit.
    for i in reversed(range(len(apis))):
        name = apis[i].get("name")
        if name not in digests or apis[i].get("doc_digest") == digests[name]:
            continue
        end = starts[i + 1] if i + 1 < len(starts) else len(lines)
        if _edit_api_digest(lines, starts[i], end, digests[name]):
            changes.append(DigestChange(rel, name, apis[i].get("doc_digest"), digests[name]))
    if changes:
        new_text = "\n".join(lines) + ("\n" if newline_at_end else "")
        write_atomic(path, new_text)
    return list(reversed(changes))


def sync_digests(root: Path, spec: Spec, doc: DocModule) -> tuple[list[DigestChange], list[str]]:
    """Record each documented api's section digest; returns (changes, apis not in the docs)."""
    members = {m.name: m for m in doc.members}
    digests = {a.name: members[a.name].digest for a in spec.apis if a.name in members}
    undocumented = [a.name for a in spec.apis if a.name not in members]
    changes: list[DigestChange] = []
    for rel in sorted({a.source.rsplit(":", 1)[0] for a in spec.apis}):
        changes.extend(sync_file(root / rel, rel, digests))
    return changes, undocumented
