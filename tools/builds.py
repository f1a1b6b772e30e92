"""The build matrix: upstream's unix port built in several configurations and at past
releases (tools/builds.yaml), each run with `mpconform run unix --detect`, summed up
as one Markdown table.

    python tools/builds.py --micropython-dir ~/micropython [--only NAME ...] [--jobs N]

Configurations build from the tree itself (as it is checked out; build products go to
the cache, except mpy-cross's, which upstream builds in place); releases from
`git archive TAG` of that tree into the cache, so the user's checkout is never
switched. Binaries are cached by configuration and source revision
($MPCONFORM_BUILDS, default ~/.cache/mpconform/builds): a second run only runs the
suite. Results files go beside the binaries; the table goes to stdout (and to
--table FILE)."""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
MATRIX = HERE / "builds.yaml"


@dataclass
class Build:
    name: str
    source: str  # "tree" or a release tag
    variant: str = "standard"
    macros: dict = field(default_factory=dict)
    make_args: list[str] = field(default_factory=list)


def load_matrix(path: Path = MATRIX) -> list[Build]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    common = [str(a) for a in data.get("make_args", [])]
    builds = [
        Build(c["name"], "tree", c.get("variant", "standard"), dict(c.get("macros", {})), common)
        for c in data.get("configurations", [])
    ]
    releases = data.get("releases", {})
    extra = [str(a) for a in releases.get("make_args", [])]
    builds += [Build(tag, tag, "standard", {}, common + extra) for tag in releases.get("tags", [])]
    return builds


def _git(tree: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(tree), *args], check=True, capture_output=True, text=True).stdout.strip()


def _revision(tree: Path, source: str) -> str:
    return _git(tree, "rev-parse", "--short=12", "HEAD" if source == "tree" else f"{source}^{{commit}}")


def _release_tree(tree: Path, tag: str, cache: Path) -> Path:
    """The release's sources, unpacked once from `git archive` (the checkout is not touched)."""
    out = cache / "src" / tag
    if (out / "py" / "mkrules.mk").is_file():
        return out
    tmp = Path(tempfile.mkdtemp(prefix=f"{tag}-", dir=cache))
    try:
        archive = subprocess.run(["git", "-C", str(tree), "archive", tag], check=True, capture_output=True).stdout
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(tmp, filter="tar")
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(out, ignore_errors=True)
        tmp.rename(out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def _variant_dir(src: Path, build: Build, where: Path) -> Path | None:
    """A variant of its own for macro overrides: the base variant, then #undef/#define."""
    if not build.macros:
        return None
    base = src / "ports" / "unix" / "variants" / build.variant
    where.mkdir(parents=True, exist_ok=True)
    lines = [f'#include "{base / "mpconfigvariant.h"}"']
    for name, value in build.macros.items():
        lines += [f"#undef {name}", f"#define {name} ({value})"]
    (where / "mpconfigvariant.h").write_text("\n".join(lines) + "\n")
    (where / "mpconfigvariant.mk").write_text(f"include {base / 'mpconfigvariant.mk'}\n")
    return where


def _make(args: list[str], log: Path) -> bool:
    with log.open("ab") as fh:
        fh.write(("$ " + " ".join(args) + "\n").encode())
        fh.flush()
        return subprocess.run(args, stdout=fh, stderr=subprocess.STDOUT).returncode == 0


def build_binary(tree: Path, build: Build, cache: Path, jobs: int) -> tuple[Path | None, str]:
    """The cached binary for `build`, built when missing; (None, why) when it fails."""
    src = tree if build.source == "tree" else _release_tree(tree, build.source, cache)
    home = cache / f"{build.name}-{_revision(tree, build.source)}"
    binary = home / "micropython"
    if binary.is_file():
        return binary, "cached"
    home.mkdir(parents=True, exist_ok=True)
    log = home / "build.log"
    log.write_text("")
    if not _make(["make", "-C", str(src / "mpy-cross"), f"-j{jobs}", "CFLAGS_EXTRA=-Wno-error"], log):
        return None, f"mpy-cross did not build (see {log})"
    args = ["make", "-C", str(src / "ports" / "unix"), f"-j{jobs}", f"BUILD={home / 'build'}", "PROG=micropython",
            *build.make_args]
    variant_dir = _variant_dir(src, build, home / build.name)
    args.append(f"VARIANT_DIR={variant_dir}" if variant_dir else f"VARIANT={build.variant}")
    if not _make(args, log):
        return None, f"did not build (see {log})"
    # Newer Makefiles link into BUILD, older ones (v1.19) into ports/unix itself.
    made = next((p for p in (home / "build" / "micropython", src / "ports" / "unix" / "micropython") if p.is_file()), None)
    if made is None:
        return None, f"no binary after the build (see {log})"
    shutil.copy2(made, binary)
    return binary, "built"


def run_suite(binary: Path, out: Path) -> dict:
    subprocess.run([sys.executable, "-m", "mpconform.cli", "--root", str(ROOT), "run", "unix", "--micropython",
                    str(binary), "--detect", "-j", "2", "--json", str(out)], stdout=subprocess.DEVNULL)
    return json.loads(out.read_text(encoding="utf-8"))


def row(name: str, doc: dict | None, why: str = "") -> str:
    if doc is None:
        return f"| {name} | | | | | {why} |"
    s = doc["summary"]
    failing = [r["id"] for r in doc["results"] if r["outcome"] in ("fail", "xpass", "timeout", "crash", "error")]
    notes = ", ".join(failing) if failing else ""
    return f"| {name} | {s['pass']} | {len(failing)} | {s['skip']} | {s['xfail']} | {notes} |"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--micropython-dir", default=os.environ.get("MICROPY_DIR"), help="upstream tree (default $MICROPY_DIR)")
    ap.add_argument("--cache", default=os.environ.get("MPCONFORM_BUILDS") or str(Path.home() / ".cache" / "mpconform" / "builds"))
    ap.add_argument("--only", nargs="*", help="build names to do (default all)")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--table", metavar="FILE", help="also write the table here")
    args = ap.parse_args(argv)
    if not args.micropython_dir or not (Path(args.micropython_dir) / "py" / "mpconfig.h").is_file():
        print("builds: needs an upstream MicroPython git tree: --micropython-dir or MICROPY_DIR", file=sys.stderr)
        return 2
    tree, cache = Path(args.micropython_dir).resolve(), Path(args.cache)
    cache.mkdir(parents=True, exist_ok=True)
    builds = [b for b in load_matrix() if not args.only or b.name in args.only]
    lines = ["| build | pass | fail | skip | xfail | failing |", "|---|---|---|---|---|---|"]
    for build in builds:
        print(f"builds: {build.name}: building", file=sys.stderr, flush=True)
        try:
            binary, how = build_binary(tree, build, cache, args.jobs)
        except subprocess.CalledProcessError as exc:
            binary, how = None, f"git: {exc.stderr.strip() if exc.stderr else exc}"
        if binary is None:
            lines.append(row(build.name, None, how))
            continue
        print(f"builds: {build.name}: {how}; running the suite", file=sys.stderr, flush=True)
        lines.append(row(build.name, run_suite(binary, binary.with_name("results.json"))))
    table = "\n".join(lines) + "\n"
    sys.stdout.write(table)
    if args.table:
        Path(args.table).write_text(table, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
