"""The statement map (spec/statements.yaml): `mpconform spec coverage`, and a
malformed map reported as `file:line: field: message` by compile, compile --check,
spec coverage and drift docs. Most tests use the made-up module of
tests/fixtures/drift (its apis and its map), so they do not move when behaviours
are added to the real spec."""

from __future__ import annotations

import json
import re
import shutil
import textwrap
from pathlib import Path

import pytest

from mpconform.drift.statements import quote_maps, sentences
from tests.conftest import snapshot

FIXTURES = Path(__file__).parent / "fixtures" / "drift"
MAP = "spec/statements.yaml"


@pytest.fixture
def fixture_project(project_copy):
    """The project with the made-up module's apis and statement map."""
    apis = project_copy / "spec" / "apis"
    shutil.rmtree(apis)
    shutil.copytree(FIXTURES / "apis", apis)
    (project_copy / "spec" / "history.yaml").unlink()  # it names the real spec's features and behaviours
    shutil.rmtree(project_copy / "spec" / "models")  # models of the real spec's apis
    shutil.copyfile(FIXTURES / "statements.yaml", project_copy / MAP)
    return project_copy


def test_coverage_text_lists_each_statement_section_by_section(fixture_project, cli):
    status, out, err = cli("--root", fixture_project, "spec", "coverage")
    assert (status, err) == (0, "")
    lines = out.splitlines()
    # Sections in the map's order, each followed by its statements, two lines each.
    sections = [line for line in lines if line and not line.startswith(" ") and not line.startswith("mpconform:")]
    assert sections == ["pool_size([level])", "gauge(sink[, depth])", "freeze()", "Fifo(length)", "Fifo.count()",
                        "Fifo.take([n])", "Fifo.fill(src[, n])", "parameters"]
    # every documented parameter, and whether the spec gives its domain (this fixture gives none)
    params = lines[lines.index("parameters") + 1:]
    assert any(line.startswith("  pool_size(level") and line.endswith("NO DOMAIN") for line in params), params
    assert lines[-2].endswith("0 with a documented domain, 0 edge cases")
    at = lines.index("pool_size([level])")
    assert lines[at + 1: at + 5] == [
        '  NOT COVERED   pool_size.answers_slot_count  "answer how many slots the pool holds"',
        "                needs a behaviour: Without an argument, the pool's size is returned.",
        '  covered       pool_size.resizes  "resize the pool to that many slots"',
        "                by pool_size.resize_answers_none",
    ]
    at = lines.index('  not testable  gauge.example  "An example:"')
    assert lines[at + 1] == "                introduces a code example"
    assert '  covered       freeze.freezes_or_thaws  "Freeze or thaw the pool"' in lines
    assert lines[lines.index('  covered       freeze.freezes_or_thaws  "Freeze or thaw the pool"') + 1] == \
        "                by freeze.take_raises, thaw.nests"
    assert lines[-1] == "mpconform: 17 statements: 12 covered, 2 not testable, 3 not covered, 80% of the 15 testable"
    assert "named by no statement" not in out


def test_coverage_json(fixture_project, cli):
    status, out, err = cli("--root", fixture_project, "spec", "coverage", "--json")
    assert (status, err) == (0, "")
    data = json.loads(out)
    assert data["file"] == MAP
    assert data["summary"] == {"statements": 17, "covered": 12, "not-testable": 2, "not-covered": 3, "testable": 15}
    assert data["unmapped_behaviours"] == []
    by_id = {st["id"]: dict(st, section=s["section"]) for s in data["sections"] for st in s["statements"]}
    assert list(by_id) == [st for st in re.findall(r"^  - id: (\S+)$", (FIXTURES / "statements.yaml").read_text(), re.M)]
    assert by_id["freeze.freezes_or_thaws"] == {
        "id": "freeze.freezes_or_thaws", "section": "freeze()", "quote": "Freeze or thaw the pool",
        "says": "freeze() and thaw() change whether the pool is frozen.", "status": "covered",
        "covered_by": ["freeze.take_raises", "thaw.nests"], "source": f"{MAP}:{_line(fixture_project, 'freeze.freezes_or_thaws')}",
    }
    assert by_id["Fifo.given_storage"]["status"] == "not-testable"
    assert by_id["Fifo.given_storage"]["not_testable"].startswith("made up for the tests")
    assert (by_id["Fifo.own_storage"]["status"], by_id["Fifo.own_storage"]["covered_by"]) == ("not-covered", [])


def test_coverage_follows_the_map_and_names_behaviours_no_statement_covers(fixture_project, cli):
    path = fixture_project / MAP
    path.write_text(path.read_text().replace("    covered_by: [pool_size.starts_at_eight]\n", "    covered_by: []\n"))
    status, out, _ = cli("--root", fixture_project, "spec", "coverage", "--json")
    data = json.loads(out)
    assert status == 0  # a report: less coverage is not a failure
    assert data["summary"]["covered"] == 11 and data["summary"]["not-covered"] == 4
    assert data["unmapped_behaviours"] == ["pool_size.starts_at_eight"]
    status, out, _ = cli("--root", fixture_project, "spec", "coverage")
    assert "behaviours named by no statement (1): pool_size.starts_at_eight" in out
    assert '  NOT COVERED   pool_size.eight_at_start  "starts with eight slots"' in out


def _line(root: Path, text: str) -> int:
    return next(i for i, line in enumerate((root / MAP).read_text().splitlines(), 1) if text in line)


GOOD = textwrap.dedent(
    """\
    statements:
      - id: pool_size.first
        section: "pool_size([level])"
        quote: "answer how many slots"
        says: The first statement.
        covered_by: [pool_size.starts_at_eight, pool_size.resize_answers_none]
      - id: pool_size.second
        section: "pool_size([level])"
        quote: "starts with eight slots"
        says: The second statement.
        not_testable: a reason
    """
)

