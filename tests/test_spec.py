"""The committed spec: complete, cited, and consistent with the committed suites."""

from __future__ import annotations

import json

from mpconform.generator.spec import load_spec

DOCUMENTED = [
    "const", "opt_level", "alloc_emergency_exception_buf", "mem_info", "qstr_info", "stack_use",
    "heap_lock", "heap_unlock", "heap_locked", "kbd_intr", "schedule", "RingIO",
    "RingIO.any", "RingIO.read", "RingIO.readline", "RingIO.readinto", "RingIO.write", "RingIO.close",
]


def test_every_documented_member_is_in_spec_json(cli, root):
    status, out, _ = cli("--root", root, "spec", "--json")
    assert status == 0
    data = json.loads(out)
    names = [a["name"] for a in data["apis"]]
    assert sorted(names) == sorted(DOCUMENTED)
    for api in data["apis"]:
        assert api["behaviours"], f"{api['name']} has no behaviour"


def test_sixty_plus_behaviours_each_cited(cli, root):
    data = json.loads(cli("--root", root, "spec", "--json")[1])
    behaviours = data["behaviours"]
    assert len(behaviours) >= 60
    for b in behaviours:
        assert b["doc"]["section"] and len(b["doc"]["quote"].split()) >= 2, b["id"]
        assert b["id"].startswith(b["api"] + ".")


def test_signatures_match_the_docs(root):
    spec = load_spec(root)
    sig = {a.name: [(p["name"], p.get("optional", False)) for p in a.params] for a in spec.apis}
    assert sig["opt_level"] == [("level", True)]
    assert sig["mem_info"] == [("verbose", True)]
    assert sig["qstr_info"] == [("verbose", True)]
    assert sig["schedule"] == [("func", False), ("arg", False)]
    assert sig["RingIO.readinto"] == [("buf", False), ("nbytes", True)]
    assert sig["heap_unlock"] == []


def test_compile_check_passes_on_the_committed_tree(cli, root):
    status, out, err = cli("--root", root, "compile", "--check")
    assert status == 0, out + err
    assert "up to date" in out
