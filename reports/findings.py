"""Findings: the behaviours that crashed, hung or broke their reference model on some
build, one Markdown report each, ready to file upstream.

A finding is a result whose outcome is `crash` or `timeout`, or a `fail` of a
model-based sequence (an id with `.model.` in it). Everything else the documents say
about the same behaviour (a pass, an observation, a plain fail) is the contrast: the
builds where it did not happen. Documents from several releases (`nox -s builds`)
place it between the first release where it appears and the first where it is gone,
releases ordered by the version each document's provenance records.

A model-based sequence that fails prints its shrunk sequence after a line saying
"minimal failing sequence"; that part of the detail is shown as the reproducer."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mpconform.core.atomicfile import write_atomic
from mpconform.core.inputfile import InputFileError, read_text
from mpconform.core.model import read_manifest
from mpconform.core.results import ResultsDocument, RunResult, load_document
from mpconform.runners.run.provenance import version_text

MODEL_MARK = ".model."
SEQUENCE_MARK = "minimal failing sequence"
NOT_JUDGED = frozenset({"skip", "xfail", "error"})  # not run, expected to fail, or the runner's fault
INDEX = "README.md"

KIND = {"crash": "crash", "timeout": "hang", "fail": "model violation"}


def is_finding(result: RunResult) -> bool:
    return result.outcome in ("crash", "timeout") or (result.outcome == "fail" and MODEL_MARK in result.id)


@dataclass(frozen=True)
class Build:
    """What one results document ran: the port and the build it was."""

    path: str
    port: str
    release: str  # the version its provenance records, as people write it ("?" when none)
    build: str  # sys.implementation._build
    binary: str  # the binary or firmware file the runner started
    digest: str  # the binary's sha256, when the run recorded one
    prelude: str
    git_revision: str  # mpconform's, for where a program would be
    spec_digest: str

    @classmethod
    def of(cls, path: str, doc: ResultsDocument) -> Build:
        prov = doc.provenance or {}
        firmware = _dict(prov.get("firmware"))
        release = str(firmware.get("version_text") or version_text(doc.implementation))
        options = _dict(_dict(prov.get("runner")).get("options"))
        targets = [t for t in prov.get("targets") or () if isinstance(t, dict)]
        binary = next((str(t[k]) for t in targets for k in ("binary", "firmware") if t.get(k)), "")
        return cls(path=path, port=doc.port, release=release,
                   build=str(firmware.get("_build") or doc.implementation.get("_build") or ""),
                   binary=binary or str(options.get("micropython") or options.get("firmware") or ""),
                   digest=str(_dict(doc.firmware).get("binary_sha256") or ""),
                   prelude=str(options.get("prelude") or ""),
                   git_revision=str(_dict(prov.get("mpconform")).get("git_revision") or ""),
                   spec_digest=str(prov.get("spec_digest") or ""))


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


@dataclass(frozen=True)
class Sighting:
    """One behaviour's result in one document."""

    build: Build
    outcome: str
    detail: str


@dataclass(frozen=True)
class Program:
    where: str  # the program's file, or where it would be
    text: str | None  # None: not in this checkout
    expected: str | None  # what the docs say it prints (the .exp file)
    note: str = ""
    typed: tuple[str, ...] = ()  # what the test sends while the program runs, and types at the REPL after it


@dataclass(frozen=True)
class ReleaseRange:
    timeline: tuple[tuple[str, str], ...]  # (release, "present" | "gone" | "not run"), oldest first
    first_seen: str | None
    first_gone: str | None
    words: tuple[str, ...]  # the range in plain words, each an unescaped sentence


@dataclass(frozen=True)
class Finding:
    id: str
    api: str
    kinds: tuple[str, ...]  # crash, hang, model violation
    affected: tuple[Sighting, ...]
    others: tuple[Sighting, ...]
    program: Program
    releases: ReleaseRange
    sequence: str | None  # the shrunk sequence a model violation printed
    file_name: str


def load_builds(paths: Iterable[Path]) -> list[tuple[Build, ResultsDocument]]:
    """Each results file through the one reader; ResultsFileError naming the first bad one."""
    return [(Build.of(str(p), doc), doc) for p in paths for doc in (load_document(p),)]


