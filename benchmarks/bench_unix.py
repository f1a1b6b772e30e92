"""Wall time of `mpconform run unix` against its floor, measured in the same run.

The floor runs the same generated test files with the same binary and the same
parallelism (xargs -P), checking nothing. The ratio is what the harness costs."""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def timed(cmd: list[str], **kwargs) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False, **kwargs)
    return time.perf_counter() - start


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("-j", "--jobs", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--target", type=float, default=1.2)
    args = ap.parse_args()

    from mpconform.runners.unix import find_micropython

    binary = find_micropython()
    suite = ROOT / "suites" / "unix"
    files = [t["file"] for t in json.loads((suite / "manifest.json").read_text())["tests"] if t["file"]]
    mpconform = shutil.which("mpconform") or "mpconform"
    floor_cmd = ["xargs", "-P", str(args.jobs), "-n", "1", binary]
    ours_cmd = [mpconform, "--root", str(ROOT), "run", "unix", "-j", str(args.jobs)]
    stdin = "\n".join(files) + "\n"

    floors, ours = [], []
    for _ in range(args.rounds):  # interleaved, so machine noise hits both alike
        floors.append(timed(floor_cmd, cwd=suite, input=stdin.encode()))
        ours.append(timed(ours_cmd))
    floor, mine = statistics.median(floors), statistics.median(ours)
    ratio = mine / floor
    print(f"unix suite: {len(files)} tests, -j {args.jobs}, median of {args.rounds} rounds")
    print(f"  floor (xargs -P{args.jobs} {Path(binary).name}, no checking): {floor:.3f}s")
    print(f"  mpconform run unix -j {args.jobs}:                {mine:.3f}s")
    print(f"  ratio: {ratio:.2f} (target <= {args.target})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
