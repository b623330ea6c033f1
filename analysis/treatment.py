"""287(g) treatment timing per county, from the agreements table (one row per agency x county).

Timing columns are calendar years, 0 = never treated under that definition. Years may lie
after the panel window (an agreement first signed in 2016 gives 2016: not yet treated in
2000-2012).
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
FULL = ["g287_county", "g287_any"]


def full_year(dates: pd.Series) -> pd.Series:
    """First full calendar year of exposure: the signing year, or the next one if signed after 30 June."""
    return dates.dt.year + (dates.dt.month >= 7).astype(int)


def timing_287g(agreements: pd.DataFrame) -> pd.DataFrame:
    """One row per fips with any local (county or municipal) agreement: the year of the first
    agreement signed in the county under each definition, 0 if none.

    g287_county: by a county-level agency (sheriff, county jail/police): the main definition.
    g287_any: by any local agency. g287_jem / g287_tf: by any local agency whose model includes
    the jail / task-force model (a hybrid counts for both). *_full: the first full calendar
    year instead (signed after 30 June -> next year).
    """
    local = agreements[agreements["fips"].notna() & agreements["level"].isin(["county", "municipal"])]
    local = local.assign(year=local["first_signed"].dt.year, year_full=full_year(local["first_signed"]))
    out = pd.DataFrame({"fips": pd.Series(sorted(local["fips"].unique()), dtype="string")})
    for name, counts in DEFINITIONS.items():
        columns = {"year": name, "year_full": f"{name}_full"} if name in FULL else {"year": name}
        first = local[counts(local).fillna(False)].groupby("fips")[list(columns)].min().rename(columns=columns)
        out = out.join(first, on="fips")
    order = ["fips", "g287_county", "g287_any", "g287_jem", "g287_tf", "g287_county_full", "g287_any_full"]
    return out[order].fillna(0).astype({c: "int64" for c in order[1:]})


def statewide_287g_states(agreements: pd.DataFrame) -> set[str]:
    """state_fips of the states with a state-level agreement (state police, DPS, DOC...)."""
    return set(agreements.loc[agreements["level"] == "state", "state_fips"].dropna())
