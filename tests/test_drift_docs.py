"""Docs <-> spec drift on a synthetic module doc (tests/fixtures/drift): the
project's own words in MicroPython's directive structure, with a matching small
spec. Each test edits a copy of the doc and checks that exactly the expected
findings come out."""

from __future__ import annotations

import difflib
import json
import re
import shutil
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures" / "drift"
DIGEST_LINE = re.compile(r"^\s+doc_digest: [0-9a-f]{64}$")


@pytest.fixture
def drift_project(project_copy, cli):
    """A project whose spec/apis and statement map are the fixture's, digests synced from the fixture doc."""
    apis = project_copy / "spec" / "apis"
    shutil.rmtree(apis)
    shutil.copytree(FIXTURES / "apis", apis)
    (project_copy / "spec" / "history.yaml").unlink()  # it names the real spec's features and behaviours
    shutil.rmtree(project_copy / "spec" / "models")  # models of the real spec's apis
    shutil.copyfile(FIXTURES / "statements.yaml", project_copy / "spec" / "statements.yaml")
    doc = project_copy / "module.rst"
    shutil.copyfile(FIXTURES / "module.rst", doc)
    status, out, err = cli("--root", project_copy, "spec", "sync-digests", doc)
    assert status == 0, err
    assert "9 digest(s) written" in out
    return project_copy


def findings(cli, root: Path, *paths, fmt: str | None = None) -> tuple[int, list[tuple[str, str]], dict]:
    extra = ["--format", fmt] if fmt else []
    status, out, err = cli("--root", root, "drift", "docs", "--json", *extra, *paths)
    data = json.loads(out)
    found = sorted((f["kind"], f["subject"]) for r in data["files"] for f in r.get("findings", []))
    return status, found, data


def edited(root: Path, old: str, new: str, name: str = "edited.rst") -> Path:
    text = (root / "module.rst").read_text()
    assert old in text, old
    path = root / name
    path.write_text(text.replace(old, new))
    return path


def test_sync_digests_adds_only_digest_lines_and_is_idempotent(project_copy, cli):
    apis = project_copy / "spec" / "apis"
    shutil.rmtree(apis)
    shutil.copytree(FIXTURES / "apis", apis)
    (project_copy / "spec" / "history.yaml").unlink()  # it names the real spec's features and behaviours
    shutil.rmtree(project_copy / "spec" / "models")  # models of the real spec's apis
    before = {p.name: p.read_text() for p in apis.glob("*.yaml")}
    status, out, _ = cli("--root", project_copy, "spec", "sync-digests", FIXTURES / "module.rst")
    assert status == 0 and "9 digest(s) written" in out
    for name, text in before.items():
        after = (apis / name).read_text()
        diff = [line for line in difflib.ndiff(text.splitlines(), after.splitlines()) if line[:2] in ("- ", "+ ")]
        assert diff and all(d.startswith("+ ") and DIGEST_LINE.match(d[2:]) for d in diff), diff
    # The three apis sharing one section get the same digest; a second run changes nothing.
    heap = (apis / "freeze.yaml").read_text()
    assert len(set(re.findall(r"doc_digest: (\w+)", heap))) == 1 and heap.count("doc_digest:") == 3
    snapshot = {p.name: p.read_bytes() for p in apis.glob("*.yaml")}
    status, out, _ = cli("--root", project_copy, "spec", "sync-digests", FIXTURES / "module.rst")
    assert status == 0 and "0 digest(s) written" in out
    assert snapshot == {p.name: p.read_bytes() for p in apis.glob("*.yaml")}


def test_sync_digests_replaces_a_stale_digest_in_place(drift_project, cli):
    path = drift_project / "spec" / "apis" / "pool.yaml"
    text = path.read_text()
    old = re.search(r"(    doc_digest: )(\w+)", text)
    path.write_text(text.replace(old.group(0), old.group(1) + "f" * 64 + "  # stale"))
    status, out, _ = cli("--root", drift_project, "spec", "sync-digests", drift_project / "module.rst")
    assert status == 0 and "pool_size: doc_digest updated" in out and "1 digest(s) written" in out
    assert path.read_text() == text.replace(old.group(0), old.group(0) + "  # stale")


def test_synced_spec_has_no_drift(drift_project, cli):
    status, found, data = findings(cli, drift_project, drift_project / "module.rst")
    assert (status, found) == (0, [])
    assert data["files"][0]["members"] == 9 and data["files"][0]["warnings"] == []
    status, out, _ = cli("--root", drift_project, "drift", "docs", drift_project / "module.rst")
    assert status == 0 and "no drift" in out


