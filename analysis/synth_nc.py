"""Synthetic control for the North Carolina 287(g) counties (#12 §3): ``python -m analysis.synth_nc``.

The designs of the specs OUTCOME_SPECS (sample ``nc``, treatment ``g287_any``, the index, violent and
property crime rates per 100,000, 2000-2012; analysis.estimate.prepare builds their county-years) are
fitted county by county through analysis/estimators/synth.py: never-treated NC counties as donors,
in-space placebo p-values, and the equal-weight average of the county ATTs with its placebo p-value
(seed: the spec's). Each outcome costs about 10 s of placebo fits. Writes
results/credibility/synth_nc.csv, per outcome one row per treated county and an ``all`` row for the
average (its n_placebos is the number of draws), and results/credibility/synth_nc_gaps.csv, the gap
path of every county and of each of its placebos (outcome; design: the treated county; fips: the
unit fitted; treated: whether it is the treated county).
"""

from __future__ import annotations

import sys

import pandas as pd

from analysis.config import RESULTS, SPECS
from analysis.estimate import FLOAT, prepare
from analysis.estimators import synth
from analysis.infra import cli
from analysis.infra.atomic import write_text
from analysis.sample import read_panel
from analysis.spec import load_spec, outcome_column

OUTCOME_SPECS = ("nc_287g_index", "nc_287g_violent", "nc_287g_property")
SPEC = OUTCOME_SPECS[0]  # the headline outcome (index crimes): the county table and the gap figure
OUT = RESULTS / "credibility" / "synth_nc.csv"
GAPS = RESULTS / "credibility" / "synth_nc_gaps.csv"
COLUMNS = ["outcome", "fips", "county", *synth.COLUMNS[1:], "n_placebos", "placebos_exact", "top_donors"]


def table(spec: dict, panel: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The per-county rows and the aggregate row of ``spec``'s design, and the gap paths."""
    df, _, _ = prepare(spec, panel)
    y = outcome_column(spec)
    fits, left = synth.by_county(df, y, "fips", "year", spec["treatment"])
    if left:
        listed = ", ".join(f"{u} ({g}: {why})" for u, g, why in left)
        print(f"synth_nc: treated counties left out: {listed}", file=sys.stderr)
    names = df.groupby("fips")["county_name"].first()
    rows = [
        {**f["row"], "county": names[f["row"]["fips"]], "top_donors": synth.top_donors(f["weights"], names)}
        for f in fits
    ]
    agg = synth.aggregate(
        [f["row"]["att"] for f in fits], [f["placebo_att"].to_numpy() for f in fits], seed=spec["seed"]
    )
    rows.append(
        {
            "fips": "all",
            "county": f"Average of {len(fits)} counties (equal weights)",
            "att": agg["att"],
            "p_value": agg["p_value"],
            "n_placebos": agg["draws"],
        }
    )
    gaps = pd.concat([f["gaps"].assign(design=f["row"]["fips"]) for f in fits], ignore_index=True)
    return (
        pd.DataFrame(rows).assign(outcome=spec["outcome"]).reindex(columns=COLUMNS),
        gaps.assign(outcome=spec["outcome"])[["outcome", "design", "fips", "year", "gap", "treated"]],
    )


def main() -> int:
    panel = read_panel()
    tables = [table(load_spec(SPECS / f"{stem}.yaml"), panel) for stem in OUTCOME_SPECS]
    out = pd.concat([t for t, _ in tables], ignore_index=True)
    gaps = pd.concat([g for _, g in tables], ignore_index=True)
    write_text(GAPS, gaps.to_csv(index=False, lineterminator="\n", float_format=FLOAT))
    write_text(OUT, out.to_csv(index=False, lineterminator="\n", float_format=FLOAT))
    print(OUT)
    return 0


if __name__ == "__main__":
    cli.run(main, "synth_nc")
