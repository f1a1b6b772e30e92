"""Upstream MicroPython source trees, and what mpconform builds from them.

A tree is the user's checkout (--micropython-dir, else $MICROPY_DIR) or a snapshot
archive (a `git archive` tarball, as upstream publishes releases) unpacked once into
the user cache. Whatever is built from a tree (a unix binary, a QEMU board's
firmware) is cached under a folder named by the tree's digest, so a second run with
the same sources builds nothing and a changed tree never reuses a stale build.

Nothing here writes into the user's checkout except what upstream's own Makefiles
write there (mpy-cross builds in place)."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from mpconform.core.cachedir import cache_dir
from mpconform.core.errors import MpconformError

STAMP = ".mpconform-digest"  # written into a tree unpacked from an archive: the archive's digest
MARKER = Path("py") / "mpconfig.h"


class UpstreamError(MpconformError):
    """No usable upstream tree, or a build from it failed."""


def is_tree(path: Path) -> bool:
    return (path / MARKER).is_file()


def file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def unpack_archive(archive: Path) -> Path:
    """The tree inside a snapshot archive, unpacked once into the cache (keyed by the
    archive's digest; an interrupted unpack leaves nothing behind that looks done)."""
    archive = Path(archive)
    if not archive.is_file():
        raise UpstreamError(f"{archive}: no such snapshot archive")
    digest = file_digest(archive)[:16]
    home = cache_dir("upstream", digest)
    tree = home / "micropython"
    if (tree / STAMP).is_file():
        return tree
    home.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="unpack-", dir=home))
    try:
        with tarfile.open(archive) as tar:
            tar.extractall(tmp, filter="tar")
        found = [p for p in tmp.iterdir() if p.is_dir() and is_tree(p)]
        if len(found) != 1:
            raise UpstreamError(f"{archive}: not a MicroPython source archive (no single folder with {MARKER})")
        _stand_in_for_submodules(found[0])
        (found[0] / STAMP).write_text(digest + "\n")
        shutil.rmtree(tree, ignore_errors=True)
        found[0].rename(tree)
    except (OSError, tarfile.TarError) as exc:
        raise UpstreamError(f"{archive}: cannot unpack: {exc}") from exc
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return tree


def _stand_in_for_submodules(tree: Path) -> None:
    """An archive has no submodules. Upstream's build refuses to start when
    lib/micropython-lib looks uninitialised, even for builds that freeze nothing
    from it; a README there is what its check looks for."""
    lib = tree / "lib" / "micropython-lib"
    lib.mkdir(parents=True, exist_ok=True)
    readme = lib / "README.md"
    if not readme.exists():
        readme.write_text("Stand-in written by mpconform: this tree came from an archive without submodules.\n")


def resolve_tree(micropython_dir: str | os.PathLike | None = None, archive: str | os.PathLike | None = None) -> Path:
    """The tree to build from: an explicit folder, else an archive, else $MICROPY_DIR."""
    if micropython_dir:
        tree = Path(micropython_dir).expanduser().resolve()
        if not is_tree(tree):
            raise UpstreamError(f"{tree}: not a MicroPython source tree (no {MARKER})")
        return tree
    if archive:
        return unpack_archive(Path(archive))
    env = os.environ.get("MICROPY_DIR")
    if env:
        return resolve_tree(env)
    raise UpstreamError("needs an upstream MicroPython tree: --micropython-dir DIR, $MICROPY_DIR, or --archive "
                        "a snapshot (git clone https://github.com/micropython/micropython)")


def tree_digest(tree: Path) -> str:
    """What the sources are: the archive's digest for an unpacked snapshot; the commit
    (plus a digest of uncommitted changes) for a git checkout; else a digest of every
    file's path, size and modification time (build folders left out)."""
    stamp = tree / STAMP
    if stamp.is_file():
        return stamp.read_text().strip()
    if (tree / ".git").exists() and shutil.which("git"):
        head = _git(tree, "rev-parse", "HEAD")
        if head:
            changes = _git(tree, "status", "--porcelain", "--untracked-files=no")
            if not changes:
                return head[:16]
            diff = _git(tree, "diff", "HEAD") or changes
            return f"{head[:12]}-{hashlib.sha256(diff.encode()).hexdigest()[:8]}"
    return _listing_digest(tree)


def _git(tree: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(tree), *args], capture_output=True, text=True)
    return done.stdout.strip() if done.returncode == 0 else ""


