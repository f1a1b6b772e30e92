"""The README and docs/: a README a newcomer reads in minutes, the pages it points to,
links that resolve, and only commands that exist (the CLI's own --help, noxfile.py)."""

from __future__ import annotations

import ast
import functools
import os
import re
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = ROOT / "docs"
PAGES = ["guide.md", "architecture.md", "boards-and-labs.md", "measurements.md", "spec.md"]
README_MAX_LINES = 250
# Fenced blocks in these languages hold commands; every other block is output or data.
SHELL = {"sh", "shell", "bash", "console"}

FENCE = re.compile(r"^[ \t]*(?P<fence>`{3,}|~{3,})(?P<info>[^\n]*)\n(?P<body>.*?)^[ \t]*(?P=fence)[ \t]*$", re.M | re.S)
SPAN = re.compile(r"(`+)(.+?)\1", re.S)
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
HEADING = re.compile(r"^#{1,6}[ \t]+(.+?)[ \t]*#*[ \t]*$", re.M)
NOX = re.compile(r"\bnox\s+-s\s+([A-Za-z_][\w-]*)")


def documents() -> list[Path]:
    return [README, *sorted(DOCS.glob("*.md"))]


@functools.cache
def parts(path: Path) -> tuple[str, tuple[tuple[str, str], ...], tuple[str, ...]]:
    """(prose without code, fenced blocks as (info, body), inline code spans)."""
    text = path.read_text(encoding="utf-8")
    blocks = tuple((m["info"].strip(), m["body"]) for m in FENCE.finditer(text))
    prose = FENCE.sub("", text)
    spans = tuple(" ".join(m.group(2).split()) for m in SPAN.finditer(prose))
    return SPAN.sub("", prose), blocks, spans


def command_lines(path: Path) -> list[str]:
    """Lines that may name a command: inline code spans and the lines of shell blocks
    (comments dropped)."""
    _, blocks, spans = parts(path)
    lines = list(spans)
    for info, body in blocks:
        if info.split()[0] in SHELL:
            lines += [re.sub(r"(^|\s)#.*$", "", line) for line in body.splitlines()]
    return lines


