"""Secure Communities activation month and year per county, with a cross-check.

Source: secure_communities/activation_dates_makayla_revisedforbalance.dta (ICE activation dates,
month level, one row per county; Hadah, immigration-enforcement-project). Cross-check: East &
Velasquez, 287g_SC_EVerify_5_13_22_cpuma0010.dta (SC coverage per Consistent PUMA and year).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from analysis.config import DATA_RAW
from analysis.infra.errors import InputError
from analysis.rulelog import RuleLog

SOURCE = Path("secure_communities/activation_dates_makayla_revisedforbalance.dta")
CPUMA = Path("secure_communities/287g_SC_EVerify_5_13_22_cpuma0010.dta")
YEARS = (2008, 2013)  # first activation Oct 2008, last Jan 2013
OUTSIDE_PANEL = "72"  # Puerto Rico


def _check(df: pd.DataFrame, field: str, ok: pd.Series, file: Path, what: str) -> None:
    """Raise InputError at the first observation (1-based) where ``ok`` is False."""
    if not ok.all():
        i = int((~ok.to_numpy()).argmax())
        raise InputError(file, f"{df[field].iloc[i]!r} is not {what}", line=i + 1, field=field)


def read_sc(raw_dir: Path = DATA_RAW) -> pd.DataFrame:
    """The activation file, validated: fips (5 chars), state, sc_month, sc_year (Int64, NA undated)."""
    file = Path(raw_dir) / SOURCE
    df = pd.read_stata(file)
    for field in ["countyfips", "state", "activation_month", "activation_year"]:
        if field not in df:
            raise InputError(file, "missing variable", line=1, field=field)
    month, year = df["activation_month"], df["activation_year"]
    _check(
        df,
        "countyfips",
        df["countyfips"].between(1001, 78999) & ~df["countyfips"].duplicated(),
        file,
        "a unique county FIPS code",
    )
    _check(df, "activation_month", month.isna() | month.isin(range(1, 13)), file, "a month 1-12")
    _check(
        df,
        "activation_year",
        year.isna() | year.isin(range(YEARS[0], YEARS[1] + 1)),
        file,
        f"a year in {YEARS[0]}-{YEARS[1]}",
    )
    _check(df, "activation_year", month.isna() == year.isna(), file, "given together with the month")
    return pd.DataFrame(
        {
            "fips": df["countyfips"].astype(int).astype(str).str.zfill(5).astype("string"),
            "state": df["state"].astype("string"),
            "sc_month": month.astype("Int64"),
            "sc_year": year.astype("Int64"),
        }
    )


def clean_sc(raw_dir: Path = DATA_RAW) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Secure Communities activation per county: fips, state, sc_month, sc_year, sc_year_midyear, sc_dated.

    Source: activation_dates_makayla_revisedforbalance.dta (3,242 counties). Recodes:
    countyfips (integer) -> fips zero-padded to 5 characters; activation month/year -> Int64;
    sc_year_midyear = the mid-year rule (activated July or later -> next year);
    sc_dated = the county has an activation date. Rules (unit = county): Puerto Rico (72xxx)
    is dropped (outside the panel); undated counties (AK, HI, some VA/SD/MT/WV codes) stay in
    the table with sc_dated False and NA years but are logged as dropped from the SC analysis.
    """
    df = read_sc(raw_dir)
    log = RuleLog("treatment_sc", "county")
    df = log.drop(
        df,
        df["fips"].str[:2] == OUTSIDE_PANEL,
        "outside_panel",
        "Puerto Rico municipio: outside the 50-state + DC county panel.",
    )
    df["sc_dated"] = df["sc_year"].notna()
    df["sc_year_midyear"] = df["sc_year"] + (df["sc_month"] >= 7).astype("Int64")
    log.drop(
        df,
        ~df["sc_dated"],
        "sc_undated",
        "No activation date in the ICE list: kept with sc_dated False, left out of the SC analysis.",
    )
    columns = ["fips", "state", "sc_month", "sc_year", "sc_year_midyear", "sc_dated"]
    return df[columns].reset_index(drop=True), log.frame()


def sc_coverage_by_year(sc: pd.DataFrame, raw_dir: Path = DATA_RAW) -> pd.DataFrame:
    """Per year 2008-2014: share of dated counties activated by January (activated in an earlier
    year, or in January of that year) against the mean SC_jan across CPUMAs (East & Velasquez)."""
    dated = sc[sc["sc_dated"]]
    cpuma = pd.read_stata(Path(raw_dir) / CPUMA, columns=["year", "SC_jan"])
    rows = []
    for year in range(YEARS[0], YEARS[1] + 2):
        by_jan = (dated["sc_year"] < year) | ((dated["sc_year"] == year) & (dated["sc_month"] == 1))
        rows.append(
            {
                "year": year,
                "county_share": float(by_jan.mean()),
                "cpuma_mean": float(cpuma.loc[cpuma["year"] == year, "SC_jan"].mean()),
            }
        )
    out = pd.DataFrame(rows)
    return out.assign(difference=out["county_share"] - out["cpuma_mean"])


def main() -> None:
    """Print the log, activations per year and the cross-check (the panel step writes
    data_clean/sc_activation.parquet)."""
    sc, log = clean_sc()
    print(log.to_string(index=False))
    print(sc["sc_year"].value_counts(dropna=False).sort_index().to_string())
    print(sc_coverage_by_year(sc).round(3).to_string(index=False))


if __name__ == "__main__":
    try:
        main()
    except InputError as err:
        raise SystemExit(f"error: {err}") from None
