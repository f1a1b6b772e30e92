"""Edge cases from the documented parameter domains: for each call form an api declares
(`edges:` in its spec file), each parameter is tried at values derived from its type
and documented domain - boundaries, word limits, empty and one-byte buffers, wrong
types - while the other parameters keep ordinary values.

Each case becomes a behaviour `<api>.edge.<param>.<case>` whose oracle asserts only
what holds for any call the docs allow or not: the port neither crashes nor hangs, the
call returns or raises, and the interpreter is usable afterwards (a statement that
allocates runs). What the call did is an observation (the `observed` outcome): the
docs do not say, so it is recorded, never judged."""

from __future__ import annotations

from dataclasses import dataclass

from mpconform.core.manifest import WILDCARD_LINE
from mpconform.core.model import DocCitation


@dataclass(frozen=True)
class EdgeCase:
    name: str  # part of the behaviour id
    expr: str  # a MicroPython expression, evaluated when the test runs (a value a small port
    #            cannot make is an observation, not a compile error)
    kind: str  # boundary, word limit, documented value, empty buffer, wrong type...
    requires: tuple[str, ...] = ()


_WORD_LIMITS = (
    EdgeCase("int32_max", "int('2147483647')", "word limit"),
    EdgeCase("int32_over", "int('2147483648')", "word limit"),
    EdgeCase("int64_over", "int('9223372036854775808')", "word limit"),
    EdgeCase("huge", "int('1' + '0' * 30)", "huge"),
)
_SMALL_INTS = (
    EdgeCase("zero", "0", "boundary"),
    EdgeCase("one", "1", "boundary"),
    EdgeCase("minus_one", "-1", "boundary"),
)
_NOT_INT = (
    EdgeCase("none", "None", "wrong type"),
    EdgeCase("text", "'1'", "wrong type"),
    EdgeCase("float", "float('1.5')", "wrong type"),
    EdgeCase("object", "object()", "wrong type"),
)
_BUFFERS = (
    EdgeCase("empty_bytes", "b''", "empty buffer"),
    EdgeCase("one_byte", "b'x'", "one-byte buffer"),
    EdgeCase("empty_bytearray", "bytearray(0)", "empty buffer"),
    EdgeCase("one_bytearray", "bytearray(1)", "one-byte buffer"),
    EdgeCase("empty_memoryview", "memoryview(bytearray(0))", "empty buffer", ("memoryview",)),
    EdgeCase("one_memoryview", "memoryview(bytearray(1))", "one-byte buffer", ("memoryview",)),
)
_NOT_BUFFER = (
    EdgeCase("none", "None", "wrong type"),
    EdgeCase("int", "5", "wrong type"),
    EdgeCase("text", "'ab'", "wrong type"),
    EdgeCase("object", "object()", "wrong type"),
)
_NOT_CALLABLE = (
    EdgeCase("none", "None", "wrong type"),
    EdgeCase("int", "1", "wrong type"),
    EdgeCase("object", "object()", "wrong type"),
    EdgeCase("no_arguments", "lambda: None", "wrong arity"),
)
_ANY = (
    EdgeCase("none", "None", "value"),
    EdgeCase("zero", "0", "value"),
    EdgeCase("true", "True", "value"),
    EdgeCase("text", "'x'", "value"),
    EdgeCase("object", "object()", "value"),
)

# The least heap, in words, an edge case's program runs in: measured on the unix port with
# -X heapsize (1248 words failed some, 1376 ran all); rounded up for other ports' layouts.
HEAP_WORDS = 1536

TYPICAL = {"int": "1", "buffer": "b'ab'", "writable_buffer": "bytearray(4)", "callable": "lambda a: None",
           "any": "0", "expression": "1"}


def typical(param: dict) -> str:
    """The ordinary value a parameter keeps while another one is tried: the spec's, else its type's."""
    return param.get("typical") or TYPICAL[param.get("type", "any")]


def form_params(form: dict, api: dict) -> list[str]:
    """The parameters a call form passes: those it names, else the api's (not its alternative ones)."""
    return form.get("params") or [p["name"] for p in api["params"]]


def _name_of(value: int) -> str:
    return f"m{-value}" if value < 0 else str(value)


def _domain_cases(domain: dict) -> list[EdgeCase]:
    out = []
    for key in ("min", "max"):
        if key in domain:
            v = domain[key]
            out += [EdgeCase(f"{key}_below", str(v - 1), f"documented {key}imum - 1"),
                    EdgeCase(f"{key}", str(v), f"documented {key}imum"),
                    EdgeCase(f"{key}_above", str(v + 1), f"documented {key}imum + 1")]
    for v in domain.get("values", ()):
        out += [EdgeCase(f"value_{_name_of(v)}_below", str(v - 1), "beside a documented value"),
                EdgeCase(f"value_{_name_of(v)}", str(v), "documented value"),
                EdgeCase(f"value_{_name_of(v)}_above", str(v + 1), "beside a documented value")]
    return out


