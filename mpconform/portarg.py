"""The port a command is about: one of this project's (`PORT`) or the user's own
profile (`--profile FILE`, possibly `extends: <port>`), compiled against the spec into
the cache so that it runs, exports and probes like any port of the project. Every
command that names a port resolves it here, once."""

from __future__ import annotations

import dataclasses
import hashlib
import tempfile
from dataclasses import dataclass
from pathlib import Path

from mpconform.core.atomicfile import write_atomic
from mpconform.core.errors import SourceErrors, UnknownPort, UsageError
from mpconform.paths import require_checkout

PROFILE_HELP = "your own port.yaml (it may start with `extends: <port>`) in place of PORT"


@dataclass(frozen=True)
class Target:
    """The port a command names, and where its profile and compiled suite are."""

    port: str
    profile_path: Path  # ports/<port>/port.yaml, or the user's file
    suite_root: Path  # holds suites/<port>/: the project, or the cache the user's profile compiles into
    own: bool  # the user's own profile (--profile), not one of the project's

    def shown(self, root: Path) -> str:
        """The profile's name in messages: relative to the project for its own ports."""
        return self.profile_path.relative_to(root).as_posix() if not self.own else str(self.profile_path)

    def read_profile(self, root: Path) -> str:
        if not self.own and not self.profile_path.is_file():
            from mpconform.generator.profiles import unknown_port

            raise UnknownPort(unknown_port(root, self.port))
        return self.profile_path.read_text(encoding="utf-8")

    def write_profile(self, root: Path, text: str) -> None:
        """Replace the profile by `text`, after compiling it in a scratch place: a profile
        the compiler rejects is never written (the errors name this file and its lines)."""
        if self.own:
            _check_own_text(root, self.profile_path, text)
        else:
            require_checkout(root, f"changing {self.shown(root)}")
            from mpconform.reports.expectations import check_profile_text

            check_profile_text(root, self.port, text)
        write_atomic(self.profile_path, text)

    def recompile(self, root: Path) -> list[str]:
        """Regenerate what the profile decides (the project's suites, or the user's cache);
        what changed."""
        if self.own:
            from mpconform.generator.compiler import build_profile

            build_profile(root, self.profile_path, self.suite_root)
            return [f"{self.suite_root}/suites/{self.port}"]
        from mpconform.generator.compiler import build

        _, _, outputs = build(root)
        return outputs.write(root)


def add_arguments(parser, port_help: str = "a port of this project (see `mpconform ports`)") -> None:
    """PORT, or --profile FILE in its place."""
    parser.add_argument("port", nargs="?", help=f"{port_help}; optional with --profile")
    parser.add_argument("--profile", metavar="FILE", help=PROFILE_HELP)


def resolve(args) -> Target:
    """The command line's port: a name of this project's, or --profile FILE compiled into
    the cache (PORT, when given too, must be the profile's)."""
    root = Path(args.root)
    if not args.profile:
        if not args.port:
            raise UsageError("name a PORT, or give --profile PATH/port.yaml")
        return Target(args.port, root / "ports" / args.port / "port.yaml", root, own=False)
    path = profile_file(args.profile)
    profile = compile_own(root, path)
    if args.port and args.port != profile.port:
        raise UsageError(f"--profile {args.profile} is for port '{profile.port}', not '{args.port}'")
    return Target(profile.port, path, profile_cache(path), own=True)


def profile_file(given: str) -> Path:
    path = Path(given).expanduser().resolve()
    if not path.is_file():
        raise UsageError(f"--profile {given}: no such file")
    return path


def profile_cache(path: Path) -> Path:
    from mpconform.core.cachedir import cache_dir

    return cache_dir("profiles", hashlib.sha256(str(path).encode()).hexdigest()[:16])


def compile_own(root: Path, path: Path):
    """The user's profile compiled against the spec into its cache folder (never into the project)."""
    from mpconform.generator.compiler import build_profile

    return build_profile(root, path, profile_cache(path))


def _check_own_text(root: Path, path: Path, text: str) -> None:
    from mpconform.generator.profiles import load_profile_file
    from mpconform.generator.spec import load_spec

    spec = load_spec(root)
    with tempfile.TemporaryDirectory(prefix="mpconform-check-") as tmp:
        scratch = Path(tmp) / path.name
        scratch.write_text(text, encoding="utf-8")
        try:
            load_profile_file(root, scratch, spec)
        except SourceErrors as exc:  # the same text, so the same lines: name the user's file
            raise SourceErrors([dataclasses.replace(e, file=str(path)) if e.file == str(scratch) else e
                                for e in exc.errors]) from None
