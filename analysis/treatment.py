"""287(g) treatment timing per county, from the agreements table (one row per agency x county).

Timing columns are calendar years, 0 = never treated under that definition. Years may lie
after the panel window (an agreement first signed in 2016 gives 2016: not yet treated in
2000-2012). The estimand of every 287(g) design is intent-to-treat from the first agreement:
a county stays treated after its agreements end (g287_county_end records when they did).
"""

from __future__ import annotations

import pandas as pd

# definition -> which local agreements count (county-level agency; any; model includes JEM/TF)
DEFINITIONS = {
    "g287_county": lambda a: a["level"] == "county",
    "g287_any": lambda a: a["level"].isin(["county", "municipal"]),
    "g287_jem": lambda a: a["model"].isin(["JEM", "hybrid"]),
    "g287_tf": lambda a: a["model"].isin(["TF", "hybrid"]),
}
MIDYEAR = ["g287_county", "g287_any"]
# A first-signing date that this many agreements (any level) share is flagged as a list date: the
# date a roster or report gives many agreements at once (e.g. the re-signed MOAs of 15 Oct 2009),
# not necessarily the day each was first signed.
LIST_DATE_MIN_AGREEMENTS = 3
ORDER = [
    "fips",
    "g287_county",
    "g287_any",
    "g287_jem",
    "g287_tf",
    "g287_county_midyear",
    "g287_any_midyear",
    "g287_county_wapo",
    "g287_county_month",
    "g287_county_end",
    "g287_county_list_date",
]


def midyear_year(dates: pd.Series) -> pd.Series:
    """Mid-year rule: the signing year, or the next year if signed after 30 June."""
    return dates.dt.year + (dates.dt.month >= 7).astype(int)


def list_dates(agreements: pd.DataFrame, minimum: int = LIST_DATE_MIN_AGREEMENTS) -> set:
    """First-signing dates shared by at least ``minimum`` agreements (agencies) of the table."""
    per_agency = agreements.drop_duplicates("agency_id") if "agency_id" in agreements else agreements
    counts = per_agency["first_signed"].value_counts()
    return set(counts[counts >= minimum].index)


def timing_287g(agreements: pd.DataFrame) -> pd.DataFrame:
    """One row per fips with any local (county or municipal) agreement: the year of the first
    agreement signed in the county under each definition, 0 if none.

    g287_county: by a county-level agency (sheriff, county jail/police): the main definition.
    g287_any: by any local agency. g287_jem / g287_tf: by any local agency whose model includes
    the jail / task-force model (a hybrid counts for both). *_midyear: the mid-year rule instead
    (signed after 30 June -> next year). g287_county_wapo: g287_county dated by the Washington
    Post's first flagged year (wapo_first_year) for agreements the Post lists, by first_signed for
    the others. g287_county_month: month of the first county-level agreement (0 = none).
    g287_county_end: the year the county's last county-level agreement ended, when every one of
    them has an end date (end_date), 0 otherwise. g287_county_list_date: the first county-level
    agreement's date is a list date (list_dates).
    """
    local = agreements[agreements["fips"].notna() & agreements["level"].isin(["county", "municipal"])]
    local = local.assign(year=local["first_signed"].dt.year, year_midyear=midyear_year(local["first_signed"]))
    out = pd.DataFrame({"fips": pd.Series(sorted(local["fips"].unique()), dtype="string")})
    for name, counts in DEFINITIONS.items():
        columns = {"year": name, "year_midyear": f"{name}_midyear"} if name in MIDYEAR else {"year": name}
        first = local[counts(local).fillna(False)].groupby("fips")[list(columns)].min().rename(columns=columns)
        out = out.join(first, on="fips")
    county = local[local["level"] == "county"]
    wapo = county["wapo_first_year"] if "wapo_first_year" in county else pd.Series(pd.NA, index=county.index)
    county = county.assign(wapo=pd.to_numeric(wapo, errors="coerce").fillna(county["year"]))
    out = out.join(county.groupby("fips")["wapo"].min().rename("g287_county_wapo"), on="fips")
    first = county.sort_values("first_signed").drop_duplicates("fips").set_index("fips")["first_signed"]
    out = out.join(first.dt.month.rename("g287_county_month"), on="fips")
    ends = county["end_date"] if "end_date" in county else pd.Series(pd.NaT, index=county.index)
    ended = ends.notna().groupby(county["fips"]).all()
    last_end = ends.dt.year.groupby(county["fips"]).max().where(ended)
    out = out.join(last_end.rename("g287_county_end"), on="fips")
    out = out.fillna({c: 0 for c in ORDER[1:-1]}).astype({c: "int64" for c in ORDER[1:-1]})
    out["g287_county_list_date"] = out["fips"].map(first.isin(list_dates(agreements))).fillna(False).astype(bool)
    return out[ORDER]


def statewide_287g_states(agreements: pd.DataFrame) -> set[str]:
    """state_fips of the states with a state-level agreement (state police, DPS, DOC...)."""
    return set(agreements.loc[agreements["level"] == "state", "state_fips"].dropna())


def exposure(year: pd.Series, first_year: pd.Series, first_month: pd.Series) -> pd.Series:
    """Share of calendar ``year`` after a program began in ``first_month`` of ``first_year`` (the
    starting month counts in full): 0 before, (13 - month) / 12 in the first year, 1 after; NA where
    the start is unknown (NA). A first_year of 0 means never: 0 throughout."""
    first_year, first_month = first_year.astype("Float64"), first_month.astype("Float64")
    share = (year > first_year).astype("Float64") + (year == first_year).astype("Float64") * (13 - first_month) / 12
    return share.where((first_year != 0).fillna(True), 0.0).astype("Float64")


# The Post flags participation years from 2005 on: an agreement signed earlier shows as 2005.
WAPO_FIRST_COLUMN = 2005


def county_dating(agreements: pd.DataFrame) -> pd.DataFrame:
    """Per county with a county-level agreement: our first signing date and year (g287_county), the
    Washington Post's first flagged year and the DHS OIG (Oct 2009) original signing date of its
    county-level agreements (earliest of each), whether each agrees with our year (NA where the source
    does not list the county; a Post year of 2005 agrees with any earlier year, its first column), and
    whether our date is a list date (list_dates)."""
    county = agreements[(agreements["level"] == "county") & agreements["fips"].notna()]
    out = county.groupby("fips").agg(
        first_signed=("first_signed", "min"),
        wapo_year=("wapo_first_year", "min"),
        oig_signed=("oig_signed", "min"),
        agreements=("agency_id", "nunique"),
    )
    out["year"] = out["first_signed"].dt.year
    wapo = out["wapo_year"].astype("Float64")
    censored = (out["year"] < WAPO_FIRST_COLUMN) & (wapo == WAPO_FIRST_COLUMN)
    out["wapo_agrees"] = ((wapo == out["year"]) | censored).astype("boolean").where(wapo.notna())
    out["oig_agrees"] = (out["oig_signed"].dt.year == out["year"]).astype("boolean").where(out["oig_signed"].notna())
    out["list_date"] = out["first_signed"].isin(list_dates(agreements))
    return out.reset_index()