def release_order(release: str) -> tuple[tuple[int, ...], int, str]:
    """v1.24.0 < v1.26.0 < v1.28.0 < 1.29.0-preview < 1.29.0; unreadable versions first."""
    m = re.match(r"v?(\d+(?:\.\d+)*)(.*)", release)
    if not m:
        return ((), 0, release)
    numbers = tuple(int(n) for n in m.group(1).split("."))
    numbers += (0,) * (3 - len(numbers))
    return (numbers, 0 if m.group(2).strip("-+. ") else 1, release)


def shown_release(release: str) -> str:
    return "v" + release if release[:1].isdigit() else release


def findings(root: Path, builds: list[tuple[Build, ResultsDocument]]) -> list[Finding]:
    seen: dict[str, list[tuple[Build, RunResult]]] = {}
    for build, doc in builds:
        for r in doc.results:
            seen.setdefault(r.id, []).append((build, r))
    out = []
    names = file_names([bid for bid, rows in seen.items() if any(is_finding(r) for _, r in rows)])
    for bid in sorted(seen):
        rows = sorted(seen[bid], key=lambda br: (br[0].port, release_order(br[0].release), br[0].build, br[0].path))
        hits = [(b, r) for b, r in rows if is_finding(r)]
        if not hits:
            continue
        out.append(Finding(
            id=bid, api=hits[0][1].api,
            kinds=tuple(sorted({KIND[r.outcome] for _, r in hits})),
            affected=tuple(Sighting(b, r.outcome, r.detail) for b, r in hits),
            others=tuple(Sighting(b, r.outcome, r.detail) for b, r in rows if not is_finding(r)),
            program=find_program(root, bid, [b for b, _ in hits] + [b for b, _ in rows]),
            releases=release_range(rows),
            sequence=next((s for _, r in hits if (s := shrunk_sequence(r.detail))), None),
            file_name=names[bid],
        ))
    return out


def shrunk_sequence(detail: str) -> str | None:
    at = detail.lower().find(SEQUENCE_MARK)
    return detail[at:].strip() if at >= 0 else None


REPRODUCER = "# reproducer: "


def reproducer_in(program: str) -> str | None:
    """The plain statements a generated edge case records in its trailing comments
    (generator/edges.py): the call alone, without the test's checks around it."""
    import ast

    for line in program.splitlines():
        if line.startswith(REPRODUCER):
            try:
                value = ast.literal_eval(line[len(REPRODUCER):])
            except (ValueError, SyntaxError):
                return None
            return value if isinstance(value, str) else None
    return None


def find_program(root: Path, bid: str, builds: list[Build]) -> Program:
    """The behaviour's program from this checkout's suite of a port that ran it; else
    where it would be (the suite of the mpconform revision that ran it)."""
    for port in dict.fromkeys(b.port for b in builds if re.fullmatch(r"[A-Za-z0-9_-]+", b.port)):
        manifest_path = root / "suites" / port / "manifest.json"
        if not manifest_path.is_file():
            continue
        manifest = read_manifest(manifest_path)
        entry = next((t for t in manifest.tests if t.id == bid and t.file), None)
        if entry is None or entry.file is None:
            continue
        program = manifest_path.parent / entry.file
        try:
            text = read_text(program)
        except InputFileError:
            continue
        exp = program.with_name(program.name + ".exp")
        ran = {b.spec_digest for b in builds if b.spec_digest}
        note = "" if not ran or ran == {manifest.spec_digest} else (
            "This checkout's suite is compiled from another spec than the runs were: the program may differ "
            "from the one that ran.")
        typed = tuple(f"after {step.after!r} is printed, it sends {step.send!r}" for step in entry.interact)
        typed += tuple(f"at the REPL after the program, it types {line!r}" for line in entry.repl)
        return Program(_relative(program, root), text, read_text(exp) if exp.is_file() else None, note, typed)
    revisions = sorted({b.git_revision for b in builds if b.git_revision})
    at = f"the suites of mpconform at revision {', '.join(revisions)}, which ran it" if revisions else "the suites that ran it"
    return Program(f"suites/tests/{bid}.py", None, None,
                   f"Not in this checkout's suites (newer or older than this checkout): it is in {at}.")


