"""The results format shared by every runner: one JSON document per run, JSON lines
while it runs (so an interrupted run keeps what it measured), and JUnit XML."""

from __future__ import annotations

import json
import math
import re
from dataclasses import asdict, dataclass
from pathlib import Path

from mpconform.core.atomicfile import write_atomic
from mpconform.core.errors import MpconformError
from mpconform.core.inputfile import InputFileError, load_json

OUTCOMES = ("pass", "fail", "skip", "xfail", "xpass", "timeout", "crash", "error")
UNEXPECTED = frozenset({"fail", "xpass", "timeout", "crash", "error"})
RESULTS_FORMAT = 1


@dataclass
class Result:
    id: str
    api: str
    outcome: str
    duration_s: float
    detail: str


def summarize(results: list[Result]) -> dict[str, int]:
    counts = {o: 0 for o in OUTCOMES}
    for r in results:
        counts[r.outcome] += 1
    return counts


def summary_line(summary: dict[str, int]) -> str:
    """The closing console line. Passed counts passes; failed counts every unexpected
    outcome; skipped counts skips and expected failures (both explained by the profile)."""
    failed = sum(summary[o] for o in UNEXPECTED)
    return f"{summary['pass']} passed, {failed} failed, {summary['skip'] + summary['xfail']} skipped"


def breakdown_line(summary: dict[str, int]) -> str:
    return ", ".join(f"{summary[o]} {o}" for o in OUTCOMES if summary[o])


def document(port: str, implementation: dict, results: list[Result], interrupted: bool = False) -> dict:
    doc = {
        "format": RESULTS_FORMAT,
        "port": port,
        "implementation": implementation,
        "results": [asdict(r) for r in results],
        "summary": summarize(results),
    }
    if interrupted:
        doc["interrupted"] = True
    return doc


def _finite(value):
    """Strict JSON (node, browsers) has no NaN or Infinity: a duration that is not a
    number is written as 0."""
    if isinstance(value, float) and not math.isfinite(value):
        return 0.0
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def to_json(doc: dict, indent: int | None = 1) -> str:
    return json.dumps(_finite(doc), indent=indent, allow_nan=False)


def write_json(path: Path, doc: dict) -> None:
    write_atomic(path, to_json(doc) + "\n")


class ResultsFileError(MpconformError):
    """A results file that cannot be read or is not in this format; the message names the file."""


def load_document(path: Path) -> dict:
    """A results document written by `mpconform run --json`, checked for the fields readers rely on."""
    try:
        doc = load_json(path)
    except InputFileError as exc:
        raise ResultsFileError(str(exc)) from None
    if not isinstance(doc, dict) or not isinstance(doc.get("port"), str) or not isinstance(doc.get("results"), list):
        raise ResultsFileError(f"{path}: not an mpconform results file (needs 'port' and 'results'; see `mpconform run --json`)")
    if doc.get("format", RESULTS_FORMAT) != RESULTS_FORMAT:
        raise ResultsFileError(f"{path}: results format {doc['format']!r}, but this mpconform reads format "
                               f"{RESULTS_FORMAT} only (written by another version of mpconform?)")
    for i, r in enumerate(doc["results"]):
        if not isinstance(r, dict) or r.get("outcome") not in OUTCOMES or not isinstance(r.get("id"), str):
            raise ResultsFileError(f"{path}: results[{i}]: needs an 'id' and an 'outcome' among {', '.join(OUTCOMES)}")
    return doc


_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def flat_properties(prov: dict, prefix: str = "provenance") -> list[tuple[str, str]]:
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
    return _XML_ILLEGAL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def write_junit(path: Path, doc: dict) -> None:
    import xml.etree.ElementTree as ET  # only for --junit

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
    ET.indent(suite)
    write_atomic(path, ET.tostring(suite, encoding="unicode") + "\n")


class ResultLog:
    """Appends one JSON line per result as it happens; the first line is the run header."""

    def __init__(self, path: Path, header: dict):
        self.path = Path(path)
        self._fh = self.path.open("w", encoding="utf-8")
        self._write({"header": header})

    def _write(self, obj: dict) -> None:
        self._fh.write(to_json(obj, indent=None) + "\n")
        self._fh.flush()

    def add(self, result: Result) -> None:
        self._write(asdict(result))

    def close(self) -> None:
        self._fh.close()
