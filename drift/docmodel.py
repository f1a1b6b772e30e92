"""What a copy of the module's documentation says, whatever its format: the
documented members, their signatures and their text, plus the digest of each
member's section that the spec records (`doc_digest`).

Digest input (kept stable on purpose, see README "Drift checks"): the member's
section body as a reader sees it -- markup removed (roles, emphasis, literals
become their text), nested members (a class's methods) left out, every run of
whitespace collapsed to one space, stripped -- encoded as UTF-8 and hashed with
SHA-256. Signatures are not part of it: they are compared on their own, so a
new parameter is reported once, as a signature change."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from mpconform.core.errors import MpconformError

FORMATS = ("rst", "markdown", "text")


class DocReadError(MpconformError):
    """A documentation file that cannot be read as module docs (one line, names the file)."""


@dataclass(frozen=True)
class Param:
    name: str
    optional: bool = False
    default: str | None = None

    def to_json(self) -> dict:
        out: dict = {"name": self.name}
        if self.optional:
            out["optional"] = True
        if self.default is not None:
            out["default"] = self.default
        return out


@dataclass(frozen=True)
class Passage:
    """One block of a section as read, for the statement map check: a paragraph
    (split into sentences there) or a table (one unit: its rows are not sentences).
    Code examples are not passages."""

    text: str  # markup removed, whitespace collapsed
    line: int | None = None
    whole: bool = False  # a table: matched as one unit


@dataclass
class DocMember:
    name: str  # "heap_lock", "RingIO", "RingIO.any" (no module prefix)
    kind: str  # function, class, method, data, ...
    signatures: list[str]  # as written, without module prefix: ["RingIO(size)", "RingIO(buffer)"]
    section: str  # the first signature of its directive group: what spec doc_section / cites.section name
    text: str  # the section body as read, markup removed, whitespace collapsed
    raw: str  # the section body as written (with markup), whitespace collapsed
    line: int | None = None
    passages: list[Passage] = field(default_factory=list)

    @property
    def digest(self) -> str:
        return text_digest(self.text)

    def to_json(self) -> dict:
        return {
            "name": self.name,
            "kind": self.kind,
            "signatures": self.signatures,
            "section": self.section,
            "line": self.line,
            "digest": self.digest,
            "text": self.text,
        }


@dataclass
class DocModule:
    path: str
    format: str
    module: str | None
    members: list[DocMember] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # "file:line: message", kept alongside results

    def member(self, name: str) -> DocMember | None:
        return next((m for m in self.members if m.name == name), None)

    def section(self, section: str) -> DocMember | None:
        return next((m for m in self.members if m.section == section), None)


def collapse(text: str) -> str:
    return " ".join(text.split())


def text_digest(text: str) -> str:
    return hashlib.sha256(collapse(text).encode("utf-8")).hexdigest()


_SIGNATURE = re.compile(r"^\s*(?P<name>[A-Za-z_][\w.]*)\s*(?:\((?P<params>.*)\))?\s*(?:->.*)?$", re.S)


def split_signature(signature: str) -> tuple[str, str | None]:
    """'readinto(buf[, nbytes])' -> ('readinto', 'buf[, nbytes]'); raises ValueError when it is not one."""
    m = _SIGNATURE.match(signature)
    if not m:
        raise ValueError(f"not a signature: {signature!r}")
    return m.group("name"), m.group("params")


def parse_params(signature: str) -> list[Param]:
    """Parameters of a documented signature; ones inside [...] or with a default are optional."""
    try:
        _, text = split_signature(signature)
    except ValueError:
        return []
    if not text:
        return []
    params, depth, token, token_depth = [], 0, "", 0

    def flush():
        nonlocal token
        word = token.strip()
        token = ""
        if not word:
            return
        name, eq, default = word.partition("=")
        name = name.split(":")[0].strip()  # drop an annotation
        params.append(Param(name, optional=token_depth > 0 or bool(eq), default=default.strip() if eq else None))

    for ch in text:
        if ch == "[":
            depth += 1
            if not token.strip():
                token_depth = depth
        elif ch == "]":
            depth = max(0, depth - 1)
        elif ch == ",":
            flush()
            token_depth = depth
        else:
            if not token.strip():
                token_depth = depth
            token += ch
    flush()
    return params


def spec_params(raw: list[dict] | None) -> list[Param]:
    """A spec API's `params:` as Params, to compare with the docs' or a port's."""
    return [Param(p["name"], bool(p.get("optional")) or "default" in p,
                  None if "default" not in p else str(p["default"])) for p in (raw or [])]


def format_signature(name: str, params: list[Param]) -> str:
    """The docs' bracket notation for a parameter list: opt_level([level]), readinto(buf[, nbytes])."""
    out, opened = "", 0
    for i, p in enumerate(params):
        word = p.name + (f"={p.default}" if p.default is not None else "")
        if p.optional and p.default is None:
            out += ("[, " if i else "[") + word
            opened += 1
        else:
            out += (", " if i else "") + word
    return f"{name}({out}{']' * opened})"


def sniff_format(text: str) -> str:
    """rst when there are Sphinx directives, markdown when there are # headings or
    code fences, otherwise plain text."""
    if re.search(r"^\s*\.\. [A-Za-z][\w:-]*::", text, re.M):
        return "rst"
    if re.search(r"^(#{1,6}|```|~~~)", text, re.M):
        return "markdown"
    return "text"


def read_text(path: Path) -> str:
    try:
        data = Path(path).read_bytes()
    except IsADirectoryError:
        raise DocReadError(f"{path}: is a directory, not a documentation file") from None
    except OSError as exc:
        raise DocReadError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise DocReadError(f"{path}:{line}: not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})") from None
    if "\x00" in text:
        raise DocReadError(f"{path}: holds NUL bytes; not a text file")
    return text.removeprefix("\ufeff")


def read_doc(path: Path, fmt: str = "auto") -> DocModule:
    """Read one documentation file (format chosen by content unless given)."""
    text = read_text(path)
    if not text.strip():
        raise DocReadError(f"{path}: empty file; no documented members")
    if fmt == "auto":
        fmt = sniff_format(text)
    if fmt == "rst":
        from mpconform.drift.rstdocs import parse_rst

        doc = parse_rst(text, str(path))
    elif fmt in ("markdown", "text"):
        from mpconform.drift.seeddocs import parse_seed

        doc = parse_seed(text, str(path), fmt)
    else:
        raise DocReadError(f"unknown format '{fmt}' (one of: auto, {', '.join(FORMATS)})")
    if not doc.members:
        hint = {
            "rst": "no function/class/method/data directives found",
            "markdown": "no member headings like '#### micropython.name(args)' found",
            "text": "no member lines like 'micropython.name(args)' found",
        }[fmt]
        raise DocReadError(f"{path}: not module documentation ({fmt}): {hint}")
    return doc