def cases_for(param: dict) -> list[EdgeCase]:
    """The edge cases of one parameter, from its type and documented domain; the same
    value is tried once (the first name given to it stays)."""
    kind = param.get("type", "any")
    if kind == "expression":
        return []  # evaluated by the compiler: nothing to try at run time
    if kind == "int":
        found = [*_domain_cases(param.get("domain", {})), *_SMALL_INTS, *_WORD_LIMITS, *_NOT_INT]
    elif kind in ("buffer", "writable_buffer"):
        found = [*_BUFFERS, *_NOT_BUFFER]
    elif kind == "callable":
        found = list(_NOT_CALLABLE)
    else:
        found = list(_ANY)
    seen: dict[str, EdgeCase] = {}
    names: set[str] = set()
    for case in found:
        if case.expr not in seen and case.name not in names:
            seen[case.expr] = case
            names.add(case.name)
    return list(seen.values())


@dataclass(frozen=True)
class EdgeProgram:
    id: str
    param: str  # "" for a context case
    case: EdgeCase
    claim: str
    cites: DocCitation
    form_index: int  # the call form (spec `edges:` entry) it comes from
    program: str
    reproducer: str  # the same call as plain statements, for a report (generator/templates: a trailing comment)
    expect: tuple[str, ...]
    requires: tuple[str, ...]


def _indent(text: str, by: str) -> str:
    return "".join(by + line + "\n" for line in text.splitlines() if line.strip())


@dataclass(frozen=True)
class Context:
    """Where the call is made, with ordinary arguments: re-entrancy the docs allow."""

    name: str
    requires: tuple[str, ...]
    cites: DocCitation
    words: str


CONTEXTS = (
    Context("heap_locked", ("gc",), DocCitation("heap_lock()", "When locked no memory allocation can occur"),
            "with the heap locked (it is unlocked right after)"),
    Context("scheduled", ("scheduler",),
            DocCitation("schedule(func, arg)", 'Schedule the function *func* to be executed "very soon".'),
            "from a scheduled callback"),
)


def _call_in(context: str, call: str) -> list[str]:
    """Lines (inside `if _made:` / `try:`) that bind _r to the call's result or raise what it raised."""
    if context == "heap_locked":
        # _r is bound first: storing a new global under the lock could need memory of its own
        return ["        _r = None", "        micropython.heap_lock()", "        try:", f"            _r = {call}",
                "        finally:", "            micropython.heap_unlock()"]
    if context == "scheduled":  # the callback's answer is taken back to the main program
        return ["        _box = []", "        def _cb(_a):", "            try:", f"                _box.append((0, {call}))",
                "            except Exception as _e:", "                _box.append((1, _e))",
                "        micropython.schedule(_cb, 0)", "        _i = 0",
                "        while not _box and _i < 10000:", "            _i += 1",
                "        if not _box:", "            raise SystemError('the scheduled call did not run')",
                "        _k, _r = _box[0]", "        if _k:", "            raise _r"]
    return [f"        _r = {call}"]


def _returned(tag: str, holds: list[dict]) -> list[str]:
    if not holds:
        return [f"        print({tag}, 'returned', _show(_r))"]
    check = " and ".join(f"({h['check']})" for h in holds)
    says = "; ".join(h["says"] for h in holds)
    return ["        try:", f"            _ok = {check}", "        except Exception:", "            _ok = False",
            f"        print({tag}, 'returned', _show(_r), '(as documented)' if _ok else {f'(NOT as documented: {says})'!r})"]


def holds_for(form: dict, param: str, case: EdgeCase) -> list[dict]:
    """The documented results that apply to this case: its parameter's `holds` whose
    `when` the case's value satisfies (decided here, by Python, on the same value)."""
    found = []
    for hold in form.get("holds", ()):
        if hold["param"] != param:
            continue
        try:
            value = eval(case.expr, {"__builtins__": __builtins__})  # noqa: S307 - the spec's own expressions
            applies = bool(eval(hold["when"], {"__builtins__": __builtins__}, {"v": value}))  # noqa: S307
        except Exception:  # noqa: BLE001 - a value Python cannot make or test: the docs' claim is not applied
            applies = False
        if applies:
            found.append(hold)
    return found


