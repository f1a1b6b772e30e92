"""`mpconform detect PORT --write`: record what the port's probe found in its profile.

Features the probe found absent get `enabled: false` with the probe's evidence as the
reason (a hand-written reason already there is kept); features it found present are
taken off the profile's absent list (written `enabled: true` with the evidence, so the
profile says why). Features the probe could not decide are left as they are. The YAML
is edited in place (ruamel round trip), so comments and order survive."""

from __future__ import annotations

import io

from ruamel.yaml.comments import CommentedMap

from mpconform.reports.expectations import _yaml

DETECTED = "detected by `mpconform detect`"


def write_detected(text: str, answers: dict, current: dict[str, bool] | None = None) -> tuple[str, list[str]]:
    """The profile text with `answers` (name -> probe Answer) applied, and what changed.
    `current`: whether the profile has each feature now, with what a base profile it
    extends says and what its disabled features turn off (default: this text alone)."""
    yaml = _yaml()
    data = yaml.load(text)
    features = data.get("features")
    if features is None:
        features = CommentedMap()
    changed = []
    for name, answer in sorted(answers.items()):
        if answer.enabled is None:
            continue
        if current is not None and name in current:
            was_enabled = current[name]
        else:
            entry = features.get(name)
            was_enabled = True if entry is None else bool(entry.get("enabled", True))
        if answer.enabled == was_enabled:
            continue
        entry = features.get(name)
        if not isinstance(entry, CommentedMap):
            entry = features[name] = CommentedMap()
        entry["enabled"] = answer.enabled  # in place: its style and comments stay
        entry["reason"] = f"{DETECTED}: {answer.evidence}"
        changed.append(f"{name}: now {'present' if answer.enabled else 'absent'} ({answer.evidence})")
    if changed and "features" not in data:
        data["features"] = features
    out = io.StringIO()
    yaml.dump(data, out)
    return out.getvalue(), changed
