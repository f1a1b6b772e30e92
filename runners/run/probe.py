"""Ask a port what it is, what it is configured with, and how much it holds.

The program prints sys.implementation and sys.platform, then runs each probe (a
function body from the spec) and prints its answer between markers. What a probe
prints in between is its output, for features decided by `probe_output`. Limits
(spec/micropython.yaml `limits`) are probed the same way; their answer is a number.

Probes run in order of what they imply: one whose implied feature the port lacks
is answered absent without running (schedule(kbd_intr, None) on a port with no
schedule), and one whose implied feature could not be told cannot tell either.

The program must fit small boards (a 10 KB heap, a 1.8 KB stack): it carries only
the helpers its probes use, collects garbage before each probe, and a probe that
ran out of memory or stack is sent again on its own. A probe that crashes or hangs
the port loses only itself: the answers printed before it are kept, it is marked
unknown with the reason, and the program runs again without it. A port that cannot
take the whole program at once (too little heap to compile it) gets it in halves,
down to one probe at a time."""

from __future__ import annotations

import ast
import functools
import re
from dataclasses import dataclass, field
from pathlib import Path

from mpconform.runners.base import Execution, Runner, RunnerError, Step
from mpconform.runners.run.workers import Workers

IDENTITY_TAG = "mpconform-probe"
BEGIN_TAG = "mpconform-feature-begin"
END_TAG = "mpconform-feature-end"
EVIDENCE_CHARS = 300
FEATURE = "feature"
LIMIT = "limit"

# The programs that run on the port are files you can run by hand (runners/run/device/):
# they must compile on old and tiny MicroPythons (no f-strings, no slices, every step
# guarded). What varies is put before them as literal data, or as the probes' own code.
DEVICE = Path(__file__).resolve().parent / "device"


