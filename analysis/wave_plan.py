"""Run the pre-analysis plan of the 2025-2026 287(g) wave: ``make wave-estimate``.

``python -m analysis.wave_plan [--plan analysis/plans/wave_2025.yaml]`` reads the plan (data, fixed
before any outcome exists), checks that county crime data for every required year are listed in
data_raw/manifest.csv and present with their checksums, builds the county x year panel from them and
the wave timing (data_clean/wave_287g_timing.parquet), applies the plan's sample rules (every drop
counted), and estimates: the primary within-state TWFE (county and state x year fixed effects, the
coefficient on D_it) on the log index-crime rate with county-clustered standard errors, the two
secondary outcomes with Holm-adjusted p-values, and as robustness, not tested, the Callaway-Sant'Anna
simple ATT (never-treated controls, state-clustered multiplier bootstrap) and the imputation estimator
with the primary's fixed effects. Results go to results/wave_plan/
(estimates.csv, sample_log.csv, dropped.csv, plan.yaml as run), written atomically.

Until the crime data exist the command stops (exit 1) with one message naming the years, the source,
the expected file format and how to add the files to the manifest. No option changes a field of the
plan; ``--raw-dir``, ``--manifest``, ``--timing`` and ``--out`` only say where files are (tests).
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from statsmodels.stats.multitest import multipletests

from analysis.config import DATA_RAW, MANIFEST, RESULTS, ROOT, WAVE_TIMING
from analysis.estimators import cs, imputation, twfe
from analysis.estimators.tidy import normal_inference
from analysis.infra import cli
from analysis.infra.atomic import atomic_dir
from analysis.infra.errors import InputError, StopBuild
from analysis.infra.manifest import read_manifest, sha256_of
from analysis.infra.yamlfile import read_yaml
from analysis.spec import check_estimator_names

PLAN = ROOT / "analysis" / "plans" / "wave_2025.yaml"
OUT = RESULTS / "wave_plan"
REQUIRED = {
    "name": str,
    "description": str,
    "treatment": dict,
    "control_group": str,
    "primary_outcome": str,
    "secondary_outcomes": list,
    "transform": str,
    "years": dict,
    "sample_rules": dict,
    "estimator": str,
    "fixed_effects": list,
    "cluster": str,
    "alpha": float,
    "multiple_testing": dict,
    "robustness": dict,
    "data": dict,
}
WITHIN_STATE = ["county", "state^year"]  # the only fixed effects this runner implements
CS_FIELDS = {
    "estimator": str,
    "control_group": str,
    "est_method": str,
    "anticipation": int,
    "base_period": str,
    "cluster": str,
    "bootstrap": int,
    "seed": int,
}
COLUMNS = ["fips", "year", "population", "index", "violent", "property", "covind"]
CLUSTER = {"state": "state_fips", "county": "fips"}
FLOAT = "%.10g"


class PlanDataMissing(RuntimeError, StopBuild):
    """The crime data the plan needs are not (all) in data_raw/: the message says what to add and how."""


def read_plan(path: Path = PLAN) -> dict:
    """The plan as a dict; InputError naming the field when one is missing or of the wrong type."""
    plan, lines = read_yaml(path, dict, "a mapping of plan fields")
    for field, kind in REQUIRED.items():
        if field not in plan:
            raise InputError(path, "missing (every field of the plan is required)", line=1, field=field)
        value = plan[field]
        if kind is float and isinstance(value, int):
            value = float(value)
        if not isinstance(value, kind) or isinstance(value, bool) and kind is int:
            raise InputError(
                path,
                f"must be a {kind.__name__}",
                line=lines.get(field) if isinstance(lines, dict) else None,
                field=field,
            )
    robust = plan["robustness"]
    check_estimator_names(
        path,
        lines,
        {
            "estimator": plan["estimator"],
            **{f"robustness.{k}": k for k in robust},  # each robustness entry is named by its overall.csv row
            **{
                f"robustness.{k}.estimator": v["estimator"]
                for k, v in robust.items()
                if isinstance(v, dict) and "estimator" in v
            },
        },
        rows=True,
    )
    if plan["estimator"] != "twfe" or plan["control_group"] != "never_treated":
        raise InputError(path, "this runner implements estimator twfe with never_treated controls", field="estimator")
    if plan["fixed_effects"] != WITHIN_STATE:
        raise InputError(path, f"this runner implements fixed_effects {WITHIN_STATE}", field="fixed_effects")
    robust = plan["robustness"]
    for name, spec in robust.items():
        if not isinstance(spec, dict) or spec.get("cluster") not in CLUSTER:
            raise InputError(
                path, f"robustness.{name}: a mapping with cluster one of {', '.join(CLUSTER)}", field="robustness"
            )
    if set(robust) != {"cs_simple", "imputation"}:
        raise InputError(
            path, "robustness must list cs_simple and imputation (this runner implements both)", field="robustness"
        )
    for field, kind in CS_FIELDS.items():
        if not isinstance(robust["cs_simple"].get(field), kind):
            raise InputError(path, f"robustness.cs_simple.{field} must be a {kind.__name__}", field="robustness")
    if robust["cs_simple"]["estimator"] != "cs_simple" or robust["cs_simple"]["control_group"] != "never_treated":
        raise InputError(
            path, "robustness.cs_simple: estimator cs_simple with never_treated controls", field="robustness"
        )
    if robust["imputation"].get("fixed_effects") != WITHIN_STATE:
        raise InputError(path, f"robustness.imputation.fixed_effects must be {WITHIN_STATE}", field="robustness")
    if plan["cluster"] not in CLUSTER:
        raise InputError(path, f"must be one of {', '.join(CLUSTER)}", field="cluster")
    if "{year}" not in plan["data"].get("path", ""):
        raise InputError(path, "data.path must contain {year}", field="data")
    return {**plan, "path": Path(path)}


def required_years(plan: dict) -> list[int]:
    """The years that must exist before the plan can run: pre-period start through the first post year."""
    return list(range(int(plan["years"]["first_year"]), int(plan["years"]["first_post_year"]) + 1))


def refusal(plan: dict, missing: list[int], manifest: Path) -> str:
    """The message of the stop: years, source, format, where the files go and how to list them."""
    data, years = plan["data"], required_years(plan)
    manifest = Path(manifest)
    manifest = manifest.relative_to(ROOT) if manifest.is_relative_to(ROOT) else manifest
    cols = "; ".join(f"{c} ({m})" for c, m in data["columns"].items())
    example = data["path"].format(year=missing[0])
    return (
        f"the plan {plan['name']} ({plan['path'].name}) needs county crime data for {years[0]}-{years[-1]} "
        f"(pre-period {years[0]}-{years[-2]}, first post-adoption year {years[-1]}; later years are used when "
        f"present); missing: {_span(missing)}. Source: {' '.join(data['source'].split())}. Format: one CSV per "
        f"year, data_raw/{data['path']}, header {','.join(data['columns'])}, one row per county: {cols}. "
        f"To add them: put each file under data_raw/ and add one row per file to {manifest} "
        f"(path e.g. {example}, its sha256 from `sha256sum`, bytes, url, source, licence, citation, "
        "redistribution, note), then rerun `make wave-estimate`."
    )


def _span(years: list[int]) -> str:
    """'2015-2025' for a run of consecutive years, else the list."""
    if years == list(range(years[0], years[-1] + 1)):
        return f"{years[0]}-{years[-1]}" if len(years) > 1 else str(years[0])
    return ", ".join(map(str, years))


def locate_data(plan: dict, raw_dir: Path = DATA_RAW, manifest: Path = MANIFEST) -> dict[int, Path]:
    """Year -> verified file for every required year and the consecutive later years listed; stops with
    the refusal if a required year is not listed or not present, or with the file named if a checksum
    differs from the manifest."""
    listed = {e.path: e for e in read_manifest(manifest)}
    pattern = re.compile(re.escape(plan["data"]["path"]).replace(r"\{year\}", r"(\d{4})") + "$")
    by_year = {int(m.group(1)): e for p, e in listed.items() if (m := pattern.match(p))}
    need = required_years(plan)
    missing = [y for y in need if y not in by_year or not (raw_dir / by_year[y].path).is_file()]
    if missing:
        raise PlanDataMissing(refusal(plan, missing, manifest))
    years = list(need)
    while years[-1] + 1 in by_year and (raw_dir / by_year[years[-1] + 1].path).is_file():
        years.append(years[-1] + 1)
    files = {}
    for y in years:
        path = raw_dir / by_year[y].path
        if sha256_of(path) != by_year[y].sha256:
            raise InputError(path, f"sha256 differs from {manifest}; fix the file or its manifest row", field="sha256")
        files[y] = path
    return files


def read_crime(files: dict[int, Path]) -> pd.DataFrame:
    """The county crime files as one frame; InputError naming file, line and field for a bad value."""
    frames = []
    for year, path in files.items():
        df = pd.read_csv(path, dtype={"fips": str})
        if list(df.columns) != COLUMNS:
            raise InputError(path, f"header must be {','.join(COLUMNS)}", line=1)
        for col in COLUMNS[1:]:
            values = pd.to_numeric(df[col], errors="coerce")
            bad = values.isna() | (values < 0) | ((values > 100) if col == "covind" else False)
            if bad.any():
                i = int(np.flatnonzero(bad.to_numpy())[0])
                raise InputError(
                    path,
                    f"'{df.at[i, col]}' is not a non-negative number" + (" up to 100" if col == "covind" else ""),
                    line=i + 2,
                    field=col,
                )
            df[col] = values
        checks = [
            (~df["fips"].str.fullmatch(r"\d{5}", na=False), "fips", "is not a 5-digit FIPS code"),
            (df["fips"].duplicated(), "fips", "repeats an earlier row"),
            (df["year"] != year, "year", f"differs from the file's year {year}"),
            (df["index"] != df["violent"] + df["property"], "index", "is not violent + property"),
            (df["population"] <= 0, "population", "must be positive"),
        ]
        for bad, field, what in checks:
            if bad.any():
                i = int(np.flatnonzero(bad.to_numpy())[0])
                raise InputError(path, f"'{df.at[i, field]}' {what}", line=i + 2, field=field)
        frames.append(df)
    return pd.concat(frames, ignore_index=True)


def _drop(df: pd.DataFrame, bad_county: pd.Series, rule: str, reason: str, log: list[dict]) -> pd.DataFrame:
    """Drop every county with a bad row; one log row with the counties and county-years removed."""
    counties = set(df.loc[bad_county.to_numpy(), "fips"])
    out = df[~df["fips"].isin(counties)]
    log.append(
        {
            "step": len(log) + 1,
            "rule": rule,
            "reason": reason,
            "counties_dropped": len(counties),
            "rows_dropped": len(df) - len(out),
            "counties_after": out["fips"].nunique(),
            "rows_after": len(out),
        }
    )
    return out


def build_sample(crime: pd.DataFrame, timing: pd.DataFrame, plan: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The estimation panel (fips, state, state_fips, year, g, log rates) and the sample log."""
    rules, log = plan["sample_rules"], []
    years = sorted(crime["year"].unique())
    df = crime.copy()
    log.append(
        {
            "step": 1,
            "rule": "read",
            "reason": f"county crime files {years[0]}-{years[-1]}",
            "counties_dropped": 0,
            "rows_dropped": 0,
            "counties_after": df["fips"].nunique(),
            "rows_after": len(df),
        }
    )
    t = timing.set_index("fips")
    df = _drop(
        df, ~df["fips"].isin(t.index), "unknown_county", "FIPS code not in the wave timing (2010 county codes)", log
    )
    df = df.assign(state=df["fips"].map(t["state"]).astype(str), state_fips=df["fips"].map(t["state_fips"]).astype(str))
    pre = t["adopted"] & ~t["wave_adopter"]
    df = _drop(
        df,
        df["fips"].map(pre),
        "pre_wave_adopters",
        "local 287(g) agreement before the wave start: treated pre-period",
        log,
    )
    first = df["fips"].map(t["first_year"].where(t["wave_adopter"])).astype("Float64")
    df = _drop(
        df,
        (first > years[-1]).fillna(False),
        "adopt_after_data",
        f"first local agreement after {years[-1]}, the last data year: not a clean control",
        log,
    )
    if "covind_min" in rules:
        df = _drop(
            df, df["covind"] < rules["covind_min"], "covind_min", f"a year with COVIND below {rules['covind_min']}", log
        )
    if rules.get("balanced"):
        n = df.groupby("fips")["year"].transform("nunique")
        df = _drop(df, n < len(years), "balanced", f"not observed in every year {years[0]}-{years[-1]}", log)
    if rules.get("drop_zero_index"):
        df = _drop(df, df["index"] == 0, "drop_zero_index", "a year with zero index crimes", log)
    if "rate_index_max" in rules:
        df = _drop(
            df,
            df["index"] / df["population"] * 1e5 > rules["rate_index_max"],
            "rate_index_max",
            f"a year with more than {rules['rate_index_max']} index crimes per 100,000",
            log,
        )
    if "index_jump_max" in rules:
        df = df.sort_values(["fips", "year"])
        prev = df.groupby("fips")["index"].shift()
        fold = np.maximum(df["index"], prev) / np.minimum(df["index"], prev)
        df = _drop(
            df,
            prev.notna() & ~(fold <= rules["index_jump_max"]),
            "index_jump_max",
            f"a year-to-year change in index crimes beyond {rules['index_jump_max']}-fold",
            log,
        )
    g = df["fips"].map(t["first_year"].where(t["wave_adopter"])).fillna(0).astype(int)
    df = df.assign(
        g=g,
        **{
            f"log_rate_{o}": np.log((df[o] / df["population"] * 1e5).where(df[o] > 0))
            for o in ("index", "violent", "property")
        },
    )
    return df.sort_values(["fips", "year"]).reset_index(drop=True), pd.DataFrame(log)