def _listing_digest(tree: Path) -> str:
    h = hashlib.sha256()
    for dirpath, dirnames, filenames in os.walk(tree):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(("build", ".")))
        for name in sorted(filenames):
            path = Path(dirpath, name)
            try:
                st = path.stat()
            except OSError:
                continue
            h.update(f"{path.relative_to(tree)}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return "files-" + h.hexdigest()[:12]


def build_home(kind: str, name: str, tree: Path) -> Path:
    """The cache folder of one build product: kind (unix, firmware, ...), its name, the tree's digest."""
    return cache_dir("builds", kind, f"{name}-{tree_digest(tree)}")


def run_make(args: list[str], log: Path, env: dict | None = None) -> bool:
    """One make step, its output appended to the build's log."""
    with log.open("ab") as fh:
        fh.write(("$ " + " ".join(args) + "\n").encode())
        fh.flush()
        return subprocess.run(args, stdout=fh, stderr=subprocess.STDOUT, env=env).returncode == 0


def log_tail(log: Path, lines: int = 15) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


# What every unix build leaves out, to build without network or submodules: btree,
# TLS and the FFI module, and frozen modules (so no asyncio package) - none of them is
# in the module the suite checks.
UNIX_MAKE_ARGS = ("MICROPY_PY_BTREE=0", "MICROPY_SSL_MBEDTLS=0", "MICROPY_SSL_AXTLS=0", "MICROPY_PY_SSL=0",
                  "MICROPY_PY_USSL=0", "MICROPY_PY_FFI=0", "FROZEN_MANIFEST=", "MICROPY_STANDALONE=0")


@dataclass(frozen=True)
class UnixBuild:
    """One configuration of upstream's unix port: a variant, and macros overriding it."""

    name: str = "standard"
    variant: str = "standard"
    macros: dict = field(default_factory=dict)
    make_args: tuple[str, ...] = UNIX_MAKE_ARGS


def build_unix(tree: Path, build: UnixBuild = UnixBuild(), jobs: int | None = None) -> Path:
    """The cached unix binary of `build` from `tree`, built when missing."""
    home = build_home("unix", build.name, tree)
    binary = home / "micropython"
    if binary.is_file():
        return binary
    jobs = jobs or os.cpu_count() or 1
    home.mkdir(parents=True, exist_ok=True)
    log = home / "build.log"
    log.write_text("")
    if not run_make(["make", "-C", str(tree / "mpy-cross"), f"-j{jobs}", "CFLAGS_EXTRA=-Wno-error"], log):
        raise UpstreamError(f"mpy-cross did not build (log: {log}):\n{log_tail(log)}")
    args = ["make", "-C", str(tree / "ports" / "unix"), f"-j{jobs}", f"BUILD={home / 'build'}", "PROG=micropython",
            *build.make_args]
    variant_dir = _variant_dir(tree, build, home / "variant")
    args.append(f"VARIANT_DIR={variant_dir}" if variant_dir else f"VARIANT={build.variant}")
    if not run_make(args, log):
        raise UpstreamError(f"unix port {build.name} did not build (log: {log}):\n{log_tail(log)}")
    # Newer Makefiles link into BUILD, older ones (v1.19) into ports/unix itself.
    made = next((p for p in (home / "build" / "micropython", tree / "ports" / "unix" / "micropython") if p.is_file()), None)
    if made is None:
        raise UpstreamError(f"no binary after the build (log: {log})")
    tmp = binary.with_name(".micropython.tmp")
    shutil.copy2(made, tmp)
    tmp.replace(binary)  # the binary appears whole or not at all: a cached one is a finished one
    return binary


def _variant_dir(tree: Path, build: UnixBuild, where: Path) -> Path | None:
    """A variant of its own for macro overrides: the base variant, then #undef/#define
    (upstream's variant headers define some macros unconditionally)."""
    if not build.macros:
        return None
    base = tree / "ports" / "unix" / "variants" / build.variant
    where.mkdir(parents=True, exist_ok=True)
    lines = [f'#include "{base / "mpconfigvariant.h"}"']
    for name, value in build.macros.items():
        lines += [f"#undef {name}", f"#define {name} ({value})"]
    (where / "mpconfigvariant.h").write_text("\n".join(lines) + "\n")
    (where / "mpconfigvariant.mk").write_text(f"include {base / 'mpconfigvariant.mk'}\n")
    return where
