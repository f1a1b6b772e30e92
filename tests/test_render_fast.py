"""The compiler's shortcuts give the very bytes of the plain way: the manifest's JSON
(entries indented once and shared between ports), the C-parsed YAML with its lines, and
the fast schema check's verdict."""

from __future__ import annotations

import json

import yaml

from mpconform.core.jsonindent import indented
from mpconform.core.model import manifest_json
from mpconform.generator import yamlsource
from mpconform.generator.profiles import load_profiles
from mpconform.generator.render import SuiteMemo, render_suite
from mpconform.generator.spec import load_schema, load_spec, spec_files


def _plain(manifest: dict) -> bytes:
    return (json.dumps(manifest, indent=1, sort_keys=True, ensure_ascii=True) + "\n").encode()


def test_manifest_json_is_json_dumps_for_every_port(root):
    spec = load_spec(root)
    memo = SuiteMemo()
    for profile in load_profiles(root, spec):
        (content,) = render_suite(spec, profile, memo=memo).values()
        assert content == _plain(json.loads(content))
    assert memo.texts  # shared entries were used


def test_manifest_json_with_awkward_data():
    tests = [{"id": "a.b", "status": "run", "reason": "\x00tests\x00", "issue": None,
              "nested": {"x": [], "y": {}}, "n": [1, 2.5, None, True]}]
    for manifest in ({"tests": tests, "z": "\x00tests\x00"}, {"tests": []}, {"tests": tests, "ü": "é"}):
        assert manifest_json(manifest, {}) == _plain(manifest)


def test_indented_json_is_json_dumps():
    class Text(str):
        pass

    values = [
        {"b": [1, -0.0, 1e16, 2.5e-7, float("nan"), float("inf"), -float("inf"), 10**30, True, False, None],
         "a": {"z": {}, "y": [], "x": ("t", ("u",))}, "é\u2028\x00\"\\": "ü\ud800\n"},
        [], {}, "", 0, [[[]]], {"sub": Text("str subclass"), "n": True},
        {2: "an int key", 2.5: "a float key"},  # keys that are not strings: the standard encoder's way
    ]
    for value in values:
        plain = json.dumps(value, indent=1, sort_keys=True, ensure_ascii=True)
        assert indented(value) == plain
        assert indented(value, "  ") == plain.replace("\n", "\n  ")


def test_fast_yaml_parse_keeps_data_and_lines(root):
    for path in spec_files(root):
        fast = yamlsource.load_yaml(path)
        text = path.read_text(encoding="utf-8")
        assert fast.data == yaml.safe_load(text)
        slow = yamlsource._load_text(yaml.SafeLoader, text, str(path))
        assert fast.lines == slow.lines


def test_fast_schema_check_agrees_with_jsonschema(root):
    checker = load_schema(root)
    doc = yaml.safe_load((root / "spec" / "apis" / "heap.yaml").read_text(encoding="utf-8"))
    assert list(checker.iter_errors(doc)) == list(checker.validator.iter_errors(doc)) == []
    del doc["apis"][0]["behaviours"][0]["claim"]
    doc["apis"][0]["behaviours"][1]["expect"] = "not a list"
    assert {e.message for e in checker.iter_errors(doc)} == {e.message for e in checker.validator.iter_errors(doc)}
    assert len(list(checker.iter_errors(doc))) == 2


def test_fast_tag_resolution_is_the_safe_loaders():
    def composed(text: str, loader) -> str:
        try:
            return repr(yaml.compose(text, Loader=loader))
        except yaml.YAMLError as exc:
            return type(exc).__name__
    scalars = ["", "yes", "No", "on", "~", "null", "1", "1.5", ".inf", "-.Inf", "0x1F", "0o7", "2001-12-14", "=",
               "<<", "plain", "'1'", '"true"', "+1", "1_000", "tRue", "Y", "!!str 1", "!local x", "a & b"]
    for s in scalars:
        for text in (f"a: {s}\n", f"- {s}\n", f"{s}: 1\n"):
            assert composed(text, yamlsource.FAST_LOADER) == composed(text, yaml.SafeLoader), text
