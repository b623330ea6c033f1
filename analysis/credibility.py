"""Credibility designs that loop over the headline specs (#12 §3): ``python -m analysis.credibility``.

For each program's headline spec (HEADLINE: us_287g_index, sc_index) the static TWFE and the
Callaway-Sant'Anna simple ATT (``cs_simple``) are re-estimated through ``analysis.estimate.run_spec``:

* ``placebo``: every treated county's adoption moved PLACEBO_SHIFT years earlier and only its years
  before the true adoption used, so the true effect is zero by construction and an estimate far from
  0 is a pre-trend. TWFE drops the county-years from the true adoption on; CS (diff-diff needs a
  balanced panel) keeps them but averages the placebo event times 0..PLACEBO_SHIFT-1 only
  (``cs_dynamic``), cells that use no year from the true adoption on. The county-years are the
  headline design's (named sample and clean-control rule on the true timing), chosen before the
  shift; the runs then use the sample ``cov_pos`` (COVIND > 0), which keeps every one (checked).
* ``drop_largest``: the headline design without its largest treated county (by first-year population),
  a spec ``sample_rules: {counties_exclude: [...]}``.
* ``loco``: leave one cohort out: the design without the counties of each adoption cohort of the
  window in turn (analytic CS standard errors, as for loso).
* ``loso``: leave one state out: the design without each state of the sample in turn
  (``sample_rules: {states_exclude: [...]}``), analytic CS standard errors (influence function, no
  bootstrap) since only the range of the point estimates is reported.

* ``sdid``: synthetic difference-in-differences (analysis/estimators/sdid.py, diff-diff) cohort by
  cohort on the headline design's county-years (controls untreated through the last year used), the
  cohort ATTs averaged with the CS simple-ATT weights; estimator ``sdid`` (the aggregate, conservative
  SE) and ``sdid_largest`` (the cohort with most treated counties, its jackknife SE).

Placebo and drop_largest keep the headline spec's CS bootstrap (same kind of SE as the main table).
Writes results/credibility/estimates.csv (program, design, detail, estimator, estimate, se, ci_low,
ci_high, n_obs, n_units), results/credibility/loso.csv (program, state, estimator, estimate, se,
n_obs, n_units), results/credibility/loco.csv (program, cohort, the same columns) and
results/credibility/sdid.csv (program, cohort, estimate, se, ci_low, ci_high, n_treated, n_control,
n_post, n_obs, n_units).
"""

from __future__ import annotations

import sys
import time
import warnings

import pandas as pd

from analysis.config import LAST_YEAR, RESULTS, SPECS
from analysis.design import design_sample
from analysis.estimate import FLOAT, prepare, run_spec
from analysis.estimators import registry, sdid
from analysis.infra import cli
from analysis.infra.atomic import write_text
from analysis.sample import read_panel
from analysis.spec import load_spec, outcome_column

HEADLINE = {"287g": "us_287g_index", "sc": "sc_index"}
ESTIMATORS = ["twfe", "cs"]
PLACEBO_SHIFT = 3
PASS_SAMPLE = "cov_pos"  # COVIND > 0, unbalanced: keeps every county-year of a main-sample design
COLUMNS = ["program", "design", "detail", "estimator", "estimate", "se", "ci_low", "ci_high", "n_obs", "n_units"]
FOLDER = RESULTS / "credibility"


def headline(program: str) -> dict:
    """The program's headline spec, limited to the loop estimators."""
    spec = load_spec(SPECS / f"{HEADLINE[program]}.yaml")
    return {**spec, "estimators": ESTIMATORS}


def summary(tables: dict) -> pd.DataFrame:
    """The twfe and cs_simple rows of a run's overall table."""
    o = tables["overall"]
    return o[o["estimator"].isin([registry.get(e).primary for e in ESTIMATORS])][
        ["estimator", "estimate", "se", "ci_low", "ci_high", "n_obs", "n_units"]
    ]


def placebo_rows(df: pd.DataFrame, treatment: str, shift: int, last: int = LAST_YEAR) -> pd.DataFrame:
    """``df`` with every in-window adoption year g (0 < g <= last) moved to g - shift and the county's
    rows from g on dropped; never- and not-yet-treated counties unchanged. A county whose placebo year
    falls before its first row keeps its shifted date (it is treated throughout its remaining rows)."""
    g = df[treatment]
    treated = (g > 0) & (g <= last)
    keep = ~treated | (df["year"] < g)
    out = df[keep].copy()
    out[treatment] = out[treatment].where(~treated[keep], out[treatment] - shift)
    return out


