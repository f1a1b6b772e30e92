"""Generated files are code: escaped, deterministic, and checked for staleness."""

from __future__ import annotations

import ast
import json
import subprocess

from mpconform.generator.compiler import build
from mpconform.runners.plugins.unix import find_micropython
from tests.conftest import snapshot

HOSTILE = r"""quote ' double " triple ''' and \"\"\" brace {{ b.id }} {% raw %} comment */ /* backslash \ trigraph ??/ end"""

HOSTILE_API = """\
apis:
  - name: zz_hostile
    kind: function
    doc_section: {text}
    summary: {text}
    params: []
    requires: [micropython_module]
    behaviours:
      - id: zz_hostile.survives
        cites: {{section: {text}, quote: {text}}}
        claim: {claim}
        program: |
          s = "{{{{ b.id }}}}"
          print(s, 'ok')
        expect: ["{{{{ b.id }}}} ok"]
"""


def _api_text() -> str:
    text = json.dumps(HOSTILE)  # a JSON string is a valid YAML double-quoted scalar
    claim = json.dumps(HOSTILE + "\nprint('injected')\r\nprint('also injected')")
    return HOSTILE_API.format(text=text, claim=claim)


def test_hostile_spec_strings_cannot_break_or_inject_into_tests(project_copy, cli):
    (project_copy / "spec" / "apis" / "zz_hostile.yaml").write_text(_api_text())
    status, _, err = cli("--root", project_copy, "compile")
    assert status == 0, err
    test = project_copy / "suites" / "tests" / "zz_hostile.survives.py"
    source = test.read_text()
    tree = ast.parse(source)
    # Only the behaviour's own two statements are code; the metadata stayed in comments.
    assert [type(n).__name__ for n in tree.body] == ["Assign", "Expr"]
    assert "{{ b.id }}" in source  # the program was inserted, not rendered again
    out = subprocess.run([find_micropython(), test.name], cwd=test.parent, capture_output=True, text=True, timeout=10)
    assert out.stdout == "{{ b.id }} ok\n"
    manifest = json.loads((project_copy / "suites" / "unix" / "manifest.json").read_text())
    entry = next(t for t in manifest["tests"] if t["id"] == "zz_hostile.survives")
    assert entry["doc"]["quote"] == HOSTILE


def test_render_is_deterministic(root):
    first = build(root)[2].files
    second = build(root)[2].files
    assert first == second


def test_check_names_stale_files_and_compile_repairs_them(project_copy, cli):
    assert cli("--root", project_copy, "compile")[0] == 0
    suite = project_copy / "suites" / "tests"
    victim = sorted(suite.glob("*.py"))[0]
    victim.write_text(victim.read_text() + "# hand edit\n")
    (suite / "leftover.py").write_text("print(1)\n")
    missing = sorted(suite.glob("*.exp"))[1]
    missing.unlink()
    status, out, err = cli("--root", project_copy, "compile", "--check")
    assert status == 1
    rel = "suites/tests/"
    assert f"{rel}{victim.name}: differs" in out
    assert f"{rel}leftover.py: not generated (stale)" in out
    assert f"{rel}{missing.name}: missing" in out
    assert "3 generated file(s) out of date" in err
    status, _, _ = cli("--root", project_copy, "compile")
    assert status == 0
    repaired = snapshot(project_copy)
    assert cli("--root", project_copy, "compile", "--check")[0] == 0
    cli("--root", project_copy, "compile")
    assert snapshot(project_copy) == repaired  # byte-identical on re-run
