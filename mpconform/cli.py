"""The `mpconform` command."""

from __future__ import annotations

import argparse
import atexit
import gc
import importlib
import json
import os
import sys
from pathlib import Path

from mpconform import portarg
from mpconform.argtypes import positive as _positive
from mpconform.argtypes import seconds as _seconds
from mpconform.core.errors import MpconformError, SourceError, SourceErrors, UsageError
from mpconform.core.options import add_flags
from mpconform.paths import find_root, require_checkout


def _cmd_compile(args) -> int:
    from mpconform.generator.compiler import build

    spec, profiles, outputs = build(args.root)
    if args.check:
        stale = outputs.stale(args.root)
        for rel, why in stale:
            print(f"{rel}: {why}")
        if stale:
            print(f"mpconform: {len(stale)} generated file(s) out of date; run `mpconform compile`", file=sys.stderr)
            return 1
        print(f"mpconform: up to date ({len(spec.behaviours)} behaviours, {len(profiles)} ports, {len(outputs.files)} files)")
        return 0
    require_checkout(args.root, "mpconform compile")
    changed = outputs.write(args.root)
    for rel in changed:
        print(f"wrote {rel}")
    print(f"mpconform: {len(changed)} file(s) changed ({len(spec.behaviours)} behaviours, {len(profiles)} ports)")
    return 0


def _cmd_spec(args) -> int:
    from mpconform.generator.spec import load_spec

    if args.action == "sync-digests":
        from mpconform.drift_cli import cmd_sync_digests

        return cmd_sync_digests(args)
    if args.action == "coverage":
        from mpconform.coverage_cli import cmd_spec_coverage

        return cmd_spec_coverage(args)
    spec = load_spec(args.root)
    if args.json:
        json.dump(spec.to_json(), sys.stdout, indent=1)
        sys.stdout.write("\n")
    else:
        for api in spec.apis:
            print(f"{api.name} ({api.kind}): {len(api.behaviours)} behaviours")
        print(f"{len(spec.apis)} apis, {len(spec.behaviours)} behaviours")
    return 0


def _cmd_ports(args) -> int:
    from mpconform.core.registry import load_runner
    from mpconform.generator.profiles import load_profiles
    from mpconform.generator.spec import load_spec

    spec = load_spec(args.root)
    if args.profile:
        profiles = [portarg.compile_own(args.root, portarg.profile_file(args.profile))]
    else:
        profiles = load_profiles(args.root, spec)
    if args.available:
        for p in profiles:
            why = load_runner(p.runner).unavailable_reason(p.runner_options)
            if why:
                print(f"mpconform: port {p.port} cannot run here: {why}", file=sys.stderr)
            else:
                print(p.port)
        return 0
    for p in profiles:
        statuses = [p.status(b).kind for b in spec.behaviours]
        print(f"{p.port:16} runner={p.runner:10} run={statuses.count('run')} xfail={statuses.count('xfail')} "
              f"skip={statuses.count('skip')}  {p.description}")
    return 0


def _check_docs_release(root: Path, release: str) -> None:
    """--docs names a release spec/history.yaml can speak for: one it records or one
    before the latest it records (after that, what changed is not known)."""
    from mpconform.core.manifest import UNRELEASED, release_key
    from mpconform.generator.history import load_history
    from mpconform.generator.spec import load_spec

    history = load_history(root, load_spec(root))
    known = sorted({r for e in history.entries() for r in (e.since, e.documented) if r and r != UNRELEASED},
                   key=release_key)
    if known and release_key(release) <= release_key(known[-1]):
        return
    raise UsageError(f"--docs {release}: not a release spec/history.yaml knows (it records {', '.join(known)}; "
                     f"a release up to {known[-1] if known else 'none'} can be given)")


#: the runner options `run` takes on its command line (flags made from their declarations)
RUN_OPTIONS = ("micropython", "firmware", "prelude", "device", "place", "coordinator", "place_wait_s")
LAB_OPTIONS = ("coordinator", "place_wait_s")  # said only of places