def _relative(path: Path, root: Path) -> str:
    resolved = path.resolve()
    try:
        return resolved.relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(resolved)


def release_range(rows: list[tuple[Build, RunResult]]) -> ReleaseRange:
    """Where the finding sits among the releases the documents record."""
    states: dict[str, str] = {}
    for build, r in rows:
        if build.release == "?":
            continue
        state = "present" if is_finding(r) else "not run" if r.outcome in NOT_JUDGED else "gone"
        old = states.get(build.release, "not run")
        # One build of a release that has it is enough: the release has it.
        states[build.release] = "present" if "present" in (old, state) else "gone" if "gone" in (old, state) else state
    timeline = tuple(sorted(states.items(), key=lambda kv: release_order(kv[0])))
    releases = [r for r, _ in timeline]
    present = [r for r, s in timeline if s == "present"]
    if not present:
        return ReleaseRange(timeline, None, None, ("No document that has it records its version.",))
    first = present[0]
    before = [r for r, s in timeline[: releases.index(first)] if s == "gone"]
    after = [r for r, s in timeline[releases.index(first):] if s == "gone"]
    gone = after[0] if after else None
    words = []
    ran = [r for r, s in timeline if s != "not run"]
    if len(ran) == 1:
        return ReleaseRange(timeline, first, None,
                            (f"The releases given do not bracket it: only {shown_release(first)} ran it.",))
    if before:
        words.append(f"First appears in {shown_release(first)} ({shown_release(before[-1])} ran it without it).")
    else:
        words.append(f"First appears in {shown_release(first)} or earlier: it is the earliest release given that "
                     "ran it, so the range is open at the start.")
    if gone:
        words.append(f"First gone in {shown_release(gone)}.")
        back = [r for r in present if release_order(r) > release_order(gone)]
        if back:
            words.append(f"It is back in {', '.join(shown_release(r) for r in back)}.")
    else:
        words.append(f"Still there in the latest release given that ran it ({shown_release(present[-1])}): "
                     "the range is open at the end.")
    return ReleaseRange(timeline, first, gone, tuple(words))


# --- Markdown: text from ports and files is escaped, code is fenced past its own backticks.

_PUNCT = re.compile(r"([\\`*_{}\[\]<>#!|~&])")


def md(text: str) -> str:
    """Text as itself in Markdown (a table cell too): every punctuation mark escaped."""
    return _PUNCT.sub(r"\\\1", " ".join(text.split()))