def shifted(df: pd.DataFrame, treatment: str, shift: int, last: int = LAST_YEAR) -> pd.DataFrame:
    """``df`` (every row kept) with every in-window adoption year moved ``shift`` years earlier."""
    g = df[treatment]
    return df.assign(**{treatment: g.where(~((g > 0) & (g <= last)), g - shift)})


def placebo(spec: dict, panel: pd.DataFrame, shift: int = PLACEBO_SHIFT) -> tuple[pd.DataFrame, int]:
    """The placebo runs of ``spec`` on its design's county-years with adoption moved ``shift`` years
    earlier: TWFE on the rows before each county's true adoption (placebo_rows); CS on every row but
    aggregated over placebo event times 0..shift-1 only (cs_dynamic with event window [-5, shift-1]), the
    cells whose post and base years all lie before the true adoption (diff-diff's CS needs a balanced
    panel, so rows cannot be dropped). Returns (summary rows, treated counties with a placebo year)."""
    rows, _ = design_sample(panel, spec)
    base = {**spec, "sample": PASS_SAMPLE, "clean_controls": [], "sample_rules": {}}
    truncated = placebo_rows(rows, spec["treatment"], shift)
    twfe = run_spec({**base, "name": f"{spec['name']}_placebo_twfe", "estimators": ["twfe"]}, truncated)
    cs = run_spec(
        {**base, "name": f"{spec['name']}_placebo_cs", "estimators": ["cs"], "event_window": [-5, shift - 1]},
        shifted(rows, spec["treatment"], shift),
    )
    for tables in (twfe, cs):
        log = tables["sample_log"]
        lost = int(log.loc[log["stage"] == f"sample_{PASS_SAMPLE}", "dropped_rows"].sum())
        if lost:
            raise ValueError(
                f"placebo of {spec['name']}: sample {PASS_SAMPLE} dropped {lost} of the design's county-years"
            )
    o = cs["overall"]
    out = pd.concat([summary(twfe), o[o["estimator"] == "cs_dynamic"][summary(twfe).columns]], ignore_index=True)
    g = rows.groupby("fips")[spec["treatment"]].first()
    return out, int(((g > 0) & (g <= LAST_YEAR)).sum())


def largest(rows: pd.DataFrame, treatment: str, last: int = LAST_YEAR) -> tuple[str, str]:
    """(fips, "County, ST") of the county of ``rows`` adopting in the window (0 < g <= last) with the
    largest first-year population."""
    first = rows.sort_values("year").groupby("fips").first()
    treated = first[(first[treatment] > 0) & (first[treatment] <= last)]
    if treated.empty:
        raise ValueError(f"no county adopts {treatment} in the window")
    top = treated["population"].idxmax()
    return str(top), f"{treated.loc[top, 'county_name']}, {treated.loc[top, 'state']}"


def largest_treated(spec: dict, panel: pd.DataFrame) -> tuple[str, str]:
    """The largest treated county of ``spec``'s design (``largest`` of its county-years)."""
    rows, _ = design_sample(panel, spec)
    return largest(rows, spec["treatment"])


def states(spec: dict, panel: pd.DataFrame) -> list[str]:
    """The states (USPS codes) with a county in ``spec``'s design: counties with a treatment date (or
    none, 0), not those the estimators drop for a missing one (SC: AK and HI have no activation date, so
    leaving them out changed nothing and added the headline twice to the range)."""
    rows, _ = design_sample(panel, spec)
    return sorted(rows.loc[rows[spec["treatment"]].notna(), "state"].unique())


def loso(spec: dict, panel: pd.DataFrame, program: str) -> pd.DataFrame:
    """Leave-one-state-out estimates: one row per state and estimator (analytic CS SEs)."""
    out = []
    for state in states(spec, panel):
        run = {
            **spec,
            "name": f"{spec['name']}_no_{state}",
            "bootstrap": 0,
            "sample_rules": {**spec["sample_rules"], "states_exclude": [state]},
        }
        out.append(summary(run_spec(run, panel)).assign(program=program, state=state))
    return pd.concat(out, ignore_index=True)[["program", "state", "estimator", "estimate", "se", "n_obs", "n_units"]]


