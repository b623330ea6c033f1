"""Raw crime-rate trends by adoption cohort, from the main sample (no model).

287(g): cohorts of the first county-level agreement (g287_county), against counties with no
agreement by 2012 (never treated, plus the 2016-17 adopters, which the estimators also treat as
untreated in 2000-2012).  SC: activation cohorts (sc_year, dated counties); every county is
activated by 2013, so the 2013 cohort is the not-yet-treated comparison.  Lines are unweighted
means over counties of the rate per 100,000 residents; filled markers are years at or after the
cohort's (first) adoption year.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis import config
from analysis.exhibits import inputs, style
from analysis.exhibits.numbers import fmt_int

# (label, first year, last year) of each cohort bin; None = the comparison group.
COHORTS_287G = [
    ("Adopted 2005–06", 2005, 2006),
    ("Adopted 2007", 2007, 2007),
    ("Adopted 2008", 2008, 2008),
    ("Adopted 2009–10", 2009, 2010),
    ("No agreement by 2012", None, None),
]
COHORTS_SC = [
    ("Activated 2008–09", 2008, 2009),
    ("Activated 2010", 2010, 2010),
    ("Activated 2011", 2011, 2011),
    ("Activated 2012", 2012, 2012),
    ("Activated 2013 (not yet)", 2013, 2013),
]
TREND_COLUMNS = [("rate_violent", "Violent crimes per 100,000"), ("rate_property", "Property crimes per 100,000")]


def assign_cohort(g: pd.Series, cohorts: list) -> pd.Series:
    """The cohort label of each adoption year in ``g`` (0/NA or after LAST_YEAR -> the comparison
    label, the one with first year None); raises if a year falls in no bin."""
    out = pd.Series(pd.NA, index=g.index, dtype="object")
    comparison = [label for label, lo, _ in cohorts if lo is None]
    g = g.astype("Float64")
    untreated = g.isna() | (g == 0) | (g > config.LAST_YEAR)
    if comparison:
        out[untreated] = comparison[0]
    for label, lo, hi in cohorts:
        if lo is not None:
            out[(g >= lo) & (g <= hi)] = label
    if out.isna().any():
        raise ValueError(f"adoption years in no cohort: {sorted(g[out.isna()].dropna().unique())}")
    return out


def cohort_means(df: pd.DataFrame, gcol: str, cohorts: list) -> pd.DataFrame:
    """Mean of each TREND_COLUMNS column by cohort and year, with the number of counties per cohort."""
    df = df.assign(cohort=assign_cohort(df[gcol], cohorts))
    means = df.groupby(["cohort", "year"])[[c for c, _ in TREND_COLUMNS]].mean().reset_index()
    counts = df.groupby("cohort")["fips"].nunique().rename("n_counties")
    return means.merge(counts, on="cohort")


def _plot(means: pd.DataFrame, cohorts: list):
    """Two panels (violent, property): one line per cohort, filled markers from adoption on."""
    fig, axes = style.figure(height=3.0, ncols=2)
    colours = [style.OKABE_ITO[c] for c in style.CYCLE]
    for ax, (col, ylabel) in zip(axes, TREND_COLUMNS):
        for k, (label, lo, _) in enumerate(cohorts):
            part = means[means["cohort"] == label].sort_values("year")
            if part.empty:
                continue
            n = int(part["n_counties"].iloc[0])
            comparison = lo is None or lo > config.LAST_YEAR
            colour = "#555555" if comparison else colours[k]
            ls = "--" if comparison else "-"
            ax.plot(part["year"], part[col], color=colour, ls=ls, label=f"{label} ({n})")
            post = part["year"] >= (lo if lo is not None else np.inf)
            ax.plot(part["year"][~post], part[col][~post], "o", mfc="white", mec=colour, ms=3.5, ls="none")
            ax.plot(part["year"][post], part[col][post], "o", color=colour, ms=3.5, ls="none")
        ax.set_ylabel(ylabel)
        ax.set_xticks(range(config.FIRST_YEAR, config.LAST_YEAR + 1, 2))
        ax.set_ylim(bottom=0)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=3, title="Cohort (counties)")
    return fig


def figure_287g(df: pd.DataFrame) -> pd.DataFrame:
    """Figure trends_287g; returns the cohort means."""
    means = cohort_means(df, "g287_county", COHORTS_287G)
    style.save(_plot(means, COHORTS_287G), "trends_287g")
    return means


def figure_sc(df: pd.DataFrame) -> pd.DataFrame:
    """Figure trends_sc (dated counties only); returns the cohort means."""
    means = cohort_means(df[df["sc_dated"]], "sc_year", COHORTS_SC)
    style.save(_plot(means, COHORTS_SC), "trends_sc")
    return means


def build() -> dict[str, str]:
    """Both trend figures; macros counting the counties in each group of the main sample."""
    df = inputs.main_sample()
    figure_287g(df)
    figure_sc(df)
    county = df.groupby("fips")[["g287_county", "sc_year", "sc_dated"]].first()
    g = county["g287_county"]
    adopted = (g > 0) & (g <= config.LAST_YEAR)
    return {
        "MainTwoEightySevenTreatedCounties": fmt_int(adopted.sum()),
        "MainTwoEightySevenLateCounties": fmt_int((g > config.LAST_YEAR).sum()),
        "MainTwoEightySevenNeverCounties": fmt_int((g == 0).sum()),
        "MainTwoEightySevenFirstYear": str(int(g[adopted].min())),
        "MainTwoEightySevenLastYear": str(int(g[adopted].max())),
        "MainScDatedCounties": fmt_int(county["sc_dated"].sum()),
        "MainScUndatedCounties": fmt_int((~county["sc_dated"]).sum()),
        "MainScFirstYear": str(int(county["sc_year"].min())),
        "MainScLastYear": str(int(county["sc_year"].max())),
        "MainScNotYetCounties": fmt_int((county["sc_year"] > config.LAST_YEAR).sum()),
    }