def program_for(form: dict, params: dict[str, dict], names: list[str], param: str, case: EdgeCase,
                holds: list[dict], context: str = "") -> str:
    """The test program: make the value, call (in `context`, if any), use what came
    back (checking `holds`), then show the interpreter still runs and can allocate.
    Every name it binds starts with '_'."""
    # every argument is made before the call (and before its context: a locked heap must
    # not refuse an argument's own allocation and pass that off as the call's)
    ordinary = [(f"_a_{name}", typical(params[name])) for name in names if name != param]
    call = form["call"].format(**{name: "_v" if name == param else f"_a_{name}" for name in names})
    tag = repr(f"edge {case.name}:")
    lines = ["import micropython", *form.get("setup", "").splitlines()]
    lines += [
        "def _name(t):",  # (a type's __name__ is missing where CPython compatibility is off)
        "    s = repr(t)",
        "    return s.split(\"'\")[1] if \"'\" in s else s",
        "def _show(x):",
        "    if x is None or isinstance(x, (bool, int)) or (isinstance(x, (bytes, str)) and len(x) <= 16):",
        "        return repr(x)",
        "    return _name(type(x))",
        "_made = False",
        "try:",
        f"    _v = {case.expr}",
        *[f"    {var} = {expr}" for var, expr in ordinary],
        "    _made = True",
        "except Exception as _e:",
        f"    print({tag}, 'no value', _name(type(_e)))",
        "if _made:",
        "    try:",
        *_call_in(context, call),
        *_returned(tag, holds),
        "    except Exception as _e:",
        f"        print({tag}, 'raised', _name(type(_e)))",
    ]
    if form.get("exercise"):
        lines += [
            "    else:",
            "        try:",
            _indent(form["exercise"].format(result="_r"), "            ").rstrip("\n"),
            f"            print({tag}, 'used')",
            "        except Exception as _e:",
            f"            print({tag}, 'use raised', _name(type(_e)))",
        ]
    # usable afterwards: a statement that allocates runs (a locked heap would refuse it);
    # a callback the case scheduled may raise at the next chance, so it gets three
    lines += [
        "_n = 0",
        "for _i in range(3):",
        "    try:",
        "        _n = len([_i] * 3)",
        "        break",
        "    except Exception as _e:",
        f"        print({tag}, 'later', _name(type(_e)))",
        "print('usable', _n)",
    ]
    return "\n".join(line for line in lines if line is not None) + "\n"


def reproducer_for(form: dict, params: dict[str, dict], names: list[str], param: str, case: EdgeCase) -> str:
    """The case as a user would type it: setup, the call with the value written in, and
    the use of what it returned - no checks around them."""
    values = {name: case.expr if name == param else typical(params[name]) for name in names}
    lines = ["import micropython", *form.get("setup", "").splitlines()]
    if form.get("exercise"):
        lines += [f"obj = {form['call'].format(**values)}", *form["exercise"].format(result="obj").splitlines()]
    else:
        lines.append(f"print({form['call'].format(**values)})")
    return "\n".join(line for line in lines if line.strip()) + "\n"


def expected_for(case: EdgeCase, judged: bool = False) -> tuple[str, ...]:
    # (case names are identifiers: nothing in them for a regex to read specially)
    if judged:  # what it returned is what the docs say; raising, they do not forbid
        return (WILDCARD_LINE, f"edge {case.name}: (returned .* \\(as documented\\)|raised .*|no value .*)",
                WILDCARD_LINE, "usable 3")
    return (WILDCARD_LINE, f"edge {case.name}: (returned|raised|no value) .*", WILDCARD_LINE,
            "usable 3")


def edge_programs(api: dict) -> list[EdgeProgram]:
    """Every edge case of an api (its spec entry as loaded), in a stable order."""
    params = {p["name"]: p for p in [*api.get("params", []), *(api.get("alt_params") or [])]}
    out: list[EdgeProgram] = []
    in_context: set[str] = set()  # the contexts are tried once per state, on its first call form
    typical_case = EdgeCase("typical", "None", "ordinary arguments")
    for index, form in enumerate(api.get("edges", [])):
        names = form_params(form, api)
        state = f"{form['state']}." if form.get("state") else ""  # in the id
        in_state = f", {form['state']}" if form.get("state") else ""  # in the claim
        for ctx in CONTEXTS if state not in in_context else ():
            in_context.add(state)
            case = EdgeCase(ctx.name, "None", ctx.words, ctx.requires)
            out.append(EdgeProgram(
                id=f"{api['name']}.edge.{state}context.{ctx.name}",
                param="",
                case=case,
                claim=(f"{api['name']} called {ctx.words}{in_state}: the port neither crashes nor hangs, the call "
                       "returns or raises, and the interpreter still runs and allocates afterwards; what the call "
                       "does is observed, not judged."),
                cites=ctx.cites,
                form_index=index,
                program=program_for(form, params, names, "", case, [], ctx.name),
                reproducer=reproducer_for(form, params, names, "", typical_case),
                expect=expected_for(case),
                requires=ctx.requires,
            ))
        for name in names:
            domain = params[name].get("domain")
            cites = (DocCitation(domain["cites"]["section"], domain["cites"]["quote"]) if domain
                     else DocCitation(api["doc_section"], api["doc_section"]))
            for case in cases_for(params[name]):
                holds = holds_for(form, name, case)
                out.append(EdgeProgram(
                    id=f"{api['name']}.edge.{state}{name}.{case.name}",
                    param=name,
                    case=case,
                    claim=(f"{api['name']} with {name} = {case.expr} ({case.kind}){in_state}: the port neither "
                           "crashes nor hangs, "
                           + "".join(f"what it returns holds {h['check']} ({h['says']}), " for h in holds)
                           + "the call returns or raises, and the interpreter still runs and allocates afterwards; "
                           "what the call does is observed, otherwise not judged."),
                    cites=cites,
                    form_index=index,
                    program=program_for(form, params, names, name, case, holds),
                    reproducer=reproducer_for(form, params, names, name, case),
                    expect=expected_for(case, bool(holds)),
                    requires=case.requires,
                ))
    return out
