"""What a port's source folder says, read as text (nothing is built or run): the
config macros its headers define, the source files its build files compile, and
whether its C code still holds a scaffold stub for a hook or names it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from mpconform.generator.scaffold import STUB_MARK

# Comments only talk about hooks; code that names one is taken as meeting it.
_C_COMMENT = re.compile(r"/\*.*?\*/|//[^\n]*", re.S)
_DEFINE = re.compile(r"^[ \t]*#[ \t]*define[ \t]+(MICROPY_[A-Z0-9_]+)[ \t]+([^\n]*?)[ \t]*$", re.M)
BUILD_FILES = ("Makefile", "GNUmakefile", "CMakeLists.txt")
BUILD_SUFFIXES = (".mk", ".cmake")
_C_FILE = re.compile(r"[^\s=:+?,\\]+\.c\b")  # a token naming a C file, maybe behind $(VAR)/
# Upstream makefiles a port includes from the tree (`include $(TOP)/extmod/extmod.mk`).
_TREE_INCLUDE = re.compile(r"^[ \t]*-?include[ \t]+\$[({](?:TOP|MICROPY_DIR)[)}]/(\S+)"
                           r"|include\(\$\{MICROPY_DIR\}/([^)\s]+)\)", re.M)
ROM_LEVELS = ("MINIMUM", "CORE_FEATURES", "BASIC_FEATURES", "EXTRA_FEATURES", "FULL_FEATURES", "EVERYTHING")


def _is_build_dir(path: Path, root: Path) -> bool:
    return any(part == "build" or part.startswith("build-") for part in path.relative_to(root).parts[:-1])


def _files(port_dir: Path, keep) -> list[Path]:
    return sorted(p for p in port_dir.rglob("*") if p.is_file() and keep(p) and not _is_build_dir(p, port_dir))


@dataclass
class PortTree:
    """One port folder, read once."""

    root: Path
    defines: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # macro -> [(file:line, value)]
    build_files: list[str] = field(default_factory=list)
    compiled: list[str] = field(default_factory=list)  # .c paths named by the build files (and what they include)
    c_files: list[Path] = field(default_factory=list)

    @classmethod
    def read(cls, port_dir: Path) -> PortTree:
        tree = cls(port_dir)
        for path in _files(port_dir, lambda p: p.suffix == ".h"):
            text = path.read_text(encoding="utf-8", errors="replace")
            for m in _DEFINE.finditer(_C_COMMENT.sub(lambda c: re.sub(r"[^\n]", " ", c.group()), text)):
                line = text.count("\n", 0, m.start()) + 1
                tree.defines.setdefault(m.group(1), []).append((f"{path}:{line}", m.group(2)))
        upstream = _tree_root(port_dir)
        seen: set[Path] = set()
        for path in _files(port_dir, lambda p: p.name in BUILD_FILES or p.suffix in BUILD_SUFFIXES):
            tree._read_build_file(path, upstream, seen)
        tree.c_files = _files(port_dir, lambda p: p.suffix in (".c", ".h"))
        return tree

    def _read_build_file(self, path: Path, upstream: Path | None, seen: set[Path]) -> None:
        if path in seen or not path.is_file():
            return
        seen.add(path)
        self.build_files.append(str(path))
        text = re.sub(r"(?<!\\)#[^\n]*", "", path.read_text(encoding="utf-8", errors="replace"))
        self.compiled += [re.split(r"[)}]", m.group())[-1] for m in _C_FILE.finditer(text)]
        if upstream is not None:  # the port lives in a tree: what it includes from there counts too
            for m in _TREE_INCLUDE.finditer(text):
                self._read_build_file(upstream / (m.group(1) or m.group(2)), upstream, seen)

    def compiles(self, source: str) -> bool | None:
        """Whether a build file names `source` (a path from the tree's root); None: no build file.
        A name counts when its path ends the source's ($(addprefix shared/, runtime/x.c) names runtime/x.c)."""
        if not self.build_files:
            return None
        want = source.split("/")
        for name in self.compiled:
            parts = [p for p in name.split("/") if p]
            if parts and want[-len(parts):] == parts:
                return True
        return False

    def config(self, name: str, wanted: str, default: str) -> dict:
        """The macro in the port's headers: state on / off / other / default, with where and why."""
        found = self.defines.get(name, [])
        values = sorted({_plain(v) for _, v in found})
        where = ", ".join(w for w, _ in found)
        if len(values) == 1:
            value = values[0]
            state = "on" if value == _plain(wanted) else "off" if value == "0" else "other"
            return {"state": state, "value": value, "where": where}
        if values:
            return {"state": "conditional", "value": " | ".join(values), "where": where}
        level = self._rom_level()
        if default in ROM_LEVELS and level in ROM_LEVELS:
            on = ROM_LEVELS.index(level) >= ROM_LEVELS.index(default)
            return {"state": "on" if on else "off", "value": None,
                    "where": f"not defined: upstream's default at ROM level {level} (on from {default})"}
        return {"state": "default", "value": None, "where": f"not defined: upstream's default ({default})"}

    def _rom_level(self) -> str:
        values = {_plain(v) for _, v in self.defines.get("MICROPY_CONFIG_ROM_LEVEL", [])}
        if len(values) == 1:
            return values.pop().removeprefix("MICROPY_CONFIG_ROM_LEVEL_")
        return ""  # not set here (upstream's default applies) or set several ways: not known

    def hook(self, hook: str, also: list[str], source: str | None) -> tuple[str, str]:
        """('stub'|'present'|'absent', where) for one hook: a stub left, upstream's file of it
        compiled, or code naming it."""
        seen = ""
        for path in self.c_files:
            text = path.read_text(encoding="utf-8", errors="replace")
            if f"{STUB_MARK} {hook}\n" in text or f"{STUB_MARK} {hook} " in text:
                return "stub", str(path)
            code = _C_COMMENT.sub(" ", text)
            if not seen and any(re.search(rf"\b{re.escape(name)}\b", code) for name in [hook, *also]):
                seen = str(path)
        if source and self.compiles(source):
            return "present", f"{source} (compiled by {', '.join(self.build_files)})"
        return ("present", seen) if seen else ("absent", "")


def _plain(value: object) -> str:
    text = str(value).strip()
    while text.startswith("(") and text.endswith(")"):
        text = text[1:-1].strip()
    return text


def _tree_root(port_dir: Path) -> Path | None:
    """The MicroPython tree a port folder sits in (ports/NAME, or a board below it)."""
    for parent in list(port_dir.resolve().parents)[:4]:
        if (parent / "py" / "mkenv.mk").is_file():
            return parent
    return None
