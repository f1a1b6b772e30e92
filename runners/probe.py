"""Ask a port what it is and what it is configured with, in one program.

The program prints sys.implementation and sys.platform, then runs each feature's
probe (a function body from the spec) and prints its answer between markers. What a
probe prints in between is its output, for features decided by `probe_output`.

A probe that crashes or hangs the port loses only itself: the answers printed before
it are kept, it is marked unknown with the reason, and the program runs again without
it. A port that cannot take the whole program at once (too little heap to compile it)
gets it in halves, down to one feature at a time."""

from __future__ import annotations

import ast
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from .base import Runner

IDENTITY_TAG = "mpconform-probe"
BEGIN_TAG = "mpconform-feature-begin"
END_TAG = "mpconform-feature-end"
EVIDENCE_CHARS = 300

# Runs on the port; must compile on old and tiny MicroPythons: no f-strings, no slices,
# every step guarded. `@micropython.bytecode` is compiled through exec() so a build that
# rejects the decorator fails only the probes that use it.
IDENTITY = """\
import sys
_i = sys.implementation
for _k in ('name', 'version', '_machine', '_build', '_mpy', '_thread'):
    if hasattr(_i, _k):
        print('mpconform-probe', _k, repr(getattr(_i, _k)))
print('mpconform-probe', 'platform', repr(sys.platform))
print('mpconform-probe', 'sys_version', repr(sys.version))
"""

HELPERS = """\
try:
    import micropython
except ImportError:
    micropython = None
def _exec(src):
    try:
        exec
    except NameError:
        raise RuntimeError('no exec() to compile a test snippet with')
    try:
        exec(src, {})
    except SyntaxError as e:
        return False, 'SyntaxError ' + repr(e.args) + ' compiling ' + repr(src)
    except NameError as e:
        return False, 'NameError ' + repr(e.args) + ' running ' + repr(src)
    return True, 'compiled and ran ' + repr(src)
def _traceback(fn):
    try:
        import io
        b = io.StringIO()
    except (ImportError, AttributeError):
        raise RuntimeError('no io.StringIO to capture a traceback in')
    try:
        fn()
    except Exception as e:
        sys.print_exception(e, b)
        return b.getvalue()
    return ''
def _raise_plain():
    raise ValueError('probe')
_raise_in_bytecode = None
try:
    _g = {}
    exec('@micropython.bytecode\\ndef f():\\n    raise ValueError(\\'probe\\')\\n', _g)
    _raise_in_bytecode = _g['f']
except Exception:
    pass
def _run(name, probe):
    print('mpconform-feature-begin', name)
    try:
        r = probe()
    except ImportError as e:
        r = (False, 'ImportError ' + repr(e.args))
    except BaseException as e:
        r = (None, repr(e))
    print('mpconform-feature-end', name, repr(r))
"""

# One feature: its body as a function, run by _run. ImportError means the module is
# missing: the feature is absent. Anything else raised means the probe cannot tell.
ONE_PROBE = """\
def _probe():
BODY
_run(NAME, _probe)
"""


@dataclass(frozen=True)
class FeatureProbe:
    name: str
    body: str
    output_regex: str = ""


@dataclass
class Answer:
    """What the probe found for one feature; `enabled` None means it could not tell."""

    enabled: bool | None
    evidence: str


def program(features: list[FeatureProbe], identity: bool = True) -> str:
    parts = [IDENTITY] if identity else ["import sys\n"]
    parts.append(HELPERS)
    for f in features:
        body = "".join("    " + line + "\n" for line in f.body.splitlines() if line.strip()) or "    pass\n"
        parts.append(ONE_PROBE.replace("NAME", repr(f.name)).replace("BODY\n", body))
    return "".join(parts)


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


def _decide(probe: FeatureProbe, value: object, printed: list[str]) -> Answer:
    if value is None and probe.output_regex:
        value = True  # returned nothing: what it printed decides
    if isinstance(value, tuple) and len(value) == 2:
        found, evidence = value
    else:
        found, evidence = value, ""
    evidence = str(evidence)
    if found is None:
        return Answer(None, _clip(f"probe raised {evidence}"))
    if found is False:
        return Answer(False, _clip(evidence or "probe returned False"))
    if probe.output_regex:
        text = "\n".join(printed)
        hit = re.search(probe.output_regex, text, re.MULTILINE)
        if hit:
            return Answer(True, _clip(f"printed {hit.group(0)!r}"))
        return Answer(False, _clip(f"printed nothing matching {probe.output_regex!r}: {text!r}"))
    if found is True:
        return Answer(True, _clip(evidence or "probe returned True"))
    return Answer(None, _clip(f"probe returned {value!r}, not True or False"))


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
    identity: dict
    features: dict[str, Answer]


def run_probe(runner: Runner, workdir: Path, probes: list[FeatureProbe], timeout_s: float = 10.0) -> ProbeReport:
    """Identity and feature answers from the port; never raises for what the port does.

    A runner that drives several instances at once (a pool) gets the probes in as many
    parts, run side by side; each part carries the identity request too."""
    parts = max(1, min(runner.max_parallel or 1, len(probes)))
    if parts == 1:
        return _probe_in_turn(runner, workdir / "mpconform_probe.py", list(probes), timeout_s)
    chunks = [probes[i::parts] for i in range(parts)]
    with ThreadPoolExecutor(max_workers=parts) as pool:
        reports = list(pool.map(lambda ic: _probe_in_turn(runner, workdir / f"mpconform_probe{ic[0]}.py", ic[1], timeout_s),
                                enumerate(chunks)))
    identity = next((r.identity for r in reports if "probe_error" not in r.identity), reports[0].identity)
    answers: dict[str, Answer] = {}
    for r in reports:
        answers.update(r.features)
    return ProbeReport(identity, {p.name: answers[p.name] for p in probes if p.name in answers})


def _probe_in_turn(runner: Runner, script: Path, probes: list[FeatureProbe], timeout_s: float) -> ProbeReport:
    identity: dict = {}
    answers: dict[str, Answer] = {}
    batches = [list(probes)]
    first = True
    while batches or first:
        batch = batches.pop(0) if batches else []
        script.write_text(program(batch, identity=first), encoding="utf-8")
        ex = runner.execute(script, timeout_s)
        if first:
            identity = parse_identity(ex.output)
            # A port that could not take the whole program gets the identity again with the next batch.
            first = not identity
            if not identity:
                identity = {"probe_error": f"{_why(ex)}: {ex.output[-500:]!r}"}
        if not batch:
            break  # the identity alone, after every batch: nothing more to learn
        found, stuck = parse_features(ex.output, batch)
        answers.update(found)
        rest = [p for p in batch if p.name not in found]
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
