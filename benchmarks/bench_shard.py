"""Wall time of a whole run on the QEMU micro:bit with one emulator (-j 1) against
two side by side (-j 2): the whole command, probe included, in one bench run."""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def wall(port: str, jobs: int, out: Path) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "mpconform.cli", "--root", str(ROOT), "run", port, "-j", str(jobs),
                    "--json", str(out)], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--port", default="qemu-microbit")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    times: dict[int, list[float]] = {1: [], 2: []}
    with tempfile.TemporaryDirectory(prefix="mpconform-bench-") as tmp:
        for _ in range(args.rounds):  # interleaved, so machine noise hits both alike
            for jobs in times:
                times[jobs].append(wall(args.port, jobs, Path(tmp) / f"j{jobs}.json"))
    one, two = (statistics.median(times[j]) for j in (1, 2))
    print(f"{args.port}: whole run, median of {args.rounds} rounds")
    print(f"  -j 1 (one emulator)   {one:6.2f} s")
    print(f"  -j 2 (two emulators)  {two:6.2f} s   x{two / one:.2f} of -j 1")
    return 0


if __name__ == "__main__":
    sys.exit(main())