def test_reflowed_text_is_not_drift(drift_project, cli):
    path = edited(drift_project, "how many slots the pool holds.  With *level*, resize\n   the pool",
                  "how many slots the pool\n   holds.  With *level*, resize the pool")
    assert findings(cli, drift_project, path)[:2] == (0, [])


def test_removed_function(drift_project, cli):
    text = (drift_project / "module.rst").read_text()
    start, end = text.index(".. function:: gauge("), text.index(".. function:: freeze()")
    path = drift_project / "no_gauge.rst"
    path.write_text(text[:start] + text[end:])
    assert findings(cli, drift_project, path)[:2] == (1, [("removed", "gauge")])


def test_dropped_class(drift_project, cli):
    text = (drift_project / "module.rst").read_text()
    path = drift_project / "no_class.rst"
    path.write_text(text[: text.index("Classes\n")])
    status, found, _ = findings(cli, drift_project, path)
    assert (status, found) == (1, [("removed", n) for n in ("Fifo", "Fifo.count", "Fifo.fill", "Fifo.take")])


def test_reworded_sentence(drift_project, cli):
    path = edited(drift_project, "Without *level*, answer how many slots the pool holds.",
                  "Called with no argument, it tells the number of slots.")
    status, found, data = findings(cli, drift_project, path)
    # The statement the map quotes is gone, and the new sentence is in no statement.
    assert (status, found) == (1, [("statement-quote-missing", "pool_size.answers_slot_count"),
                                   ("text-changed", "pool_size"), ("unmapped", "pool_size([level])")])
    assert "pool_size([level])" in data["files"][0]["findings"][0]["message"]


def test_reworded_quoted_sentence_in_a_shared_section(drift_project, cli):
    path = edited(drift_project, "While frozen, taking a slot raises `OSError`.",
                  "A frozen pool refuses every take with `OSError`.")
    status, found, _ = findings(cli, drift_project, path)
    assert (status, found) == (1, [("quote-missing", "freeze.take_raises"), ("statement-quote-missing", "freeze.taking_raises"),
                                   ("text-changed", "freeze, thaw, frozen"), ("unmapped", "freeze()")])


def test_new_optional_argument(drift_project, cli):
    path = edited(drift_project, ".. function:: gauge(sink[, depth])", ".. function:: gauge(sink[, depth[, width]])")
    status, found, data = findings(cli, drift_project, path)
    assert (status, found) == (1, [("signature-changed", "gauge")])
    message = data["files"][0]["findings"][0]["message"]
    assert "new optional parameter 'width'" in message and "gauge(sink[, depth[, width]])" in message


def test_renamed_parameter_and_second_constructor(drift_project, cli):
    path = edited(drift_project, ".. method:: Fifo.take([n])", ".. method:: Fifo.take([count])")
    status, found, data = findings(cli, drift_project, path)
    assert (status, found) == (1, [("signature-changed", "Fifo.take")])
    assert "parameter 'n' renamed to 'count'" in data["files"][0]["findings"][0]["message"]
    path = edited(drift_project, ".. class:: Fifo(storage)\n   :noindex:\n", "")
    status, found, data = findings(cli, drift_project, path)
    assert (status, found) == (1, [("signature-changed", "Fifo")])
    assert "1 documented form(s), the spec has 2" in data["files"][0]["findings"][0]["message"]


def test_added_member(drift_project, cli):
    path = edited(drift_project, "Classes\n-------\n",
                  ".. function:: drain()\n\n   Empty the pool at once.\n\nClasses\n-------\n")
    assert findings(cli, drift_project, path)[:2] == (1, [("added", "drain")])


def test_missing_digest_is_drift(drift_project, cli):
    path = drift_project / "spec" / "apis" / "pool.yaml"
    path.write_text("".join(line for line in path.read_text().splitlines(True) if "doc_digest" not in line))
    status, found, _ = findings(cli, drift_project, drift_project / "module.rst")
    assert (status, found) == (1, [("digest-missing", "gauge"), ("digest-missing", "pool_size")])


def test_human_report(drift_project, cli):
    path = edited(drift_project, ".. function:: gauge(sink[, depth])", ".. function:: gauge(sink)")
    status, out, err = cli("--root", drift_project, "drift", "docs", path)
    assert status == 1 and err == ""
    assert "signature  gauge: spec gauge(sink[, depth]), docs gauge(sink): parameter 'depth' removed" in out
    assert out.rstrip().endswith("mpconform: 1 drift finding(s) in 1 file(s)")


