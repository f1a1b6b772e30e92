"""mpconform installed from its wheel (not editable): `compile --check` holds although
pip wrote byte-code beside the generated tests, and `compile` refuses to write into
the installed package, naming what to do instead."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from importlib import metadata
from pathlib import Path

import pytest
import tomllib

from tests.conftest import ROOT, snapshot

# What the wheel is built from (a copy: building writes build/ and *.egg-info beside the sources).
# The package folders are pyproject.toml's own list, so a new top-level package is never left out.
SOURCES = ("pyproject.toml", "README.md",
           *sorted(set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-dir"].values())))


def test_check_ignores_byte_code_caches(project_copy, cli):
    cache = project_copy / "suites" / "tests" / "__pycache__"
    cache.mkdir()
    (cache / "RingIO.fifo_order.cpython-311.pyc").write_bytes(b"\x00" * 16)
    (project_copy / "suites" / "unix" / "stray.pyc").write_bytes(b"\x00")
    status, out, err = cli("--root", project_copy, "compile", "--check")
    assert status == 0, out + err
    (project_copy / "suites" / "unix" / "stray.txt").write_text("not generated")  # anything else is still stale
    status, out, _ = cli("--root", project_copy, "compile", "--check")
    assert status == 1 and out == "suites/unix/stray.txt: not generated (stale)\n"


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A venv with the wheel built from this checkout installed in it (no editable
    link); its dependencies are the running environment's, reached by a path entry."""
    base = tmp_path_factory.mktemp("wheel")
    src = base / "src"
    src.mkdir()
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(ROOT / name, src / name)
    # as `python -m build` would: setuptools from pyproject.toml's build-system, in isolation
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(base / "dist"), str(src)],
                           capture_output=True, text=True, timeout=600)
    if build.returncode != 0 and "setuptools" in build.stderr and "No matching distribution" in build.stderr:
        pytest.skip(f"cannot build a wheel here: setuptools>=68 cannot be installed ({build.stderr.strip()[-200:]})")
    assert build.returncode == 0, build.stderr
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    wheel = next((base / "dist").glob("mpconform-*.whl"))
    done = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site), str(wheel)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    # pip --target does not compile byte-code; pip into a venv does: do what it does
    subprocess.run([str(python), "-m", "compileall", "-q", str(site / "mpconform")], check=True)
    (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")  # PyYAML, Jinja2, ... of this environment
    return python


def _mpconform(python: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("MPCONFORM_ROOT", "PYTHONPATH")}
    return subprocess.run([str(python), "-m", "mpconform.cli", *args], capture_output=True, text=True, cwd=cwd, env=env,
                          timeout=300)


def test_installed_package_checks_clean_and_refuses_to_compile_into_itself(installed, tmp_path):
    where = subprocess.run([str(installed), "-c", "import mpconform, pathlib; print(pathlib.Path(mpconform.__file__).parent)"],
                           capture_output=True, text=True, cwd=tmp_path, check=True).stdout.strip()
    package = Path(where)
    assert "site-packages" in package.parts and ROOT not in package.parents  # the wheel's copy, not this checkout
    assert any(package.glob("suites/tests/__pycache__/*.pyc"))  # the byte-code pip (here compileall) wrote

    done = _mpconform(installed, "compile", "--check", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("mpconform: up to date (")

    before = snapshot(package)
    done = _mpconform(installed, "compile", cwd=tmp_path)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (f"mpconform: mpconform compile would write into {package}, but it is the installed mpconform "
                           "package: run it in a checkout of mpconform (git clone ...; pip install -e .) or pass --root "
                           "CHECKOUT\n")
    assert snapshot(package) == before

    done = _mpconform(installed, "--version", cwd=tmp_path)
    assert (done.returncode, done.stdout) == (0, f"mpconform {metadata.version('mpconform')}\n")


def test_a_wheel_run_from_inside_a_checkout_starts_its_python_helpers(installed):
    """A pty board's relay is a Python child of the run (`-m mpconform.runners...`).
    From inside a checkout, whose mpconform/ folder is only part of the package, that
    folder must not shadow the installed one: a wheel has no import hook to rescue it.
    (The run itself goes as the `mpconform` script does: no current folder on its path.)"""
    manifest = json.loads((ROOT / "suites" / "unix-pty" / "manifest.json").read_text())
    one = next(t["id"] for t in manifest["tests"] if t["status"] == "run" and not t["interact"] and not t.get("repl"))
    env = {k: v for k, v in os.environ.items() if k not in ("MPCONFORM_ROOT", "PYTHONPATH")}
    done = subprocess.run([str(installed), "-I", "-m", "mpconform.cli", "--root", str(ROOT), "run", "unix-pty", "-k", one],
                          capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout
