"""Check that the active Python has exactly the versions pinned in requirements.txt.

Used by the Makefile when the user runs inside their own environment (conda or virtualenv)
instead of the package's ``.venv``.  Exits non-zero with the list of mismatches.
"""

from __future__ import annotations

import sys

from analysis.config import ROOT
from analysis.infra.runlog import package_versions


def mismatches() -> list[str]:
    """Packages whose installed version differs from its pin in requirements.txt."""
    pins = {}
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if "==" in line:
            name, version = line.split("==")
            pins[name] = version
    installed = package_versions()
    return [
        f"{name}: pinned {pin}, installed {installed[name]}" for name, pin in pins.items() if installed[name] != pin
    ]


if __name__ == "__main__":
    bad = mismatches()
    if sys.version_info[:2] != (3, 11):
        bad.insert(0, f"python: need 3.11, running {sys.version.split()[0]}")
    if bad:
        print(
            "The active environment does not match requirements.txt:\n  "
            + "\n  ".join(bad)
            + "\nRun `pip install -r requirements.txt` in it, or deactivate it so that make"
            " builds its own .venv.",
            file=sys.stderr,
        )
        sys.exit(1)
