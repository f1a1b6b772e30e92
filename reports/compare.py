"""Regressions between two runs: which behaviours newly fail, newly pass, or changed.

A behaviour regresses when its outcome was expected (pass, skip, xfail) in the old run
and is unexpected (fail, xpass, timeout, crash, error) in the new one; it is fixed the
other way round. Any other change of outcome (a skip that now passes, a fail that is
now a timeout) is listed as a change. The Markdown fits a pull-request comment."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from mpconform.core.results import UNEXPECTED, ResultsDocument, load_document, observed_value

DETAIL_CHARS = 200


@dataclass(frozen=True)
class Change:
    id: str
    old: str  # outcome, or "absent" when the run did not have the behaviour
    new: str
    detail: str  # the new run's detail (why it fails now), shortened


@dataclass
class Comparison:
    old_path: str
    new_path: str
    port_old: str
    port_new: str
    regressions: list[Change] = field(default_factory=list)
    fixes: list[Change] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    @property
    def headline(self) -> str:
        def count(n: int, word: str) -> str:
            return f"{n} {word}{'' if n == 1 else 'es' if word.endswith('x') else 's'}"

        parts = [count(len(self.regressions), "regression"), count(len(self.fixes), "fix")]
        if self.changes:
            parts.append(f"{len(self.changes)} other change{'' if len(self.changes) == 1 else 's'}")
        return ", ".join(parts)


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= DETAIL_CHARS else text[: DETAIL_CHARS - 1] + "…"


def compare_documents(old: ResultsDocument, new: ResultsDocument, old_path: str = "old",
                      new_path: str = "new") -> Comparison:
    old_results = {r.id: r for r in old.results}
    new_results = {r.id: r for r in new.results}
    cmp = Comparison(old_path, new_path, old.port, new.port)
    for bid, r in new_results.items():
        before = old_results.get(bid)
        if before is None:
            cmp.added.append(bid)
            if r.outcome in UNEXPECTED:
                cmp.regressions.append(Change(bid, "absent", r.outcome, _short(r.detail)))
            continue
        a, b = before.outcome, r.outcome
        was, now = observed_value(before.detail), observed_value(r.detail)
        if a == b == "observed" and was != now:  # the port now does something else at an edge
            cmp.changes.append(Change(bid, f"observed: {_short(was)}", f"observed: {_short(now)}", ""))
            continue
        if a == b:
            continue
        change = Change(bid, a, b, _short(r.detail))
        if b in UNEXPECTED and a not in UNEXPECTED:
            cmp.regressions.append(change)
        elif a in UNEXPECTED and b not in UNEXPECTED:
            cmp.fixes.append(change)
        else:
            cmp.changes.append(change)
    cmp.removed = [bid for bid in old_results if bid not in new_results]
    return cmp


def compare_files(old_path: Path, new_path: Path) -> Comparison:
    """ResultsFileError (naming the file) when either is not a results file."""
    return compare_documents(load_document(old_path), load_document(new_path), str(old_path), str(new_path))


def md_cell(text: str) -> str:
    # A results file holds what ports printed: never let it become markup in a comment.
    out = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("|", "\\|")
    return out.replace("`", "'").replace("\n", " ")


def render_markdown(cmp: Comparison) -> str:
    lines = [f"**mpconform: {cmp.headline}** (`{md_cell(cmp.port_old)}` → `{md_cell(cmp.port_new)}`)", ""]
    for title, items in (("Regressions", cmp.regressions), ("Fixes", cmp.fixes), ("Other changes", cmp.changes)):
        if not items:
            continue
        lines += [f"### {title}", "", "| behaviour | was | now | detail |", "|---|---|---|---|"]
        lines += [f"| `{md_cell(c.id)}` | {c.old} | {c.new} | {md_cell(c.detail)} |" for c in items]
        lines.append("")
    if cmp.added:
        lines.append(f"New behaviours: {len(cmp.added)}. ")
    if cmp.removed:
        lines.append(f"Behaviours no longer run: {', '.join(f'`{md_cell(b)}`' for b in cmp.removed)}")
    return "\n".join(lines).rstrip() + "\n"


def render_text(cmp: Comparison) -> str:
    lines = []
    for word, items in (("REGRESSION", cmp.regressions), ("FIXED", cmp.fixes), ("CHANGED", cmp.changes)):
        for c in items:
            lines.append(f"{word:10} {c.id}: {c.old} -> {c.new}" + (f"  ({c.detail})" if c.detail and word != "FIXED" else ""))
    lines.append(f"mpconform: {cmp.headline}")
    return "\n".join(lines) + "\n"
