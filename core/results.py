"""The results format shared by every runner: one JSON document per run, JSON lines
while it runs (so an interrupted run keeps what it measured), and JUnit XML."""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mpconform.core.atomicfile import write_atomic
from mpconform.core.errors import MpconformError
from mpconform.core.inputfile import InputFileError, load_json
from mpconform.core.manifest import FeatureState, LimitState

# observed: a generated edge case that neither crashed nor hung, whose result the docs do not
# define: recorded (its detail says what the port did), never a failure
OUTCOMES = ("pass", "observed", "fail", "skip", "xfail", "xpass", "timeout", "crash", "error")
UNEXPECTED = frozenset({"fail", "xpass", "timeout", "crash", "error"})
RESULTS_FORMAT = 1


@dataclass(frozen=True)
class RunResult:
    """One behaviour's outcome in a run; `detail` is empty only for a pass."""

    id: str
    api: str
    outcome: str
    duration_s: float
    detail: str

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "api": self.api, "outcome": self.outcome, "duration_s": self.duration_s,
                "detail": self.detail}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> RunResult:
        """A result as written; ValueError when a field is not what it must be. A duration
        that is not a finite number reads as 0 (strict JSON has no NaN or Infinity)."""
        if not isinstance(d, dict) or d.get("outcome") not in OUTCOMES or not isinstance(d.get("id"), str):
            raise ValueError(f"needs an 'id' and an 'outcome' among {', '.join(OUTCOMES)}")
        try:
            duration = float(d.get("duration_s") or 0.0)
        except (TypeError, ValueError, OverflowError):
            raise ValueError("'duration_s' is not a number") from None
        return cls(d["id"], str(d.get("api") or ""), d["outcome"], duration if math.isfinite(duration) else 0.0,
                   str(d.get("detail") or ""))


Result = RunResult  # the name the runners have always used


def observed_value(detail: str) -> str:
    """What an `observed` result says the port did: the detail's first line (a runner's
    note, such as a line fault it recovered from, follows on lines of its own)."""
    return detail.split("\n", 1)[0]


def summarize(results: list[Result]) -> dict[str, int]:
    counts = {o: 0 for o in OUTCOMES}
    for r in results:
        counts[r.outcome] += 1
    return counts


def summary_line(summary: dict[str, int]) -> str:
    """The closing console line. Passed counts passes; failed counts every unexpected
    outcome; skipped counts skips and expected failures (both explained by the profile)."""
    failed = sum(summary[o] for o in UNEXPECTED)
    observed = f"{summary['observed']} observed, " if summary.get("observed") else ""
    return f"{summary['pass']} passed, {observed}{failed} failed, {summary['skip'] + summary['xfail']} skipped"


def breakdown_line(summary: dict[str, int]) -> str:
    return ", ".join(f"{summary[o]} {o}" for o in OUTCOMES if summary[o])


@dataclass(frozen=True)
class ResultsDocument:
    """What `mpconform run --json` writes: the port, what it is, every result, and what the
    run went by (features, limits, docs release), with the run's provenance."""

    port: str
    implementation: dict[str, Any]
    results: tuple[RunResult, ...]
    interrupted: bool = False  # stopped early (a signal, or a runner that failed mid-run)
    features: dict[str, FeatureState] | None = None  # None: not recorded (a results file from elsewhere)
    feature_notes: tuple[str, ...] = ()
    limits: dict[str, LimitState] = field(default_factory=dict)
    detect: bool | None = None
    docs_release: str | None = None
    firmware: dict[str, Any] | None = None  # what the run measured, for --resume
    provenance: dict[str, Any] | None = None
    format: int = RESULTS_FORMAT

    @property
    def summary(self) -> dict[str, int]:
        return summarize(list(self.results))

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "format": self.format,
            "port": self.port,
            "implementation": self.implementation,
            "results": [r.to_json() for r in self.results],
            "summary": self.summary,
        }
        if self.interrupted:
            doc["interrupted"] = True
        if self.features is not None:
            doc["features"] = {name: st.to_json() for name, st in sorted(self.features.items())}
            doc["feature_notes"] = list(self.feature_notes)
        if self.limits:
            doc["limits"] = {name: st.to_json() for name, st in sorted(self.limits.items())}
        if self.detect is not None:
            doc["detect"] = self.detect
        if self.docs_release:
            doc["docs_release"] = self.docs_release
        if self.firmware:
            doc["firmware"] = self.firmware
        if self.provenance is not None:
            doc["provenance"] = self.provenance
        return doc

    @classmethod
    def from_json(cls, d: dict[str, Any], where: str = "results") -> ResultsDocument:
        """The document as written; ResultsFileError naming `where` and the field when a
        field readers rely on is missing or wrong."""
        if not isinstance(d, dict) or not isinstance(d.get("port"), str) or not isinstance(d.get("results"), list):
            raise ResultsFileError(f"{where}: not an mpconform results file (needs 'port' and 'results'; "
                                   "see `mpconform run --json`)")
        if d.get("format", RESULTS_FORMAT) != RESULTS_FORMAT:
            raise ResultsFileError(f"{where}: results format {d['format']!r}, but this mpconform reads format "
                                   f"{RESULTS_FORMAT} only (written by another version of mpconform?)")
        results = []
        for i, r in enumerate(d["results"]):
            try:
                results.append(RunResult.from_json(r))
            except ValueError as exc:
                raise ResultsFileError(f"{where}: results[{i}]: {exc}") from None
        features = d.get("features")
        limits = d.get("limits")
        return cls(
            port=d["port"],
            implementation=d["implementation"] if isinstance(d.get("implementation"), dict) else {},
            results=tuple(results),
            interrupted=bool(d.get("interrupted")),
            features={n: _feature_state(f) for n, f in features.items() if isinstance(f, dict)}
            if isinstance(features, dict) else None,
            feature_notes=tuple(str(n) for n in d.get("feature_notes") or () if isinstance(n, str)),
            limits={n: _limit_state(v) for n, v in limits.items() if isinstance(v, dict)}
            if isinstance(limits, dict) else {},
            detect=d.get("detect") if isinstance(d.get("detect"), bool) else None,
            docs_release=d.get("docs_release") if isinstance(d.get("docs_release"), str) else None,
            firmware=d["firmware"] if isinstance(d.get("firmware"), dict) else None,
            provenance=d["provenance"] if isinstance(d.get("provenance"), dict) else None,
            format=d.get("format", RESULTS_FORMAT),
        )