@functools.cache  # read when a probe is made: a run whose probe is cached sends none
def _device(name: str) -> str:
    """A device program as sent: comment and blank lines dropped (a board without
    raw-paste holds the whole text in its heap while it compiles)."""
    text = (DEVICE / name).read_text(encoding="utf-8")
    return "".join(line + "\n" for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#"))


@functools.cache
def _helpers() -> dict[str, str]:
    """Each helper of device/helpers.py by name, as sent: only with the probes that use it."""
    text = _device("helpers.py")
    return {node.name: ast.get_source_segment(text, node) + "\n"
            for node in ast.parse(text).body if isinstance(node, ast.FunctionDef)}


@dataclass(frozen=True)
class FeatureProbe:
    """One feature's or limit's probe: the program and how its output answers."""

    name: str
    body: str
    output_regex: str = ""
    implies: tuple = ()  # features it needs: absent ones make it absent without running
    output_tells: str = ""  # regex: printed output not matching it cannot tell
    kind: str = FEATURE  # or LIMIT: the answer is a number
    up_to: int = 0  # a limit's probe counts no further (UP_TO in its body)
    interact: tuple = ()  # (Step(after, send), ...): input the runner sends while it runs (run on its own)


@dataclass
class Answer:
    """What the probe found; `enabled` None means it could not tell. A limit's answer
    has its measured `value` (None when it could not tell)."""

    enabled: bool | None
    evidence: str
    value: int | None = None
    at_least: bool = False  # the limit's probe stopped counting at `value`
    resources: bool = field(default=False, compare=False)  # ran out of heap or stack: worth a try alone


def _indent(body: str) -> str:
    return "".join("    " + line + "\n" for line in body.splitlines() if line.strip()) or "    pass\n"


def _definition(f: FeatureProbe) -> str:
    """A probe's body as the function `_probe` (a limit's with the count it goes up to)."""
    body = _indent(f.body)
    if f.kind == LIMIT:
        body = f"    UP_TO = {int(f.up_to)}\n" + body
    return "def _probe():\n" + body


def identity_program() -> str:
    """The program that prints what the port says it is (sys.implementation and more)."""
    return _device("identity.py")


def program(features: list[FeatureProbe], identity: bool = True, known: dict | None = None) -> str:
    """The probe program for `features`; `known`: earlier answers (name -> True/False/None)
    that the implications of these probes may need."""
    parts = [identity_program()] if identity else ["import sys\n"]
    used = "".join(f.body for f in features)
    helpers = [text for name, text in _helpers().items() if re.search(r"\b" + name + r"\b", used)]
    if len(features) == 1:  # on its own: the least a port must compile
        return "".join(parts + helpers + [f"NAME = {features[0].name!r}\n", _definition(features[0]), _device("alone.py")])
    parts += [f"_known = {dict(sorted((known or {}).items()))!r}\n", _device("run_probes.py"), *helpers]
    for f in features:
        parts.append(_definition(f) + f"_run({f.name!r}, _probe, {list(f.implies)!r})\n")
    return "".join(parts)


def _implied(probe: FeatureProbe, answers: dict[str, Answer]) -> Answer | None:
    """The answer what `probe` implies already gives: absent when one is absent, unknown
    when one could not be told; None when the probe has to run."""
    absent = [n for n in probe.implies if n in answers and answers[n].enabled is False]
    if absent:
        return Answer(False, f"needs {absent[0]}, which is absent")
    unknown = [n for n in probe.implies if n in answers and answers[n].enabled is None]
    if unknown:
        return Answer(None, f"needs {unknown[0]}, which the probe could not tell")
    return None


def in_order(probes: list[FeatureProbe]) -> list[FeatureProbe]:
    """The probes with each after the ones it implies (otherwise in the given order)."""
    by_name = {p.name: p for p in probes}
    done: dict[str, None] = {}

    def visit(p: FeatureProbe, trail: tuple) -> None:
        if p.name in done or p.name in trail:
            return
        for name in p.implies:
            if name in by_name:
                visit(by_name[name], trail + (p.name,))
        done[p.name] = None

    for p in probes:
        visit(p, ())
    return [by_name[n] for n in done]


def parse_identity(output: str) -> dict:
    info = {}
    for line in output.splitlines():
        parts = line.strip().split(" ", 2)
        if len(parts) == 3 and parts[0] == IDENTITY_TAG:
            try:
                value = ast.literal_eval(parts[2])
            except (ValueError, SyntaxError):
                value = parts[2]
            info[parts[1]] = list(value) if isinstance(value, tuple) else value
    return info


def _clip(text: str) -> str:
    return text if len(text) <= EVIDENCE_CHARS else text[: EVIDENCE_CHARS - 3] + "..."


_RESOURCES = re.compile(r"^(MemoryError|RuntimeError\('maximum recursion depth exceeded)")


def _decide(probe: FeatureProbe, value: object, printed: list[str]) -> Answer:
    if probe.kind == LIMIT:
        return _measured(probe, value)
    if value is None and probe.output_regex:
        value = True  # returned nothing: what it printed decides
    if isinstance(value, tuple) and len(value) == 2:
        found, evidence = value
    else:
        found, evidence = value, ""
    evidence = str(evidence)
    if found is None:
        return Answer(None, _clip(f"probe raised {evidence}"), resources=bool(_RESOURCES.match(evidence)))
    if found is False:
        return Answer(False, _clip(evidence or "probe returned False"))
    if probe.output_regex:
        text = "\n".join(printed)
        if probe.output_tells and not re.search(probe.output_tells, text, re.MULTILINE):
            return Answer(None, _clip(f"printed nothing that tells (no match for {probe.output_tells!r}): {text!r}"))
        hit = re.search(probe.output_regex, text, re.MULTILINE)
        if hit:
            return Answer(True, _clip(f"printed {hit.group(0)!r}"))
        return Answer(False, _clip(f"printed nothing matching {probe.output_regex!r}: {text!r}"))
    if found is True:
        return Answer(True, _clip(evidence or "probe returned True"))
    return Answer(None, _clip(f"probe returned {value!r}, not True or False"))


def _measured(probe: FeatureProbe, value: object) -> Answer:
    found, evidence = value if isinstance(value, tuple) and len(value) == 2 else (value, "")
    evidence = str(evidence)
    if found is None:
        return Answer(None, _clip(f"probe raised {evidence}"), resources=bool(_RESOURCES.match(evidence)))
    if found is False:  # not measurable here: a feature it needs is absent
        return Answer(None, _clip(evidence or "nothing to measure"))
    if type(found) is not int or found < 0:
        return Answer(None, _clip(f"probe returned {value!r}, not a count"))
    at_least = bool(probe.up_to) and found >= probe.up_to
    return Answer(True, _clip(evidence or f"measured {found}"), value=found, at_least=at_least)


def parse_features(output: str, probes: list[FeatureProbe]) -> tuple[dict[str, Answer], str | None]:
    """Answers for the probes that finished, and the name of one that began but never ended."""
    by_name = {p.name: p for p in probes}
    answers: dict[str, Answer] = {}
    current: str | None = None
    printed: list[str] = []
    for raw in output.replace("\r\n", "\n").split("\n"):
        parts = raw.strip().split(" ", 2)
        if len(parts) >= 2 and parts[0] == BEGIN_TAG:
            current, printed = _literal(parts[1]), []
        elif len(parts) == 3 and parts[0] == END_TAG and _literal(parts[1]) in by_name:
            name = _literal(parts[1])
            try:
                value = ast.literal_eval(parts[2])
            except (ValueError, SyntaxError):
                value = (None, f"unreadable answer {parts[2]!r}")
            answers[name] = _decide(by_name[name], value, printed)
            current = None
        elif current is not None:
            printed.append(raw)
    return answers, current if current in by_name and current not in answers else None


def _literal(text: str) -> str:
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text
    return value if isinstance(value, str) else text


def _why(ex) -> str:
    if ex.error:
        return ex.error
    if ex.crashed:
        return ex.crashed
    if ex.timed_out:
        return f"no end after {ex.duration_s:.1f}s"
    return f"exit status {ex.exit_code}"


@dataclass
class ProbeReport:
    """What the port said it is, and its answer for each probe."""

    identity: dict
    features: dict[str, Answer]


def run_probe(runner: Runner, workdir: Path, probes: list[FeatureProbe], timeout_s: float = 10.0) -> ProbeReport:
    """Identity and answers from the port; never raises for what the port does.

    A runner that drives several instances at once (a pool) gets the probes in as many
    parts, run side by side (a probe and what it implies in the same part); each part
    carries the identity request too."""
    probes = in_order(list(probes))
    typed = [p for p in probes if p.interact]
    if typed:  # answered after the rest, one at a time, with their input
        report = run_probe(runner, workdir, [p for p in probes if not p.interact], timeout_s)
        answers = dict(report.features)
        for p in typed:
            answers[p.name] = _implied(p, answers) or _interactive(runner, workdir, p, timeout_s)
        answers = _close_over_implies(answers, probes)
        return ProbeReport(report.identity, {p.name: answers[p.name] for p in probes if p.name in answers})
    groups = _groups(probes)
    parts = max(1, min(runner.max_parallel or 1, len(groups)))
    if parts == 1:
        report = _probe_in_turn(runner, workdir / "mpconform_probe.py", probes, timeout_s)
        return ProbeReport(report.identity, _close_over_implies(report.features, probes))
    chunks: list[list[FeatureProbe]] = [[] for _ in range(parts)]
    for group in sorted(groups, key=len, reverse=True):
        min(chunks, key=len).extend(group)
    chunks = [in_order(c) for c in chunks]

    with Workers(parts) as pool:
        for i, chunk in enumerate(chunks):
            pool.submit(lambda i, c: (i, _probe_in_turn(runner, workdir / f"mpconform_probe{i}.py", c, timeout_s)), i, chunk)
        reports = [r for _, r in sorted(pool.results(), key=lambda ir: ir[0])]
    identity = next((r.identity for r in reports if "probe_error" not in r.identity), reports[0].identity)
    answers: dict[str, Answer] = {}
    for r in reports:
        answers.update(r.features)
    answers = _close_over_implies(answers, probes)
    return ProbeReport(identity, {p.name: answers[p.name] for p in probes if p.name in answers})


def _groups(probes: list[FeatureProbe]) -> list[list[FeatureProbe]]:
    """The probes in groups joined by what they imply (in order within each group)."""
    names = {p.name for p in probes}
    group_of = {p.name: p.name for p in probes}

    def root(name: str) -> str:
        while group_of[name] != name:
            name = group_of[name]
        return name

    for p in probes:
        for other in p.implies:
            if other in names:
                group_of[root(p.name)] = root(other)
    out: dict[str, list[FeatureProbe]] = {}
    for p in probes:
        out.setdefault(root(p.name), []).append(p)
    return list(out.values())


def _execute(runner: Runner, script: Path, timeout_s: float, interact: tuple = ()) -> Execution:
    """A probe program's run. On a line that can damage a program (a board's), a run that
    did not end cleanly is run again through the loader that checks the program arrived
    intact: a lost byte must not make a feature look absent or unknown (a line fault is
    the runner's, never the port's). A run that timed out or took the port down stands."""
    ex = runner.execute(script, timeout_s, interact)
    if not runner.checks_programs or ex.timed_out or ex.crashed or (ex.exit_code == 0 and not ex.error):
        return ex
    try:
        return runner.execute_checked(script, timeout_s, interact)
    except RunnerError:
        return ex  # the board is gone: the first run's account stands


def _interactive(runner: Runner, workdir: Path, probe: FeatureProbe, timeout_s: float) -> Answer:
    """A probe that needs input sent while it runs (what a feature does with a character
    arriving on the port's input stream), run alone with its input."""
    if not runner.can_interact:
        return Answer(None, f"the {runner.name} runner cannot send input while code runs, which this probe needs")
    script = workdir / f"mpconform_probe_{probe.name}.py"
    script.write_text(program([probe], identity=False), encoding="utf-8")
    ex = _execute(runner, script, timeout_s, tuple(Step(*s) for s in probe.interact))
    found, _ = parse_features(ex.output, [probe])
    if probe.name in found:
        return found[probe.name]
    tail = ex.output.strip().splitlines()[-1] if ex.output.strip() else "no output"
    return Answer(None, _clip(f"probe did not finish ({_why(ex)}; last output {tail!r})"))


def _close_over_implies(answers: dict[str, Answer], probes: list[FeatureProbe]) -> dict[str, Answer]:
    """A feature whose implied feature was found absent is absent (whatever its own probe said)."""
    out = dict(answers)
    for p in probes:  # in order: what a probe implies is settled before it
        own = out.get(p.name)
        if own is None or own.enabled is False or p.kind != FEATURE:
            continue
        absent = [n for n in p.implies if n in out and out[n].enabled is False]
        if absent:
            out[p.name] = Answer(False, _clip(f"needs {', '.join(absent)}, which is absent"))
    return out


def _dependants(batch: list[FeatureProbe], names: set[str]) -> set[str]:
    """`names` and every probe of the batch that implies one of them, however indirectly."""
    out = set(names)
    for p in batch:  # in order, so what a probe implies comes before it
        if any(n in out for n in p.implies):
            out.add(p.name)
    return out


def _probe_in_turn(runner: Runner, script: Path, probes: list[FeatureProbe], timeout_s: float) -> ProbeReport:
    identity: dict = {}
    answers: dict[str, Answer] = {}
    batches = [list(probes)]
    first = True
    while batches or first:
        batch = batches.pop(0) if batches else []
        # Derived from earlier answers, before (instead of) running.
        derived = {p.name: a for p in batch if (a := _implied(p, answers)) is not None}
        answers.update(derived)
        batch = [p for p in batch if p.name not in derived]
        if not batch and not first:
            continue
        implied = {n for p in batch for n in p.implies}
        known = {n: a.enabled for n, a in answers.items() if n in implied}
        script.write_text(program(batch, identity=first, known=known), encoding="utf-8")
        ex = _execute(runner, script, timeout_s)
        if first:
            identity = parse_identity(ex.output)
            # A port that could not take the whole program gets the identity again with the next batch.
            first = not identity
            if not identity:
                identity = {"probe_error": f"{_why(ex)}: {ex.output[-500:]!r}"}
        if not batch:
            if batches:
                continue  # every probe of this batch was derived: on to the next
            break  # the identity alone, after every batch: nothing more to learn
        found, stuck = parse_features(ex.output, batch)
        if len(batch) > 1:
            # Out of heap or stack beside the others: each (with what depends on it) again alone.
            again = _dependants(batch, {n for n, a in found.items() if a.resources})
            if again:
                found = {n: a for n, a in found.items() if n not in again}
                batches[:0] = [[p] for p in batch if p.name in again]
        answers.update(found)
        rest = [p for p in batch if p.name not in found and not any(p in b for b in batches)]
        if not rest:
            continue
        tail = _clip(ex.output.strip().splitlines()[-1] if ex.output.strip() else "no output")
        if stuck is not None:
            # It began and never ended: it took the port down or hung it.
            answers[stuck] = Answer(None, _clip(f"probe stopped the port ({_why(ex)}; last output {tail!r})"))
            rest = [p for p in rest if p.name != stuck]
            if rest:
                batches.insert(0, rest)
        elif found or len(rest) == 1:
            if len(rest) == 1 and not found:
                answers[rest[0].name] = Answer(None, _clip(f"probe did not run ({_why(ex)}; last output {tail!r})"))
            else:
                batches.insert(0, rest)
        else:
            # Nothing ran: the program as a whole was refused (too big to compile, say).
            half = len(rest) // 2
            batches[:0] = [rest[:half], rest[half:]]
    return ProbeReport(identity, answers)


def probe(runner: Runner, workdir: Path, timeout_s: float = 10.0) -> dict:
    """Just the identity (sys.implementation, platform, version)."""
    return run_probe(runner, workdir, [], timeout_s).identity
