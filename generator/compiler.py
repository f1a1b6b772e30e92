"""The compile pipeline: spec + profiles -> every generated file, in memory."""

from __future__ import annotations

from pathlib import Path

from .outputs import Outputs
from .profiles import Profile, load_profiles
from .render import TESTS_DIR, environment, render_suite, render_tests
from .scaffold import check_spec, render_scaffold
from .spec import Spec, load_spec


def build(root: Path) -> tuple[Spec, list[Profile], Outputs]:
    """Validate everything and render every output. Raises SourceErrors before any write."""
    spec = load_spec(root)
    profiles = load_profiles(root, spec)
    check_spec(spec)
    env = environment()
    outputs = Outputs()
    outputs.add(render_tests(spec, env), owned_dir=TESTS_DIR)
    memo: dict = {}  # test entries most ports share, indented once
    for profile in profiles:
        outputs.add(render_suite(spec, profile, env, memo), owned_dir=f"suites/{profile.port}")
        outputs.add(render_scaffold(spec, profile, env), owned_dir=f"ports/{profile.port}/scaffold")
    return spec, profiles, outputs
