"""Per-test wall time of the board runner on the unix port under a pty - raw-paste
against plain raw REPL - and against the unix runner (a process per test), all
one test at a time over the same generated files, in one run."""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def per_test(runner, scripts: list[Path]) -> float:
    start = time.perf_counter()
    for script in scripts:
        runner.execute(script, 10)
    return (time.perf_counter() - start) / len(scripts)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()

    from mpconform.runners.board import BoardRunner
    from mpconform.runners.unix import UnixRunner

    suite = ROOT / "suites" / "unix-pty"
    scripts = [suite / t["file"] for t in json.loads((suite / "manifest.json").read_text())["tests"] if t["file"]]
    pty = {"target": {"kind": "unix-pty"}, "hard_reset": {"kind": "target"}}
    modes = {
        "board, raw-paste": lambda: BoardRunner(pty),
        "board, plain raw REPL": lambda: BoardRunner({**pty, "raw_paste": False}),
        "unix (process per test)": lambda: UnixRunner({}),
    }
    times: dict[str, list[float]] = {name: [] for name in modes}
    for _ in range(args.rounds):  # interleaved, so machine noise hits all alike
        for name, make in modes.items():
            with make() as runner:
                times[name].append(per_test(runner, scripts))
    medians = {name: statistics.median(t) for name, t in times.items()}
    unix = medians["unix (process per test)"]
    print(f"board runner over a pty: {len(scripts)} tests, one at a time, median of {args.rounds} rounds")
    for name, value in medians.items():
        print(f"  {name:26} {value * 1000:7.1f} ms/test   x{value / unix:.2f} of unix")
    paste, plain = medians["board, raw-paste"], medians["board, plain raw REPL"]
    print(f"  raw-paste / plain raw REPL: {paste / plain:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
