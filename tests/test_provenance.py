"""A results file says what was tested; a profile can pin the firmware it is about."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

PROVENANCE_FIELDS = {"firmware", "runner", "targets", "host", "mpconform", "spec_digest", "profile", "started", "ended"}


def test_results_carry_every_provenance_field(cli, root, tmp_path):
    out_json, out_xml = tmp_path / "r.json", tmp_path / "r.xml"
    status, _, err = cli("--root", root, "run", "unix", "-k", "stack_use.*", "--json", out_json, "--junit", out_xml)
    assert status == 0, err
    doc = json.loads(out_json.read_text())
    prov = doc["provenance"]
    assert set(prov) == PROVENANCE_FIELDS
    assert prov["firmware"]["name"] == "micropython" and prov["firmware"]["version_text"]
    assert {"_build", "_mpy", "sys_version"} <= set(prov["firmware"])
    assert prov["runner"]["name"] == "unix"
    (target,) = prov["targets"]
    assert target["kind"] == "process" and target["binary"]
    assert sorted(target["tests"]) == sorted(r["id"] for r in doc["results"] if r["outcome"] != "skip")
    manifest = json.loads((root / "suites" / "unix" / "manifest.json").read_text())
    assert prov["spec_digest"] == manifest["spec_digest"]
    assert prov["started"] <= prov["ended"]
    assert prov["mpconform"]["version"]
    props = {p.get("name"): p.get("value") for p in ET.parse(out_xml).getroot().iter("property")}
    assert props["provenance.spec_digest"] == prov["spec_digest"]
    assert props["provenance.targets.0.kind"] == "process"
    assert props["provenance.host.name"] == prov["host"]["name"]


def _pin(project, text):
    profile = project / "ports" / "unix" / "port.yaml"
    profile.write_text(profile.read_text() + text)


def test_pinned_firmware_other_than_the_port_stops_before_any_test(cli, project_copy, tmp_path):
    _pin(project_copy, "expect_firmware: {version: 1.9.2, build: standard}\n")
    assert cli("--root", project_copy, "compile")[0] == 0
    out_json = tmp_path / "r.json"
    status, out, err = cli("--root", project_copy, "run", "unix", "--json", out_json)
    assert status == 2
    assert "not the firmware its profile expects" in err and "expected 1.9.2" in err
    assert "passed" not in out


def test_pinned_firmware_that_matches_runs(cli, project_copy):
    from mpconform.runners.plugins.unix import UnixRunner

    with UnixRunner({}) as runner:
        import tempfile
        from pathlib import Path

        from mpconform.runners.run.probe import probe
        from mpconform.runners.run.provenance import version_text

        with tempfile.TemporaryDirectory() as tmp:
            version = version_text(probe(runner, Path(tmp)))
    _pin(project_copy, f"expect_firmware: {{version: {version}}}\n")
    assert cli("--root", project_copy, "compile")[0] == 0
    status, out, _ = cli("--root", project_copy, "run", "unix", "-k", "stack_use.*")
    assert status == 0
    assert "5 passed" in out


def test_malformed_pin_is_a_file_line_error(cli, project_copy):
    _pin(project_copy, "expect_firmware: {colour: blue}\n")
    status, _, err = cli("--root", project_copy, "compile")
    assert status == 2
    assert err.startswith("ports/unix/port.yaml:") and "expect_firmware" in err
