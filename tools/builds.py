"""The build matrix: upstream's unix port built in several configurations and at past
releases (tools/builds.yaml), each run with `mpconform run unix --detect`, summed up
as one Markdown table.

    python tools/builds.py --micropython-dir ~/micropython [--only NAME ...] [--jobs N]
    python tools/builds.py --tree-archive micropython-1c3c201.tar.gz --archive v1.28.0=micropython-v1.28.0.tar.gz

Configurations build from the tree (a checkout, or a snapshot archive unpacked into
the cache). A release builds from `--archive TAG=PATH` when given, else from
`git archive TAG` of the tree; a tree without git history and no archive for it
leaves the release's row skipped, saying why. Builds go to the cache
(mpconform.runners.install.upstream: keyed by the sources' digest), so a second run only runs the
suite; results files go beside the binaries. The table goes to stdout (and to
--table FILE). Exit 1 when a build or a run failed, 2 on a bad command line."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml

from mpconform.runners.install.upstream import UnixBuild, UpstreamError, build_unix, resolve_tree, unpack_archive

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
MATRIX = HERE / "builds.yaml"
TREE = "tree"


class Skipped(Exception):
    """A row that cannot be built here, and why (not a failure)."""


@dataclass(frozen=True)
class Build:
    source: str  # TREE, or a release tag
    unix: UnixBuild

    @property
    def name(self) -> str:
        return self.unix.name


def load_matrix(path: Path = MATRIX) -> list[Build]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    common = tuple(str(a) for a in data.get("make_args", []))
    builds = [
        Build(TREE, UnixBuild(c["name"], c.get("variant", "standard"), dict(c.get("macros", {})), common))
        for c in data.get("configurations", [])
    ]
    releases = data.get("releases", {})
    extra = tuple(str(a) for a in releases.get("make_args", []))
    builds += [Build(tag, UnixBuild(tag, "standard", {}, common + extra)) for tag in releases.get("tags", [])]
    return builds


def has_history(tree: Path) -> bool:
    return shutil.which("git") is not None and subprocess.run(
        ["git", "-C", str(tree), "rev-parse", "--git-dir"], capture_output=True).returncode == 0


def release_tree(tree: Path, tag: str, archives: dict[str, Path]) -> Path:
    """The release's sources: its archive, else `git archive TAG` of the tree, unpacked
    once into the cache (the user's checkout is never switched); Skipped, saying why,
    when neither is there."""
    if tag in archives:
        return unpack_archive(archives[tag])
    if not has_history(tree):
        raise Skipped(f"needs git history to take {tag} from (the tree {tree} has none); "
                      f"or give its snapshot: --archive {tag}=PATH")
    with tempfile.TemporaryDirectory(prefix="mpconform-release-") as tmp:
        archive = Path(tmp) / f"micropython-{tag}.tar.gz"
        done = subprocess.run(["git", "-C", str(tree), "archive", "--format=tar.gz", "--prefix=micropython/",
                               "-o", str(archive), tag], capture_output=True, text=True)
        if done.returncode != 0:
            raise Skipped(f"git archive {tag}: {one_line(done.stderr) or 'failed'}")
        return unpack_archive(archive)


def run_suite(binary: Path, out: Path) -> tuple[dict | None, str]:
    """The results of `mpconform run unix --detect` on the binary; (None, why) when the
    run itself failed (exit 2 or more: it could not start, or stopped)."""
    out.unlink(missing_ok=True)
    done = subprocess.run([sys.executable, "-m", "mpconform.cli", "--root", str(ROOT), "run", "unix", "--micropython",
                           str(binary), "--detect", "-j", "2", "--json", str(out)],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if done.returncode not in (0, 1) or not out.is_file():
        return None, f"run failed (exit {done.returncode}): {one_line(done.stderr)}"
    return json.loads(out.read_text(encoding="utf-8")), ""


def one_line(text: str) -> str:
    """The last line that says something, fit for a table cell."""
    lines = [ln.strip() for ln in (text or "").splitlines() if ln.strip()]
    return (lines[-1] if lines else "").replace("|", "\\|")[:300]


def row(name: str, doc: dict | None, why: str = "") -> str:
    if doc is None:
        return f"| {name} | | | | | | {why} |"
    s = doc["summary"]
    failing = [r["id"] for r in doc["results"] if r["outcome"] in ("fail", "xpass", "timeout", "crash", "error")]
    return (f"| {name} | {s.get('pass', 0)} | {s.get('observed', 0)} | {len(failing)} | {s.get('skip', 0)} | "
            f"{s.get('xfail', 0)} | {', '.join(failing)} |")


def _archive_arg(text: str) -> tuple[str, Path]:
    tag, sep, path = text.partition("=")
    if not sep or not tag or not path:
        raise argparse.ArgumentTypeError(f"expected TAG=PATH, got {text!r}")
    return tag, Path(path)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--micropython-dir", help="upstream tree (default $MICROPY_DIR)")
    ap.add_argument("--tree-archive", metavar="PATH", help="a snapshot archive of upstream to use as the tree")
    ap.add_argument("--archive", metavar="TAG=PATH", type=_archive_arg, action="append", default=[],
                    help="a release's snapshot archive (git archive TAG), for a tree without git history; repeatable")
    ap.add_argument("--matrix", metavar="FILE", type=Path, default=MATRIX, help=f"the builds (default {MATRIX.name})")
    ap.add_argument("--only", nargs="*", help="build names to do (default all)")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--table", metavar="FILE", help="also write the table here")
    args = ap.parse_args(argv)
    if not (args.micropython_dir or args.tree_archive or os.environ.get("MICROPY_DIR")):
        print("builds: needs an upstream MicroPython tree: --micropython-dir DIR, $MICROPY_DIR or --tree-archive PATH",
              file=sys.stderr)
        return 2
    try:
        tree = resolve_tree(args.micropython_dir, archive=args.tree_archive)
    except UpstreamError as exc:
        print(f"builds: {exc}", file=sys.stderr)
        return 2
    archives = dict(args.archive)
    builds = [b for b in load_matrix(args.matrix) if not args.only or b.name in args.only]
    unknown = sorted(set(args.only or []) - {b.name for b in builds})
    if unknown:
        print(f"builds: --only {', '.join(unknown)}: not in {args.matrix}", file=sys.stderr)
        return 2
    lines = ["| build | pass | observed | fail | skip | xfail | failing |", "|---|---|---|---|---|---|---|"]
    failed = 0
    for build in builds:
        print(f"builds: {build.name}: building", file=sys.stderr, flush=True)
        try:
            src = tree if build.source == TREE else release_tree(tree, build.source, archives)
            binary = build_unix(src, build.unix, args.jobs)
        except Skipped as exc:
            print(f"builds: {build.name}: skipped: {exc}", file=sys.stderr)
            lines.append(row(build.name, None, f"skipped: {exc}"))
            continue
        except UpstreamError as exc:
            failed += 1
            print(f"builds: {build.name}: FAILED: {exc}", file=sys.stderr)
            lines.append(row(build.name, None, f"build failed: {one_line(str(exc).splitlines()[0]).rstrip(':')}"))
            continue
        print(f"builds: {build.name}: built; running the suite", file=sys.stderr, flush=True)
        doc, why = run_suite(binary, binary.with_name("results.json"))
        if doc is None:
            failed += 1
            print(f"builds: {build.name}: FAILED: {why}", file=sys.stderr)
        lines.append(row(build.name, doc, why))
    table = "\n".join(lines) + "\n"
    sys.stdout.write(table)
    if args.table:
        Path(args.table).write_text(table, encoding="utf-8")
    if failed:
        print(f"builds: {failed} of {len(builds)} build(s) failed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
