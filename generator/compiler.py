"""The compile pipeline: spec + profiles -> every generated file, in memory."""

from __future__ import annotations

from pathlib import Path

from mpconform.generator.history import load_history
from mpconform.generator.outputs import Outputs
from mpconform.generator.profiles import Profile, load_profile_file, load_profiles
from mpconform.generator.render import TESTS_DIR, SuiteMemo, environment, render_suite, render_tests
from mpconform.generator.scaffold import check_spec, render_scaffold
from mpconform.generator.spec import Spec, load_spec
from mpconform.generator.statements import load_statements


def build(root: Path) -> tuple[Spec, list[Profile], Outputs]:
    """Validate everything and render every output. Raises SourceErrors before any write."""
    spec = load_spec(root)
    load_statements(root, spec)  # checked on every compile; it generates nothing
    history = load_history(root, spec)
    profiles = load_profiles(root, spec)
    check_spec(spec)
    env = environment()
    outputs = Outputs()
    outputs.add(render_tests(spec, env), owned_dir=TESTS_DIR)
    memo = SuiteMemo()  # test entries most ports share, built and indented once
    for profile in profiles:
        outputs.add(render_suite(spec, profile, env, memo, history), owned_dir=f"suites/{profile.port}")
        if not profile.extends:  # a derived profile builds the same C as the port it extends
            outputs.add(render_scaffold(spec, profile, env), owned_dir=f"ports/{profile.port}/scaffold")
    return spec, profiles, outputs


def build_profile(root: Path, profile_path: Path, cache: Path) -> Profile:
    """A user's own profile (anywhere, possibly `extends: <port>`) compiled against this
    project's spec into `cache` (suites/<port>/ and the shared suites/tests/), so it
    runs like any port of the project; only what changed is rewritten."""
    spec = load_spec(root)
    profile = load_profile_file(root, profile_path, spec)
    history = load_history(root, spec)
    env = environment()
    outputs = Outputs()
    outputs.add(render_tests(spec, env), owned_dir=TESTS_DIR)
    outputs.add(render_suite(spec, profile, env, history=history), owned_dir=f"suites/{profile.port}")
    outputs.write(cache)
    return profile