CASES = {
    # name: (old text, new text, expected line, pattern the message must contain)
    "unknown_behaviour": ("pool_size.resize_answers_none]", "pool_size.no_such_thing]", 6,
                          r"statements\[0\]\.covered_by\[1\]: unknown behaviour 'pool_size.no_such_thing'"),
    "duplicate_id": ("id: pool_size.second", "id: pool_size.first", 7,
                     r"statements\[1\]\.id: duplicate statement id 'pool_size.first' \(first at spec/statements.yaml:2\)"),
    "both_covered_and_not_testable": ("    not_testable: a reason\n", "    not_testable: a reason\n    covered_by: []\n", 7,
                                      r"statements\[1\]: needs exactly one of 'covered_by' .* or 'not_testable'"),
    "neither_covered_nor_not_testable": ("    not_testable: a reason\n", "", 7,
                                         r"statements\[1\]: needs exactly one of 'covered_by' .* or 'not_testable'"),
    "unknown_section": ('section: "pool_size([level])"\n    quote: "starts', 'section: "pool_size(level)"\n    quote: "starts', 8,
                        r"statements\[1\]\.section: unknown section 'pool_size\(level\)' \(not the doc_section of any api"),
    "missing_says": ("    says: The second statement.\n", "", 7, r"statements\[1\]: 'says' is a required property"),
    # PyYAML notices an unclosed flow sequence on the line after it.
    "bad_yaml": ("pool_size.resize_answers_none]", "pool_size.resize_answers_none", 7, r"<top>: invalid YAML: expected ',' or ']'"),
    "duplicate_key": ("    says: The first statement.\n", "    says: The first statement.\n    says: again\n", 6,
                      r"statements\[0\]\.says: duplicate key"),
    "not_a_mapping": (GOOD, "- just a list\n", 1, r"<top>: expected a mapping with 'statements'"),
}


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("command", [("compile",), ("compile", "--check"), ("spec", "coverage")])
def test_malformed_map_is_one_line_with_file_line_and_field(case, command, fixture_project, cli):
    old, new, line, pattern = CASES[case]
    assert old in GOOD
    (fixture_project / MAP).write_text(GOOD.replace(old, new, 1))
    before = snapshot(fixture_project)
    status, out, err = cli("--root", fixture_project, *command)
    assert status == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"{MAP}:{line}: "), lines[0]
    assert re.search(pattern, lines[0]), lines[0]
    assert snapshot(fixture_project) == before


def test_good_map_compiles_and_drift_docs_checks_the_map(fixture_project, cli):
    (fixture_project / MAP).write_text(GOOD)
    status, _, err = cli("--root", fixture_project, "spec", "coverage")
    assert (status, err) == (0, "")
    (fixture_project / MAP).write_text(GOOD.replace("pool_size.resize_answers_none]", "pool_size.gone]"))
    status, out, err = cli("--root", fixture_project, "drift", "docs", FIXTURES / "module.rst")
    assert status == 2 and out == ""
    assert err.strip() == f"{MAP}:6: statements[0].covered_by[1]: unknown behaviour 'pool_size.gone'"


def test_missing_map_is_reported(fixture_project, cli):
    (fixture_project / MAP).unlink()
    status, _, err = cli("--root", fixture_project, "compile", "--check")
    assert status == 2
    assert err.strip() == f"{MAP}: <top>: cannot read: No such file or directory"


def test_the_projects_map_names_every_section_and_compiles(root, cli):
    status, out, err = cli("--root", root, "spec", "coverage", "--json")
    assert (status, err) == (0, "")
    data = json.loads(out)
    status, spec_out, _ = cli("--root", root, "spec", "--json")
    spec = json.loads(spec_out)
    assert {a["doc_section"] for a in spec["apis"]} == {s["section"] for s in data["sections"]}
    s = data["summary"]
    assert s["statements"] == s["covered"] + s["not-testable"] + s["not-covered"] > 100
    # Quotes stay short: a few words, never a whole sentence's worth.
    assert all(len(st["quote"].split()) <= 8 for sec in data["sections"] for st in sec["statements"])


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Lock it.  When locked no allocation can occur.", ["Lock it.", "When locked no allocation can occur."]),
        ("is attempted. heap_locked() returns a true value.", ["is attempted.", "heap_locked() returns a true value."]),
        ("variant, eg. RingIO(bytearray(16)) will hold 15.", ["variant, eg. RingIO(bytearray(16)) will hold 15."]),
        ("access them (e.g. import m; print(m.X)). Reassigning is fine.",
         ["access them (e.g. import m; print(m.X)).", "Reassigning is fine."]),
        ("bool (True, False), None, ... (Ellipsis)", ["bool (True, False), None, ... (Ellipsis)"]),
        ('its single argument. "Very soon" means soon.', ["its single argument.", '"Very soon" means soon.']),
        ("Version 1.2. then more", ["Version 1.2. then more"]),
        ("Ends with space.  ", ["Ends with space."]),
    ],
)
def test_sentences(text, expected):
    assert sentences(text) == expected


def test_quote_maps_on_word_boundaries_and_short_quotes_only_whole_units():
    assert quote_maps("``heap_lock()`` can be called", "ie heap_lock() can be called multiple times")
    assert quote_maps("at most *n* of them", "Append items from src, at most n of them when n is given.")
    assert not quote_maps("the heap", "the heaps grow")
    assert quote_maps("``float``", "float") and not quote_maps("``float``", "a float constant")
    assert not quote_maps("``str``", "constrained")
