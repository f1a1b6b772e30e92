"""Names that reach a file name, a Makefile or C are matched whole: one that ends in a
newline is refused with one line naming where it came from (exit 2), never written."""

from __future__ import annotations

import pytest


def test_behaviour_id_ending_in_a_newline_is_refused(project_copy, cli):
    path = project_copy / "spec" / "apis" / "const.yaml"
    path.write_text(path.read_text().replace("- id: const.folds_expression", '- id: "const.folds_expression\\n"', 1))
    status, out, err = cli("--root", project_copy, "compile")
    assert status == 2
    assert "const.yaml:" in err and "folds_expression\\n" in err and "Traceback" not in err
    assert not any("\n" in p.name for p in (project_copy / "suites" / "tests").iterdir())


def test_profile_port_ending_in_a_newline_is_refused(tmp_path, cli):
    profile = tmp_path / "port.yaml"
    profile.write_text('port: "mine\\n"\nextends: unix\ndescription: mine\n')
    status, out, err = cli("run", "--profile", profile, "-k", "const.folds_expression")
    assert status == 2
    assert f"{profile}:1" in err and "port" in err and "Traceback" not in err


@pytest.mark.parametrize("name", ["abc\n", "abc\nx", "Abc", "a b"])
def test_scaffold_name_must_be_a_plain_identifier(tmp_path, cli, name):
    out = tmp_path / "port"
    status, _, err = cli("scaffold", name, "--out", out)
    assert status == 2 and "port name" in err
    assert not out.exists() or not any(out.iterdir())


def test_a_plain_name_still_scaffolds(tmp_path, cli):
    status, _, err = cli("scaffold", "plainport", "--out", tmp_path / "port")
    assert status == 0, err
    assert (tmp_path / "port" / "Makefile").is_file()
