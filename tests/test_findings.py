"""`mpconform findings`: real runs of a port that crashes and hangs at an edge (a prelude
over the real unix port) beside runs of ports that do not, then the reports."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from mpconform.reports.findings import file_names, release_order
from tests.runkit import SWAP
from tests.upstreamkit import release_archive

ROOT = Path(__file__).resolve().parents[1]
CRASH, HANG, PASS = ("RingIO.write.full_returns_zero", "RingIO.write.partial_when_space_runs_out",
                     "RingIO.write.returns_count")

# A write to a full ring buffer reads address 0 (a real SIGSEGV); a write that fits only
# in part never returns. Everything else is the real RingIO.
WRONG = SWAP + """
class _Wrong:
    def __init__(self, arg):
        self._r = _real.RingIO(arg)
    def read(self, *a):
        return self._r.read(*a)
    def write(self, buf):
        n = self._r.write(buf)
        if n == 0 and len(buf):
            import uctypes
            uctypes.bytearray_at(0, 4)[0]
        while 0 < n < len(buf):
            pass
        return n
_m.RingIO = _Wrong
"""


def mpconform(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mpconform.cli", "--root", str(ROOT), *map(str, args)],
                          capture_output=True, text=True, timeout=300)


def run(out: Path, binary: Path | None = None, prelude: Path | None = None) -> Path:
    """A real results document of the three RingIO.write behaviours."""
    args = ["run", "unix", "-k", CRASH, "-k", HANG, "-k", PASS, "-j", "2", "--timeout", "2", "--json", out]
    args += ["--micropython", binary] if binary else []
    args += ["--prelude", prelude] if prelude else []
    done = mpconform(*args)
    assert done.returncode in (0, 1), done.stdout + done.stderr
    return out


@pytest.fixture(scope="module")
def prelude(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("wrong") / "prelude.py"
    path.write_text(WRONG)
    return path


@pytest.fixture(scope="module")
def docs(tmp_path_factory, prelude) -> dict[str, Path]:
    """The embedded unix port (1.29.0-preview) as it is, and with the wrong prelude."""
    d = tmp_path_factory.mktemp("docs")
    return {"ok": run(d / "ok.json"), "wrong": run(d / "wrong.json", prelude=prelude)}


@pytest.fixture(scope="module")
def release_docs(tmp_path_factory, prelude) -> dict[str, Path]:
    """Upstream v1.28.0 built from its snapshot (cached as `nox -s builds` caches it), as it
    is and with the wrong prelude."""
    from mpconform.runners.install.upstream import UNIX_MAKE_ARGS, UnixBuild, build_unix, resolve_tree

    archive = release_archive("v1.28.0")
    if archive is None:
        pytest.skip("needs the v1.28.0 snapshot (../shared/upstream/micropython-v1.28.0.tar.gz)")
    build = UnixBuild("v1.28.0", "standard", {}, (*UNIX_MAKE_ARGS, "CFLAGS_EXTRA=-Wno-error"))  # as tools/builds.yaml
    binary = build_unix(resolve_tree(archive=archive), build)
    d = tmp_path_factory.mktemp("release")
    return {"ok": run(d / "ok.json", binary), "wrong": run(d / "wrong.json", binary, prelude)}


def findings(out: Path, *results: Path) -> subprocess.CompletedProcess:
    return mpconform("findings", *results, "--out", out)


def test_the_wrong_port_is_what_the_documents_say(docs):
    outcomes = {p: {r["id"]: r["outcome"] for r in json.loads(docs[p].read_text())["results"]} for p in docs}
    assert outcomes == {"ok": {CRASH: "pass", HANG: "pass", PASS: "pass"},
                        "wrong": {CRASH: "crash", HANG: "timeout", PASS: "pass"}}


def test_a_crash_and_a_hang_are_reported_beside_the_build_that_passed(docs, prelude, tmp_path):
    done = findings(tmp_path / "f", docs["wrong"], docs["ok"])
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (tmp_path / "f").iterdir()) == ["README.md", f"{CRASH}.md", f"{HANG}.md"]
    crash = (tmp_path / "f" / f"{CRASH}.md").read_text()
    assert crash.startswith(f"# Crash: `{CRASH}`\n")
    program = (ROOT / "suites" / "tests" / f"{CRASH}.py").read_text()
    assert f"```python\n{program}```" in crash
    assert "killed by SIGSEGV" in crash
    affected, others = crash.split("## Affected")[1].split("## Not affected")
    assert f"prelude `{prelude}`" in affected
    assert "| crash |" in affected and "| pass |" in others and "prelude" not in others.split("## Releases")[0]
    # Both documents are of one release: it cannot be placed between releases.
    assert "The releases given do not bracket it: only v1.29.0-preview ran it." in crash
    hang = (tmp_path / "f" / f"{HANG}.md").read_text()
    assert hang.startswith(f"# Hang: `{HANG}`\n") and "| timeout |" in hang
    index = (tmp_path / "f" / "README.md").read_text()
    assert f"]({CRASH}.md) | crash |" in index and f"]({HANG}.md) | hang |" in index
    assert PASS.replace("_", "\\_") not in index


def test_the_reports_do_not_depend_on_the_order_of_the_documents(docs, tmp_path):
    findings(tmp_path / "a", docs["wrong"], docs["ok"])
    findings(tmp_path / "b", docs["ok"], docs["wrong"])
    read = {d: {p.name: p.read_bytes() for p in (tmp_path / d).iterdir()} for d in "ab"}
    assert read["a"] == read["b"]


def test_the_release_range_comes_from_the_versions_the_documents_record(docs, release_docs, tmp_path):
    # Crashing on v1.28.0, passing on 1.29.0-preview: appears in v1.28.0 (the earliest given), gone after.
    assert findings(tmp_path / "fixed", release_docs["wrong"], docs["ok"]).returncode == 0
    report = (tmp_path / "fixed" / f"{CRASH}.md").read_text()
    assert "| v1.28.0 | present |\n| v1.29.0-preview | gone |" in report
    assert ("First appears in v1.28.0 or earlier: it is the earliest release given that ran it, so the range is "
            "open at the start.") in report
    assert "First gone in v1.29.0-preview." in report
    index = (tmp_path / "fixed" / "README.md").read_text()
    assert "| crash | unix v1.28.0 standard | v1.28.0 | v1.29.0-preview |" in index
    # The other way round: v1.28.0 ran it without it, and no release given is free of it since.
    assert findings(tmp_path / "new", release_docs["ok"], docs["wrong"]).returncode == 0
    report = (tmp_path / "new" / f"{CRASH}.md").read_text()
    assert "First appears in v1.29.0-preview (v1.28.0 ran it without it)." in report
    assert ("Still there in the latest release given that ran it (v1.29.0-preview): the range is open at the end."
            in report)


def test_no_findings_is_one_line_and_an_index(docs, tmp_path):
    done = findings(tmp_path / "f", docs["ok"])
    assert done.returncode == 0
    assert done.stdout.splitlines() == [f"mpconform: no findings (no crash, hang or model violation) in 1 results "
                                        f"file(s); wrote {tmp_path / 'f' / 'README.md'}"]
    assert [p.name for p in (tmp_path / "f").iterdir()] == ["README.md"]
    assert "No findings: no crash, hang or model violation in the results given." in (
        tmp_path / "f" / "README.md").read_text()


@pytest.mark.parametrize("content", ["{not json", '{"port": "unix"}', '{"port": "unix", "results": [{"id": "a"}]}'])
def test_a_bad_results_file_is_one_line_exit_2(docs, tmp_path, content):
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    done = findings(tmp_path / "f", docs["ok"], bad)
    assert done.returncode == 2
    assert len(done.stderr.splitlines()) == 1 and str(bad) in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "f").exists()


def test_a_model_violation_shows_its_sequence_and_ports_text_stays_text(docs, tmp_path):
    # No model-based behaviour is in the suite yet: its result is added to a real document,
    # with a detail holding backticks and markup as a port may print them.
    doc = json.loads(docs["ok"].read_text())
    sequence = "minimal failing sequence:\n  w(b'ab')\n  ```\n  r(3) -> b'b' (model: b'ab') <b>|</b>"
    doc["results"] += [
        {"id": "RingIO.model.seed99", "api": "RingIO", "outcome": "fail", "duration_s": 0.1,
         "detail": f"output differs\n{sequence}"},
        {"id": "RingIO.edge.size.zero", "api": "RingIO", "outcome": "fail", "duration_s": 0.1, "detail": "x"},
    ]
    model = tmp_path / "model.json"
    model.write_text(json.dumps(doc))
    other = json.loads(docs["ok"].read_text())  # another build, where the sequence passed
    other["implementation"]["_build"] = other["provenance"]["firmware"]["_build"] = "other"
    other["results"] += [{"id": "RingIO.model.seed99", "api": "RingIO", "outcome": "pass", "duration_s": 0.1,
                          "detail": ""}]
    passed = tmp_path / "passed.json"
    passed.write_text(json.dumps(other))
    done = findings(tmp_path / "f", model, passed)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (tmp_path / "f").iterdir()) == ["README.md", "RingIO.model.seed99.md"]  # a plain fail is none
    report = (tmp_path / "f" / "RingIO.model.seed99.md").read_text()
    assert report.startswith("# Model violation: `RingIO.model.seed99`\n")
    assert f"````\n{sequence}\n````" in report  # a fence longer than the backticks inside
    assert "| unix | v1.29.0-preview | other |" in report.split("## Not affected")[1]
    assert "The behaviour's program, `suites/tests/RingIO.model.seed99.py`." in report
    assert "Not in this checkout's suites (newer or older than this checkout): it is in the suites of mpconform" in report


def test_report_names_are_safe_and_never_shared():
    names = file_names(["RingIO.read.x", "a/../b", "README", "Abc", "abc", "..."])
    assert names["RingIO.read.x"] == "RingIO.read.x.md"
    assert all("/" not in n and not n.startswith(".") for n in names.values())
    assert names["README"] != "README.md" and len({n.lower() for n in names.values()}) == len(names)


def test_releases_are_ordered_by_version():
    given = ["1.29.0-preview", "v1.28.0", "1.29.0", "v1.24.0", "v1.26.0", "1.9.0"]
    assert sorted(given, key=release_order) == ["1.9.0", "v1.24.0", "v1.26.0", "v1.28.0", "1.29.0-preview", "1.29.0"]
