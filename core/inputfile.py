"""One way to read what is handed to mpconform: spec, profiles, history, statements,
results (.json and .jsonl), resume logs, lab records.

Every file is read with a cap on its size (a device such as /dev/zero ends as "too
large", never as a MemoryError), decoded as UTF-8 (a UTF-16 file is named as such),
parsed with the depth of its nesting capped (a 100,000-deep array is one line, not a
RecursionError), and every failure is one InputFileError line naming the file, and
the line where the parser knows it. Checking the shape of what was read is each
reader's own (a schema, or the fields it relies on)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path

from mpconform.core.errors import MpconformError

MAX_BYTES = 64 * 1024 * 1024  # far above any file mpconform writes or reads (results are kilobytes)
MAX_DEPTH = 64  # the deepest file of the project nests about 8 levels


class InputFileError(MpconformError):
    """An input file that cannot be read as what it should be: one line, exit 2."""


def read_bytes(path: os.PathLike[str] | str, limit: int = MAX_BYTES) -> bytes:
    path = Path(path)
    try:
        with path.open("rb") as fh:
            data = fh.read(limit + 1)
    except IsADirectoryError:
        raise InputFileError(f"{path}: is a folder, not a file") from None
    except OSError as exc:
        raise InputFileError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if len(data) > limit:
        raise InputFileError(f"{path}: larger than {limit // (1024 * 1024)} MiB; not a file mpconform reads")
    return data


def decode(path: os.PathLike[str] | str, data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputFileError(f"{path}: UTF-16 text; save it as UTF-8")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputFileError(f"{path}:{line}: not UTF-8 text (byte {exc.start})") from None


def read_text(path: os.PathLike[str] | str, limit: int = MAX_BYTES) -> str:
    return decode(path, read_bytes(path, limit))


def depth_problem(value: object, limit: int = MAX_DEPTH) -> str:
    """'' when `value` nests no deeper than `limit`; else why. Walked without recursion,
    visiting containers only (a manifest holds thousands of strings)."""
    stack: list[tuple[Iterable[object], int]] = []
    if type(value) is dict:
        stack.append((value.values(), 1))
    elif type(value) is list:
        stack.append((value, 1))
    while stack:
        items, depth = stack.pop()
        if depth > limit:
            return f"nested more than {limit} deep"
        for child in items:
            kind = type(child)
            if kind is dict:
                stack.append((child.values(), depth + 1))  # type: ignore[attr-defined]
            elif kind is list:
                stack.append((child, depth + 1))  # type: ignore[arg-type]
    return ""


def parse_json(path: os.PathLike[str] | str, text: str, line_offset: int = 0) -> object:
    """JSON text from `path`; InputFileError naming the line when it is not JSON, or nests too deep."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputFileError(f"{path}:{exc.lineno + line_offset}: not JSON: {exc.msg}") from None
    except RecursionError:
        raise InputFileError(f"{path}:{line_offset + 1}: nested more than {MAX_DEPTH} deep") from None
    except ValueError as exc:  # an integer with more digits than Python converts
        raise InputFileError(f"{path}:{line_offset + 1}: not JSON mpconform reads: {exc}") from None
    problem = depth_problem(value)
    if problem:
        raise InputFileError(f"{path}:{line_offset + 1}: {problem}")
    return value


def load_json(path: os.PathLike[str] | str, limit: int = MAX_BYTES) -> object:
    return parse_json(path, read_text(path, limit))


def load_json_lines(path: os.PathLike[str] | str, limit: int = MAX_BYTES) -> list[object]:
    """Each line's value; a line that is not JSON is left out (the last line of a killed
    run may be cut short), one nested too deep is refused."""
    out = []
    for number, line in enumerate(read_text(path, limit).splitlines(), 1):
        if not line.strip():
            continue
        try:
            out.append(parse_json(path, line, number - 1))
        except InputFileError as exc:
            if "nested more than" in str(exc):
                raise
    return out
