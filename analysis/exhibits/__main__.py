"""``python -m analysis.exhibits``: write every figure, table and numbers.tex.

Each exhibit module has ``build() -> dict[str, str]``: it writes its figures and tables into
``paper/generated/`` and returns the macros it contributes to ``numbers.tex``.  A macro name
used twice is an error.
"""

from __future__ import annotations

import importlib

from analysis.config import NUMBERS
from analysis.exhibits.numbers import render
from analysis.infra import cli
from analysis.infra.atomic import write_text

# In the order of the paper.
MODULES = [
    "data_section",
    "rollout",
    "trends",
    "sample_tables",
    "headline",
    "main_tables",
    "event_studies",
    "diagnostics",
    "robustness",
    "credibility",
    "credibility_outcomes",
    "synth_nc",
    "replication_exhibits",
    "coverage_audit",
    "treatment_coding",
    "wave",
    "wave_design",
    "program_maps",
    "treated_counties",
    "event_counts",
    "levels",
    "estimator_identity",
    "assignment_inference",
    "claims",
]


def main() -> None:
    macros: dict[str, str] = {}
    for name in MODULES:
        built = importlib.import_module(f"analysis.exhibits.{name}").build()
        clash = set(built) & set(macros)
        if clash:
            raise ValueError(f"analysis.exhibits.{name}: macros already defined: {sorted(clash)}")
        macros.update(built)
    write_text(NUMBERS, render(macros))


if __name__ == "__main__":
    cli.run(main, "exhibits")
