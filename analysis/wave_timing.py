"""County timing of the 2025-2026 287(g) wave: the build step (``make wave``).

``python -m analysis.wave_timing`` reads ICE's monthly lists and the committed rules
(analysis/readers/wave_287g_*), and writes data_clean/wave_287g_timing.parquet (one row per
county), wave_287g_agreements.parquet (one row per agreement), wave_287g_lists.csv (one row per ICE
list), wave_287g_log.csv (every rule's effect) and wave_287g_codebook.csv: all computed and validated first,
then written (a failure
leaves every previous output in place). ``--raw-dir FOLDER`` reads the raw files from FOLDER.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path

import pandas as pd

from analysis.config import (
    DATA_RAW,
    WAVE_AGREEMENTS,
    WAVE_CODEBOOK,
    WAVE_CODEBOOK_SPEC,
    WAVE_LISTS,
    WAVE_LOG,
    WAVE_TIMING,
)
from analysis.infra import cli
from analysis.infra.atomic import atomic_path, write_csv, write_parquet
from analysis.infra.errors import InputError, StopBuild
from analysis.infra.yamlfile import read_yaml
from analysis.readers.ice_lists import clean_ice_lists
from analysis.readers.places import read_counties
from analysis.readers.wave_287g import clean_wave_287g, list_summary, read_rules

TABLES = ("timing", "agreements", "lists", "log")
FIELDS = ["column", "type", "meaning", "source"]


class WaveSchemaError(ValueError, StopBuild):
    """A wave table breaks its codebook or its invariants; the message lists every violation."""


def read_wave_codebook(path: Path = WAVE_CODEBOOK_SPEC) -> pd.DataFrame:
    """The codebook (table, column, type, meaning, source) of the three wave tables."""
    data, _ = read_yaml(path, dict, "a mapping from table name to a list of columns")
    if set(data) != set(TABLES):
        raise InputError(path, f"tables must be exactly {', '.join(TABLES)}", line=1)
    rows = []
    for table in TABLES:
        for i, entry in enumerate(data[table] or []):
            missing = [f for f in FIELDS if not isinstance(entry, dict) or not entry.get(f)]
            if missing:
                raise InputError(path, f"{table}: entry {i + 1} has no {missing[0]}", field=missing[0])
            rows.append({"table": table, **{f: str(entry[f]) for f in FIELDS}})
    book = pd.DataFrame(rows, columns=["table", *FIELDS])
    twice = book.duplicated(["table", "column"])
    if twice.any():
        raise InputError(path, "column documented twice", field=book.loc[twice, "column"].iloc[0])
    return book


def validate(
    timing: pd.DataFrame,
    agreements: pd.DataFrame,
    log: pd.DataFrame,
    codebook: pd.DataFrame,
    counties: set[str] | None = None,
    lists: pd.DataFrame | None = None,
) -> None:
    """Raise WaveSchemaError listing every violation: columns = the codebook's, one row per county
    (real counties when ``counties`` is given) and per agreement, months on the first of the month,
    flags consistent with the months, the log's arithmetic and chain, the lists' row counts."""
    problems = []
    tables = [("timing", timing), ("agreements", agreements), ("log", log)] + (
        [("lists", lists)] if lists is not None else []
    )
    for name, df in tables:
        documented = list(codebook.loc[codebook["table"] == name, "column"])
        if list(df.columns) != documented:
            problems.append(f"{name}: columns {list(df.columns)} != codebook {documented}")
    if problems:
        raise WaveSchemaError("; ".join(problems))
    months = timing.filter(like="first_month")
    checks = {
        "timing: fips not unique": timing["fips"].duplicated().any(),
        "timing: fips not 5 digits": ~timing["fips"].str.fullmatch(r"\d{5}").all(),
        "timing: a county that is not in census/national_county.txt": counties is not None
        and not set(timing["fips"]) <= counties,
        "timing: a month not on the first day": months.apply(lambda m: (m.dropna().dt.day != 1).any()).any(),
        "timing: adopted differs from first_month present": (timing["adopted"] != timing["first_month"].notna()).any(),
        "timing: a first month by level or model before first_month": (
            months.drop(columns=["first_month", "first_month_state_agency"]).lt(timing["first_month"], axis=0)
        )
        .any()
        .any(),
        "timing: wave_adopter and left_censored together": (timing["wave_adopter"] & timing["left_censored"]).any(),
        "timing: a flag on a county that never adopted": (
            timing[["left_censored", "wave_adopter", "after_gap", "exited", "in_latest_list"]].any(axis=1)
            & ~timing["adopted"]
        ).any(),
        "agreements: agreement_id not unique": agreements["agreement_id"].duplicated().any(),
        "agreements: level not county/municipal/state": ~agreements["level"]
        .isin(["county", "municipal", "state"])
        .all(),
        "agreements: model not JEM/TFM/WSO": ~agreements["model"].isin(["JEM", "TFM", "WSO"]).all(),
        "agreements: a state agency placed in a county": agreements.loc[agreements["level"] == "state", "fips"]
        .notna()
        .any(),
        "agreements: counties in the timing differ from the placed local agreements": set(
            agreements.loc[agreements["in_timing"], "fips"].str.split(";").explode()
        )
        != set(timing.loc[timing["adopted"], "fips"]),
        "log: before - dropped != after": (
            (log["rows_before"] - log["dropped_rows"] != log["rows_after"])
            | (log["units_before"] - log["dropped_units"] != log["units_after"])
        ).any(),
        "log: a rule does not start where the previous one ended": (
            log["rows_before"].iloc[1:].to_numpy() != log["rows_after"].iloc[:-1].to_numpy()
        ).any()
        or (log["counties_before"].iloc[1:].to_numpy() != log["counties_after"].iloc[:-1].to_numpy()).any(),
        "log: counties at the end differ from the timing": log["counties_after"].iloc[-1] != timing["adopted"].sum(),
        "log: agreements at the end differ from the agreements in the timing": log["units_after"].iloc[-1]
        != agreements["in_timing"].sum(),
    }
    if lists is not None:
        checks["lists: rows differ from the log's first rule"] = lists["rows"].sum() != log["rows_before"].iloc[0]
        checks["lists: a list date twice"] = lists["list_date"].duplicated().any()
    problems = [what for what, bad in checks.items() if bool(bad)]
    if problems:
        raise WaveSchemaError("the wave tables break their schema:\n  " + "\n  ".join(problems))


def build(raw_dir: Path = DATA_RAW) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(timing, agreements, lists, log, codebook), validated."""
    raw_lists = clean_ice_lists(raw_dir)
    agreements, timing, log = clean_wave_287g(raw_dir, lists=raw_lists)
    lists = list_summary(raw_lists, read_rules())
    codebook = read_wave_codebook()
    validate(timing, agreements, log, codebook, set(read_counties(raw_dir)["fips"]), lists)
    return timing, agreements, lists, log, codebook


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--raw-dir", type=Path, default=DATA_RAW)
    args = parser.parse_args(argv)
    timing, agreements, lists, log, codebook = build(args.raw_dir)
    outputs = [
        (write_parquet, timing, WAVE_TIMING),
        (write_parquet, agreements, WAVE_AGREEMENTS),
        (write_csv, lists, WAVE_LISTS),
        (write_csv, log, WAVE_LOG),
        (write_csv, codebook, WAVE_CODEBOOK),
    ]
    with contextlib.ExitStack() as stack:  # every file to a temporary first; all renamed at the end
        for write, df, target in outputs:
            write(df, stack.enter_context(atomic_path(target)))
    wave = timing[timing["wave_adopter"]]
    print(
        log[
            [
                "step",
                "rule",
                "dropped_rows",
                "dropped_units",
                "units_after",
                "agencies_changed",
                "counties_after",
                "wave_counties_after",
                "counties_redated",
                "counties_flagged",
            ]
        ].to_string(index=False)
    )
    print(
        f"wave 287(g): {timing['adopted'].sum():,} counties with a local agreement 2021-2026, "
        f"{len(wave):,} of them first in the wave (from {wave['first_month'].min():%b %Y})"
    )


if __name__ == "__main__":
    cli.run(lambda: main(sys.argv[1:]), "wave")
