"""Treatment coding of 287(g) (appendix): no treated county among the controls, terminations, dating.

* Table treatment_coding: the headline 287(g) estimate (grid base) under each coding rule, with the
  counties each design loses to its control-group rule (analysis/design.py) and the estimate as
  coded before the rule, from results/grid_287g.
* Table dating_287g: every county with a county-level agreement whose first year disagrees with the
  Washington Post's first flagged year or with the DHS OIG (Oct 2009) list, or whose date is a
  list date shared by several agreements.
* Macros: the counts behind both tables.
"""

from __future__ import annotations

import pandas as pd

from analysis import config
from analysis.design import contaminated
from analysis.exhibits import inputs, latex
from analysis.exhibits.coverage_audit import grid_rows
from analysis.exhibits.numbers import fmt_int, fmt_num
from analysis.readers.fips_recodes import read_recodes, successor
from analysis.treatment import LIST_DATE_MIN_AGREEMENTS, county_dating, list_dates

# (grid variant, label, grid variant coded as before or None, timing column for the contamination count)
CODING = [
    ("base", "County agreements (baseline)", "municipal_controls", "g287_county"),
    ("jail_model", "Jail-model agreements", "jail_model_uncleaned", "g287_jem"),
    ("task_force", "Task-force agreements", "task_force_uncleaned", "g287_tf"),
    ("end_at_termination", "Exposure ends at termination", None, None),
    ("wapo_dates", "Washington Post first year", None, "g287_county_wapo"),
    ("no_list_dates", "Without list-date counties", None, None),
    ("midyear_rule", "Mid-year rule (after 30 June: next year)", None, None),
]


def dating(agreements: pd.DataFrame, panel: pd.DataFrame) -> pd.DataFrame:
    """county_dating on the panel's county codes, with names and whether the county is in the main sample."""
    local = agreements["fips"].notna()
    recoded = (
        agreements["fips"].astype("string").where(~local, successor(agreements["fips"].astype(str), read_recodes()))
    )
    out = county_dating(agreements.assign(fips=recoded))
    info = panel.groupby("fips").agg(
        county=("county_name", "first"),
        state=("state", "first"),
        in_main=("in_main", "any"),
        g287_county=("g287_county", "first"),
    )
    out = out.join(info, on="fips", how="inner")
    if (out["year"] != out["g287_county"]).any():
        raise ValueError("county_dating's first year differs from the panel's g287_county")
    return out


def dating_table(d: pd.DataFrame) -> str:
    """Table body: counties whose dating disagrees between sources, or with a list date in the window."""
    listed = d["list_date"] & (d["year"] <= config.LAST_YEAR)  # list dates after the window do not matter here
    rows = d[(d["wapo_agrees"] == False) | (d["oig_agrees"] == False) | listed]  # noqa: E712
    rows = rows.sort_values(["year", "state", "county"])
    df = pd.DataFrame(
        {
            "county": rows["county"],
            "state": rows["state"],
            "ours": rows["first_signed"].dt.strftime("%Y-%m-%d"),
            "wapo": ["not listed" if pd.isna(v) else str(int(v)) for v in rows["wapo_year"]],
            "oig": rows["oig_signed"].dt.strftime("%Y-%m-%d").fillna("not listed"),
            "list": rows["list_date"].map({True: "yes", False: ""}),
            "main": rows["in_main"].map({True: "yes", False: "no"}),
        }
    )
    return latex.data_table(
        df,
        {c: "text" for c in df.columns},
        labels={
            "county": "County",
            "state": "State",
            "ours": "First signed (ours)",
            "wapo": "Post first year",
            "oig": "OIG 2009 date",
            "list": "List date",
            "main": "In main",
        },
    )


def coding_table(grid: pd.DataFrame, counts: dict[str, int | None]) -> str:
    """Rows = coding rules; TWFE and CS (s.e.) with clean controls, counties, controls dropped, and
    TWFE and CS as coded before (where a rule changed the coding)."""

    def cell(variant, est):
        if variant is None or (variant, est) not in grid.index:
            return "", ""
        r = grid.loc[(variant, est)]
        return latex.fmt_number(r["estimate"], 3), f"({latex.fmt_number(r['se'], 3)})"

    rows = []
    for variant, label, before, _ in CODING:
        (t, ts), (c, cs_) = cell(variant, "twfe"), cell(variant, "cs_simple")
        (bt, bts), (bc, bcs) = cell(before, "twfe"), cell(before, "cs_simple")
        n = latex.fmt_count(grid.loc[(variant, "twfe"), "n_units"])
        dropped = "" if counts.get(variant) is None else latex.fmt_count(counts[variant])
        rows += [[latex.escape(label), t, c, n, dropped, bt, bc], ["", ts, cs_, "", "", bts, bcs]]
    return latex.tabular(
        ["l"] + ["r"] * 6,
        ["Design", "TWFE", "CS", "Counties", "Dropped", "TWFE", "CS"],
        rows,
        groups=[[("", 1), ("Rule applied", 4), ("As coded before", 2)]],
        centre=True,
    )


