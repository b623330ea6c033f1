"""Read the results and data the exhibits need, failing loudly when one is missing.

Every exhibit module reads its inputs through here, so ``make exhibits`` stops with a
:class:`MissingResult` that names the missing file (or the missing estimator/column inside
it) instead of silently leaving a figure, table or macro out.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from analysis import config
from analysis.infra.errors import StopBuild


class MissingResult(FileNotFoundError, StopBuild):
    """An input of the exhibits is missing: the message names the file and how to make it."""


def require(path: Path) -> Path:
    """``path`` if it exists; otherwise raise MissingResult naming it."""
    path = Path(path)
    if not path.is_file():
        try:
            shown = path.relative_to(config.ROOT)
        except ValueError:
            shown = path
        raise MissingResult(
            f"make exhibits needs {shown}, which is missing (run `make estimates` / `make panel` first)"
        )
    return path


def read_csv(path: Path, columns: list[str] | None = None) -> pd.DataFrame:
    """A required CSV; with ``columns``, each must be present (MissingResult names the absent ones)."""
    df = pd.read_csv(require(path))
    absent = [c for c in columns or [] if c not in df.columns]
    if absent:
        raise MissingResult(f"{path}: missing column(s) {absent}")
    return df


def result(spec: str, stem: str, columns: list[str] | None = None) -> pd.DataFrame:
    """``results/<spec>/<stem>.csv``."""
    return read_csv(config.RESULTS / spec / f"{stem}.csv", columns)


OVERALL_COLUMNS = ["estimator", "estimate", "se", "ci_low", "ci_high", "pvalue", "n_obs", "n_units", "n_clusters"]


def overall(spec: str) -> pd.DataFrame:
    """``results/<spec>/overall.csv`` indexed by estimator."""
    return result(spec, "overall", OVERALL_COLUMNS).set_index("estimator")


def estimate(spec: str, estimator: str) -> pd.Series:
    """One row of ``results/<spec>/overall.csv``; MissingResult if the estimator was not run."""
    table = overall(spec)
    if estimator not in table.index:
        raise MissingResult(
            f"results/{spec}/overall.csv has no estimator {estimator!r} (has: {', '.join(table.index)})"
        )
    return table.loc[estimator]


def spec(name: str) -> dict:
    """The loaded specification behind ``results/<name>`` (analysis/specs/<name>.yaml)."""
    from analysis.spec import load_spec

    return load_spec(require(config.SPECS / f"{name}.yaml"))


def panel() -> pd.DataFrame:
    """The county x year panel."""
    return pd.read_parquet(require(config.PANEL))


def main_sample() -> pd.DataFrame:
    """The main estimation sample (in_main county-years)."""
    df = panel()
    return df[df["in_main"]].copy()
