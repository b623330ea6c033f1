"""Run specifications: ``python -m analysis.estimate SPEC.yaml ...`` writes results/<name>/.

Each spec folder holds overall.csv (one row per estimator or aggregation), attgt.csv (Callaway–
Sant'Anna group-time ATTs), event_study.csv and event_vcov.csv (long: estimator, event_time,
event_time_2, cov; only the header when no event study has a covariance), pretest.csv, bacon.csv,
honest.csv and dropped.csv (what each estimator dropped and why) and sample_log.csv (the sample
rules' drops). Rows are sorted and floats written with 10 significant digits, so two runs are
byte-identical; the folder is written to a temporary name and renamed.

Weights 'population' are each county's population in its first sample year (time-invariant, as
Callaway–Sant'Anna requires), used by every estimator (Bacon decomposes the weighted TWFE; PPML
weights the likelihood on top of the population exposure, i.e. by about population squared).
Cluster 'county' = fips, 'state' = state_fips.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from analysis.atomic import atomic_dir
from analysis.config import PANEL, RESULTS
from analysis.errors import InputError
from analysis.estimators import bacon, cs, honest, imputation, ppml, sunab, twfe, wild
from analysis.estimators.tidy import normal_inference
from analysis.design import design_sample
from analysis.spec import load_spec, outcome_column, validate_spec
from analysis import cli

UNIT, TIME = "fips", "year"
CLUSTER = {"county": "fips", "state": "state_fips"}
FLOAT = "%.10g"
VCOV_COLUMNS = ["estimator", "event_time", "event_time_2", "cov"]


TARGETS = {"simple": "cohort-size weighted average of post-period ATT(g,t)",
           "group": "cohort-share weighted average of each cohort's average effect",
           "dynamic": "average of event-time effects 0..hi", "calendar": "average over years of each year's effect"}


def _cs_rows(spec, res: cs.AttGtResult) -> tuple[list[dict], pd.DataFrame, pd.DataFrame, dict]:
    """Overall rows (one per aggregation), the event-study table and its covariance, and the joint
    test of the event-study leads, for cs."""
    rows, (lo, hi) = [], spec["event_window"]
    for kind in cs.KINDS:
        agg = cs.aggregate(res, kind, min_e=lo, max_e=hi) if kind == "dynamic" else cs.aggregate(res, kind)
        inference = {k: float(v) for k, v in normal_inference(agg.overall_att, agg.overall_se, res.alpha).items()}
        rows.append({"estimator": f"cs_{kind}", "estimate": agg.overall_att, "se": agg.overall_se, **inference,
                     "n_obs": res.n_obs, "n_units": len(res.units), "n_clusters": int(res.cluster.max() + 1),
                     "target": TARGETS[kind]})
        if kind == "dynamic":
            event = agg.table.rename(columns={"element": "event_time", "att": "estimate"})
            event = event.assign(pvalue=normal_inference(event["estimate"], event["se"], res.alpha)["pvalue"])
            vcov = pd.DataFrame(agg.vcov, index=event["event_time"], columns=event["event_time"])
            leads = cs.pretest_leads(agg)
    return rows, event, vcov, leads


def run_spec(spec: dict, panel: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Every estimator of ``spec`` on ``panel``: tidy tables keyed by output file stem."""
    validate_spec(spec, panel.columns)
    df, sample_log = design_sample(panel, spec)
    y, g, cluster = outcome_column(spec), spec["treatment"], CLUSTER[spec["cluster"]]
    weights = None
    if spec["weights"] == "population":
        df = df.assign(_w=df.sort_values(TIME).groupby(UNIT)["population"].transform("first"))
        weights = "_w"
    overall, events, vcovs, dropped, out = [], {}, {}, [], {}
    ests = spec["estimators"]
    if "cs" in ests:
        res = cs.att_gt(df, y, TIME, UNIT, g, control_group=spec["control_group"], covariates=spec["covariates"] or None,
                        weights=weights, cluster=cluster, base_period=spec["base_period"],
                        anticipation=spec["anticipation"], bootstrap=spec["bootstrap"], seed=spec["seed"])
        rows, events["cs"], vcovs["cs"], leads = _cs_rows(spec, res)
        overall += rows
        out["attgt"] = res.table
        out["pretest"] = pd.DataFrame([cs.pretest(res), leads])
        dropped.append(res.dropped.assign(estimator="cs"))
    common = dict(weights=weights, cluster=cluster)
    fits = {
        "twfe": lambda: twfe.static(df, y, UNIT, TIME, g, **common),
        "twfe_trends": lambda: twfe.static(df, y, UNIT, TIME, g, trends=True, **common),
        "event_twfe": lambda: twfe.event_study(df, y, UNIT, TIME, g, window=tuple(spec["event_window"]), **common),
        "sunab": lambda: sunab.sunab(df, y, UNIT, TIME, g, control_group=spec["control_group"], **common),
        "imputation": lambda: imputation.imputation(df, y, UNIT, TIME, g, **common),
        "ppml": lambda: ppml.ppml(df, y, UNIT, TIME, g, **common),
        "wild": lambda: wild.wild(df, y, UNIT, TIME, g, cluster=cluster, weights=weights, seed=spec["seed"]),
    }
    for name in [e for e in ests if e in fits]:
        fit = fits[name]()
        overall.append(fit.summary)
        dropped.append(fit.dropped.assign(estimator=name))
        if fit.event is not None:
            events[name], vcovs[name] = fit.event, fit.vcov
    if "bacon" in ests:
        fit, out["bacon"] = bacon.bacon(df, y, UNIT, TIME, g, weights=weights)
        overall.append(fit.summary)
        dropped.append(fit.dropped.assign(estimator="bacon"))
    if "honest" in ests:
        source = "cs" if "cs" in ests else "event_twfe"
        out["honest"] = pd.concat([honest.honest(events[source], vcovs[source], method).assign(source=source)
                                   for method in honest.GRIDS])
    out["overall"] = pd.DataFrame(overall).sort_values("estimator")
    if events:
        out["event_study"] = pd.concat([e.assign(estimator=k) for k, e in events.items()])
        long = [v.rename_axis(index="event_time", columns="event_time_2").stack().rename("cov").reset_index()
                .assign(estimator=k) for k, v in vcovs.items() if v is not None]
        out["event_vcov"] = pd.concat(long) if long else pd.DataFrame(columns=VCOV_COLUMNS)
    out["sample_log"] = sample_log
    out["dropped"] = pd.concat(dropped, ignore_index=True)
    return {k: _tidy(v) for k, v in out.items()}


