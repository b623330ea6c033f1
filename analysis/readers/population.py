"""County resident population, 2000-2012: the denominator of every crime rate.

Sources: census/co-est00int-tot.csv (intercensal estimates 2000-2009, 1 July; codes not
zero-padded) and census/co-est2019-alldata.csv (Vintage 2019 estimates 2010-2012, 1 July);
both latin-1, both on 2010 county geography.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from analysis.config import DATA_RAW, FIPS_RECODES
from analysis.errors import InputError
from analysis.readers.fips_recodes import apply_recodes, read_recodes, unit_names
from analysis.readers.places import read_states
from analysis.readers.rulelog import RuleLog

# file -> years taken from it (co-est2019 from 2010 on: it supersedes POPESTIMATE2010 of co-est00int)
FILES = {Path("census/co-est00int-tot.csv"): range(2000, 2010),
         Path("census/co-est2019-alldata.csv"): range(2010, 2013)}
COUNTY_LEVEL = "50"
COLUMNS = ["fips", "state_fips", "state", "county_name", "year", "population"]


def read_estimates(path: Path, years: range) -> pd.DataFrame:
    """One Census file in long form: one row per file row x year (state rows included), columns
    sumlev, fips, county_name, year, population; InputError if a column or a count is bad."""
    fields = ["SUMLEV", "STATE", "COUNTY", "CTYNAME", *(f"POPESTIMATE{y}" for y in years)]
    df = pd.read_csv(path, dtype=str, encoding="latin-1", keep_default_na=False)
    for field in fields:
        if field not in df:
            raise InputError(path, "missing column", line=1, field=field)
    for field in fields[:3] + fields[4:]:
        ok = df[field].str.fullmatch(r"\d+")
        if not ok.all():
            i = int((~ok.to_numpy()).argmax())
            raise InputError(path, f"{df[field].iloc[i]!r} is not a whole number", line=i + 2, field=field)
    wide = pd.DataFrame({"sumlev": df["SUMLEV"].str.lstrip("0"),
                         "fips": df["STATE"].str.zfill(2) + df["COUNTY"].str.zfill(3),
                         "county_name": df["CTYNAME"]})
    return pd.concat([wide.assign(year=y, population=df[f"POPESTIMATE{y}"].astype("int64"))
                      for y in years], ignore_index=True)


def clean_population(raw_dir: Path = DATA_RAW, recodes_path: Path = FIPS_RECODES
                     ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Census population per county-year 2000-2012: one row per (fips, year), columns COLUMNS, and the log.

    Sources: see module docstring. Recodes: fips = STATE + COUNTY zero-padded to 2 + 3 digits;
    population = POPESTIMATE<year> (2000-2009 intercensal, 2010-2012 Vintage 2019); county_name =
    CTYNAME from co-est00int (2010 codes), else co-est2019, else the merged unit's name in
    fips_recodes.csv; state = USPS code. Rules (unit county-year; the raw rows are file rows x
    years): state rows dropped; then analysis/readers/fips_recodes.csv (merged units summed).
    """
    raw = pd.concat([read_estimates(Path(raw_dir) / file, years) for file, years in FILES.items()],
                    ignore_index=True)
    recodes = read_recodes(recodes_path)
    log = RuleLog("population", "county-year", units="fips")
    df = log.drop(raw, raw["sumlev"] != COUNTY_LEVEL, "state_rows",
                  "State totals (SUMLEV 40): not counties.")
    names = df.drop_duplicates("fips").set_index("fips")["county_name"]  # co-est00int first
    df = apply_recodes(df[["fips", "year", "population"]], log,
                       lambda rows: rows.groupby(["fips", "year"])[["population"]].sum(), recodes)
    names = pd.concat([pd.Series(unit_names(recodes)), names])
    df["county_name"] = df["fips"].map(names[~names.index.duplicated()])
    df["state_fips"] = df["fips"].str[:2]
    df = df.merge(read_states(raw_dir)[["state_fips", "state"]], on="state_fips", how="left",
                  validate="m:1")
    return df[COLUMNS], log.frame()
