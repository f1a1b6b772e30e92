"""The packages form layers: core <- generator <- runners <- drift, reports <- the CLI
(the `mpconform` package's own modules). Every import, at module level or inside a
function, goes down the layers; so no two top-level packages import each other."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# folder -> its layer; a package may import only packages of a lower layer
LAYERS = {"core": 0, "generator": 1, "runners": 2, "drift": 3, "reports": 3, "mpconform": 4}


def imports_of(folder: str) -> dict[str, set[str]]:
    """The project's top-level packages `folder` imports, each with where."""
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / folder).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and not node.level:
                names = [node.module or ""]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue  # relative imports stay inside their package
            for name in names:
                parts = name.split(".")
                if parts[0] != "mpconform":
                    continue
                target = parts[1] if len(parts) > 1 and parts[1] in LAYERS else "mpconform"
                if target != folder:
                    found.setdefault(target, set()).add(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def test_no_two_packages_import_each_other():
    graph = {folder: imports_of(folder) for folder in LAYERS}
    mutual = [(a, b, sorted(graph[a][b])[:3], sorted(graph[b][a])[:3])
              for a in graph for b in graph[a] if a < b and a in graph.get(b, {})]
    assert not mutual, mutual


def test_every_import_goes_down_the_layers():
    upward = [f"{folder} -> {target} at {', '.join(sorted(where)[:3])}"
              for folder in LAYERS for target, where in imports_of(folder).items()
              if LAYERS[target] >= LAYERS[folder]]
    assert not upward, "\n".join(upward)


def test_the_check_sees_an_upward_import(tmp_path, monkeypatch):
    """The check is not vacuous: an import from core up into runners is found."""
    fake = tmp_path / "core"
    fake.mkdir()
    (fake / "x.py").write_text("def f():\n    from mpconform.runners.base import Runner\n")
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path)
    assert imports_of("core") == {"runners": {"core/x.py:2"}}
