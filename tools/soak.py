"""Run commands again and again beside busy processes, and count the rounds that failed.

    python tools/soak.py --rounds 100 --busy 2 -- CMD [ARGS...] [--- CMD2 ...]

Each round runs every command once, in order; a command that exits non-zero is a
failed round for it (its last lines are kept). The busy processes spin on the CPU for
the whole soak (the load CI and a loaded lab see) and are stopped at the end, however
the soak ends. Exit 1 when any round failed."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time

SPIN = "while True:\n    pass\n"


def split_commands(words: list[str]) -> list[list[str]]:
    commands, current = [], []
    for word in words:
        if word == "---":
            if current:
                commands.append(current)
            current = []
        else:
            current.append(word)
    if current:
        commands.append(current)
    return commands


def _run(cmd: list[str]) -> subprocess.CompletedProcess:
    """One command; a soak stopped meanwhile asks it to stop too (SIGTERM, as a user
    would), so it can end its own children (emulators, relays) before the soak exits."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        out, _ = proc.communicate()
    except BaseException:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        raise
    return subprocess.CompletedProcess(cmd, proc.returncode, out, "")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=100)
    ap.add_argument("--busy", type=int, default=2, help="CPU-bound processes running beside the commands")
    ap.add_argument("commands", nargs=argparse.REMAINDER, help="-- CMD ARGS [--- CMD2 ARGS]")
    args = ap.parse_args(argv)
    words = args.commands[1:] if args.commands[:1] == ["--"] else args.commands
    commands = split_commands(words)
    if not commands or args.rounds < 1:
        ap.error("give at least one command after --, and --rounds of 1 or more")
    # A soak stopped by SIGTERM (or SIGHUP) still stops its busy processes: unwind through finally.
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda signum, frame: sys.exit(128 + signum))
    busy = [subprocess.Popen([sys.executable, "-c", SPIN], start_new_session=True) for _ in range(args.busy)]
    failures: dict[int, list[str]] = {i: [] for i in range(len(commands))}
    start = time.monotonic()
    try:
        for n in range(1, args.rounds + 1):
            for i, cmd in enumerate(commands):
                done = _run(cmd)
                if done.returncode != 0:
                    tail = done.stdout.strip().splitlines()[-12:]
                    failures[i].append(f"round {n}: exit {done.returncode}: " + " | ".join(tail))
                    print(f"soak: {' '.join(cmd)}: {failures[i][-1]}", flush=True)
            print(f"soak: round {n}/{args.rounds}: "
                  + ", ".join(f"{len(f)} failed" for f in failures.values()), flush=True)
    finally:
        for p in busy:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
    print(f"soak: {args.rounds} rounds in {time.monotonic() - start:.0f} s beside {args.busy} busy processes")
    for i, cmd in enumerate(commands):
        print(f"  {' '.join(cmd)}: {len(failures[i])} of {args.rounds} rounds failed")
        for line in failures[i][:10]:
            print(f"    {line}")
    return 1 if any(failures.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
