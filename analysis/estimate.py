"""Run specifications: ``python -m analysis.estimate [--out FOLDER] SPEC.yaml ...``.

A spec in analysis/specs/ writes results/<stem>/ (the paper); any other spec writes
myspecs/results/<stem>/ (the user workspace) or FOLDER/<stem>/ with ``--out`` (analysis.workspace).
Every spec given is checked first - identity, then every field against the panel (all mistakes of
a file in one message) - and nothing is written unless all pass.

Each results folder holds one tidy table per file (analysis.estimators.tidy has the columns):
overall.csv (one row per estimator or aggregation: estimate, se, ci_low, ci_high, pvalue, n_obs,
n_units, n_clusters, target), event_study.csv (every event study: estimator, event_time, estimate,
se, ci_low, ci_high, cband_low, cband_high, pvalue) and event_vcov.csv (long covariances),
attgt.csv (Callaway–Sant'Anna cells: group, time, event_time, estimate, se, ...), aggregations.csv
(cs_group by cohort, cs_calendar by year, same columns as event_study with ``element``),
pretest.csv, bacon.csv, honest.csv, models.csv (each estimator's model in fixest notation and its
standard errors), dropped.csv (what each estimator dropped and why), sample_log.csv (the sample
rules' drops), warnings.csv (e.g. very small cohorts) and spec.yaml (the spec file as run). Rows
are sorted and floats written with 10 significant digits, so two runs are byte-identical; the
folder is written to a temporary name and renamed.

Weights 'population' are each county's population in its first sample year (time-invariant, as
Callaway–Sant'Anna requires), used by every estimator (Bacon decomposes the weighted TWFE; PPML
weights the likelihood on top of the population exposure, i.e. by about population squared).
Cluster 'county' = fips, 'state' = state_fips. Randomness: the cs multiplier bootstrap and the
wild bootstrap draw from the spec's ``seed`` (default config.SEED); nothing is drawn unseeded.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import warnings
from pathlib import Path

import pandas as pd

from analysis import derived as derived_columns
from analysis.design import clean_controls
from analysis.estimators import registry
from analysis.estimators.tidy import EVENT_COLUMNS
from analysis.infra import cli
from analysis.infra.atomic import atomic_dir
from analysis.infra.errors import InputError
from analysis.model import add_fe_columns, baseline_by_year, fe_parts, fixest_fe, population_weights
from analysis.sample import apply_rules, apply_sample, read_panel
from analysis.spec import SpecError, check_spec, derived_definitions, outcome_column, validate_spec
from analysis.workspace import identity_problems, results_root

UNIT, TIME = "fips", "year"
CLUSTER = {"county": "fips", "state": "state_fips"}
FLOAT = "%.10g"
VCOV_COLUMNS = ["estimator", "event_time", "event_time_2", "cov"]
WARNING_COLUMNS = ["warning", "detail"]
# A cohort with fewer treated counties than this gets a warning (its own effects are not reliably inferred).
SMALL_COHORT = 5
FEW_TREATED = 20


class SmallCohortWarning(UserWarning):
    """A design with very small treatment cohorts: which cohorts, and what inference remains valid."""


def prepare(spec: dict, panel: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """The estimation data of ``spec``: derived columns built, the named sample and the spec's own
    sample rules applied, then the control-group rule (analysis.design), fixed-effect and baseline x year
    columns added. Returns (data, sample log,
    design) with design = {fe: fixed-effect columns, controls: regression controls, covariates: cs
    covariates, weights: weight column or None}. SpecError if a baseline control varies in a county."""
    definitions = derived_definitions(spec)
    wanted = [
        c
        for c in [
            *spec["controls"],
            *spec["baseline_controls"],
            *[p for t in spec["fixed_effects"] for p in fe_parts(t)],
        ]
        if c in definitions and c not in panel.columns
    ]
    try:
        data = derived_columns.add_columns(panel, wanted, definitions)
    except ValueError as err:
        raise SpecError(spec["path"], [(spec["lines"].get("derived"), "derived", str(err))]) from None
    df, sample_log = apply_sample(data, spec["sample"])
    if spec["sample_rules"]:
        df, own = apply_rules(df, spec["sample_rules"], "spec_rules")
        sample_log = pd.concat([sample_log, own], ignore_index=True)
    df, controls_log = clean_controls(df, spec)
    sample_log = pd.concat([sample_log, controls_log], ignore_index=True)
    sample_log["step"] = range(1, len(sample_log) + 1)
    varying = {c: int((df.groupby(UNIT)[c].nunique() > 1).sum()) for c in spec["baseline_controls"]}
    varying = {c: n for c, n in varying.items() if n}
    if varying:
        listed = ", ".join(f"{c} ({n} counties)" for c, n in varying.items())
        raise SpecError(
            spec["path"],
            [
                (
                    spec["lines"].get("baseline_controls"),
                    "baseline_controls",
                    f"{listed} vary within counties: baseline_controls must be fixed per county; "
                    "use a baseline (e.g. log_pop_2000 in analysis/derived.yaml) or move them to "
                    "controls",
                )
            ],
        )
    weights = None
    if spec["weights"] == "population":
        df = df.assign(_w=population_weights(df, UNIT, TIME))
        weights = "_w"
    df, fe = add_fe_columns(df, spec["fixed_effects"])
    df, by_year = baseline_by_year(df, spec["baseline_controls"], TIME)
    design = {
        "fe": fe,
        "controls": [*spec["controls"], *by_year],
        "covariates": list(spec["baseline_controls"]),
        "weights": weights,
    }
    return df, sample_log, design


def cohort_warnings(spec: dict, df: pd.DataFrame) -> list[dict]:
    """Warnings for very small cohorts (fewer than SMALL_COHORT treated counties) and few treated
    counties overall, naming the cohorts and saying what inference remains valid."""
    g = df.drop_duplicates(UNIT).set_index(UNIT)[spec["treatment"]].fillna(0)
    first, last = df[TIME].min(), df[TIME].max()
    cohorts = g[(g > first) & (g <= last)]
    sizes = cohorts.groupby(cohorts).size()
    small = sizes[sizes < SMALL_COHORT]
    out = []
    if len(small):
        listed = "; ".join(
            f"g={int(c)}: {n} count{'y' if n == 1 else 'ies'}"
            + (f" ({', '.join(sorted(cohorts[cohorts == c].index))})" if n <= 2 else "")
            for c, n in small.items()
        )
        single = (
            " A single treated county's own variance is not estimated at all: its cells' SEs reflect only the controls."
            if (small == 1).any()
            else ""
        )
        out.append(
            {
                "warning": f"very small cohorts ({spec['treatment']}): {listed}",
                "detail": "Still valid: the point estimates, and pooled effects over many cohorts (twfe, cs_simple, "
                "imputation, event times reached by many cohorts) with cluster-robust SEs when many "
                "counties are treated in all. Not reliable: the SEs, intervals and pre-tests of these "
                "cohorts' own effects (cs attgt cells, cs_group elements, event times only they reach)." + single,
            }
        )
    treated = int(len(cohorts))
    if 0 < treated < FEW_TREATED:
        out.append(
            {
                "warning": f"few treated counties: {treated} in {len(sizes)} cohorts",
                "detail": "Cluster-robust standard errors over-reject with few treated clusters: prefer the wild "
                "cluster bootstrap p-value (estimator wild) or randomization inference, and read the "
                "intervals as too narrow.",
            }
        )
    return out


def run_spec(spec: dict, panel: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Every estimator of ``spec`` on ``panel``: tidy tables keyed by output file stem.

    ``spec`` is a loaded specification (analysis.spec.load_spec, or a modified copy of one); it is
    validated against ``panel`` first (SpecError lists every mistake). The tables are those
    ``python -m analysis.estimate`` writes (module docstring): 'overall', 'event_study',
    'event_vcov', 'attgt', 'aggregations', 'pretest', 'bacon', 'honest', 'models', 'dropped',
    'sample_log', 'warnings' (each only when an estimator produces it). Treatment timing: the spec's
    ``treatment`` column, 0 or NA = never treated, a year after the panel = not yet treated (a
    control throughout the window). Very small cohorts raise a SmallCohortWarning (and a row of
    'warnings'); the run goes on."""
    validate_spec(spec, panel.columns)
    df, sample_log, design = prepare(spec, panel)
    y, g, cluster = outcome_column(spec), spec["treatment"], CLUSTER[spec["cluster"]]
    notes = cohort_warnings(spec, df)
    for note in notes:
        warnings.warn(f"{spec['path']}: {note['warning']}. {note['detail']}", SmallCohortWarning, stacklevel=2)
    overall, dropped, out = [], [], {}
    ctx = registry.Context(spec, df, design, y, g, UNIT, TIME, cluster)
    for name in sorted(spec["estimators"], key=lambda e: registry.get(e).order):  # spec order within an order
        fit = registry.get(name).fit(ctx)
        overall += fit.rows
        out.update(fit.tables)
        if fit.dropped is not None:
            dropped.append(fit.dropped.assign(estimator=name))
        if fit.event is not None:
            ctx.events[name] = (fit.event, fit.vcov)
    out["overall"] = pd.DataFrame(overall).sort_values("estimator")
    if ctx.events:
        out["event_study"] = pd.concat([e.assign(estimator=k) for k, (e, _) in ctx.events.items()]).reindex(
            columns=["estimator", *EVENT_COLUMNS]
        )
        long = [
            v.rename_axis(index="event_time", columns="event_time_2")
            .stack()
            .rename("cov")
            .reset_index()
            .assign(estimator=k)
            for k, (_, v) in ctx.events.items()
            if v is not None
        ]
        out["event_vcov"] = pd.concat(long) if long else pd.DataFrame(columns=VCOV_COLUMNS)
    out["models"] = models(spec, design)
    out["sample_log"] = sample_log
    out["dropped"] = pd.concat(dropped, ignore_index=True)
    out["warnings"] = pd.DataFrame(notes, columns=WARNING_COLUMNS)
    return {k: _tidy(v) for k, v in out.items()}


