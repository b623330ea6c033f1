"""Results a student can use: every spec's tables in one tidy format, read by spec name.

``load("sc_index")`` finds results/sc_index/ (a paper spec) or myspecs/results/<name>/ (a spec of
the user workspace) and returns a :class:`SpecResults` with the spec as it was run and every table
(analysis.estimate documents the files; analysis.estimators.tidy the columns: the same event-study
columns for every estimator). ``from_run(spec, tables)`` wraps the tables of
``analysis.estimate.run_spec`` run in memory, so the plot and table helpers (analysis.report) take
either.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from analysis.infra.errors import InputError
from analysis.infra.yamlfile import read_yaml
from analysis.spec import DEFAULTS, load_spec
from analysis.workspace import results_folder


@dataclass
class SpecResults:
    """One spec's results: ``name``, the ``spec`` as run (a dict of fields), ``tables`` (file stem ->
    DataFrame) and the ``folder`` they were read from (None when run in memory)."""

    name: str
    spec: dict
    tables: dict[str, pd.DataFrame] = field(repr=False)
    folder: Path | None = None

    @property
    def label(self) -> str:
        """The spec's short label (its ``label`` field, else its name)."""
        return str(self.spec.get("label") or self.name)

    def table(self, stem: str) -> pd.DataFrame:
        """One table; KeyError names the tables there are."""
        if stem not in self.tables:
            raise KeyError(f"{self.name} has no {stem} table (has: {', '.join(sorted(self.tables))})")
        return self.tables[stem]

    @property
    def overall(self) -> pd.DataFrame:
        """overall.csv indexed by estimator (estimate, se, ci_low, ci_high, pvalue, n_obs, ...)."""
        return self.table("overall").set_index("estimator")

    @property
    def event_study(self) -> pd.DataFrame:
        """event_study.csv: estimator, event_time, estimate, se, ci_low, ci_high, cband_low, cband_high, pvalue."""
        return self.table("event_study")


def _spec_of(folder: Path) -> dict:
    """The spec copy in a results folder (its fields with defaults; checks skipped if it no longer loads)."""
    path = folder / "spec.yaml"
    if not path.exists():
        return {**DEFAULTS, "name": folder.name, "label": folder.name}
    try:
        return load_spec(path, stem=folder.name)
    except InputError:
        data, _ = read_yaml(path, dict, "a mapping of fields")
        return {**DEFAULTS, "label": folder.name, **data, "name": folder.name}


def load(name: str | Path) -> SpecResults:
    """The results of the spec ``name`` (paper or user workspace), of a spec file, or of a results folder."""
    folder = results_folder(name)
    if not (folder / "overall.csv").exists():
        raise FileNotFoundError(f"{folder} has no overall.csv: run the spec first (make estimates / make mine)")
    tables = {p.stem: pd.read_csv(p, dtype={"id": str}) for p in sorted(folder.glob("*.csv"))}
    return SpecResults(name=folder.name, spec=_spec_of(folder), tables=tables, folder=folder)


def from_run(spec: dict, tables: dict[str, pd.DataFrame]) -> SpecResults:
    """Wrap the tables of ``analysis.estimate.run_spec(spec, panel)`` (nothing written)."""
    return SpecResults(name=spec["name"], spec=spec, tables=tables)


def get(item) -> SpecResults:
    """``item`` itself if it is a SpecResults, else load(item)."""
    return item if isinstance(item, SpecResults) else load(item)