def _feature_state(f: dict[str, Any]) -> FeatureState:
    enabled = f.get("enabled")
    return FeatureState(enabled if isinstance(enabled, bool) else None, str(f.get("source", "")),
                        str(f.get("evidence", "")))


def _limit_state(v: dict[str, Any]) -> LimitState:
    value = v.get("value")
    return LimitState(value if isinstance(value, int) and not isinstance(value, bool) else None,
                      str(v.get("source", "")), str(v.get("evidence", "")), bool(v.get("at_least")))


def _finite(value: Any) -> Any:
    """Strict JSON (node, browsers) has no NaN or Infinity: a duration that is not a
    number is written as 0."""
    if isinstance(value, float) and not math.isfinite(value):
        return 0.0
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def to_json(doc: dict[str, Any], indent: int | None = 1) -> str:
    return json.dumps(_finite(doc), indent=indent, allow_nan=False)


def write_json(path: Path, doc: ResultsDocument) -> None:
    write_atomic(path, to_json(doc.to_json()) + "\n")


class ResultsFileError(MpconformError):
    """A results file that cannot be read or is not in this format; the message names the file."""


def load_document(path: Path) -> ResultsDocument:
    """A results document written by `mpconform run --json`, checked for the fields readers rely on."""
    try:
        data = load_json(path)
    except InputFileError as exc:
        raise ResultsFileError(str(exc)) from None
    return ResultsDocument.from_json(data, str(path))  # type: ignore[arg-type]  # from_json checks it is a dict


_XML_ILLEGAL = "[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]"  # compiled (and cached by re) only for JUnit


def flat_properties(prov: dict[str, Any], prefix: str = "provenance") -> list[tuple[str, str]]:
    """The provenance as JUnit <property> name/value pairs."""
    out = []
    for key, value in prov.items():
        name = f"{prefix}.{key}"
        if isinstance(value, dict):
            out += flat_properties(value, name)
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            for i, item in enumerate(value):
                out += flat_properties(item, f"{name}.{i}")
        else:
            out.append((name, "" if value is None else str(value)))
    return out


def _xml_safe(text: str) -> str:
    """Ports print control bytes (\x04 markers, garbage); XML 1.0 cannot hold them."""
    return re.sub(_XML_ILLEGAL, lambda m: f"\\x{ord(m.group()):02x}", text)


def write_junit(path: Path, document: ResultsDocument) -> None:
    """The same document as JUnit XML (for CI dashboards)."""
    import xml.etree.ElementTree as ET  # only for --junit

    doc = document.to_json()
    summary = doc["summary"]
    suite = ET.Element(
        "testsuite",
        name=f"mpconform.{doc['port']}",
        tests=str(len(doc["results"])),
        failures=str(summary["fail"] + summary["xpass"]),
        errors=str(summary["timeout"] + summary["crash"] + summary["error"]),
        skipped=str(summary["skip"] + summary["xfail"]),
        time=f"{sum(_finite(r['duration_s']) for r in doc['results']):.3f}",
    )
    props = ET.SubElement(suite, "properties")
    for key, value in sorted(doc["implementation"].items()):
        ET.SubElement(props, "property", name=str(key), value=_xml_safe(str(value)))
    for key, value in flat_properties(doc.get("provenance") or {}):
        ET.SubElement(props, "property", name=key, value=_xml_safe(value))
    for r in doc["results"]:
        case = ET.SubElement(
            suite, "testcase", classname=f"{doc['port']}.{r['api']}", name=r["id"], time=f"{_finite(r['duration_s']):.3f}"
        )
        outcome = r["outcome"]
        if outcome in ("fail", "xpass"):
            ET.SubElement(case, "failure", message=outcome).text = _xml_safe(r["detail"])
        elif outcome in ("timeout", "crash", "error"):
            ET.SubElement(case, "error", message=outcome).text = _xml_safe(r["detail"])
        elif outcome in ("skip", "xfail"):
            ET.SubElement(case, "skipped", message=_xml_safe(f"{outcome}: {r['detail']}"[:500]))
        elif outcome == "observed":  # a pass for CI, with what the port did at the edge beside it
            ET.SubElement(case, "system-out").text = _xml_safe(f"observed: {r['detail']}")
    ET.indent(suite)
    write_atomic(path, ET.tostring(suite, encoding="unicode") + "\n")


class ResultLog:
    """Appends one JSON line per result as it happens; the first line is the run header."""

    def __init__(self, path: Path, header: dict[str, Any]):
        self.path = Path(path)
        self._fh = self.path.open("w", encoding="utf-8")
        self._write({"header": header})

    def _write(self, obj: dict[str, Any]) -> None:
        self._fh.write(to_json(obj, indent=None) + "\n")
        self._fh.flush()

    def add(self, result: RunResult) -> None:
        self._write(result.to_json())

    def close(self) -> None:
        self._fh.close()
