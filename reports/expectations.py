"""Rewrite a profile's expectations from a results file, the way web-platform-tests'
expectation updater does: ids still failing keep their hand-written reasons, new
failures get a placeholder reason that asks for review, ids now passing are
removed. The YAML is edited in place (ruamel round trip), so comments survive."""

from __future__ import annotations

import io
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.error import YAMLError

from mpconform.core.errors import MpconformError
from mpconform.core.results import ResultsDocument, ResultsFileError, load_document
from mpconform.generator.compiler import build

# Outcomes that mean the behaviour fails on this port; recorded as expected failures.
FAILING = ("fail", "timeout", "crash")
NEEDS_REVIEW = "NEEDS REVIEW"
DETAIL_CHARS = 160


class ExpectationsError(MpconformError):
    """Bad input (results file, profile); the message names the file."""


@dataclass
class Changes:
    added: list[str] = field(default_factory=list)  # new expected failures (placeholder reasons)
    removed: list[str] = field(default_factory=list)  # now passing
    kept: list[str] = field(default_factory=list)  # still failing, reason kept

    def summary(self) -> str:
        return f"{len(self.added)} added (need review), {len(self.removed)} removed (now pass), {len(self.kept)} kept"


def placeholder_reason(outcome: str, detail: str, source: str) -> str:
    first = " ".join(detail.split())
    if len(first) > DETAIL_CHARS:
        first = first[: DETAIL_CHARS - 1] + "…"
    return f"{NEEDS_REVIEW}: new {outcome} recorded from {source} by `mpconform expectations update`; explain why. [{first}]"


def _yaml() -> YAML:
    yaml = YAML()  # round trip: keeps comments, key order, block scalars
    yaml.width = 4096  # never re-wrap lines the user wrote
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.preserve_quotes = True
    return yaml


def read_results(path: Path, port: str) -> ResultsDocument:
    try:
        doc = load_document(path)
    except ResultsFileError as exc:
        raise ExpectationsError(str(exc)) from None
    if doc.port != port:
        raise ExpectationsError(f"{path}: results are for port '{doc.port}', not '{port}'")
    if doc.interrupted:
        raise ExpectationsError(f"{path}: the run was interrupted; rerun it to completion before updating expectations")
    return doc


def update_profile_text(text: str, results: ResultsDocument, source: str) -> tuple[str, Changes]:
    """The profile's YAML text with its expectations brought in line with `results`."""
    yaml = _yaml()
    data = yaml.load(text)
    expectations = data.get("expectations")
    if expectations is None:
        expectations = CommentedMap()
    changes = Changes()
    for r in results.results:
        bid, outcome = r.id, r.outcome
        if outcome == "xfail":
            changes.kept.append(bid)
        elif outcome in ("xpass", "pass") and bid in expectations:
            del expectations[bid]
            changes.removed.append(bid)
        elif outcome in FAILING and bid not in expectations:
            entry = CommentedMap()
            entry["outcome"] = "xfail"
            entry["reason"] = placeholder_reason(outcome, r.detail, source)
            expectations[bid] = entry
            changes.added.append(bid)
        # skip: the profile already explains it; error: the runner lost the port, nothing is known.
    if expectations:
        data["expectations"] = expectations
    elif "expectations" in data:
        del data["expectations"]
    out = io.StringIO()
    yaml.dump(data, out)
    return out.getvalue(), changes


def update_profile(root: Path, target, results_path: Path) -> Changes:
    """`target` (mpconform.portarg.Target): the port, and the profile file to rewrite (the
    project's or the user's own); it is compiled before it is written."""
    text = target.read_profile(root)
    results = read_results(results_path, target.port)
    try:
        text, changes = update_profile_text(text, results, Path(results_path).name)
    except YAMLError as exc:
        raise ExpectationsError(f"{target.shown(root)}: cannot parse: {exc}".replace("\n", " ")) from None
    if changes.added or changes.removed:
        target.write_profile(root, text)
    return changes


def check_profile_text(root: Path, port: str, text: str) -> None:
    """Compile the project with `text` as the port's profile, in a scratch copy of its
    sources, so a profile the compiler would reject is never written (SourceErrors name
    the file and line as they would in the project)."""
    with tempfile.TemporaryDirectory(prefix="mpconform-check-") as tmp:
        scratch = Path(tmp)
        shutil.copytree(root / "spec", scratch / "spec")
        shutil.copytree(root / "ports", scratch / "ports", ignore=shutil.ignore_patterns("scaffold"))
        (scratch / "ports" / port / "port.yaml").write_text(text, encoding="utf-8")
        build(scratch)
