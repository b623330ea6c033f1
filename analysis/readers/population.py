"""County resident population, 2000-2012: the denominator of every crime rate.

Sources: census/co-est00int-tot.csv (intercensal estimates 2000-2009, 1 July; codes not
zero-padded) and census/co-est2019-alldata.csv (Vintage 2019 estimates 2010-2012, 1 July);
both latin-1, both on 2010 county geography.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pandas as pd

from analysis.config import DATA_RAW, FIPS_RECODES
from analysis.infra.errors import InputError
from analysis.readers.fips_recodes import apply_recodes, read_recodes, unit_names
from analysis.readers.places import read_states
from analysis.rulelog import RuleLog

# file -> years taken from it (co-est2019 from 2010 on: it supersedes POPESTIMATE2010 of co-est00int)
FILES = {
    Path("census/co-est00int-tot.csv"): range(2000, 2010),
    Path("census/co-est2019-alldata.csv"): range(2010, 2013),
}
COUNTY_LEVEL = "50"
COLUMNS = ["fips", "state_fips", "state", "county_name", "year", "population"]


def check_latin1(path: Path, raw: bytes) -> None:
    """Refuse bytes that show a file is not the latin-1 text the Census publishes (latin-1 decodes
    any byte, so a wrong encoding would otherwise mangle names silently): a NUL byte (UTF-16/32),
    a C1 control byte 0x80-0x9f (Windows-1252 punctuation or stray binary), or non-ASCII text
    that is valid UTF-8 (a re-saved file: 'Doña' read as 'DoÃ±a'). InputError names the line
    and the column of the first offending byte."""
    problems = [
        (raw.find(b"\x00"), "has a NUL byte: the file is UTF-16 or UTF-32, not latin-1"),
        (_first(rb"[\x80-\x9f]", raw), "has a C1 control byte (0x80-0x9f): not latin-1 text"),
    ]
    if re.search(rb"[\x80-\xff]", raw):
        try:
            raw.decode("utf-8")
            problems.append(
                (
                    _first(rb"[\x80-\xff]", raw),
                    "is UTF-8 (valid multi-byte sequences), "
                    "expected latin-1: names would be mangled ('ñ' read as 'Ã±')",
                )
            )
        except UnicodeDecodeError:
            pass
    found = [(pos, what) for pos, what in problems if pos >= 0]
    if not found:
        return
    pos, what = min(found)
    start = raw.rfind(b"\n", 0, pos) + 1
    prefix = raw[start:pos].replace(b"\x00", b"").decode("latin-1")
    column = len(next(csv.reader([prefix]), [""])) - 1 if prefix else 0
    header = next(csv.reader([raw.split(b"\n", 1)[0].replace(b"\x00", b"").decode("latin-1")]), [])
    field = header[column].lstrip("\xff\xfe\xef\xbb\xbf").strip() if column < len(header) else None
    raise InputError(
        path, f"byte {raw[pos]:#04x} at offset {pos} {what}", line=raw.count(b"\n", 0, pos) + 1, field=field
    )


def _first(pattern: bytes, raw: bytes) -> int:
    """Offset of the first match of ``pattern`` in ``raw``, -1 if none."""
    found = re.search(pattern, raw)
    return found.start() if found else -1


def read_estimates(path: Path, years: range) -> pd.DataFrame:
    """One Census file in long form: one row per file row x year (state rows included), columns
    sumlev, fips, county_name, year, population; InputError if the encoding is not latin-1
    (check_latin1) or a column or a count is bad."""
    fields = ["SUMLEV", "STATE", "COUNTY", "CTYNAME", *(f"POPESTIMATE{y}" for y in years)]
    raw = Path(path).read_bytes()
    check_latin1(path, raw)
    df = pd.read_csv(io.BytesIO(raw), dtype=str, encoding="latin-1", keep_default_na=False)
    for field in fields:
        if field not in df:
            raise InputError(path, "missing column", line=1, field=field)
    for field in fields[:3] + fields[4:]:
        ok = df[field].str.fullmatch(r"\d+")
        if not ok.all():
            i = int((~ok.to_numpy()).argmax())
            raise InputError(path, f"{df[field].iloc[i]!r} is not a whole number", line=i + 2, field=field)
    wide = pd.DataFrame(
        {
            "sumlev": df["SUMLEV"].str.lstrip("0"),
            "fips": df["STATE"].str.zfill(2) + df["COUNTY"].str.zfill(3),
            "county_name": df["CTYNAME"],
        }
    )
    return pd.concat(
        [wide.assign(year=y, population=df[f"POPESTIMATE{y}"].astype("int64")) for y in years], ignore_index=True
    )


def clean_population(raw_dir: Path = DATA_RAW, recodes_path: Path = FIPS_RECODES) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Census population per county-year 2000-2012: one row per (fips, year), columns COLUMNS, and the log.

    Sources: see module docstring. Recodes: fips = STATE + COUNTY zero-padded to 2 + 3 digits;
    population = POPESTIMATE<year> (2000-2009 intercensal, 2010-2012 Vintage 2019); county_name =
    CTYNAME from co-est00int (2010 codes), else co-est2019, else the merged unit's name in
    fips_recodes.csv; state = USPS code. Rules (unit county-year; the raw rows are file rows x
    years): state rows dropped; then analysis/readers/fips_recodes.csv (merged units summed).
    """
    raw = pd.concat([read_estimates(Path(raw_dir) / file, years) for file, years in FILES.items()], ignore_index=True)
    recodes = read_recodes(recodes_path)
    log = RuleLog("population", "county-year", units="fips")
    df = log.drop(raw, raw["sumlev"] != COUNTY_LEVEL, "state_rows", "State totals (SUMLEV 40): not counties.")
    names = df.drop_duplicates("fips").set_index("fips")["county_name"]  # co-est00int first
    df = apply_recodes(
        df[["fips", "year", "population"]],
        log,
        lambda rows: rows.groupby(["fips", "year"])[["population"]].sum(),
        recodes,
    )
    names = pd.concat([pd.Series(unit_names(recodes)), names])
    df["county_name"] = df["fips"].map(names[~names.index.duplicated()])
    df["state_fips"] = df["fips"].str[:2]
    df = df.merge(read_states(raw_dir)[["state_fips", "state"]], on="state_fips", how="left", validate="m:1")
    return df[COLUMNS], log.frame()
