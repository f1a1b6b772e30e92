"""The fastest plain-raw-REPL chunking that never overruns a board without raw-paste
(the QEMU micro:bit): run the port's suite with each (chunk bytes, delay) pair, count
unexpected outcomes (an overrun loses bytes: SyntaxErrors, wrong output) and time it.

    python benchmarks/chunking.py --rounds 3 32:0.004 64:0.004 64:0.002 128:0.004
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--port", default="qemu-microbit")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("pairs", nargs="+", help="CHUNK:DELAY_S")
    args = ap.parse_args()

    from mpconform.core.results import UNEXPECTED
    from mpconform.runners.plugins.qemu import QemuRunner
    from mpconform.runners.run.harness import Suite, run_suite

    suite = Suite.load(ROOT / "suites" / args.port)
    options = dict(suite.manifest.runner.options)
    tests = [t for t in suite.tests() if t.status != "skip"]
    print(f"{args.port}: {len(tests)} tests per round, {args.rounds} rounds per setting")
    for _ in range(args.rounds):  # interleaved, so machine noise hits every setting alike
        for pair in args.pairs:
            chunk, delay = pair.split(":")
            with QemuRunner({**options, "chunk": int(chunk), "chunk_delay_s": float(delay)}) as runner:
                runner.execute(suite.directory / tests[0]["file"], 10)  # boot outside the timing
                start = time.perf_counter()
                state = run_suite(suite, runner, tests, jobs=1, timeout_s=10)
                took = time.perf_counter() - start
            bad = sorted((r for r in state.results.values() if r.outcome in UNEXPECTED), key=lambda r: r.id)
            print(f"  chunk {chunk:>4} delay {delay:>6}: {took / len(tests) * 1000:6.1f} ms/test, "
                  f"{len(bad)} unexpected", flush=True)
            for r in bad[:3]:
                print(f"    {r.id}: {r.outcome}: {' | '.join(r.detail.splitlines()[:3])[:200]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
