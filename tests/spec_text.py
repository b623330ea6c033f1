"""The text of a small spec file for tests: one template instead of a copy per test module.

``spec_yaml(**fields)`` gives a valid 287(g) spec (fields in the usual order, lists inline, one
field a line, so tests can ``.replace`` a line or append fields); ``SC`` holds the fields that
turn it into a Secure Communities spec. ``None`` leaves a field out.
"""

from __future__ import annotations

BASE = {
    "name": None,
    "description": "test",
    "label": None,
    "program": "287g",
    "sample": "main",
    "outcome": "violent",
    "transform": "log_rate",
    "treatment": "g287_county",
    "control_group": "never_treated",
    "estimators": ["twfe", "cs"],
}
SC = {"program": "sc", "treatment": "sc_year", "control_group": "not_yet_treated"}


def spec_yaml(**fields) -> str:
    """YAML text of BASE updated by ``fields`` (unknown fields are appended in the order given)."""
    merged = {**BASE, **fields}
    lines = []
    for key, value in merged.items():
        if value is None:
            continue
        if isinstance(value, list | tuple):
            value = "[" + ", ".join(str(v) for v in value) + "]"
        lines.append(f"{key}: {value}")
    return "\n".join(lines) + "\n"


def write_spec(folder, text: str, name: str = "t"):
    """``text`` written to ``folder/<name>.yaml``; the path."""
    path = folder / f"{name}.yaml"
    path.write_text(text)
    return path
