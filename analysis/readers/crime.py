"""County-year offense counts, 2000-2012, from the ICPSR UCR county files (Part 4, crimes reported).

Source: ucr/f-edwards-cw-race/data/<study>-0004-Data.txt, one 97-character fixed-width file per
year (ICPSR studies listed in STUDY_YEAR; layout in data_raw/ucr/SOURCES.md section 3a).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from analysis.config import DATA_RAW, FIPS_RECODES, FIRST_YEAR, LAST_YEAR
from analysis.infra.errors import InputError
from analysis.readers.fips_recodes import apply_recodes, read_recodes
from analysis.readers.places import COUNTIES_FILE, read_counties
from analysis.rulelog import RuleLog

FOLDER = Path("ucr/f-edwards-cw-race/data")
# ICPSR study number -> data year (the year is not in the records).
STUDY_YEAR = {
    3451: 2000,
    3721: 2001,
    4009: 2002,
    4360: 2003,
    4466: 2004,
    4717: 2005,
    23780: 2006,
    25114: 2007,
    27644: 2008,
    30763: 2009,
    33523: 2010,
    34582: 2011,
    35019: 2012,
}
# (ICPSR name, first, last position, 1-based inclusive) -> panel column (None: not used).
LAYOUT = [
    ("STUDYNO", 1, 4, None),
    ("EDITION", 5, 5, None),
    ("PART", 6, 6, None),
    ("IDNO", 7, 10, None),
    ("FIPS_ST", 11, 12, "state_fips"),
    ("FIPS_CTY", 13, 15, "county_fips"),
    ("CPOPARST", 16, 23, None),
    ("CPOPCRIM", 24, 31, "pop_ucr"),
    ("AG_ARRST", 32, 34, None),
    ("AG_OFF", 35, 37, "ag_off"),
    ("COVIND", 38, 45, "covind"),
    ("INDEX_VIOL", 46, 51, None),
    ("MODINDX_PROPERTY", 52, 57, None),  # change meaning in 2009
    ("MURDER", 58, 61, "murder"),
    ("RAPE", 62, 65, "rape"),
    ("ROBBERY", 66, 70, "robbery"),
    ("AGASSLT", 71, 75, "agg_assault"),
    ("BURGLRY", 76, 81, "burglary"),
    ("LARCENY", 82, 87, "larceny"),
    ("MVTHEFT", 88, 93, "mv_theft"),
    ("ARSON", 94, 97, None),
]
RECORD_LENGTH = LAYOUT[-1][2]
VIOLENT = ["murder", "rape", "robbery", "agg_assault"]
PROPERTY = ["burglary", "larceny", "mv_theft"]
COUNTS = VIOLENT + PROPERTY + ["violent", "property", "index"]
NYC = ["36005", "36047", "36061", "36081", "36085"]  # Bronx, Kings, New York, Queens, Richmond
COLUMNS = ["fips", "state_fips", "year", *COUNTS, "covind", "ag_off", "pop_ucr", "nyc_2001"]
PSEUDO = ("999", "777")  # county codes of agencies not allocated to a county (dropped below)
# Real pre-2010 county codes in the crime files that the 2010 county list no longer has.
FORMER_COUNTIES = {
    "02201": "Prince of Wales-Outer Ketchikan AK (02198 from 2008)",
    "02232": "Skagway-Hoonah-Angoon AK (split 2007)",
    "02280": "Wrangell-Petersburg AK (split 2008)",
    "30113": "Yellowstone National Park MT (county-equivalent until 1997)",
    "51560": "Clifton Forge city VA (town since 2001)",
    "51780": "South Boston city VA (town since 1995)",
}


def crime_file(raw_dir: Path, year: int) -> Path:
    """Path of the ICPSR county file for ``year``."""
    study = {y: s for s, y in STUDY_YEAR.items()}[year]
    return Path(raw_dir) / FOLDER / f"{study:05d}-0004-Data.txt"


def read_crime_file(path: Path) -> pd.DataFrame:
    """One file as text fields named by LAYOUT, after checking every line has 97 characters and
    every field is a non-negative number (fields the panel does not use may be blank: the 2000
    file leaves CPOPARST and AG_ARRST blank for CT's statewide pseudo-county); else InputError
    naming file, line and field."""
    lines = path.read_bytes().decode("latin-1").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    for number, line in enumerate(lines, start=1):
        if len(line) != RECORD_LENGTH:
            field = next((name for name, first, last, _ in LAYOUT if len(line) < last), LAYOUT[-1][0])
            raise InputError(
                path,
                f"record has {len(line)} characters, expected {RECORD_LENGTH}"
                + ("" if len(line) > RECORD_LENGTH else "; field cut short"),
                line=number,
                field=field,
            )
    text = pd.Series(lines, dtype=str)
    fields = pd.DataFrame({name: text.str.slice(first - 1, last).str.strip() for name, first, last, _ in LAYOUT})
    for name, _, _, column in LAYOUT:
        ok = fields[name].str.fullmatch(r"\d+|\d*\.\d+" if column else r"(\d+|\d*\.\d+)?")
        if not ok.all():
            i = int((~ok.to_numpy()).argmax())
            raise InputError(path, f"{fields[name].iloc[i]!r} is not a non-negative number", line=i + 1, field=name)
    fips = fields["FIPS_ST"].str.zfill(2) + fields["FIPS_CTY"].str.zfill(3)
    repeated = fips.duplicated()
    if repeated.any():
        i = int(repeated.to_numpy().argmax())
        first = int((fips == fips.iloc[i]).to_numpy().argmax())
        raise InputError(
            path,
            f"county {fips.iloc[i]} repeats line {first + 1}: one record per county and year expected",
            line=i + 1,
            field="FIPS_CTY",
        )
    return fields


def check_study(path: Path, fields: pd.DataFrame, year: int) -> None:
    """InputError unless every record's own STUDYNO and PART are those of ``year``'s file: PART 4, and
    STUDYNO the ICPSR study number (studies from 2006 on have five digits; their records carry the
    placeholder 9999, so for them only the sha256 manifest check tells the years apart)."""
    study = {y: s for s, y in STUDY_YEAR.items()}[year]
    expected = str(study) if study < 10000 else "9999"
    for name, want in (("STUDYNO", expected), ("PART", "4")):
        bad = fields[name] != want
        if bad.any():
            i = int(bad.to_numpy().argmax())
            found = fields[name].iloc[i]
            other = next((f" (study {s}: the {y} file)" for s, y in STUDY_YEAR.items() if str(s) == found), "")
            raise InputError(
                path,
                f"{found!r}{other}, expected {want!r}: this file is read as the {year} file "
                f"(ICPSR study {study}, part 4)",
                line=i + 1,
                field=name,
            )


def known_counties(raw_dir: Path) -> set[str] | None:
    """County codes a crime record may carry: the 2010 county list (census/national_county.txt)
    and FORMER_COUNTIES; None when raw_dir has no county list (unit fixtures holding only crime
    files: the code check is then skipped)."""
    if not (Path(raw_dir) / COUNTIES_FILE).is_file():
        return None
    return set(read_counties(raw_dir)["fips"]) | set(FORMER_COUNTIES)


def check_counties(path: Path, fields: pd.DataFrame, known: set[str]) -> None:
    """InputError at the first record whose county code (not a pseudo-county) is not ``known``."""
    state, county = fields["FIPS_ST"].str.zfill(2), fields["FIPS_CTY"].str.zfill(3)
    bad = ~(state + county).isin(known) & ~county.isin(PSEUDO)
    if bad.any():
        i = int(bad.to_numpy().argmax())
        states = {f[:2] for f in known}
        field = "FIPS_CTY" if state.iloc[i] in states else "FIPS_ST"
        raise InputError(
            path,
            f"county {state.iloc[i] + county.iloc[i]} is not a county of "
            f"{COUNTIES_FILE} nor a former code (FORMER_COUNTIES)",
            line=i + 1,
            field=field,
        )


def _merge_county_years(rows: pd.DataFrame) -> pd.DataFrame:
    """Merged county-years: counts, agencies and UCR population summed; COVIND weighted by CPOPCRIM
    (the plain mean when no part has UCR population)."""
    groups = rows.assign(_w=rows["covind"] * rows["pop_ucr"]).groupby(["fips", "year"])
    out = groups[[*COUNTS, "ag_off", "pop_ucr"]].sum()
    weighted = groups["_w"].sum() / out["pop_ucr"]
    return out.assign(covind=weighted.where(out["pop_ucr"] > 0, groups["covind"].mean()))


def clean_crime(
    raw_dir: Path = DATA_RAW, years=range(FIRST_YEAR, LAST_YEAR + 1), recodes_path: Path = FIPS_RECODES
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """County-year crime counts: one row per (fips, year), columns COLUMNS, and the sample log.

    Source: the ICPSR county files (see module docstring), one per year; the year comes from the
    study number in the file name. Recodes: fips = FIPS_ST + FIPS_CTY zero-padded to 2 + 3 digits
    (space-padded in 2000-2002); murder, rape, robbery, agg_assault, burglary, larceny, mv_theft
    from fields 14-20; violent = murder + rape + robbery + agg_assault, property = burglary +
    larceny + mv_theft, index = violent + property (fields 12-13 are not used: they change
    meaning in 2009); covind = COVIND (0-100; 0 means no reporting, not zero crime: kept here);
    ag_off = AG_OFF; pop_ucr = CPOPCRIM; nyc_2001 = the five NYC counties in 2001 (murders
    include the 11 September victims). Rules (unit county-year): pseudo-counties xx999 and xx777
    dropped; then analysis/readers/fips_recodes.csv (merges and boundary-change drops).
    Checks: a record whose STUDYNO/PART are not those of the year's file (check_study), a county
    repeated within a file, or a code that is not a county (known_counties), raises InputError
    naming the file, line and field.
    """
    recodes = read_recodes(recodes_path)
    known = known_counties(raw_dir)
    frames = []
    for year in years:
        path = crime_file(raw_dir, year)
        if not path.is_file():
            raise InputError(path, f"crime file for {year} not found")
        fields = read_crime_file(path)
        check_study(path, fields, year)
        if known is not None:
            check_counties(path, fields, known)
        frames.append(fields.assign(year=year))
    raw = pd.concat(frames, ignore_index=True)
    used = {name: column for name, _, _, column in LAYOUT if column}
    df = (
        raw[list(used)]
        .rename(columns=used)
        .astype({c: "int64" for c in used.values() if c not in ("state_fips", "county_fips", "covind")})
    )
    df["covind"] = df["covind"].astype(float)
    df["state_fips"] = df["state_fips"].str.zfill(2)
    df["fips"] = df["state_fips"] + df["county_fips"].str.zfill(3)
    df["year"] = raw["year"]
    df["violent"] = df[VIOLENT].sum(axis=1)
    df["property"] = df[PROPERTY].sum(axis=1)
    df["index"] = df["violent"] + df["property"]

    log = RuleLog("crime", "county-year", units="fips")
    df = log.drop(
        df,
        df["fips"].str.endswith(PSEUDO[0]),
        "pseudo_county_999",
        "FIPS xx999: statewide agencies not allocated to a county (AK, CT, NJ, VT).",
    )
    df = log.drop(
        df,
        df["fips"].str.endswith(PSEUDO[1]),
        "pseudo_county_777",
        "FIPS xx777 (from 2008): agencies not allocated to a county, population 0.",
    )
    df = apply_recodes(df, log, _merge_county_years, recodes)
    df["state_fips"] = df["fips"].str[:2]
    df["nyc_2001"] = df["fips"].isin(NYC) & (df["year"] == 2001)
    return df[COLUMNS], log.frame()
