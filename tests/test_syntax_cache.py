"""The compiler's memory of programs that compile (generator/syntaxcache.py): a warm
cache gives the compile a cold one gives, errors worded alike, and a cache that is
damaged or unwritable is no cache rather than a failure."""

from __future__ import annotations

import os

import pytest

from mpconform.generator.syntaxcache import FORMAT, KnownPrograms, cache_file
from tests.conftest import snapshot
from tests.test_spec_errors import GOOD

BAD = GOOD.replace("x = 1\n", "x = (1\n", 1)  # line 18 of the file: the second program's first line


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("MPCONFORM_CACHE", str(tmp_path / "cache"))
    return cache_file()


def _compile(project, cli):
    status, out, err = cli("--root", project, "compile")
    return status, err, snapshot(project / "suites")


def test_a_warm_cache_compiles_as_a_cold_one(project_copy, cli, cache):
    (project_copy / "spec" / "apis" / "zz_probe.yaml").write_text(GOOD)
    cold = _compile(project_copy, cli)
    assert cold[0] == 0 and cache.is_file()
    stored = cache.read_bytes()
    assert stored.startswith(FORMAT) and (len(stored) - len(FORMAT)) // 16 > 100  # the spec's programs
    warm = _compile(project_copy, cli)
    assert warm == cold and cache.read_bytes() == stored  # nothing new met: the file is not written again


def test_a_bad_program_is_refused_alike_with_the_cache_warm(project_copy, cli, cache):
    path = project_copy / "spec" / "apis" / "zz_probe.yaml"
    path.write_text(GOOD)
    assert _compile(project_copy, cli)[0] == 0
    path.write_text(BAD)  # a program the cache has never seen compile
    for _ in range(2):  # a refused program is not remembered: the second compile checks it again
        status, err = _compile(project_copy, cli)[:2]
        assert status == 2
        assert err.startswith("spec/apis/zz_probe.yaml:18: apis[0].behaviours[1].program: program does not parse"), err


def test_the_cache_is_what_the_check_trusts(tmp_path):
    # the other side of the shortcut: a program whose digest the file lists is not compiled
    # again (so the file is per Python version, and holds only what compiled)
    path = tmp_path / "programs.bin"
    first = KnownPrograms(path)
    with pytest.raises(SyntaxError):
        first.check("x = (")
    first.check("x = 1")
    first.save()
    again = KnownPrograms(path)
    with pytest.raises(SyntaxError):
        again.check("x = (")
    again.check("x = 1")


@pytest.mark.parametrize("damage", ["cut", "other_format", "folder", "unwritable"])
def test_a_damaged_cache_is_no_cache(project_copy, cli, cache, damage):
    (project_copy / "spec" / "apis" / "zz_probe.yaml").write_text(GOOD)
    assert _compile(project_copy, cli)[0] == 0
    stored = cache.read_bytes()
    if damage == "cut":
        cache.write_bytes(stored[:-5])
    elif damage == "other_format":
        cache.write_bytes(b"something else\n" + stored[len(FORMAT):])
    elif damage == "folder":
        cache.unlink()
        cache.mkdir()
    else:
        cache.unlink()
        os.chmod(cache.parent, 0o500)
    try:
        (project_copy / "spec" / "apis" / "zz_probe.yaml").write_text(BAD)
        status, err = _compile(project_copy, cli)[:2]
        assert status == 2 and ":18: " in err and "program does not parse" in err
        (project_copy / "spec" / "apis" / "zz_probe.yaml").write_text(GOOD)
        assert _compile(project_copy, cli)[0] == 0
    finally:
        os.chmod(cache.parent, 0o700)
