"""Bad input: a one-line error per problem naming file, line and field; nothing written."""

from __future__ import annotations

import re
import textwrap

import pytest

from tests.conftest import snapshot

GOOD = textwrap.dedent(
    """\
    apis:
      - name: zz_probe
        kind: function
        doc_section: "zz_probe()"
        params: []
        requires: [micropython_module]
        behaviours:
          - id: zz_probe.first
            cites: {section: "zz_probe()", quote: "a few words"}
            claim: The first claim.
            program: |
              print(1)
            expect: ["1"]
          - id: zz_probe.second
            cites: {section: "zz_probe()", quote: "a few words"}
            claim: The second claim.
            program: |
              x = 1
              print(x + 1)
            expect: ["2"]
    """
)

FIRST_CLAIM = "        claim: The first claim.\n"
HEAD_TO_CLAIM = GOOD[GOOD.index("    requires:"):GOOD.index(FIRST_CLAIM) + len(FIRST_CLAIM)]

CASES = {
    # name: (old text, new text, expected line, pattern the message must contain)
    # PyYAML notices an unclosed flow sequence on the line after it.
    "bad_yaml": ('expect: ["1"]', 'expect: ["1"', 14, r"<top>: invalid YAML: expected ',' or ']'"),
    "missing_field": ("        claim: The first claim.\n", "", 8, r"behaviours\[0\]: 'claim' is a required property"),
    "duplicate_id": ("id: zz_probe.second", "id: zz_probe.first", 14, r"behaviours\[1\]\.id: duplicate behaviour id 'zz_probe.first' \(first at spec/apis/zz_probe.yaml:8\)"),
    "wrong_type": ('expect: ["2"]', "expect: 2", 20, r"behaviours\[1\]\.expect: 2 is not of type 'array'"),
    "unknown_feature": ("requires: [micropython_module]", "requires: [micropython_module, warp_drive]", 6, r"requires\[1\]: unknown feature 'warp_drive'"),
    "program_does_not_parse": ("print(x + 1)", "print(x +", 19, r"behaviours\[1\]\.program: program does not parse"),
    "duplicate_key": ("claim: The second claim.", "claim: The second claim.\n        claim: again", 17, r"behaviours\[1\]\.claim: duplicate key"),
    "bad_regex": ('expect: ["2"]', 'expect_regex: ["(2"]', 20, r"expect_regex\[0\]: bad regex"),
    "id_outside_api": ("id: zz_probe.second", "id: other.second", 14, r"behaviours\[1\]\.id: behaviour id must be 'zz_probe.<name>'"),
    # limits a behaviour leans on, and api requires it narrows
    "unknown_limit": (FIRST_CLAIM, FIRST_CLAIM + "        needs: {warp_core: 2}\n", 11,
                      r"behaviours\[0\]\.needs\.warp_core: unknown limit 'warp_core' \(known limits: heap_words, schedule_queue\)"),
    "need_within_documented_minimum": (
        FIRST_CLAIM, FIRST_CLAIM + "        requires: [scheduler, time_sleep_ms]\n        needs: {schedule_queue: 1}\n", 12,
        r"needs\.schedule_queue: 1 is within the documented minimum \(1\)"),
    "need_beyond_what_is_measured": (
        FIRST_CLAIM, FIRST_CLAIM + "        requires: [scheduler, time_sleep_ms]\n        needs: {schedule_queue: 999}\n", 12,
        r"needs\.schedule_queue: 999 is more than the probe measures \(256\)"),
    "need_without_the_limits_features": (FIRST_CLAIM, FIRST_CLAIM + "        needs: {schedule_queue: 3}\n", 11,
                                         r"needs\.schedule_queue: the limit is only measured with scheduler, time_sleep_ms"),
    "need_not_an_integer": (FIRST_CLAIM, FIRST_CLAIM + "        needs: {schedule_queue: many}\n", 11,
                            r"needs\.schedule_queue: 'many' is not of type 'integer'"),
    "drop_what_the_api_does_not_require": (FIRST_CLAIM, FIRST_CLAIM + "        drop_requires: {gc: not needed}\n", 11,
                                           r"drop_requires\.gc: 'gc' is not in the api's requires"),
    "drop_without_a_reason": (FIRST_CLAIM, FIRST_CLAIM + "        drop_requires: {micropython_module: ''}\n", 11,
                              r"drop_requires\.micropython_module: '' should be non-empty"),
    "drop_what_another_requirement_implies": (
        HEAD_TO_CLAIM, HEAD_TO_CLAIM.replace("[micropython_module]", "[micropython_module, gc]")
        + "        requires: [heap_locked]\n        drop_requires: {gc: not needed}\n", 12,
        r"drop_requires\.gc: 'gc' is still required through heap_locked, which implies it"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_malformed_spec_reports_file_line_field_and_writes_nothing(case, project_copy, cli):
    old, new, line, pattern = CASES[case]
    assert old in GOOD
    (project_copy / "spec" / "apis" / "zz_probe.yaml").write_text(GOOD.replace(old, new, 1))
    before = snapshot(project_copy)
    status, out, err = cli("--root", project_copy, "compile")
    assert status == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"spec/apis/zz_probe.yaml:{line}: "), lines[0]
    assert re.search(pattern, lines[0]), lines[0]
    assert snapshot(project_copy) == before
    assert out == ""


def test_the_good_file_compiles(project_copy, cli):
    (project_copy / "spec" / "apis" / "zz_probe.yaml").write_text(GOOD)
    status, out, err = cli("--root", project_copy, "compile")
    assert status == 0, err
    assert (project_copy / "suites" / "tests" / "zz_probe.second.py").is_file()


def test_not_utf8_is_reported_with_its_line(project_copy, cli):
    (project_copy / "spec" / "apis" / "zz_probe.yaml").write_bytes(GOOD.encode().replace(b"The first", b"The \xff first"))
    status, _, err = cli("--root", project_copy, "compile")
    assert status == 2
    assert err.startswith("spec/apis/zz_probe.yaml:10: <top>: not UTF-8")


@pytest.mark.parametrize(
    "profile_text, pattern",
    [
        ("features:\n  warp_drive: {enabled: false, reason: x}\n", r"ports/unix/port.yaml:\d+: features.warp_drive: unknown feature"),
        ("expectations:\n  nope.nothing: {outcome: xfail, reason: x}\n", r"expectations.nope.nothing: unknown behaviour"),
        ("features:\n  ringio: {enabled: false}\n", r"features.ringio: 'reason' is a required property"),
        ("limits:\n  warp_core: {value: 1, reason: x}\n", r"ports/unix/port.yaml:\d+: limits.warp_core: unknown limit"),
        ("limits:\n  schedule_queue: {value: 4}\n", r"limits.schedule_queue: 'reason' is a required property"),
    ],
)
def test_bad_profile_is_reported(project_copy, cli, profile_text, pattern):
    path = project_copy / "ports" / "unix" / "port.yaml"
    text = path.read_text()
    text = re.sub(r"^(features|expectations):.*?(?=^\S|\Z)", "", text, flags=re.S | re.M)
    path.write_text(text + profile_text)
    status, _, err = cli("--root", project_copy, "compile", "--check")
    assert status == 2
    assert re.search(pattern, err), err


def test_unknown_port_names_the_known_ones(cli, root):
    status, _, err = cli("--root", root, "run", "no-such-port")
    assert status == 2
    assert "unknown port 'no-such-port'" in err and "unix" in err


def test_a_schema_that_is_not_one_is_refused_in_jsonschemas_words():
    # the fast validator checks a schema as it is built; jsonschema still says what is wrong
    from jsonschema.exceptions import SchemaError

    from mpconform.core.wholematch import SchemaChecker

    with pytest.raises(SchemaError, match="is not valid"):
        SchemaChecker({"type": 5})
    assert list(SchemaChecker({"type": "object"}).iter_errors({})) == []
    assert [e.message for e in SchemaChecker({"type": "object"}).iter_errors(5)] == ["5 is not of type 'object'"]