def _cmd_run(args) -> int:
    from mpconform.core.options import overrides as given_options
    from mpconform.runners.run.session import RunOptions, run_port

    target = portarg.resolve(args)
    if args.docs:
        _check_docs_release(args.root, args.docs)

    overrides = given_options(args, RUN_OPTIONS)
    devices = overrides.pop("device", [])  # several boards share the suite; each is one runner's device
    places = list(overrides.pop("place", []))
    if args.places:
        from mpconform.runners.lab.place import places_tagged

        key, _, value = args.places.partition("=")
        places += [p for p in places_tagged(args.coordinator, key, value) if p not in places]
    lab = {k: overrides.pop(k) for k in LAB_OPTIONS if k in overrides}
    if places:
        overrides.update(lab)
    if devices:
        overrides["device"] = devices[0]
    opts = RunOptions(
        jobs=args.jobs,
        timeout_s=args.timeout,
        json_path=Path(args.json) if args.json else None,
        junit_path=Path(args.junit) if args.junit else None,
        select=args.k,
        verbose=args.verbose,
        runner_overrides=overrides,
        resume_path=Path(args.resume) if args.resume else None,
        detect=args.detect,
        docs_release=args.docs,
        devices=devices,
        suite_root=target.suite_root,
        places=places,
    )
    return run_port(args.root, target.port, opts)


def _tag(text: str) -> str:
    key, sep, value = text.partition("=")
    if not sep or not key or not value:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return text


# The command table: each subcommand and the module whose register(subparsers) adds it
# (setting `func`: parsed args in, exit status out). Only the module of the command
# given is imported, and only its parser built: start-up is paid on every run.
COMMANDS: dict[str, str] = {
    "drift": "mpconform.drift_cli",
    "scaffold": "mpconform.scaffold_cli",
    "bringup": "mpconform.scaffold_cli",
    "report": "mpconform.report_cli",
    "expectations": "mpconform.expectations_cli",
    "devices": "mpconform.devices_cli",
    "detect": "mpconform.detect_cli",
    "compare": "mpconform.compare_cli",
    "findings": "mpconform.findings_cli",
    "export": "mpconform.export_cli",
    "install": "mpconform.install_cli",
    "lab": "mpconform.lab_cli",
}
BUILT_IN = ("compile", "spec", "ports", "run")


def _release(text: str) -> str:
    from mpconform.core.manifest import release_key

    if not release_key(text) or not text.lstrip("v")[:1].isdigit():
        raise argparse.ArgumentTypeError(f"not a release like v1.22.0: {text!r}")
    return text if text.startswith("v") else "v" + text


class _Version(argparse.Action):
    """--version, looked up only when asked for (importlib.metadata is slow to import)."""

    def __init__(self, option_strings, dest, **kwargs):
        super().__init__(option_strings, dest, nargs=0, help="print mpconform's version and exit")

    def __call__(self, parser, namespace, values, option_string=None):
        from importlib import metadata

        try:
            version = metadata.version("mpconform")
        except metadata.PackageNotFoundError:
            version = "unknown (not installed: no package metadata)"
        print(f"mpconform {version}")
        parser.exit(0)


class _OneLineParser(argparse.ArgumentParser):
    """A wrong command line is one line and a hint, as git says it; the usage block is
    what --help is for. (Subcommand parsers are made of the same class.)"""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: {message} (see `{self.prog} --help`)\n")


def _command_word(argv: list[str]) -> str | None:
    """The subcommand `argv` names, when it is one this table knows: then only its parser
    is built. Otherwise (--help, a typo) every parser is, so usage and errors list all."""
    args = iter(argv)
    for arg in args:
        if arg == "-h" or len(arg) > 2 and "--help".startswith(arg):  # the top level's help lists every command
            return None
        if len(arg) > 2 and "--root".startswith(arg):  # --root, or argparse's abbreviation of it
            next(args, None)
        elif not arg.startswith("-"):
            return arg if arg in COMMANDS or arg in BUILT_IN else None
    return None


def parser(command: str | None = None) -> argparse.ArgumentParser:
    """The whole command line's parser; with `command`, one whose only subcommand is it."""
    p = _OneLineParser(prog="mpconform", description="Conformance suite for MicroPython's micropython module.")
    p.add_argument("--root", help="project checkout (default: found from the current directory)")
    p.add_argument("--version", action=_Version)
    sub = p.add_subparsers(dest="command", required=True)

    def wanted(name: str) -> bool:
        return command is None or command == name

    if wanted("compile"):
        _compile_parser(sub)
    if wanted("spec"):
        _spec_parser(sub)
    if wanted("ports"):
        _ports_parser(sub)
    if wanted("run"):
        _run_parser(sub)
    for module in dict.fromkeys(m for name, m in COMMANDS.items() if wanted(name)):
        importlib.import_module(module).register(sub)
    return p


