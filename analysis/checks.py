"""Data sanity checks: ``python -m analysis.checks`` lists every suspicious county-year of the panel.

Three checks, with bounds fixed here (independent of the sample rules, so loosening a rule cannot
hide a county-year from the list):

* ``zero_index``: no index crime counted (no reporting, or a county too small to measure a rate);
* ``index_jump``: index crimes change more than INDEX_JUMP_MAX-fold from the previous year (or from
  or to zero);
* ``rate_index``: more than RATE_INDEX_MAX index crimes per 100,000 residents (one per five
  residents: a tiny population or agencies allocated to the wrong county).

Each listed county-year says which rule of the main sample drops it (``handled_by``). Writes
data_clean/sanity_checks.csv and stops with exit code 1, naming the county-years, if a flagged
county-year is in the main sample and not in KNOWN (each entry with its reason).
"""

from __future__ import annotations

import sys

import pandas as pd

from analysis.config import SANITY_CHECKS
from analysis.infra import cli
from analysis.infra.atomic import write_csv
from analysis.sample import dropped_by, read_panel

INDEX_JUMP_MAX = 5
RATE_INDEX_MAX = 20_000
CHECKS = {
    "zero_index": ("index", lambda p: p["index"] == 0),
    "index_jump": ("index_jump", lambda p: p["index_jump"] > INDEX_JUMP_MAX),
    "rate_index": ("rate_index", lambda p: p["rate_index"] > RATE_INDEX_MAX),
}
# (check, fips, year) -> why the main sample keeps a flagged county-year. Empty: none is kept.
KNOWN: dict[tuple[str, str, int], str] = {}
COLUMNS = [
    "check",
    "fips",
    "county_name",
    "state",
    "year",
    "value",
    "index",
    "population",
    "covind",
    "cov_ratio",
    "in_main",
    "handled_by",
]


def sanity_checks(panel: pd.DataFrame, sample: str = "main") -> pd.DataFrame:
    """One row per flagged county-year and check; ``handled_by`` = the rule of ``sample`` that drops
    it ('' if the sample keeps it), ``in_main`` = the sample keeps it."""
    rule = dropped_by(panel, sample)
    frames = []
    for check, (column, flag) in CHECKS.items():
        rows = panel[flag(panel).fillna(False).astype(bool)]
        frames.append(
            rows.assign(
                check=check,
                value=rows[column].astype(float),
                handled_by=rule[rows.index],
                in_main=rule[rows.index] == "",
            )
        )
    out = pd.concat(frames, ignore_index=True)[COLUMNS]
    order = {c: i for i, c in enumerate(CHECKS)}
    return out.sort_values(
        ["check", "fips", "year"], key=lambda s: s.map(order) if s.name == "check" else s
    ).reset_index(drop=True)


def unhandled(checks: pd.DataFrame) -> pd.DataFrame:
    """The flagged county-years the sample keeps that KNOWN does not explain."""
    kept = checks[checks["in_main"]]
    known = [(c, f, int(y)) in KNOWN for c, f, y in zip(kept["check"], kept["fips"], kept["year"])]
    return kept[[not k for k in known]]


def main() -> int:
    """Write data_clean/sanity_checks.csv; print counts per check and rule; 1 if any is unhandled."""
    panel = read_panel()
    checks = sanity_checks(panel)
    write_csv(checks, SANITY_CHECKS)
    summary = (
        checks.assign(handled_by=checks["handled_by"].replace("", "(kept in main)"))
        .groupby(["check", "handled_by"])
        .agg(county_years=("fips", "size"), counties=("fips", "nunique"))
    )
    print(
        f"{SANITY_CHECKS.name}: {len(checks)} flagged county-years "
        f"(bounds: index jump > {INDEX_JUMP_MAX}x, rate > {RATE_INDEX_MAX:,} per 100,000)"
    )
    print(summary.to_string())
    bad = unhandled(checks)
    if len(bad):
        listed = "; ".join(f"{r.check} {r.fips} {r.county_name} {r.state} {r.year}" for r in bad.itertuples())
        print(
            f"error: {len(bad)} flagged county-years are in the main sample and not explained in "
            f"analysis/checks.py KNOWN: {listed}",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    cli.run(main, "checks")
