"""States, counties and agency names: the lookups that place an agency in a county.

Sources: census/national_county.txt (2010 county FIPS codes and names, no header) and the
state rows (SUMLEV 040) of census/co-est2019-alldata.csv (state names, latin-1).
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from analysis.config import DATA_RAW

COUNTIES_FILE = Path("census/national_county.txt")
STATES_FILE = Path("census/co-est2019-alldata.csv")


def read_counties(raw_dir: Path = DATA_RAW) -> pd.DataFrame:
    """County list: state (USPS), state_fips, fips (5 chars), county_name (e.g. 'Wake County')."""
    df = pd.read_csv(
        Path(raw_dir) / COUNTIES_FILE,
        header=None,
        dtype=str,
        names=["state", "state_fips", "county_fips", "county_name", "classfp"],
    )
    df["fips"] = df["state_fips"] + df["county_fips"]
    return df[["state", "state_fips", "fips", "county_name"]]


def read_states(raw_dir: Path = DATA_RAW) -> pd.DataFrame:
    """The 50 states and DC: state_fips, state (USPS), state_name (upper case, e.g. 'NORTH CAROLINA')."""
    est = pd.read_csv(Path(raw_dir) / STATES_FILE, dtype=str, encoding="latin-1", usecols=["SUMLEV", "STATE", "STNAME"])
    est = est[est["SUMLEV"] == "040"].rename(columns={"STATE": "state_fips"})
    usps = read_counties(raw_dir)[["state", "state_fips"]].drop_duplicates()
    out = est.merge(usps, on="state_fips", validate="1:1")
    out["state_name"] = out["STNAME"].str.upper()
    return out[["state_fips", "state", "state_name"]].reset_index(drop=True)


_WORDS = [  # (pattern, replacement), applied in order to a lower-case name
    (r"https?://\S+", " "),
    (r"\(.*?\)", " "),
    (r"[’‘`]", "'"),
    (r"\bsheriff'?s?\b( office| department| dept\.?)?", "sheriff"),
    (r"\b(dept|dpt)\b\.?", "department"),
    (r"\bpd\b", "police department"),
    (r"\bpolice department\b", "police"),
    (r"^city of ", ""),
    (r" city police\b", " police"),
    (r"[^a-z0-9 ]", " "),
    (r"\s+", " "),
]


def normalise_agency(name: str, state: str = "", state_name: str = "") -> str:
    """A matching key for an agency name: lower case, no punctuation, no URL or '(State)' suffix.

    'Sheriff's Office/Department' -> 'sheriff', 'Police Department/Dept./PD' -> 'police',
    'City of X Police' and 'X City Police' -> 'x police'. Given the state, a leading USPS code
    is spelled out ('AL State Police' -> 'alabama state police') and a trailing one dropped.
    """
    key = str(name).lower()
    for pattern, repl in _WORDS:
        key = re.sub(pattern, repl, key)
    key = key.strip()
    if state:
        usps = state.lower()
        if key.startswith(usps + " ") and state_name:
            key = state_name.lower() + key[len(usps) :]
        if key.endswith(" " + usps):
            key = key[: -len(usps) - 1]
    return key


def county_part(name: str) -> str | None:
    """'Cumberland County Sheriff's Office' -> 'cumberland county' (also '... Parish'); else None."""
    found = re.search(r"^(.*?\b(county|parish))\b", normalise_agency(name))
    return found.group(1) if found else None
