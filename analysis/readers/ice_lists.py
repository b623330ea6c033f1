"""ICE's monthly lists of 287(g) participating agencies, 2021-2026, as one long table.

Source: 287g/relevantresearch_287g-detentiondata/participatingAgencies/*.xlsx (68 lists; ICE's
public list, archived by RelevantResearch). An agreement is one row of a list: one agency x
one support type (JEM, TFM or WSO); an agency with two models has two agreements.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from analysis.config import DATA_RAW
from analysis.infra.errors import InputError

FOLDER = Path("287g/relevantresearch_287g-detentiondata/participatingAgencies")
# ICE printed the previous year in this January file name (newest SIGNED 2025-12-18; added
# upstream 2026-01-06): see 287g/SOURCES.md.
LIST_DATE_EXCEPTIONS = {"participatingAgencies01052025pm.xlsx": pd.Timestamp("2026-01-05")}
SUPPORT = {
    "Jail Enforcement Model": "JEM",
    "Task Force Model": "TFM",
    "Warrant Service Officer": "WSO",
    "Warrant Service Office": "WSO",
}
TYPES = {"County": "County", "Municipality": "Municipality", "State Agency": "State Agency", "State": "State Agency"}
HEADER = {
    "STATE": "state",
    "LAW ENFORCEMENT AGENCY": "agency",
    "TYPE": "type",
    "COUNTY": "county",
    "SUPPORT TYPE": "support_type",
    "SIGNED": "signed",
}
COLUMNS = ["list_date", "file", "state", "agency", "type", "county", "support_type", "signed", "line"]


def list_date(name: str) -> pd.Timestamp:
    """The date of a list from its file name: Wayback capture time ('...-YYYYMMDDhhmmss.xlsx')
    or ICE's own date ('participatingAgenciesMMDDYYYY{am,pm,mid}.xlsx'), with the one
    documented exception (01052025pm is the 5 Jan 2026 list)."""
    if name in LIST_DATE_EXCEPTIONS:
        return LIST_DATE_EXCEPTIONS[name]
    if found := re.fullmatch(r"\w+-(\d{8})\d{6}\.xlsx", name):
        return pd.to_datetime(found.group(1), format="%Y%m%d")
    if found := re.fullmatch(r"participatingAgencies(\d{8})(am|pm|mid)\.xlsx", name):
        return pd.to_datetime(found.group(1), format="%m%d%Y")
    raise InputError(name, "file name carries no list date")


def _signed(value) -> pd.Timestamp:
    """SIGNED as a date: a datetime cell, 'YYYY-MM-DD' text, or 'MM/DD/YYYY' (also the
    malformed '05/082025' of one list, read as 2025-05-08)."""
    if isinstance(value, str) and (found := re.fullmatch(r"(\d{1,2})/(\d{1,2})/?(\d{4})", value.strip())):
        month, day, year = found.groups()
        return pd.Timestamp(int(year), int(month), int(day))
    return pd.to_datetime(value, format="ISO8601") if isinstance(value, str) else pd.Timestamp(value)


def read_list(path: Path) -> pd.DataFrame:
    """One list, in the long-table columns; blank rows dropped; codes checked."""
    raw = pd.read_excel(path, dtype=object, engine="calamine")
    missing = {"STATE", "LAW ENFORCEMENT AGENCY", "SUPPORT TYPE", "SIGNED"} - set(raw.columns)
    if missing:
        raise InputError(path, "missing column(s) " + ", ".join(sorted(missing)), line=1, field=sorted(missing)[0])
    raw = raw.rename(columns=HEADER).dropna(subset=["agency"])
    df = pd.DataFrame({"list_date": list_date(path.name), "file": path.name}, index=raw.index)
    for column in ["state", "agency", "type", "county", "support_type"]:
        df[column] = (
            raw[column].astype("string").str.strip()
            if column in raw
            else pd.Series(pd.NA, index=raw.index, dtype="string")
        )
    df["state"] = df["state"].str.upper()
    for column, codes in [("support_type", SUPPORT), ("type", TYPES)]:
        bad = df[column].notna() & ~df[column].isin(list(codes))
        if bad.any():
            i = bad.idxmax()
            raise InputError(
                path, f"unknown value {df.at[i, column]!r}", line=i + 2, field=column.upper().replace("_", " ")
            )
        df[column] = df[column].map(codes, na_action="ignore").astype("string")
    df["signed"] = raw["signed"].map(_signed, na_action="ignore").astype("datetime64[us]")
    df["line"] = raw.index + 2  # the row's line in the sheet (line 1 is the header)
    return df[COLUMNS]


def clean_ice_lists(raw_dir: Path = DATA_RAW) -> pd.DataFrame:
    """All ICE participating-agency lists in one long table (list_date, file, state, agency,
    type, county, support_type, signed, line), one row per agreement per list; ``line`` is the
    row's line in its sheet, so later checks can name file, line and field.

    Source: the 68 xlsx lists in 287g/relevantresearch_287g-detentiondata/participatingAgencies/,
    three layouts (TYPE from Feb 2025, COUNTY from 17 Mar 2025: NA before). Recodes: list_date
    from the file name (see list_date); state upper-cased ('UTAh'); support type -> JEM / TFM /
    WSO ('Warrant Service Office' -> WSO); type 'State' -> 'State Agency'; trailing spaces
    stripped; SIGNED -> date. Rows without an agency name (blank rows) are dropped.
    """
    files = sorted((Path(raw_dir) / FOLDER).glob("*.xlsx"))
    if not files:
        raise InputError(Path(raw_dir) / FOLDER, "no xlsx lists found")
    frames = [read_list(f) for f in files]  # calamine: about 3x faster than openpyxl
    return pd.concat(frames, ignore_index=True).sort_values(["list_date", "file"], kind="stable").reset_index(drop=True)


def count_agreements(lists: pd.DataFrame, date) -> tuple[int, int]:
    """(agreements, states) in the list in force on ``date``: the latest list dated on or before it."""
    date = pd.Timestamp(date)
    dates = lists.loc[lists["list_date"] <= date, "list_date"]
    if dates.empty:
        raise ValueError(f"no ICE list on or before {date.date()}")
    current = lists[lists["list_date"] == dates.max()]
    return len(current), int(current["state"].nunique())


if __name__ == "__main__":
    try:
        lists = clean_ice_lists()
    except InputError as err:
        raise SystemExit(f"error: {err}") from None
    print(lists.groupby("list_date").agg(agreements=("agency", "size"), states=("state", "nunique")).to_string())
