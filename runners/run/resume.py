"""`mpconform run --resume FILE`: the results an interrupted run already measured.

FILE is the run's JSON lines log (`<name>.jsonl`, written as results happen) or its
JSON document. A line cut short by a kill is ignored; `error` results are not kept,
because an error says nothing about the behaviour (the runner lost the port), so
those tests run again. Results are kept only from the same firmware: the log's
header records what ran (sys.implementation and a digest of the binary or firmware
file), and a resume on anything else stops before its first test."""

from __future__ import annotations

import hashlib
from pathlib import Path

from mpconform.core.inputfile import InputFileError, parse_json, read_text
from mpconform.core.results import RunResult
from mpconform.runners.base import RunnerError

RERUN = frozenset({"error"})
RESULT_FIELDS = frozenset(RunResult.__dataclass_fields__)


def _records(path: Path) -> tuple[dict, list]:
    try:
        text = read_text(path)
    except InputFileError as exc:
        raise RunnerError(f"--resume {exc}; give the .jsonl or .json that `mpconform run --json` wrote") from None
    try:
        doc = parse_json(path, text)
    except InputFileError as exc:
        if "nested more than" in str(exc):
            raise RunnerError(f"--resume {exc}") from None
        doc = None
    if isinstance(doc, dict) and "results" in doc:
        if not isinstance(doc["results"], list):
            raise RunnerError(f"--resume {path}: 'results' is {type(doc['results']).__name__}, not a list of results")
        header = {"port": doc.get("port"), "implementation": doc.get("implementation")}
        if isinstance(doc.get("firmware"), dict):
            header["firmware"] = doc["firmware"]
        return header, doc["results"]
    header, rows = {}, []
    for number, line in enumerate(text.splitlines(), 1):
        try:
            row = parse_json(path, line, number - 1)
        except InputFileError as exc:
            if "nested more than" in str(exc):
                raise RunnerError(f"--resume {exc}") from None
            continue  # the last line of a killed run may be cut short
        if isinstance(row, dict) and "header" in row and isinstance(row["header"], dict):
            header = row["header"]
        elif isinstance(row, dict):
            rows.append(row)
    return header, rows


def read_log(path: Path, port: str) -> tuple[dict, dict[str, RunResult]]:
    """The log's header and its results by behaviour id; RunnerError when the file is not
    a run of this port."""
    path = Path(path)
    if not path.is_file():
        raise RunnerError(f"--resume {path}: no such file")
    header, rows = _records(path)
    if header.get("port") != port:
        raise RunnerError(f"--resume {path}: not results of port '{port}' (header says {header.get('port')!r})")
    kept = {}
    for row in rows:
        if not isinstance(row, dict) or not RESULT_FIELDS <= row.keys():
            continue  # a line cut short, or not a result
        try:
            result = RunResult.from_json(row)  # (a duration that is no finite number reads as 0)
        except ValueError:
            continue
        if result.outcome not in RERUN:
            kept[result.id] = result
    return header, kept


def _file_digest(path: str | None) -> str | None:
    if not path:
        return None
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    except OSError:
        return None
    return digest.hexdigest()


def firmware_identity(runner, implementation: dict) -> dict:
    """What a run measured: the port's own answer (sys.implementation, version, build)
    and the digest of the binary or firmware file the runner started, when it has one."""
    target = runner.describe_target()
    if target.get("kind") == "pool" and getattr(runner, "instances", None):
        target = runner.instances[0].describe_target()
    binary = target.get("binary") or target.get("firmware")
    ident = {"implementation": implementation}
    digest = _file_digest(binary)
    if digest:
        ident["binary_sha256"] = digest
    return ident


def firmware_differs(header: dict, now: dict) -> str:
    """Why results recorded under `header` cannot be merged with a run on `now` ('' if they can)."""
    before = header.get("firmware")
    if not isinstance(before, dict):
        before = {"implementation": header.get("implementation")} if header.get("implementation") else None
    if before is None:
        return ""  # an old log without identity: nothing to compare
    if before.get("implementation") and before.get("implementation") != now.get("implementation"):
        return f"it ran on {before.get('implementation')}, this run is on {now.get('implementation')}"
    if before.get("binary_sha256") and now.get("binary_sha256") and before["binary_sha256"] != now["binary_sha256"]:
        return (f"it ran on another binary (sha256 {before['binary_sha256'][:12]}…, "
                f"this one {now['binary_sha256'][:12]}…)")
    return ""
