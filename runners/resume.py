"""`mpconform run --resume FILE`: the results an interrupted run already measured.

FILE is the run's JSON lines log (`<name>.jsonl`, written as results happen) or its
JSON document. A line cut short by a kill is ignored; `error` results are not kept,
because an error says nothing about the behaviour (the runner lost the port), so
those tests run again."""

from __future__ import annotations

import json
from pathlib import Path

from .base import RunnerError
from .results import OUTCOMES, Result

RERUN = frozenset({"error"})


def _records(path: Path) -> tuple[dict, list[dict]]:
    text = path.read_text(encoding="utf-8")
    try:
        doc = json.loads(text)
    except json.JSONDecodeError:
        doc = None
    if isinstance(doc, dict) and "results" in doc:
        return {"port": doc.get("port")}, doc["results"]
    header, rows = {}, []
    for line in text.splitlines():
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            continue  # the last line of a killed run may be cut short
        if isinstance(row, dict) and "header" in row:
            header = row["header"]
        elif isinstance(row, dict):
            rows.append(row)
    return header, rows


def read_previous(path: Path, port: str) -> dict[str, Result]:
    """Results by behaviour id; RunnerError when the file is not a run of this port."""
    path = Path(path)
    if not path.is_file():
        raise RunnerError(f"--resume {path}: no such file")
    header, rows = _records(path)
    if header.get("port") != port:
        raise RunnerError(f"--resume {path}: not results of port '{port}' (header says {header.get('port')!r})")
    kept = {}
    for row in rows:
        try:
            result = Result(str(row["id"]), str(row["api"]), row["outcome"], float(row["duration_s"]), str(row["detail"]))
        except (KeyError, TypeError, ValueError):
            continue
        if result.outcome in OUTCOMES and result.outcome not in RERUN:
            kept[result.id] = result
    return kept