def models(spec: dict, design: dict) -> pd.DataFrame:
    """One row per estimator: its model in fixest notation (or the call, for cs, bacon and honest) and
    its standard errors, for readers and for table notes."""
    y, d = outcome_column(spec), f"D({spec['treatment']})"
    extra = [*spec["controls"], *[f"i(year, {x})" for x in spec["baseline_controls"]]]
    rhs, rest = " + ".join([d, *extra]), "".join(f" + {x}" for x in extra)
    fe, cluster = fixest_fe(spec["fixed_effects"]), CLUSTER[spec["cluster"]]
    crv1 = f"CRV1 by {cluster}, fixest small-sample factor"
    boot = (
        f"multiplier bootstrap ({spec['bootstrap']} draws, seed {spec['seed']})"
        if spec["bootstrap"]
        else "analytic (influence function)"
    )
    terms = {
        "y": y,
        "d": d,
        "extra": extra,
        "rhs": rhs,
        "rest": rest,
        "fe": fe,
        "cluster": cluster,
        "crv1": crv1,
        "boot": boot,
    }
    rows = {e: registry.get(e).model(spec, terms) for e in spec["estimators"]}
    return pd.DataFrame(
        [{"estimator": e, "model": rows[e][0], "standard_errors": rows[e][1]} for e in spec["estimators"]],
        columns=["estimator", "model", "standard_errors"],
    )


