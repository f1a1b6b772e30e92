"""Type-check the project with mypy as the installed package sees it.

The source folders are mapped onto `mpconform.*` by pyproject.toml's package-dir
(core/ is mpconform.core, runners/ is mpconform.runners, ...), which mypy cannot read.
So a temporary tree of symbolic links lays the folders out as the installed package,
mypy checks that, and its messages are given back with the checkout's paths.

    python tools/typecheck.py            # strict where pyproject.toml says, the rest as configured
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parent.parent


def shadow_tree(dest: Path) -> dict[str, str]:
    """Lay out the sources as the package `mpconform`; returns shadow path -> checkout path prefixes."""
    mapping = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-dir"]
    package = dest / "mpconform"
    package.mkdir()
    back = {}
    for entry in (ROOT / mapping["mpconform"]).iterdir():
        if entry.suffix in (".py", ".typed"):
            (package / entry.name).symlink_to(entry)
    back[str(package) + "/"] = mapping["mpconform"] + "/"
    for name, folder in mapping.items():
        if name == "mpconform":
            continue
        sub = name.split(".", 1)[1]
        (package / sub).symlink_to(ROOT / folder, target_is_directory=True)
        back[f"{package}/{sub}/"] = folder + "/"
    return back


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="mpconform-typecheck-") as tmp:
        back = shadow_tree(Path(tmp))
        packages = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mpconform"]["typecheck"]
        args = [sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml"), *sys.argv[1:]]
        for name in packages:
            args += ["-p", name] if not name.endswith(".py") else [name]
        env = {**os.environ, "MYPYPATH": tmp}
        proc = subprocess.run(args, cwd=tmp, env=env, capture_output=True, text=True)
        text = proc.stdout + proc.stderr
        for shadow, real in sorted(back.items(), key=lambda kv: -len(kv[0])):
            text = text.replace(shadow, real)
        # mypy names files relative to its working folder: the shadow's own names
        for shadow, real in sorted(back.items(), key=lambda kv: -len(kv[0])):
            text = text.replace(os.path.relpath(shadow, tmp) + "/", real)
        sys.stdout.write(text)
        return proc.returncode


if __name__ == "__main__":
    sys.exit(main())
