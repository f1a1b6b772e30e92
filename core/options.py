"""Runner options as declarations: each runner lists the options it reads (type,
default, one-line doc), so a profile can be checked before anything runs (`mpconform
compile` reports an unknown or mistyped option at its file:line) and a command-line
override reaches only the runners that declare it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from mpconform.core.errors import RunnerError

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
class Option:
    name: str
    type: str  # a key of TYPES
    default: object
    doc: str
    #: further check of a value of the right type: returns what is wrong, or "".
    check: Callable[[object], str] | None = None


def kinds(*names: str, needs: dict[str, str] | None = None) -> Callable[[object], str]:
    """A check for {kind: ...} mappings: kind is one of `names`; `needs` maps a kind to a key it requires."""

    def check(value) -> str:
        if value.get("kind") not in names:
            return f"expected {{kind: {' | '.join(names)}}}, got {value!r}"
        need = (needs or {}).get(value["kind"])
        if need and not value.get(need):
            return f"kind '{value['kind']}' needs {need}"
        return ""

    return check


def problems(declared: tuple[Option, ...], options: dict) -> list[tuple[str, str]]:
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


def resolve(runner: str, declared: tuple[Option, ...] | None, options: dict) -> dict:
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


def applicable(declared: tuple[Option, ...] | None, overrides: dict) -> tuple[dict, list[str]]:
    """Split command-line overrides into those the runner declares and the rest."""
    given = {k: v for k, v in overrides.items() if v is not None}
    if declared is None:
        return given, []
    names = {o.name for o in declared}
    return {k: v for k, v in given.items() if k in names}, sorted(k for k in given if k not in names)


#: Read by the harness for every runner that declares options.
TIMEOUT = Option("timeout_s", "seconds", None, "seconds a test may take (--timeout overrides; default 10)")