def slugs(path: Path) -> set[str]:
    """Anchors of a page's headings, as GitHub makes them."""
    text = FENCE.sub("", path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for title in HEADING.findall(text):
        slug = re.sub(r"[^\w\- ]", "", title.strip().lower()).replace(" ", "-")
        n, unique = 0, slug
        while unique in found:
            n += 1
            unique = f"{slug}-{n}"
        found.add(unique)
    return found


def broken_links(path: Path, prose: str | None = None) -> list[str]:
    """Each relative link of the page whose file (or heading) is not there."""
    if prose is None:
        prose = parts(path)[0]
    broken = []
    for target in LINK.findall(prose):
        if re.match(r"[A-Za-z][A-Za-z0-9+.-]*:", target):
            continue  # https:, mailto: ...
        file, _, anchor = target.partition("#")
        dest = (path.parent / file).resolve() if file else path
        if not dest.exists():
            broken.append(f"{path.name}: {target}: no such file")
        elif anchor and dest.suffix == ".md" and anchor not in slugs(dest):
            broken.append(f"{path.name}: {target}: no such heading")
    return broken


# -- the command line ---------------------------------------------------------------


def _cli() -> list[str]:
    """The installed `mpconform` command, run by this interpreter (as the entry point
    declares it, wherever its module lives)."""
    (ep,) = entry_points(group="console_scripts", name="mpconform")
    module, _, attr = ep.value.partition(":")
    return [sys.executable, "-c", f"import sys; from {module} import {attr} as m; sys.exit(m())"]


@functools.cache
def help_text(*words: str) -> str:
    env = {**os.environ, "COLUMNS": "200"}
    proc = subprocess.run([*_cli(), *words, "--help"], capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
    assert proc.returncode == 0, (words, proc.stderr)
    return proc.stdout


def choices(help_out: str) -> set[str] | None:
    """The subcommands (a positional's choices) a --help lists, or None when it has none."""
    m = re.search(r"^ {2,}\{([^}]*)\}", help_out, re.M)
    return set(m.group(1).split(",")) if m else None


def invocations(line: str) -> list[list[str]]:
    """The words after each `mpconform` in a line, up to the end of that shell command."""
    tokens = line.split()
    found = []
    for i, token in enumerate(tokens):
        if token != "mpconform":
            continue
        words, depth = [], 0
        for word in tokens[i + 1:]:
            if depth == 0 and word in {"|", "||", "&&", ";"}:
                break
            depth += word.count("[") - word.count("]")
            word = word.strip("[]")
            if word:
                words.append(word)
        found.append(words)
    return found


def unknown_commands(lines: list[str]) -> list[str]:
    """Each `mpconform ...` whose command, subcommand or option the CLI does not list."""
    problems = []
    top = help_text()
    for line in lines:
        for words in invocations(line):
            if not words:
                continue
            if words[0].startswith("-"):
                if not has_option(top, words[0]):
                    problems.append(f"mpconform {words[0]}: no such option")
                continue
            command = [words[0]]
            if words[0] not in (choices(top) or set()):
                problems.append(f"mpconform {words[0]}: no such command")
                continue
            subs = choices(help_text(*command))
            if subs is not None and len(words) > 1 and not words[1].startswith("-"):
                if words[1] not in subs:
                    problems.append(f"mpconform {words[0]} {words[1]}: no such subcommand")
                    continue
                command.append(words[1])
            where = help_text(*command)
            for word in words[len(command):]:
                if word.startswith("-") and word.strip("-") and not has_option(where, word.partition("=")[0]):
                    problems.append(f"mpconform {' '.join(command)} {word}: no such option")
    return problems


def has_option(help_out: str, option: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", help_out) is not None


# -- nox --------------------------------------------------------------------------


def nox_sessions() -> set[str]:
    """The sessions noxfile.py declares (@nox.session, with its name= if given)."""
    names = set()
    for node in ast.walk(ast.parse((ROOT / "noxfile.py").read_text(encoding="utf-8"))):
        if not isinstance(node, ast.FunctionDef):
            continue
        for deco in node.decorator_list:
            call = deco if isinstance(deco, ast.Call) else None
            target = call.func if call else deco
            if ast.unparse(target) != "nox.session":
                continue
            named = [k.value.value for k in (call.keywords if call else []) if k.arg == "name"]
            names.add(named[0] if named else node.name)
    return names


def unknown_sessions(lines: list[str]) -> list[str]:
    known = nox_sessions()
    return [f"nox -s {name}: no such session" for line in lines for name in NOX.findall(line) if name not in known]


# -- the tests --------------------------------------------------------------------


def test_readme_is_short():
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= README_MAX_LINES, f"README.md has {len(lines)} lines; at most {README_MAX_LINES}"


def test_readme_holds_no_dated_measurement():
    dates = re.findall(r"\b20\d\d-\d\d-\d\d\b", README.read_text(encoding="utf-8"))
    assert not dates, f"dated numbers go to docs/measurements.md: {dates}"


def test_docs_pages_exist_and_readme_links_each():
    missing = [page for page in PAGES if not (DOCS / page).is_file()]
    assert not missing, missing
    linked = {Path(t.partition("#")[0]).as_posix() for t in LINK.findall(parts(README)[0])}
    orphans = [p.name for p in sorted(DOCS.glob("*.md")) if f"docs/{p.name}" not in linked]
    assert not orphans, f"README.md links no docs page named {orphans}"


def test_every_fence_says_its_language():
    """A block without a language could hide a command from the checks below."""
    bare = [f"{path.name}: block starting {body[:40]!r}" for path in documents()
            for info, body in parts(path)[1] if not info]
    assert not bare, bare


def test_relative_links_resolve():
    broken = [problem for path in documents() for problem in broken_links(path)]
    assert not broken, "\n".join(broken)


def test_named_commands_exist():
    lines = [line for path in documents() for line in command_lines(path)]
    assert any(invocations(line) for line in lines), "no mpconform command found: the check reads nothing"
    problems = unknown_commands(lines)
    assert not problems, "\n".join(problems)


def test_named_nox_sessions_exist():
    lines = [line for path in documents() for line in command_lines(path)]
    assert any(NOX.search(line) for line in lines), "no nox session found: the check reads nothing"
    problems = unknown_sessions(lines)
    assert not problems, "\n".join(problems)


def test_the_checks_see_what_does_not_exist():
    """Not vacuous: a command, subcommand, option, session or link that is not there
    is reported."""
    assert unknown_commands(["mpconform frobnicate --all"]) == ["mpconform frobnicate: no such command"]
    assert unknown_commands(["mpconform lab explode"]) == ["mpconform lab explode: no such subcommand"]
    assert unknown_commands(["mpconform run unix --no-such-flag"]) == ["mpconform run --no-such-flag: no such option"]
    assert unknown_commands(["mpconform drift port unix --json | head -1"]) == []
    assert unknown_sessions(["nox -s frobnicate"]) == ["nox -s frobnicate: no such session"]
    assert broken_links(README, "[x](docs/nowhere.md) [y](docs/guide.md#no-such-heading)") == [
        "README.md: docs/nowhere.md: no such file", "README.md: docs/guide.md#no-such-heading: no such heading"]
