"""Start-up near the floor: what `mpconform run` imports before its first test, and the
shortcuts taken on the way there (they must give what the slow way gives)."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

from mpconform import cli
from mpconform.runners.run.gitrev import head_commit
from mpconform.runners.run.provenance import _host, _tool_version

# Modules a run never needs before its first test; each costs milliseconds to import.
HEAVY = ("importlib.metadata", "email", "xml.etree", "ctypes", "difflib", "jsonschema", "jinja2", "yaml", "docutils",
         "serial", "labgrid", "zipfile", "concurrent", "logging", "platform")

RUN_PATH = """
import json, sys
import mpconform.cli
mpconform.cli.parser("run")
from mpconform.core.registry import load_runner
from mpconform.runners.run import session
load_runner("unix")
print(json.dumps(sorted(sys.modules)))
"""


def _imported(code: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return set(json.loads(out))


def test_the_run_path_imports_nothing_heavy():
    # what the interpreter loads on its own here (a site hook may import certifi, and zipfile
    # with it) is not the run's doing
    interpreter = _imported("import json, sys\nprint(json.dumps(sorted(sys.modules)))")
    loaded = _imported(RUN_PATH) - interpreter
    assert "mpconform.runners.run.session" in loaded  # the check looks at the right process
    assert not [m for m in loaded if m.split(".")[0] in HEAVY or any(m.startswith(h + ".") or m == h for h in HEAVY)]


def test_the_run_paths_dataclasses_have_docstrings():
    # without one, @dataclass writes one from inspect.signature(): about a third of the
    # class's creation, paid on every start
    code = RUN_PATH.replace("print(json.dumps(sorted(sys.modules)))", """
import dataclasses
found = [f"{m.__name__}.{v.__name__}" for m in list(sys.modules.values()) if m.__name__.startswith("mpconform")
         for v in vars(m).values() if isinstance(v, type) and dataclasses.is_dataclass(v)
         and v.__module__ == m.__name__ and (v.__doc__ or "").startswith(v.__name__ + "(")]
print(json.dumps(found))""")
    assert _imported(code) == set()


def test_the_command_skips_the_teardown_but_loses_nothing(root, tmp_path):
    # script() leaves by os._exit: the atexit handlers (a temporary folder's finalizer among
    # them) must still run, and output still in a buffer must still be written
    code = ("import atexit, sys, tempfile\nfrom mpconform import cli\n"
            "kept = tempfile.TemporaryDirectory()\nprint(kept.name, file=sys.stderr)\n"
            "atexit.register(print, 'atexit ran', file=sys.stderr)\n"
            "sys.argv[1:] = sys.argv[2:]\ncli.script()\n")
    buffered = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}  # as a user's shell has it
    proc = subprocess.run([sys.executable, "-c", code, "-", "--root", str(root), "spec", "--json"],
                          capture_output=True, text=True, env=buffered)
    assert proc.returncode == 0, proc.stderr
    assert len(proc.stdout) > 65536 and json.loads(proc.stdout)["behaviours"]  # all of it, though piped
    folder, ran = proc.stderr.splitlines()
    assert ran == "atexit ran" and not Path(folder).exists()
    proc = subprocess.run([sys.executable, "-c", code, "-", "--root", str(root), "run", "no-such-port"],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "no-such-port" in proc.stderr  # the command's exit status, as main() gave it


def test_a_valid_project_compiles_without_the_error_wording_validator(root):
    # jsonschema words the errors of an invalid file; a valid project never needs it
    code = (f"import json, sys, pathlib\nfrom mpconform.generator.compiler import build\n"
            f"build(pathlib.Path({str(root)!r}))\nprint(json.dumps(sorted(sys.modules)))")
    loaded = _imported(code)
    assert "mpconform.generator.compiler" in loaded
    assert not [m for m in loaded if m == "jsonschema" or m.startswith("jsonschema.")]


def test_the_tool_version_is_the_installed_one():
    assert _tool_version() == metadata.version("mpconform")


def _git(repo, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=True).stdout.strip()


def test_the_checkout_commit_is_what_git_says(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    for n in (1, 2):
        (repo / "f").write_text(str(n))
        _git(repo, "add", "f")
        _git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", str(n))
    assert head_commit(repo) == _git(repo, "rev-parse", "HEAD")  # a loose branch ref
    _git(repo, "pack-refs", "--all")
    assert not (repo / ".git" / "refs" / "heads" / "main").exists()
    assert head_commit(repo) == _git(repo, "rev-parse", "HEAD")  # from packed-refs
    _git(repo, "worktree", "add", "-q", "-b", "side", str(tmp_path / "wt"), "HEAD~1")
    assert head_commit(tmp_path / "wt") == _git(tmp_path / "wt", "rev-parse", "HEAD") != head_commit(repo)
    _git(repo, "checkout", "-q", "--detach", "HEAD~1")
    assert head_commit(repo) == _git(repo, "rev-parse", "HEAD")
    (repo / ".git" / "HEAD").write_text("ref: refs/heads/.invalid\n")  # refs this does not read: git is asked
    assert head_commit(repo) is None


def _subcommands(parser) -> dict:
    return next(a for a in parser._actions if a.dest == "command").choices


def test_the_command_table_names_every_command_and_builds_each_as_the_whole_parser_does():
    whole = _subcommands(cli.parser())
    assert set(whole) == set(cli.BUILT_IN) | set(cli.COMMANDS)
    for name, full in whole.items():
        alone = _subcommands(cli.parser(name))
        assert name in alone and len(alone) < len(whole)
        assert alone[name].format_help() == full.format_help()


@pytest.mark.parametrize("argv, word", [
    (["run", "unix"], "run"),
    (["--root", "lab", "run", "unix"], "run"),  # --root's value is not the command
    (["--ro", "lab", "compile"], "compile"),  # nor is an abbreviation's
    (["--root=lab", "bringup", "x.json"], "bringup"),
    (["--help"], None),
    (["-h", "run"], None),  # the top level's help, which lists every command
    (["nosuch", "run"], None),  # a typo: the whole parser names the choices
    ([], None),
])
def test_the_command_word_is_found_past_the_options(argv, word):
    assert cli._command_word(argv) == word


def test_the_host_is_what_platform_says():
    if platform.system() != "Linux" or platform.processor() not in ("", "unknown", platform.machine()):
        pytest.skip("platform.platform() names the processor here")
    assert _host() == {"name": platform.node(), "system": platform.platform(), "python": platform.python_version()}
