"""One stable county definition for 2000-2012: the FIPS recodes applied to crime and population alike.

Source: analysis/readers/fips_recodes.csv (committed, one reason per row). A 'merge' row folds
old_fips into new_fips in first_year..last_year (the rows of one county-year are combined); a
'drop' row removes old_fips in those years (a boundary change leaves no consistent denominator).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd

from analysis.config import FIPS_RECODES
from analysis.infra.errors import InputError
from analysis.rulelog import RuleLog

COLUMNS = ["action", "old_fips", "new_fips", "first_year", "last_year", "name", "reason"]


def read_recodes(path: Path = FIPS_RECODES) -> pd.DataFrame:
    """The recode table, validated: 5-digit codes, a successor for every merge, a year range, a reason."""
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = [c for c in COLUMNS if c not in df]
    if missing:
        raise InputError(path, "missing column", line=1, field=missing[0])
    checks = [
        ("action", df["action"].isin(["merge", "drop"]), "'merge' or 'drop'"),
        ("old_fips", df["old_fips"].str.fullmatch(r"\d{5}"), "a 5-digit FIPS code"),
        (
            "new_fips",
            df["new_fips"].str.fullmatch(r"\d{5}") | (df["action"] == "drop"),
            "a 5-digit FIPS code (required for a merge)",
        ),
        ("new_fips", (df["new_fips"] == "") | (df["action"] == "merge"), "empty for a drop"),
        ("new_fips", ~df["new_fips"].isin(df["old_fips"]), "a code that is not itself recoded"),
        ("first_year", df["first_year"].str.fullmatch(r"\d{4}"), "a year"),
        (
            "last_year",
            df["last_year"].str.fullmatch(r"\d{4}") & (df["last_year"] >= df["first_year"]),
            "a year not before first_year",
        ),
        ("reason", df["reason"].str.strip() != "", "a reason"),
    ]
    for field, ok, what in checks:
        if not ok.all():
            i = int((~ok.to_numpy()).argmax())
            raise InputError(path, f"{df[field].iloc[i]!r} is not {what}", line=i + 2, field=field)
    return df.astype({"first_year": int, "last_year": int})


def _matches(df: pd.DataFrame, rules: pd.DataFrame) -> pd.Series:
    """For each row of ``df`` (fips, year): the index of the rule in ``rules`` that covers it, or NA."""
    hit = df[["fips", "year"]].reset_index().merge(rules.reset_index(names="rule"), left_on="fips", right_on="old_fips")
    hit = hit[hit["year"].between(hit["first_year"], hit["last_year"])]
    return pd.Series(hit["rule"].to_numpy(), index=hit["index"]).reindex(df.index)


def apply_recodes(
    df: pd.DataFrame, log: RuleLog, combine: Callable[[pd.DataFrame], pd.DataFrame], recodes: pd.DataFrame
) -> pd.DataFrame:
    """Fold merged codes into their successors and drop boundary-change county-years; log both.

    ``df`` has one row per (fips, year); ``combine`` takes the rows of the merged units (fips
    already recoded) and returns their combined values indexed by (fips, year). The result keeps
    one row per (fips, year), so totals are preserved by merges.
    """
    merges = recodes[recodes["action"] == "merge"]
    rule = _matches(df, merges)
    recoded = df.assign(fips=rule.map(merges["new_fips"]).fillna(df["fips"]))
    merged = recoded["fips"].isin(recoded.loc[rule.notna(), "fips"])
    combined = combine(recoded[merged]).reset_index()
    out = pd.concat(
        [
            recoded[~merged],
            recoded[merged]
            .drop_duplicates(["fips", "year"])
            .drop(columns=combined.columns.drop(["fips", "year"]))
            .merge(combined, on=["fips", "year"])[recoded.columns],
        ],
        ignore_index=True,
    )
    df = log.record(
        df,
        out,
        "fips_recode",
        "County codes folded into their successor (analysis/readers/fips_recodes.csv); "
        "the rows of one county-year are combined.",
    )
    drops = recodes[recodes["action"] == "drop"]
    df = log.drop(
        df,
        _matches(df, drops).notna(),
        "boundary_change",
        "County-years around a boundary change with no consistent population (analysis/readers/fips_recodes.csv).",
    )
    return df.sort_values(["fips", "year"]).reset_index(drop=True)


def unit_names(recodes: pd.DataFrame) -> dict[str, str]:
    """Name of each merged unit (new_fips -> name), for counties whose Census name no longer fits."""
    merges = recodes[recodes["action"] == "merge"]
    return dict(zip(merges["new_fips"], merges["name"]))


def successor(fips: pd.Series, recodes: pd.DataFrame) -> pd.Series:
    """The panel county of each code (merged codes -> their successor), for tables without years."""
    merges = recodes[recodes["action"] == "merge"]
    return fips.map(dict(zip(merges["old_fips"], merges["new_fips"]))).fillna(fips)
