"""The county x year panel 2000-2012: crime, population, rates, treatment timing, sample flags.

``python -m analysis.panel`` writes data_clean/county_panel.parquet, agreements_287g.parquet,
sc_activation.parquet, sample_log.csv, codebook.csv and sample_state_losses.csv: all computed and
validated first, then written together (a failure leaves every previous output in place).
``--raw-dir FOLDER`` reads the raw files from FOLDER instead of data_raw/ (the outputs still go
to data_clean/).
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.config import (
    AGREEMENTS,
    CODEBOOK,
    CODEBOOK_SPEC,
    DATA_RAW,
    FIPS_RECODES,
    FIRST_YEAR,
    LAST_YEAR,
    PANEL,
    SAMPLE_LOG,
    SAMPLE_STATE_LOSSES,
    SC_ACTIVATION,
)
from analysis.coverage import add_coverage
from analysis.infra import cli
from analysis.infra.atomic import atomic_path, write_csv, write_parquet
from analysis.infra.errors import InputError, StopBuild
from analysis.infra.yamlfile import read_yaml
from analysis.readers.agreements_287g import clean_agreements_287g
from analysis.readers.crime import COUNTS, clean_crime
from analysis.readers.fips_recodes import read_recodes, successor
from analysis.readers.population import clean_population
from analysis.readers.secure_communities import clean_sc
from analysis.rulelog import RuleLog
from analysis.sample import apply_sample, state_losses
from analysis.treatment import exposure, statewide_287g_states, timing_287g

OUTCOMES = [
    "murder",
    "rape",
    "robbery",
    "agg_assault",
    "burglary",
    "larceny",
    "mv_theft",
    "violent",
    "property",
    "index",
]
G287 = ["g287_county", "g287_any", "g287_jem", "g287_tf", "g287_county_midyear", "g287_any_midyear", "g287_county_wapo"]
G287_EXTRA = ["g287_county_month", "g287_county_end", "g287_county_list_date"]
SC = ["sc_month", "sc_year", "sc_year_midyear", "sc_dated"]
G287_YEARS, SC_YEARS = (2002, 2017), (2008, 2013)
# Latest valid year per timing column: *_midyear may be one year later; the Post flags years to 2019.
G287_LAST = {
    **{c: G287_YEARS[1] for c in G287},
    "g287_county_midyear": 2018,
    "g287_any_midyear": 2018,
    "g287_county_wapo": 2019,
}
CODEBOOK_FIELDS = ["column", "type", "meaning", "source"]


class PanelSchemaError(ValueError, StopBuild):
    """The panel breaks its documented schema; the message lists every violation."""


def read_codebook(path: Path = CODEBOOK_SPEC) -> pd.DataFrame:
    """The codebook (column, type, meaning, source), one row per panel column, from analysis/codebook.yaml."""
    entries, _ = read_yaml(path, list, "a list of columns")
    for i, entry in enumerate(entries):
        missing = [f for f in CODEBOOK_FIELDS if not isinstance(entry, dict) or not entry.get(f)]
        if missing:
            raise InputError(path, f"entry {i + 1} has no {missing[0]}", field=missing[0])
    book = pd.DataFrame(entries, columns=CODEBOOK_FIELDS)
    if book["column"].duplicated().any():
        raise InputError(path, "column documented twice", field=book["column"][book["column"].duplicated()].iloc[0])
    return book


def add_rates(df: pd.DataFrame) -> pd.DataFrame:
    """rate_<x> = x per 100,000 residents (Census population); log_rate_<x> = ln(rate_<x> + 1)."""
    rates = {f"rate_{x}": df[x] / df["population"] * 1e5 for x in OUTCOMES}
    logs = {f"log_{name}": np.log1p(rate) for name, rate in rates.items()}
    return df.assign(**rates, **logs)


def county_treatment(agreements: pd.DataFrame, sc: pd.DataFrame, recodes: pd.DataFrame) -> pd.DataFrame:
    """Treatment timing per panel county: G287 and G287_EXTRA columns (0 = never; the agreements'
    fips recoded as in the panel first, so a merged county's agreements are timed together) and SC
    columns (NA = undated; merged codes take their earliest date)."""
    local = agreements["fips"].notna()
    recoded = agreements["fips"].astype("string").where(~local, successor(agreements["fips"].astype(str), recodes))
    g287 = timing_287g(agreements.assign(fips=recoded.astype("string"))).set_index("fips")
    sc = sc.assign(fips=successor(sc["fips"].astype(str), recodes))
    sc = sc.sort_values(["sc_year", "sc_month"], na_position="last").drop_duplicates("fips")
    return g287.join(sc.set_index("fips")[SC], how="outer").rename_axis("fips").reset_index()


def merge_treatment(
    df: pd.DataFrame, agreements: pd.DataFrame, sc: pd.DataFrame, recodes: pd.DataFrame
) -> pd.DataFrame:
    """Add the G287 and SC columns by fips (no 287(g) agreement -> 0; no SC row -> NA, sc_dated
    False) and state_287g_statewide (the state has a state-level 287(g) agreement)."""
    out = df.merge(county_treatment(agreements, sc, recodes), on="fips", how="left", validate="m:1")
    out[G287 + G287_EXTRA[:2]] = out[G287 + G287_EXTRA[:2]].fillna(0).astype("int64")
    out["g287_county_list_date"] = out["g287_county_list_date"].astype("boolean").fillna(False).astype(bool)
    out[SC[:3]] = out[SC[:3]].astype("Int64")
    out["sc_dated"] = out["sc_year"].notna()
    out["state_287g_statewide"] = out["state_fips"].isin(statewide_287g_states(agreements))
    out["g287_exposure"] = exposure(out["year"], out["g287_county"], out["g287_county_month"])
    out["sc_exposure"] = exposure(out["year"], out["sc_year"], out["sc_month"])
    return out


def build_panel(
    raw_dir: Path = DATA_RAW, recodes_path: Path = FIPS_RECODES
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(panel, agreements, sc, sample_log, codebook), validated. The log lists, in the order
    applied, the rules of stages crime, population, treatment_287g, treatment_sc, panel (crime
    county-years without a Census population) and sample_main."""
    crime, crime_log = clean_crime(raw_dir, recodes_path=recodes_path)
    pop, pop_log = clean_population(raw_dir, recodes_path=recodes_path)
    agreements, g287_log = clean_agreements_287g(raw_dir)
    sc, sc_log = clean_sc(raw_dir)
    log = RuleLog("panel", "county-year", units="fips")
    df = crime.merge(pop, on=["fips", "state_fips", "year"], how="left", validate="1:1")
    df = log.drop(
        df,
        df["population"].isna(),
        "no_population",
        "Crime county-years with no Census population (e.g. Yellowstone NP MT, 30113).",
    )
    df = add_coverage(add_rates(df.astype({"population": "int64"})))
    df = merge_treatment(df, agreements, sc, read_recodes(recodes_path))
    by_county = df.groupby("fips")
    df = df.assign(cov_min=by_county["covind"].transform("min"), n_years=by_county["year"].transform("size"))
    main, main_log = apply_sample(df, "main")
    df["in_main"] = pd.MultiIndex.from_frame(df[["fips", "year"]]).isin(
        pd.MultiIndex.from_frame(main[["fips", "year"]])
    )
    codebook = read_codebook()
    df = df[list(codebook["column"])].reset_index(drop=True)
    sample_log = pd.concat([crime_log, pop_log, g287_log, sc_log, log.frame(), main_log], ignore_index=True)
    sample_log["step"] = range(1, len(sample_log) + 1)
    validate_panel(df, codebook)
    problems = sample_log_problems(sample_log, df)
    if problems:
        raise PanelSchemaError("the sample log does not reconcile:\n  " + "\n  ".join(problems))
    return df, agreements, sc, sample_log, codebook


def sample_log_problems(log: pd.DataFrame, panel: pd.DataFrame) -> list[str]:
    """Every way the sample log fails to account for each row: a rule's arithmetic, a break in a
    stage's chain of rules, or a stage that does not start where the previous one ended."""
    problems = [
        f"step {r.step} ({r.rule}): before - dropped != after"
        for r in log.itertuples()
        if r.rows_before - r.dropped_rows != r.rows_after or r.units_before - r.dropped_units != r.units_after
    ]
    for stage, rows in log.groupby("stage", sort=False):
        breaks = rows["rows_before"].iloc[1:].to_numpy() != rows["rows_after"].iloc[:-1].to_numpy()
        problems += [
            f"stage {stage}: step {s} does not start where the previous rule ended"
            for s in rows["step"].iloc[1:][breaks]
        ]
    first, last = log.groupby("stage").first(), log.groupby("stage").last()
    links = [
        (
            "panel starts from the crime stage's rows",
            first.loc["panel", "rows_before"],
            last.loc["crime", "rows_after"],
        ),
        ("the panel's rows", last.loc["panel", "rows_after"], len(panel)),
        ("sample_main starts from the panel", first.loc["sample_main", "rows_before"], len(panel)),
        ("sample_main ends at the rows flagged in_main", last.loc["sample_main", "rows_after"], panel["in_main"].sum()),
    ]
    return problems + [f"{what}: {a} != {b}" for what, a, b in links if a != b]


def validate_panel(panel: pd.DataFrame, codebook: pd.DataFrame | None = None) -> None:
    """Raise PanelSchemaError listing every violation of the schema: columns = the codebook's,
    unique (fips, year), 5-digit fips, years FIRST_YEAR..LAST_YEAR, non-negative counts, index =
    violent + property, COVIND in 0-100, 287(g) years 0 or 2002-2017 (G287_LAST: 2018 for *_midyear,
    2019 for the Post's years), month 0-12, end not before start, exposures in 0-1, SC years 2008-2013
    or NA, rates finite where population > 0, cov_ratio = pop_ucr / population."""
    book = read_codebook() if codebook is None else codebook
    documented = list(book["column"])
    problems = [f"column '{c}' is not in the codebook" for c in panel.columns if c not in documented]
    problems += [f"codebook column '{c}' is missing" for c in documented if c not in panel.columns]
    if problems:
        raise PanelSchemaError("; ".join(problems))
    counts = panel[COUNTS + ["ag_off", "pop_ucr", "population"]]
    rates = panel.filter(regex="^(log_)?rate_")[panel["population"] > 0].to_numpy(dtype=float)
    checks = {
        "(fips, year) is not unique": panel.duplicated(["fips", "year"]),
        "fips is not 5 digits": ~panel["fips"].astype(str).str.fullmatch(r"\d{5}"),
        "state_fips is not the first 2 digits of fips": panel["state_fips"] != panel["fips"].str[:2],
        f"year is outside {FIRST_YEAR}-{LAST_YEAR}": ~panel["year"].between(FIRST_YEAR, LAST_YEAR),
        "a count is negative": (counts < 0).any(axis=1),
        "index is not violent + property": panel["index"] != panel["violent"] + panel["property"],
        "covind is outside 0-100": ~panel["covind"].between(0, 100),
        "population is not positive": ~(panel["population"] > 0),
        "a rate is not finite": pd.Series(~np.isfinite(rates).all(axis=1)),
        "sc_dated disagrees with sc_year": panel["sc_dated"] != panel["sc_year"].notna(),
    }
    for column in G287 + ["g287_county_end"]:
        last = G287_LAST.get(column, G287_YEARS[1])
        checks[f"{column} is not 0 or {G287_YEARS[0]}-{last}"] = ~(
            (panel[column] == 0) | panel[column].between(G287_YEARS[0], last)
        )
    checks["g287_county_month is not 0-12 (0 exactly when g287_county is 0)"] = ~(
        panel["g287_county_month"].between(0, 12) & ((panel["g287_county_month"] == 0) == (panel["g287_county"] == 0))
    )
    checks["g287_county_end is before g287_county"] = (panel["g287_county_end"] > 0) & (
        panel["g287_county_end"] < panel["g287_county"]
    )
    for column in ("g287_exposure", "sc_exposure"):
        checks[f"{column} is not in 0-1"] = ~panel[column].between(0, 1).fillna(column == "sc_exposure").astype(bool)
    checks["cov_ratio is not pop_ucr / population"] = ~np.isclose(
        panel["cov_ratio"], panel["pop_ucr"] / panel["population"]
    )
    for column in SC[1:3]:
        checks[f"{column} is not NA or {SC_YEARS[0]}-{SC_YEARS[1]}"] = ~(
            panel[column].isna() | panel[column].between(*SC_YEARS)
        ).astype(bool)
    problems = [f"{what} ({int(bad.sum())} rows)" for what, bad in checks.items() if bad.any()]
    if problems:
        raise PanelSchemaError("county panel: " + "; ".join(problems))


def main(argv: list[str] | None = None) -> None:
    """Build, validate, then write the six data_clean outputs together; print the sample log.
    ``argv``: command-line options (default none): ``--raw-dir FOLDER``."""
    parser = argparse.ArgumentParser(prog="python -m analysis.panel", description=__doc__.splitlines()[0])
    parser.add_argument("--raw-dir", type=Path, help="read the raw files from this folder (default: data_raw/)")
    args = parser.parse_args(argv or [])
    built = build_panel() if args.raw_dir is None else build_panel(args.raw_dir)
    panel, agreements, sc, sample_log, codebook = built
    losses = state_losses(panel, panel[panel["in_main"]])
    outputs = [
        (write_parquet, panel, PANEL),
        (write_parquet, agreements, AGREEMENTS),
        (write_parquet, sc, SC_ACTIVATION),
        (write_csv, sample_log, SAMPLE_LOG),
        (write_csv, codebook, CODEBOOK),
        (write_csv, losses, SAMPLE_STATE_LOSSES),
    ]
    with contextlib.ExitStack() as stack:  # every file goes to a temporary; all renamed at the end
        for write, df, target in outputs:
            write(df, stack.enter_context(atomic_path(target)))
    with pd.option_context("display.width", 200, "display.max_colwidth", 60):
        print(sample_log.drop(columns="reason").to_string(index=False))
    main_counties = panel.loc[panel["in_main"], "fips"].nunique()
    print(
        f"panel: {len(panel):,} county-years, {panel['fips'].nunique():,} counties; "
        f"main sample: {main_counties:,} counties x {LAST_YEAR - FIRST_YEAR + 1} years"
    )


if __name__ == "__main__":
    cli.run(lambda: main(sys.argv[1:]), "panel")