def code(text: str, cell: bool = False) -> str:
    """An inline code span that no backtick in `text` can close (in a table `cell`, no pipe either)."""
    text = " ".join(text.split())
    ticks = "`" * (max((len(m) for m in re.findall("`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text.strip() else ""
    span = f"{ticks}{pad}{text}{pad}{ticks}"
    return span.replace("|", "\\|") if cell else span


def fence(text: str, lang: str = "") -> str:
    ticks = "`" * max(3, max((len(m) for m in re.findall("`+", text)), default=0) + 1)
    return f"{ticks}{lang}\n{text.rstrip(chr(10))}\n{ticks}"


def file_names(ids: list[str]) -> dict[str, str]:
    """Each behaviour's report file: its id where that is safe on any file system, else
    the safe part and a digest of the id, so no two ids share a file (nor the index),
    even where names differ only in case."""
    def safe(bid: str) -> str:
        return re.sub(r"[^A-Za-z0-9._-]", "_", bid).strip(".-")[:120] or "behaviour"

    taken: dict[str, int] = {INDEX.lower(): 1}
    for bid in ids:
        key = safe(bid).lower() + ".md"
        taken[key] = taken.get(key, 0) + 1
    names = {}
    for bid in ids:
        name = safe(bid)
        if name != bid or taken[name.lower() + ".md"] > 1:
            name += "-" + hashlib.sha256(bid.encode()).hexdigest()[:10]
        names[bid] = name + ".md"
    return names


def _build_cell(b: Build) -> str:
    parts = [code(b.binary, cell=True) if b.binary else "?"]
    if b.digest:
        parts.append(f"sha256 {b.digest[:16]}")
    if b.prelude:
        parts.append(f"prelude {code(b.prelude, cell=True)}")
    return ", ".join(parts)


def _table(rows: tuple[Sighting, ...], with_detail: bool) -> list[str]:
    head = "| port | release | build | binary | outcome |" + (" detail |" if with_detail else "")
    lines = [head, "|" + "---|" * (6 if with_detail else 5)]
    for s in rows:
        b = s.build
        cells = [md(b.port), md(shown_release(b.release)), md(b.build or "?"), _build_cell(b), s.outcome]
        if with_detail:
            cells.append(md(s.detail[:200]) if s.detail else "")
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def render_finding(f: Finding) -> str:
    lines = [f"# {', '.join(f.kinds).capitalize()}: {code(f.id)}", "",
             f"API: {code(f.api)}. Affected: {len(f.affected)} of {len(f.affected) + len(f.others)} results given.",
             "", "## Reproducer", ""]
    p = f.program
    plain = reproducer_in(p.text) if p.text is not None else None
    if plain:
        lines += ["The call alone, as the generated edge case makes it:", "", fence(plain, "python"), ""]
    lines.append(f"The behaviour's program, {code(p.where)}" + (":" if p.text is not None else "."))
    if p.note:
        lines += ["", md(p.note)]
    if p.text is not None:
        lines += ["", fence(p.text, "python")]
    if p.typed:
        lines += ["", "The test also types at the port:", ""] + [f"- {md(t)}" for t in p.typed]
    if p.expected is not None:
        lines += ["", "What the docs say it prints:", "", fence(p.expected)]
    if f.sequence:
        lines += ["", "The minimal failing sequence it printed:", "", fence(f.sequence)]
    port = f.affected[0].build.port
    lines += ["", f"Run it with {code(f'mpconform run {port} -k {f.id}')} (`--micropython` or `--firmware` for "
              "another build; a build listed with a prelude imported it before the program)."]
    lines += ["", "## Affected", ""] + _table(f.affected, with_detail=False) + [""]
    for s in f.affected:
        lines += [f"{md(s.build.port)} {md(shown_release(s.build.release))} {md(s.build.build)} "
                  f"({code(s.build.path)}):", "", fence(s.detail or "(no detail)"), ""]
    lines += ["## Not affected", ""]
    lines += _table(f.others, with_detail=True) if f.others else ["No other result given has this behaviour."]
    lines += ["", "## Releases", ""]
    if f.releases.timeline:
        lines += ["| release | state |", "|---|---|"]
        lines += [f"| {md(shown_release(r))} | {state} |" for r, state in f.releases.timeline]
        lines.append("")
    lines += [line for w in f.releases.words for line in (md(w), "")]
    return "\n".join(lines).rstrip() + "\n"


def render_index(found: list[Finding], inputs: list[str]) -> str:
    lines = ["# Findings", "", f"From {len(inputs)} results file(s):", ""]
    lines += [f"- {code(p)}" for p in sorted(inputs)]
    lines.append("")
    if not found:
        lines.append("No findings: no crash, hang or model violation in the results given.")
    else:
        lines += ["| behaviour | kind | affected | first appears | first gone |", "|---|---|---|---|---|"]
        for f in found:
            builds = ", ".join(sorted({f"{s.build.port} {shown_release(s.build.release)} {s.build.build}".strip()
                                       for s in f.affected}))
            lines.append(f"| [{md(f.id)}]({f.file_name}) | {', '.join(f.kinds)} | {md(builds)} | "
                         f"{md(shown_release(f.releases.first_seen or '?'))} | "
                         f"{md(shown_release(f.releases.first_gone)) if f.releases.first_gone else 'open'} |")
    return "\n".join(lines) + "\n"


def write_reports(out: Path, found: list[Finding], inputs: list[str]) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for f in found:
        path = out / f.file_name
        write_atomic(path, render_finding(f))
        written.append(path)
    write_atomic(out / INDEX, render_index(found, inputs))
    return written