def _compile_parser(sub) -> None:
    c = sub.add_parser("compile", help="validate spec/ and ports/, render suites/")
    c.add_argument("--check", action="store_true", help="write nothing; exit 1 naming files that differ from the render")
    c.set_defaults(func=_cmd_compile)


def _spec_parser(sub) -> None:
    s = sub.add_parser("spec", help="show the resolved spec")
    s.add_argument("--json", action="store_true", help="print apis and behaviours (with coverage: the statements) as JSON")
    s.add_argument("action", nargs="?", choices=["sync-digests", "coverage"],
                   help="sync-digests PATH: record the docs' section digests in spec/apis (after reviewing the drift); "
                        "coverage: each statement of the docs (spec/statements.yaml) as covered, not testable "
                        "or not covered (a report: exit 0)")
    s.add_argument("docs", nargs="?", metavar="PATH", help="the documentation file for sync-digests")
    s.set_defaults(func=_cmd_spec)


def _ports_parser(sub) -> None:
    ports = sub.add_parser("ports", help="list port profiles")
    ports.add_argument("--available", action="store_true", help="print only the ports whose runner can run here")
    ports.add_argument("--profile", metavar="FILE", help="only your own port.yaml (it may start with `extends: <port>`)")
    ports.set_defaults(func=_cmd_ports)


def _run_parser(sub) -> None:
    r = sub.add_parser("run", help="run a port's generated suite")
    portarg.add_arguments(r)
    add_flags(r.add_argument, RUN_OPTIONS, repeatable=("device", "place"))
    r.add_argument("--places", metavar="KEY=VALUE", type=_tag,
                   help="every labgrid place with this tag (e.g. profile=unix-pty), one instance each")
    r.add_argument("--resume", metavar="FILE",
                   help="JSON lines (.jsonl) of an interrupted run: skip what it measured, merge its results")
    r.add_argument("-j", "--jobs", type=_positive, default=1,
                   help="tests run at once (default 1); on an emulated board (QEMU, unix-pty), that many emulators")
    r.add_argument("--timeout", type=_seconds, help="seconds a test may take (default: profile, else 10)")
    r.add_argument("--json", metavar="FILE", help="write results as JSON (JSON lines beside it while running)")
    r.add_argument("--junit", metavar="FILE", help="write results as JUnit XML")
    r.add_argument("-k", action="append", metavar="PATTERN", help="only behaviour ids matching (substring or glob); repeatable")
    r.add_argument("-v", "--verbose", action="store_true", help="a line per test")
    r.add_argument("--detect", action="store_true",
                   help="go by the features the port's probe finds instead of the profile's (expectations still apply)")
    r.add_argument("--docs", metavar="RELEASE", type=_release,
                   help="check the docs as they stood at RELEASE (e.g. v1.22.0): later behaviours are skipped")
    r.set_defaults(func=_cmd_run)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parser(_command_word(argv)).parse_args(argv)
    try:
        args.root = find_root(args.root)
        return args.func(args)
    # Every command's errors are caught here, once: one line each (a bad spec or profile:
    # one line per problem), and the exit status the error carries (2: bad input).
    except SourceErrors as exc:
        for err in exc.errors:
            print(err, file=sys.stderr)
        return exc.exit_status
    except SourceError as exc:
        print(exc, file=sys.stderr)
        return exc.exit_status
    except MpconformError as exc:
        print(f"mpconform: {exc}", file=sys.stderr)
        return exc.exit_status
    except BrokenPipeError:  # our reader went away (`| head`): stop quietly, as if by SIGPIPE
        from mpconform.runners.run.console import silence

        silence(sys.stdout)
        return 141
    except OSError as exc:  # a file that cannot be read or written
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"mpconform: {where}{exc.strerror or exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("mpconform: interrupted", file=sys.stderr)
        return 130


def script() -> None:
    """The installed `mpconform` command: main(), and out without the interpreter's teardown."""
    # Collections rare: a command keeps most objects it makes (spec, manifest, results) to
    # its end, and the default (a collection every 700 new objects) walks them again and
    # again: a tenth of a big `compile --check`, and of a run's start on a native port.
    gc.set_threshold(20_000, 50, 100)
    status = main()
    # The teardown frees every object one by one (about 0.2 s after a big compile): the
    # OS takes the memory back at once. What exit must still do is done: the atexit
    # handlers (temporary folders' finalizers among them) and the output written out.
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a reader that went away, a closed stream: nothing to write to
            pass
    os._exit(status)


if __name__ == "__main__":
    script()