def _tidy(frame: pd.DataFrame) -> pd.DataFrame:
    """Estimator (or source) first, rows sorted by every column: a deterministic table."""
    lead = [c for c in ("estimator", "source") if c in frame.columns]
    frame = frame[lead + [c for c in frame.columns if c not in lead]]
    return frame.sort_values(list(frame.columns), kind="stable").reset_index(drop=True)


def write_results(name: str, tables: dict[str, pd.DataFrame], root: Path = RESULTS) -> Path:
    """Write ``tables`` as CSVs into root/<name>/, replacing the folder atomically (analysis.atomic)."""
    target = root / name
    with atomic_dir(target) as tmp:
        for stem, frame in tables.items():
            frame.to_csv(tmp / f"{stem}.csv", index=False, lineterminator="\n", float_format=FLOAT)
    return target


def main(paths: list[str]) -> int:
    """Validate every spec first, then run and write each; exit 1 on bad input, writing nothing."""
    try:
        specs = [load_spec(p) for p in paths]
        if not PANEL.exists():
            raise InputError(PANEL, "the county panel is not built yet (make panel)")
        panel = pd.read_parquet(PANEL)
        for spec in specs:
            validate_spec(spec, panel.columns)
    except InputError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    for spec in specs:
        print(write_results(spec["name"], run_spec(spec, panel), root=RESULTS))
    return 0


if __name__ == "__main__":
    cli.run(lambda: main(sys.argv[1:]), "estimate")