def test_markdown_and_text_copies(drift_project, cli):
    """Old copies in the other formats: same words give the same digests as the reST."""
    status, found, data = findings(cli, drift_project, FIXTURES / "module.txt")
    assert data["files"][0]["format"] == "text"
    # The copy documents one Fifo constructor form of the two.
    assert (status, found) == (1, [("removed", "Fifo.fill"), ("removed", "Fifo.take"), ("removed", "gauge"),
                                   ("signature-changed", "Fifo")])
    status, found, data = findings(cli, drift_project, FIXTURES / "module.md")
    assert data["files"][0]["format"] == "markdown"
    # The code fence is body text (its "heading" is not a member); the shorter
    # freeze()/thaw() section drops frozen() (its behaviour goes with it)
    # and the sentence about nesting that thaw.nests quotes.
    # The statement map's quotes of the two dropped sentences are missing too.
    assert (status, found) == (1, [
        ("quote-missing", "thaw.nests"),
        ("removed", "Fifo"), ("removed", "Fifo.count"), ("removed", "Fifo.fill"), ("removed", "Fifo.take"),
        ("removed", "frozen"), ("removed", "gauge"),
        ("statement-quote-missing", "frozen.tells_state"), ("statement-quote-missing", "thaw.one_per_freeze"),
        ("text-changed", "freeze, thaw"),
    ])


def test_format_option_overrides_sniffing(drift_project, cli):
    status, out, err = cli("--root", drift_project, "drift", "docs", "--format", "text", FIXTURES / "module.rst")
    assert status == 2 and "not module documentation (text)" in err and "Traceback" not in err


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "empty file"),
        (b"   \n\n", "empty file"),
        (b"Title\n=====\n\nJust a page about *nothing*.\n\n.. note:: hello\n", "not module documentation (rst)"),
        (b"Some notes\n\nnothing here looks like an API.\n", "not module documentation (text)"),
        (b".. function:: pool_size([level])\n\n   caf\xe9 \xff\xfe\n", "not UTF-8 text (byte 0xe9"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not UTF-8 text"),
        (b".. module:: other\n\n.. function:: f(x)\n\n   Does f.\n", "documents module 'other', but the spec is for 'micropython'"),
    ],
)
def test_hostile_input_is_one_clear_line(drift_project, cli, content, message):
    path = drift_project / "hostile.rst"
    path.write_bytes(content)
    status, out, err = cli("--root", drift_project, "drift", "docs", path)
    assert status == 2
    assert message in err and str(path) in err and "Traceback" not in err + out


def test_missing_file_and_directory(drift_project, cli):
    status, _, err = cli("--root", drift_project, "drift", "docs", drift_project / "nope.rst", drift_project)
    assert status == 2
    assert "nope.rst: cannot read: No such file or directory" in err and "is a directory" in err


def test_unknown_directive_and_role_are_warnings_with_results_kept(drift_project, cli):
    path = edited(drift_project, "The pool starts with eight slots on most builds.",
                  "The pool starts with eight slots on most builds.\n\n   .. fancybox:: x\n\n      inside\n\n"
                  "   Also :weird:`thing`.")
    status, out, err = cli("--root", drift_project, "drift", "docs", path)
    assert status == 1 and "Traceback" not in out + err
    assert re.search(r"warning .*edited\.rst:\d+: unknown directive 'fancybox'; its content is not read", out)
    assert re.search(r"warning .*edited\.rst:\d+: unknown role 'weird'", out)
    # The rest of the file is still compared: only the edited section differs
    # (and its new sentence, the role kept as written, is in no statement).
    assert findings(cli, drift_project, path)[1] == [("text-changed", "pool_size"), ("unmapped", "pool_size([level])")]


def test_one_bad_file_keeps_the_others(drift_project, cli):
    bad = drift_project / "empty.rst"
    bad.write_text("")
    status, found, data = findings(cli, drift_project, bad, drift_project / "module.rst")
    assert status == 2 and found == []
    assert "error" in data["files"][0] and data["files"][1]["findings"] == []


def test_behaviour_citing_an_unknown_section(drift_project, cli):
    path = drift_project / "spec" / "apis" / "pool.yaml"
    text = path.read_text()
    path.write_text(text.replace('cites: {section: "gauge(sink[, depth])"', 'cites: {section: "gauge_old(sink)"'))
    status, found, data = findings(cli, drift_project, drift_project / "module.rst")
    assert (status, found) == (1, [("section-missing", "gauge.lists_slots")])