def estimate(df: pd.DataFrame, plan: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(estimates, dropped): the primary within-state TWFE of every outcome (primary outcome first) with
    the plan's inference, Holm-adjusted p-values of the secondary outcomes, and the robustness
    estimates (Callaway-Sant'Anna simple ATT, imputation) of every outcome, reported, not tested."""
    rows, dropped = [], []
    outcomes = [plan["primary_outcome"], *plan["secondary_outcomes"]]
    within = df.assign(_sy=df["state"] + "^" + df["year"].astype(str))
    n_treated = int(df.loc[df["g"] > 0, "fips"].nunique())
    cs_plan, imp = plan["robustness"]["cs_simple"], plan["robustness"]["imputation"]
    for o in outcomes:
        y = f"log_rate_{o}"
        fit = twfe.static(within, y, "fips", "year", "g", cluster=CLUSTER[plan["cluster"]], fe=["fips", "_sy"])
        rows.append(
            _row(
                o,
                "primary" if o == plan["primary_outcome"] else "secondary",
                "twfe_within_state",
                fit.summary,
                n_treated,
                f"clustered by {plan['cluster']} (CR1)",
            )
        )
        dropped.append(fit.dropped.assign(outcome=o, estimator="twfe_within_state"))
        res = cs.att_gt(
            df,
            y,
            "year",
            "fips",
            "g",
            control_group="never_treated",
            est_method=cs_plan["est_method"],
            cluster=CLUSTER[cs_plan["cluster"]],
            base_period=cs_plan["base_period"],
            anticipation=cs_plan["anticipation"],
            bootstrap=cs_plan["bootstrap"],
            seed=cs_plan["seed"],
            alpha=plan["alpha"],
        )
        agg = cs.aggregate(res, "simple")
        inf = normal_inference(agg.overall_att, agg.overall_se, plan["alpha"])
        rows.append(
            {
                "outcome": o,
                "role": "robustness",
                "estimator": "cs_simple",
                "estimate": agg.overall_att,
                "se": agg.overall_se,
                **{k: float(v) for k, v in inf.items()},
                "n_counties": len(res.units),
                "n_treated": int((res.cohort > 0).sum()),
                "n_clusters": int(res.cluster.max() + 1),
                "inference": f"multiplier bootstrap, {cs_plan['bootstrap']} draws, clustered by {cs_plan['cluster']}",
            }
        )
        dropped.append(res.dropped.assign(outcome=o, estimator="cs_simple"))
        fit = imputation.imputation(
            within, y, "fips", "year", "g", cluster=CLUSTER[imp["cluster"]], alpha=plan["alpha"], fe=["fips", "_sy"]
        )
        rows.append(
            _row(
                o,
                "robustness",
                "imputation_within_state",
                fit.summary,
                n_treated,
                f"clustered by {imp['cluster']} (did2s GMM)",
            )
        )
        dropped.append(fit.dropped.assign(outcome=o, estimator="imputation_within_state"))
    out = pd.DataFrame(rows)
    out["pvalue_adjusted"] = out["pvalue"].where(out["role"] == "primary")
    sec = (out["role"] == "secondary").to_numpy()
    if sec.any():
        out.loc[sec, "pvalue_adjusted"] = multipletests(out.loc[sec, "pvalue"], method="holm")[1]
    return out, pd.concat(dropped, ignore_index=True)


def _row(outcome: str, role: str, estimator: str, s: dict, n_treated: int, inference: str) -> dict:
    """One row of estimates.csv from an EstimatorFit summary."""
    return {
        "outcome": outcome,
        "role": role,
        "estimator": estimator,
        "estimate": s["estimate"],
        "se": s["se"],
        "ci_low": s["ci_low"],
        "ci_high": s["ci_high"],
        "pvalue": s["pvalue"],
        "n_counties": s["n_units"],
        "n_treated": n_treated,
        "n_clusters": s["n_clusters"],
        "inference": inference,
    }


def run(
    plan_path: Path = PLAN,
    raw_dir: Path = DATA_RAW,
    manifest: Path = MANIFEST,
    timing: Path = WAVE_TIMING,
    out: Path = OUT,
) -> pd.DataFrame:
    """The whole plan: check the data, build, estimate, write ``out``; returns the estimates."""
    plan = read_plan(plan_path)
    files = locate_data(plan, raw_dir, manifest)
    if not Path(timing).is_file():
        raise InputError(timing, "wave timing not found: run `make wave` first")
    df, log = build_sample(read_crime(files), pd.read_parquet(timing), plan)
    estimates, dropped = estimate(df, plan)
    with atomic_dir(out) as tmp:
        estimates.to_csv(tmp / "estimates.csv", index=False, float_format=FLOAT, lineterminator="\n")
        log.to_csv(tmp / "sample_log.csv", index=False, lineterminator="\n")
        dropped.to_csv(tmp / "dropped.csv", index=False, lineterminator="\n")
        shutil.copyfile(plan_path, tmp / "plan.yaml")
    return estimates


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plan", type=Path, default=PLAN)
    parser.add_argument("--raw-dir", type=Path, default=DATA_RAW)
    parser.add_argument("--manifest", type=Path, default=MANIFEST)
    parser.add_argument("--timing", type=Path, default=WAVE_TIMING)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    est = run(args.plan, args.raw_dir, args.manifest, args.timing, args.out)
    cols = [
        "outcome",
        "role",
        "estimator",
        "estimate",
        "se",
        "ci_low",
        "ci_high",
        "pvalue",
        "pvalue_adjusted",
        "n_counties",
        "n_treated",
    ]
    print(est[cols].to_string(index=False))
    print(f"wave plan: estimated in {time.perf_counter() - start:.1f} s -> {args.out}")


if __name__ == "__main__":
    cli.run(lambda: main(sys.argv[1:]), "wave-estimate")
