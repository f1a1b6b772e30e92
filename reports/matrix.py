"""The cross-port conformance matrix: results files of several ports -> one table
(behaviours as rows grouped by API, ports as columns), as self-contained HTML or
as compact Markdown for a pull-request comment."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import jinja2

from mpconform.core.errors import MpconformError
from mpconform.core.results import OUTCOMES, UNEXPECTED, ResultsFileError, load_document, observed_value
from mpconform.reports.compare import md_cell
from mpconform.runners.run.provenance import version_text

TEMPLATES = Path(__file__).parent / "templates" / "report"
MISSING = "none"  # the behaviour is not in that port's results (filtered out, or an older spec)
SYMBOLS = {
    "pass": "✅", "observed": "🔎", "fail": "❌", "skip": "⚪", "xfail": "🟡", "xpass": "🟣",
    "timeout": "⏱️", "crash": "💥", "error": "⚠️", MISSING: "·",
}
# The page uses plain symbols any font has; the Markdown uses emoji (GitHub renders them).
HTML_SYMBOLS = {
    "pass": "✓", "observed": "◇", "fail": "✗", "skip": "○", "xfail": "≈", "xpass": "!",
    "timeout": "∞", "crash": "☠", "error": "⚠", MISSING: "·",
}
MEANINGS = {
    "pass": "pass", "observed": "observed at an edge the docs leave open (what the port did, not judged)",
    "fail": "fail", "skip": "skipped: feature absent", "xfail": "expected failure (known divergence)",
    "xpass": "passed but expected to fail", "timeout": "timeout", "crash": "crash", "error": "runner error",
    MISSING: "not run",
}
DETAIL_CHARS = 400


class ReportError(MpconformError):
    """A results file that cannot be read; the message names it."""


@dataclass
class PortRun:
    port: str
    source: str
    implementation: dict
    outcomes: dict[str, tuple[str, str]]  # id -> (outcome, detail)
    order: list[tuple[str, str]]  # (id, api) as the file lists them, which is spec order
    interrupted: bool = False

    @property
    def file_name(self) -> str:
        return Path(self.source).name

    @property
    def version(self) -> str:
        return version_text(self.implementation)

    @property
    def build(self) -> str:
        impl = self.implementation
        if "probe_error" in impl:
            return "probe failed"
        return str(impl.get("_build") or impl.get("_machine") or impl.get("platform") or "?")

    @property
    def summary(self) -> Counter:
        return Counter(o for o, _ in self.outcomes.values())

    def outcome(self, bid: str) -> tuple[str, str]:
        return self.outcomes.get(bid, (MISSING, ""))


# a cell's change against the baseline run of its port (report --baseline)
MARKS = {"regression": "🔻", "fix": "🔺"}
HTML_MARKS = {"regression": "▼", "fix": "▲"}


@dataclass
class Row:
    id: str
    api: str
    cells: list[tuple[str, str]]  # per port: (outcome, detail)
    marks: list[str] = field(default_factory=list)  # per port: "", "regression" or "fix" against its baseline
    was: list[str] = field(default_factory=list)  # per port: the baseline's outcome, where marked

    @property
    def differs(self) -> bool:
        """Ports disagree: some pass where another does not, or they did different things at
        an edge (an observation's detail is what the port did); missing cells are ignored."""
        seen = {(o, observed_value(d) if o == "observed" else "") for o, d in self.cells if o != MISSING}
        return len(seen) > 1

    @property
    def all_pass(self) -> bool:
        return all(o in ("pass", MISSING) for o, _ in self.cells)


@dataclass
class Group:
    api: str
    rows: list[Row] = field(default_factory=list)

    def totals(self, index: int) -> Counter:
        return Counter(r.cells[index][0] for r in self.rows)


@dataclass
class Matrix:
    ports: list[PortRun]
    groups: list[Group]
    baselines: list[str] = field(default_factory=list)  # the files compared against

    @property
    def marked(self) -> list[Row]:
        return [r for r in self.rows if any(r.marks)]

    def count(self, mark: str) -> int:
        return sum(m == mark for r in self.rows for m in r.marks)

    @property
    def rows(self) -> list[Row]:
        return [r for g in self.groups for r in g.rows]

    @property
    def outcomes_present(self) -> list[str]:
        """Outcomes that occur in some cell (pass always), in OUTCOMES order, then MISSING if any."""
        seen = {o for r in self.rows for o, _ in r.cells}
        return [o for o in (*OUTCOMES, MISSING) if o in seen or o == "pass"]

    @property
    def differing(self) -> list[Row]:
        return [r for r in self.rows if r.differs]

    @property
    def unexpected_everywhere(self) -> list[Row]:
        """Rows where ports agree but on an unexpected outcome (e.g. fail on every port)."""
        return [r for r in self.rows if not r.differs and any(o in UNEXPECTED for o, _ in r.cells)]


def load_run(path: Path) -> PortRun:
    try:
        doc = load_document(path)
    except ResultsFileError as exc:
        raise ReportError(str(exc)) from None
    outcomes, order = {}, []
    for r in doc.results:
        outcomes[r.id] = (r.outcome, r.detail)
        order.append((r.id, r.api or r.id.split(".")[0]))
    return PortRun(doc.port, str(path), doc.implementation, outcomes, order, doc.interrupted)


def build_matrix(paths: list[Path]) -> Matrix:
    runs: list[PortRun] = []
    for path in paths:
        run = load_run(path)
        clash = next((r for r in runs if r.port == run.port), None)
        if clash:
            raise ReportError(f"{path}: port '{run.port}' is already given by {clash.source}")
        runs.append(run)
    if not runs:
        raise ReportError("no results files given")
    # Row order: first appearance across the files (each file is in spec order).
    apis: dict[str, Group] = {}
    seen: set[str] = set()
    for run in runs:
        for bid, api in run.order:
            if bid not in seen:
                seen.add(bid)
                apis.setdefault(api, Group(api)).rows.append(Row(bid, api, [p.outcome(bid) for p in runs]))
    matrix = Matrix(runs, list(apis.values()))
    for row in matrix.rows:
        row.marks, row.was = [""] * len(runs), [""] * len(runs)
    return matrix


def mark_baselines(matrix: Matrix, paths: list[Path]) -> None:
    """Mark each cell that regressed or was fixed since the baseline run of its port
    (generator/compare.py decides, as `mpconform compare` does)."""
    from mpconform.reports.compare import compare_documents

    columns = {run.port: i for i, run in enumerate(matrix.ports)}
    rows = {r.id: r for r in matrix.rows}
    for path in paths:
        try:
            old = load_document(path)
        except ResultsFileError as exc:
            raise ReportError(str(exc)) from None
        if old.port not in columns:
            raise ReportError(f"{path}: baseline of port '{old.port}', which none of the results files is")
        column = columns[old.port]
        new = load_document(Path(matrix.ports[column].source))
        cmp = compare_documents(old, new, str(path), matrix.ports[column].source)
        for mark, changes in (("regression", cmp.regressions), ("fix", cmp.fixes)):
            for change in changes:
                rows[change.id].marks[column] = mark
                rows[change.id].was[column] = change.old
        matrix.baselines.append(str(path))


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= DETAIL_CHARS else text[: DETAIL_CHARS - 1] + "…"


def _environment(autoescape: bool) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=autoescape,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["short"] = _short
    env.filters["observed"] = observed_value
    env.filters["md"] = lambda s: md_cell(str(s))  # results hold what ports printed: never markup
    env.globals.update(MARKS=MARKS, OUTCOMES=OUTCOMES, UNEXPECTED=UNEXPECTED, SYMBOLS=SYMBOLS, MEANINGS=MEANINGS, MISSING=MISSING)
    return env


def render_html(matrix: Matrix) -> str:
    env = _environment(autoescape=True)
    env.globals["SYMBOLS"] = HTML_SYMBOLS
    env.globals["MARKS"] = HTML_MARKS
    return env.get_template("matrix.html.j2").render(m=matrix)


def render_markdown(matrix: Matrix) -> str:
    return _environment(autoescape=False).get_template("matrix.md.j2").render(m=matrix)
