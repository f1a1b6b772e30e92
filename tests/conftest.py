from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from mpconform.cli import main

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def root() -> Path:
    return ROOT


@pytest.fixture
def project_copy(tmp_path) -> Path:
    """A throwaway copy of the project's data (spec, ports, suites) to break or regenerate."""
    dest = tmp_path / "project"
    for name in ("spec", "ports", "suites"):
        shutil.copytree(ROOT / name, dest / name)
    return dest


@pytest.fixture
def cli(capsys):
    """Run `mpconform ARGS...` in-process; returns (exit status, stdout, stderr)."""

    def run(*args: str):
        status = main([str(a) for a in args])
        out, err = capsys.readouterr()
        return status, out, err

    return run


def snapshot(directory: Path) -> dict[str, bytes]:
    return {p.relative_to(directory).as_posix(): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


@pytest.fixture(scope="session")
def upstream() -> Path:
    """An upstream MicroPython tree ($MICROPY_DIR, else the shared snapshot, else skip)."""
    from tests.upstreamkit import upstream_tree

    return upstream_tree()


@pytest.fixture(scope="session")
def native_unix(upstream) -> Path:
    """Upstream's unix port (standard variant) built natively from that tree, cached by its digest."""
    from mpconform.runners.install.upstream import build_unix

    return build_unix(upstream)