def test_sync_digests_needs_a_readable_doc(drift_project, cli):
    status, _, err = cli("--root", drift_project, "spec", "sync-digests")
    assert status == 2 and "needs the documentation file" in err
    empty = drift_project / "empty.rst"
    empty.write_text("")
    status, _, err = cli("--root", drift_project, "spec", "sync-digests", empty)
    assert status == 2 and "empty file" in err and "Traceback" not in err


# --- the statement map (spec/statements.yaml; the fixture's is FIXTURES/statements.yaml) ---

def _line_of(path: Path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def test_new_paragraph_is_not_in_the_statement_map(drift_project, cli):
    path = edited(drift_project, "The pool starts with eight slots on most builds.",
                  "The pool starts with eight slots on most builds.\n\n   A pool never shrinks below one slot.")
    status, found, data = findings(cli, drift_project, path)
    assert (status, found) == (1, [("text-changed", "pool_size"), ("unmapped", "pool_size([level])")])
    unmapped = next(f for f in data["files"][0]["findings"] if f["kind"] == "unmapped")
    assert unmapped["message"] == "not in the statement map: 'A pool never shrinks below one slot.'"
    assert unmapped["where"] == f"{path}:{_line_of(path, 'A pool never shrinks')}"
    status, out, _ = cli("--root", drift_project, "drift", "docs", path)
    assert status == 1
    assert "unmapped   pool_size([level]): not in the statement map: 'A pool never shrinks below one slot.'" in out


def test_new_sentence_inside_a_quoted_paragraph_of_a_shared_section(drift_project, cli):
    path = edited(drift_project, "Freeze or thaw the pool.  While frozen,",
                  "Freeze or thaw the pool.  Thawing a pool that is not frozen does nothing.  While frozen,")
    status, found, data = findings(cli, drift_project, path)
    assert (status, found) == (1, [("text-changed", "freeze, thaw, frozen"), ("unmapped", "freeze()")])
    assert "'Thawing a pool that is not frozen does nothing.'" in data["files"][0]["findings"][1]["message"]


def test_new_sentence_repeating_a_quoted_phrase_is_still_reported(drift_project, cli):
    """A quote maps one sentence only, so a new one that reuses its words cannot hide behind it."""
    path = edited(drift_project, "Answer how many items wait in the queue.",
                  "Answer how many items wait in the queue.  Asking how many items wait never blocks.")
    status, found, data = findings(cli, drift_project, path)
    assert (status, found) == (1, [("text-changed", "Fifo.count"), ("unmapped", "Fifo.count()")])
    assert "'Asking how many items wait never blocks.'" in data["files"][0]["findings"][1]["message"]


def test_new_sentence_in_a_renamed_section_and_an_old_markdown_copy(drift_project, cli):
    # A changed signature renames the heading: the section is still found through its api.
    path = edited(drift_project, ".. function:: gauge(sink[, depth])\n\n   Write a short report about the pool into *sink*.",
                  ".. function:: gauge(sink[, depth[, width]])\n\n   Write a short report about the pool into *sink*.  "
                  "With *width*, lines wrap at that many columns.")
    status, found, _ = findings(cli, drift_project, path)
    assert (status, found) == (1, [("signature-changed", "gauge"), ("text-changed", "gauge"),
                                   ("unmapped", "gauge(sink[, depth])")])
    md = drift_project / "module.md"
    text = (FIXTURES / "module.md").read_text()
    md.write_text(text.replace("The pool starts with eight slots on most builds.",
                               "The pool starts with eight slots on most builds.\n\nSlots are never shared."))
    status, found, data = findings(cli, drift_project, md)
    unmapped = [f for f in data["files"][0]["findings"] if f["kind"] == "unmapped"]
    assert [(f["subject"], f["message"], f["where"]) for f in unmapped] == [
        ("pool_size([level])", "not in the statement map: 'Slots are never shared.'", f"{md}:{_line_of(md, 'never shared')}")]


def test_fixture_statement_map_matches_every_sentence_of_the_fixture_doc(drift_project, cli):
    """Also checks each shape of unit: a table (one unit), sentences split after `frozen()`-style code."""
    assert findings(cli, drift_project, drift_project / "module.rst")[:2] == (0, [])
    path = edited(drift_project, "     x   slot in use", "     x   slot taken")
    status, found, _ = findings(cli, drift_project, path)
    assert (status, found) == (1, [("statement-quote-missing", "gauge.slot_marks"), ("text-changed", "gauge"),
                                   ("unmapped", "gauge(sink[, depth])")])