def _tidy(frame: pd.DataFrame) -> pd.DataFrame:
    """Estimator (or source) first, rows sorted by every column: a deterministic table."""
    lead = [c for c in ("estimator", "source") if c in frame.columns]
    frame = frame[lead + [c for c in frame.columns if c not in lead]]
    return frame.sort_values(list(frame.columns), kind="stable").reset_index(drop=True)


def write_results(name: str, tables: dict[str, pd.DataFrame], root: Path, spec_file: str | Path | None = None) -> Path:
    """Write ``tables`` as CSVs (and a copy of ``spec_file`` as spec.yaml) into root/<name>/, replacing
    the folder atomically (analysis.infra.atomic)."""
    target = Path(root) / name
    with atomic_dir(target) as tmp:
        for stem, frame in tables.items():
            frame.to_csv(tmp / f"{stem}.csv", index=False, lineterminator="\n", float_format=FLOAT)
        if spec_file is not None:
            shutil.copyfile(spec_file, tmp / "spec.yaml")
    return target


def main(argv: list[str]) -> int:
    """Check every spec first (identity, then all fields against the panel), then run and write each;
    exit 1 on bad input, writing nothing."""
    parser = argparse.ArgumentParser(prog="python -m analysis.estimate", description=__doc__.splitlines()[0])
    parser.add_argument("specs", nargs="+", help="spec files (analysis/specs/*.yaml, myspecs/*.yaml, ...)")
    parser.add_argument(
        "--out", type=Path, help="write FOLDER/<stem>/ (default: results/ for analysis/specs/, else myspecs/results/)"
    )
    args = parser.parse_args(argv)
    errors: list[InputError] = list(identity_problems(args.specs, args.out))
    specs = []
    try:
        panel = read_panel()
    except InputError as err:
        errors.append(err)
        panel = None
    for path in args.specs:
        if not Path(path).is_file():
            errors.append(InputError(path, "no such spec file"))
            continue
        try:
            specs.append(check_spec(path, None if panel is None else panel.columns))
        except InputError as err:
            errors.append(err)
    if errors:
        for err in errors:
            print(f"error: {err}", file=sys.stderr)
        return 1
    for spec in specs:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", SmallCohortWarning)
            try:
                tables = run_spec(spec, panel)
            except InputError as err:
                print(f"error: {err}", file=sys.stderr)
                return 1
        for w in caught:
            print(f"warning: {w.message}", file=sys.stderr)
        print(write_results(spec["name"], tables, results_root(spec["path"], args.out), spec["path"]))
    return 0


if __name__ == "__main__":
    cli.run(lambda: main(sys.argv[1:]), "estimate")