def dating_macros(d: pd.DataFrame, agreements: pd.DataFrame) -> dict[str, str]:
    """Counts of the dating comparison, and the list dates in words."""
    window = d[d["year"] <= config.LAST_YEAR]
    shared = agreements.drop_duplicates("agency_id")["first_signed"].value_counts()
    dates = sorted(list_dates(agreements))
    words = [f"{pd.Timestamp(x).day} {pd.Timestamp(x):%B %Y} ({shared[x]})" for x in dates]
    return {
        "DatingCounties": fmt_int(len(d)),
        "DatingCountiesWindow": fmt_int(len(window)),
        "DatingWapoListed": fmt_int(d["wapo_agrees"].notna().sum()),
        "DatingWapoAgree": fmt_int((d["wapo_agrees"] == True).sum()),  # noqa: E712
        "DatingWapoDisagree": fmt_int((d["wapo_agrees"] == False).sum()),  # noqa: E712
        "DatingWapoDisagreeWindow": fmt_int((window["wapo_agrees"] == False).sum()),  # noqa: E712
        "DatingWapoLater": fmt_int(((d["wapo_agrees"] == False) & (d["wapo_year"] > d["year"])).sum()),  # noqa: E712
        "DatingWapoEarlier": fmt_int(((d["wapo_agrees"] == False) & (d["wapo_year"] < d["year"])).sum()),  # noqa: E712
        "DatingOigListed": fmt_int(d["oig_agrees"].notna().sum()),
        "DatingOigAgree": fmt_int((d["oig_agrees"] == True).sum()),  # noqa: E712
        "DatingOigDisagree": fmt_int((d["oig_agrees"] == False).sum()),  # noqa: E712
        "DatingOigSameDay": fmt_int((d["oig_signed"] == d["first_signed"]).sum()),
        "DatingListDateCounties": fmt_int(d["list_date"].sum()),
        "DatingListDateCountiesWindow": fmt_int(window["list_date"].sum()),
        "DatingListDateMin": fmt_int(LIST_DATE_MIN_AGREEMENTS),
        "DatingListDates": latex.escape(
            ", ".join(words[:-1]) + " and " + words[-1] if len(words) > 1 else "".join(words)
        ),
    }


def build() -> dict[str, str]:
    """Tables treatment_coding and dating_287g; their macros."""
    panel = inputs.panel()
    agreements = pd.read_parquet(inputs.require(config.AGREEMENTS))
    grid = grid_rows("287g")
    main = panel[panel["in_main"]]
    counts = {
        variant: int(main.loc[contaminated(main, column, ["g287_any"]), "fips"].nunique())
        for variant, _, _, column in CODING
        if column
    }
    latex.write_table(coding_table(grid, counts), "treatment_coding")
    d = dating(agreements, panel)
    latex.write_table(dating_table(d), "dating_287g")
    macros = dating_macros(d, agreements)
    macros.update(
        {
            "CodingMunicipalOnlyMain": fmt_int(counts["base"]),
            "CodingJailDropped": fmt_int(counts["jail_model"]),
            "CodingTaskForceDropped": fmt_int(counts["task_force"]),
            "CodingWapoDropped": fmt_int(counts["wapo_dates"]),
            "CodingTerminatedMain": fmt_int(
                main.loc[(main["g287_county_end"] > 0) & (main["g287_county_end"] < config.LAST_YEAR), "fips"].nunique()
            ),
            "CodingPostTerminationCountyYears": fmt_int(
                ((main["g287_county_end"] > 0) & (main["year"] > main["g287_county_end"])).sum()
            ),
        }
    )
    for variant, _, before, _ in CODING:
        for est, suffix in (("twfe", "Twfe"), ("cs_simple", "Cs")):
            for v, tag in ((variant, ""), (before, "Before")):
                if v is not None and (v, est) in grid.index:
                    name = "Coding" + "".join(w.capitalize() for w in variant.split("_")) + tag + suffix
                    macros[name] = fmt_num(grid.loc[(v, est), "estimate"], 3)
    return macros
