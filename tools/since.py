"""Derive spec/history.yaml's releases from upstream MicroPython's git history.

    MICROPY_DIR=~/micropython python tools/since.py           # entries for features history.yaml lacks
    MICROPY_DIR=~/micropython python tools/since.py --check   # re-derive every entry; exit 1 on a difference

A tree without git history (a snapshot archive) has nothing to derive from: the script
says so, "skipped", and exits 0.

An entry's evidence is a string and a path: the first commit where `git log -S STRING
-- PATH` sees the string's count change introduced it, and its release is the oldest
release tag (vX.Y[.Z], no -preview or -rc) containing that commit (`git tag --contains`).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mpconform.core.errors import MpconformError  # noqa: E402
from mpconform.core.manifest import UNRELEASED, release_key  # noqa: E402
from mpconform.generator.history import RELEASE, Evidence, load_history  # noqa: E402
from mpconform.generator.spec import load_spec  # noqa: E402

DEFAULT_PATH = "py/mpconfig.h"  # where upstream declares every config macro's default
SKIPPED = "skipped"  # the word a caller (tests/test_history.py) looks for


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout


def first_commit(repo: Path, pickaxe: str, path: str) -> str | None:
    """The oldest commit that changed how often `pickaxe` occurs under `path`."""
    out = git(repo, "log", "--reverse", "--format=%H", "-S", pickaxe, "HEAD", "--", path)
    return out.split("\n", 1)[0] or None


def first_release(repo: Path, commit: str) -> str:
    """The oldest release tag holding `commit`; `unreleased` when none does yet."""
    tags = [t for t in git(repo, "tag", "--contains", commit).split() if RELEASE.fullmatch(t)]
    return min(tags, key=release_key) if tags else UNRELEASED


def derive(repo: Path, pickaxe: str, path: str) -> tuple[str | None, str | None]:
    commit = first_commit(repo, pickaxe, path)
    return commit, first_release(repo, commit) if commit else None


def check(repo: Path, history) -> list[str]:
    """Every way the recorded history differs from what upstream's git says now."""
    problems = []
    for entry in history.entries():
        pairs = [("since", entry.since, entry.evidence)]
        if entry.documented:
            pairs.append(("documented", entry.documented, entry.documented_evidence))
        for field, release, ev in pairs:
            commit, derived = derive(repo, ev.pickaxe, ev.path)
            where = f"{entry.source}: {entry.kind}.{entry.name}.{field}"
            if commit is None:
                problems.append(f"{where}: `git log -S {ev.pickaxe!r} -- {ev.path}` finds nothing")
            elif commit != ev.commit:
                problems.append(f"{where}: evidence.commit {ev.commit} but git finds {commit} (release {derived})")
            elif derived != release:
                problems.append(f"{where}: recorded {release} but {commit} is first in {derived}")
    return problems


def yaml_entry(name: str, release: str, ev: Evidence) -> str:
    return (f"  {name}:\n    since: {release}\n"
            f"    evidence: {{pickaxe: {ev.pickaxe}, path: {ev.path}, commit: {ev.commit}}}\n")


def new_entries(repo: Path, spec, history) -> str:
    """YAML for each feature without an entry, from its first macro in py/mpconfig.h."""
    out = []
    for name, feature in spec.features.items():
        if name in history.features:
            continue
        if not feature.macros:
            out.append(f"  # {name}: no config macro; choose a pickaxe string and path by hand\n")
            continue
        macro = feature.macros[0]["name"]
        commit, release = derive(repo, macro, DEFAULT_PATH)
        if not commit:
            out.append(f"  # {name}: {macro} not found in the history of {DEFAULT_PATH}\n")
            continue
        out.append(yaml_entry(name, release, Evidence(macro, DEFAULT_PATH, commit)))
    return "features:\n" + "".join(out) if out else "# every feature has an entry\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="re-derive every entry and report differences")
    parser.add_argument("--micropython-dir", default=os.environ.get("MICROPY_DIR"),
                        help="upstream MicroPython git tree (default: $MICROPY_DIR)")
    args = parser.parse_args(argv)
    if not args.micropython_dir:
        print("since.py: needs an upstream MicroPython git tree: set MICROPY_DIR or pass --micropython-dir", file=sys.stderr)
        return 2
    repo = Path(args.micropython_dir)
    if not (repo / "py" / "mpconfig.h").is_file():
        print(f"since.py: {repo} is not an upstream MicroPython tree (no py/mpconfig.h)", file=sys.stderr)
        return 2
    try:  # the tree's own history, not that of a repository it happens to sit in
        own = Path(git(repo, "rev-parse", "--show-toplevel").strip()).resolve() == repo.resolve()
    except (subprocess.CalledProcessError, OSError):
        own = False
    if not own:
        # A snapshot (git archive, as CI has it) is a fine tree with nothing to derive from.
        print(f"since.py: {SKIPPED}: {repo} has no git history (a snapshot?); re-deriving releases needs a clone "
              "(git clone https://github.com/micropython/micropython)", file=sys.stderr)
        return 0
    try:
        spec = load_spec(ROOT)
        history = load_history(ROOT, spec)
    except MpconformError as exc:
        print(exc, file=sys.stderr)
        return exc.exit_status
    if args.check:
        problems = check(repo, history)
        for line in problems:
            print(line)
        n = len(history.entries())
        print(f"{n} entries, {len(problems)} difference(s)" if problems else f"{n} entries, all re-derived")
        return 1 if problems else 0
    sys.stdout.write(new_entries(repo, spec, history))
    return 0


if __name__ == "__main__":
    sys.exit(main())
