"""The C escaping filters, proven with a real C compiler: hostile text must come
back byte for byte from a string literal, and must never change the code around
a comment."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from mpconform.generator.cescape import c_comment, c_string

pytestmark = pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc not installed: the C checks need a compiler")

HOSTILE = [
    "*/ int injected = 1; /*",
    'say "hi" \\ and \\" bye',
    "trigraph ??/\nnext line ??= ??( ??' ???/",
    "line one\nline two\r\n#define EVIL 1\n",
    "{{ jinja }} {% raw %} {# c #}",
    "// nested /* comment */ // \\",
    "unicode: é — 😀 \t tab \x01\x7f end",
    "ends with backslash \\",
    "octal digits after escape: \x01234",
    "",
]


def _gcc(tmp_path, name: str, source: str, *flags: str) -> subprocess.CompletedProcess:
    path = tmp_path / name
    path.write_text(source, encoding="ascii")
    return subprocess.run(["gcc", "-std=c99", "-Wall", "-Wextra", "-Werror", "-Wtrigraphs", *flags, str(path)],
                          capture_output=True, text=True, cwd=tmp_path)


def test_c_string_round_trips_through_gcc(tmp_path):
    # Print each literal's bytes as hex so the comparison is byte-exact.
    items = ",\n".join(f"    {{{c_string(s)}, sizeof {c_string(s)} - 1}}" for s in HOSTILE)
    source = (
        "#include <stdio.h>\n"
        "static const struct { const char *s; unsigned long n; } items[] = {\n" + items + "\n};\n"
        "int main(void) {\n"
        "    for (unsigned i = 0; i < sizeof items / sizeof items[0]; i++) {\n"
        "        for (unsigned long j = 0; j < items[i].n; j++) printf(\"%02x\", (unsigned char)items[i].s[j]);\n"
        "        printf(\"\\n\");\n"
        "    }\n"
        "    return 0;\n"
        "}\n"
    )
    built = _gcc(tmp_path, "strings.c", source, "-trigraphs", "-o", str(tmp_path / "strings"))
    assert built.returncode == 0, built.stderr
    out = subprocess.run([str(tmp_path / "strings")], capture_output=True, text=True, check=True).stdout.splitlines()
    assert out == [s.encode("utf-8").hex() for s in HOSTILE]


def test_c_string_is_one_printable_ascii_line():
    for s in HOSTILE:
        lit = c_string(s)
        assert lit.isascii() and lit.isprintable() and "??" not in lit


def _strip_comments(tmp_path, source: str) -> str:
    """The code of a C file with its comments removed, as the compiler sees it (trigraphs on)."""
    path = tmp_path / "strip.c"
    path.write_text(source, encoding="ascii")
    res = subprocess.run(["gcc", "-std=c99", "-trigraphs", "-fpreprocessed", "-dD", "-E", "-P", str(path)],
                         capture_output=True, text=True, check=True)
    return "\n".join(line.rstrip() for line in res.stdout.splitlines() if line.strip())


@pytest.mark.parametrize("width", [0, 12])
def test_c_comment_cannot_reach_the_code(tmp_path, width):
    def render(texts):
        parts = ["int before = 1;"]
        for t in texts:
            body = c_comment(t, width, " * ")
            parts.append(f"/* {body} */")
            parts.append(f"// {c_comment(t)}")
            parts.append(f"int after_{len(parts)} = 2;")
        return "\n".join(parts) + "\n"

    benign = render(["plain words"] * len(HOSTILE))
    hostile = render(HOSTILE)
    assert hostile.isascii()
    assert _strip_comments(tmp_path, hostile) == _strip_comments(tmp_path, benign)
    built = _gcc(tmp_path, "comments.c", hostile, "-trigraphs", "-fsyntax-only")
    assert built.returncode == 0, built.stderr


def test_c_comment_keeps_the_words():
    assert c_comment("a  b\n c") == "a b c"
    assert c_comment("x */ y") == "x * / y"
    assert c_comment("é") == "<U+00E9>"
    assert c_comment("one two three four", 9, " * ") == "one two\n * three\n * four"