def loco(spec: dict, panel: pd.DataFrame, program: str) -> pd.DataFrame:
    """Leave-one-cohort-out estimates: the design without the counties of each adoption cohort of the
    window in turn (``sample_rules: {counties_exclude: [...]}``); one row per cohort and estimator."""
    rows, _ = design_sample(panel, spec)
    g = rows.groupby("fips")[spec["treatment"]].first()
    out = []
    for cohort in sorted(int(c) for c in g[(g > 0) & (g <= LAST_YEAR)].unique()):
        run = {
            **spec,
            "name": f"{spec['name']}_no_{cohort}",
            "bootstrap": 0,
            "sample_rules": {**spec["sample_rules"], "counties_exclude": sorted(g.index[g == cohort])},
        }
        out.append(summary(run_spec(run, panel)).assign(program=program, cohort=cohort))
    return pd.concat(out, ignore_index=True)[["program", "cohort", "estimator", "estimate", "se", "n_obs", "n_units"]]


def sdid_design(spec: dict, panel: pd.DataFrame, program: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """SDID of ``spec``'s design: the summary rows (sdid, sdid_largest) and one row per cohort."""
    df, _, design = prepare(spec, panel)
    g = spec["treatment"]
    start = time.perf_counter()
    cohorts = sdid.by_cohort(df, outcome_column(spec), "fips", "year", g, seed=spec["seed"], weights=design["weights"])
    print(f"sdid {program}: {len(cohorts)} cohorts in {time.perf_counter() - start:.0f} s", file=sys.stderr)
    cohorts = cohorts.assign(program=program)
    agg = sdid.aggregate(cohorts)
    end = sdid.window_end(df[df[g].notna()], "fips", "year", g)
    timing = pd.to_numeric(df[g], errors="coerce")
    used = df[(df["year"] <= end) & (timing.isin(agg["cohorts"]) | (timing == 0) | (timing > end))]
    left = f"; cohorts of one county left out: {', '.join(map(str, agg['left_out']))}" if agg["left_out"] else ""
    top = sdid.largest(cohorts)
    rows = pd.DataFrame(
        [
            {
                "estimator": "sdid",
                **{k: agg[k] for k in ("estimate", "se", "ci_low", "ci_high")},
                "n_obs": len(used),
                "n_units": used["fips"].nunique(),
                "detail": f"cohorts {min(agg['cohorts'])}-{max(agg['cohorts'])} aggregated, years to {end}{left}",
            },
            {
                "estimator": "sdid_largest",
                **{k: top[k] for k in ("estimate", "se", "ci_low", "ci_high", "n_obs", "n_units")},
                "detail": f"cohort {int(top['cohort'])} ({int(top['n_treated'])} counties), years to {end}",
            },
        ]
    )
    return rows.assign(design="sdid", program=program), cohorts


def program_rows(program: str, panel: pd.DataFrame) -> tuple[pd.DataFrame, ...]:
    """The placebo, drop-largest and SDID rows of one program, its leave-one-state-out and
    leave-one-cohort-out tables and its SDID cohort rows."""
    spec = headline(program)
    rows, n_placebo = placebo(spec, panel)
    out = [
        rows.assign(design="placebo", detail=f"adoption {PLACEBO_SHIFT} years earlier; {n_placebo} treated counties")
    ]
    fips, name = largest_treated(spec, panel)
    run = {
        **spec,
        "name": f"{spec['name']}_no_largest",
        "sample_rules": {**spec["sample_rules"], "counties_exclude": [fips]},
    }
    out.append(summary(run_spec(run, panel)).assign(design="drop_largest", detail=f"without {name} ({fips})"))
    synthetic, cohorts = sdid_design(spec, panel, program)
    out.append(synthetic)
    table = pd.concat(out, ignore_index=True).assign(program=program)[COLUMNS]
    return table, loso(spec, panel, program), loco(spec, panel, program), cohorts


def main() -> int:
    """Both programs; results/credibility/estimates.csv, loso.csv and loco.csv."""
    panel = read_panel()
    est, loo, lco, syn = [], [], [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the headline specs' own runs report their warnings
        for program in HEADLINE:
            e, l_, c_, s_ = program_rows(program, panel)
            est.append(e)
            loo.append(l_)
            lco.append(c_)
            syn.append(s_)
    syn = pd.concat(syn)[
        [
            "program",
            "cohort",
            "estimate",
            "se",
            "ci_low",
            "ci_high",
            "n_treated",
            "n_control",
            "n_post",
            "n_obs",
            "n_units",
        ]
    ]
    for name, frame in (
        ("loso", pd.concat(loo)),
        ("loco", pd.concat(lco)),
        ("sdid", syn),
        ("estimates", pd.concat(est)),
    ):
        write_text(FOLDER / f"{name}.csv", frame.to_csv(index=False, lineterminator="\n", float_format=FLOAT))
    print(FOLDER / "estimates.csv")
    return 0


if __name__ == "__main__":
    cli.run(main, "credibility")
