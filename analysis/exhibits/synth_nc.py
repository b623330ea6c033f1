"""Synthetic control for the North Carolina 287(g) counties (#12 §3): table synth_nc (index crimes: one
row per treated county and the equal-weight average, from results/credibility/synth_nc.csv of
analysis.synth_nc), table synth_nc_outcomes (index, violent and property crimes: the average and the
county effects summarised), figure synth_nc_gaps (each county's gap path against its placebos' gap
paths, index crimes, results/credibility/synth_nc_gaps.csv) and the ``NcSynth...`` macros of the text,
each claim generated from the numbers: how many county ATTs are negative, how many placebo p-values
fall below ALPHA, how many pre-period fits (of counties and of placebos) are exact (pre-RMSPE below
synth.EXACT), and the verdicts on the averages."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis import config
from analysis.estimators.synth import EXACT, TOP
from analysis.exhibits import inputs, latex, style
from analysis.exhibits.numbers import fmt_int, fmt_num

num = latex.fmt_number  # thousands separators, as in the table

SOURCE = config.RESULTS / "credibility" / "synth_nc.csv"
GAPS = config.RESULTS / "credibility" / "synth_nc_gaps.csv"
ALPHA = 0.10
LABELS = {
    "county": "County",
    "first_year": "First",
    "n_pre": "Pre",
    "pre_rmspe": "Pre-RMSPE",
    "att": "ATT",
    "rmspe_ratio": "Ratio",
    "p_value": "p",
    "top_donors": "Largest donor weights",
}


HEADLINE = "index"  # the outcome of table synth_nc, the gap figure and the unprefixed macros
OUTCOME_LABELS = {
    "outcome": "Outcome",
    "counties": "Counties",
    "negative": "Negative",
    "low": "Lowest ATT",
    "high": "Highest ATT",
    "below": f"p below {ALPHA:.2f}",
    "att": "Average ATT",
    "p_value": "p",
}


def outcomes(t: pd.DataFrame) -> list[str]:
    """The outcomes of synth_nc.csv in the order analysis.synth_nc wrote them (its OUTCOME_SPECS)."""
    return list(dict.fromkeys(t["outcome"]))


def label(outcome: str) -> str:
    return f"{outcome.capitalize()} crimes"


def read_all() -> pd.DataFrame:
    """Every row of synth_nc.csv, fips as text; MissingResult unless the headline outcome is there and
    each outcome has county rows and one 'all' row."""
    t = inputs.read_csv(SOURCE, ["outcome", "fips", "county", *LABELS, "n_donors", "n_placebos", "placebos_exact"])
    t["fips"] = t["fips"].astype(str)
    if HEADLINE not in set(t["outcome"]):
        raise inputs.MissingResult(f"{SOURCE}: no rows for the headline outcome {HEADLINE}")
    for outcome in outcomes(t):
        part = t[t["outcome"] == outcome]
        if (part["fips"] == "all").sum() != 1 or (part["fips"] != "all").sum() == 0:
            raise inputs.MissingResult(f"{SOURCE}: expected county rows and one 'all' row for outcome {outcome}")
    return t


def split(t: pd.DataFrame, outcome: str = HEADLINE) -> tuple[pd.DataFrame, pd.Series]:
    """The county rows and the aggregate row of one outcome."""
    part = t[t["outcome"] == outcome]
    return part[part["fips"] != "all"], part[part["fips"] == "all"].iloc[0]


def short(name: str) -> str:
    return name.removesuffix(" County")


def table_body(counties: pd.DataFrame, agg: pd.Series) -> str:
    rows = counties.assign(
        county=counties["county"].map(short),
        first_year=counties["first_year"].astype(int).astype(str),
        top_donors=counties["top_donors"].map(
            lambda s: "; ".join(short(d.split(" (")[0]) + " (" + d.split(" (")[1] for d in s.split("; "))
        ),
    )
    avg = pd.DataFrame([{"county": "Average", "att": agg["att"], "p_value": agg["p_value"]}])
    frame = pd.concat([rows, avg], ignore_index=True)[list(LABELS)]
    formats = {
        "county": "text",
        "first_year": "text",
        "n_pre": "int",
        "pre_rmspe": 1,
        "att": 1,
        "rmspe_ratio": 2,
        "p_value": 3,
        "top_donors": "text",
    }
    return latex.data_table(
        frame,
        formats,
        labels=LABELS,
        align={"top_donors": r"p{0.3\textwidth}"},
        midrule_before=[len(rows)],
    )


def macros(counties: pd.DataFrame, agg: pd.Series) -> dict[str, str]:
    p = "NcSynth"
    lo, hi = counties.loc[counties["att"].idxmin()], counties.loc[counties["att"].idxmax()]
    best = counties.loc[counties["p_value"].idxmin()]
    return {
        p + "Counties": fmt_int(len(counties)),
        p + "Donors": fmt_int(counties["n_donors"].max()),
        p + "PreMin": fmt_int(counties["n_pre"].min()),
        p + "PreMax": fmt_int(counties["n_pre"].max()),
        p + "PFloor": fmt_num(1 / (1 + counties["n_placebos"].min()), 4),
        p + "Att": num(agg["att"], 1),
        p + "P": fmt_num(agg["p_value"], 3),
        p + "Draws": fmt_int(agg["n_placebos"]),
        p + "AttMin": num(lo["att"], 1),
        p + "AttMinCounty": latex.escape(lo["county"]),
        p + "AttMax": num(hi["att"], 1),
        p + "AttMaxCounty": latex.escape(hi["county"]),
        p + "Negative": fmt_int((counties["att"] < 0).sum()),
        p + "BelowAlpha": fmt_int((counties["p_value"] < ALPHA).sum()),
        p + "Alpha": fmt_num(ALPHA, 2),
        p + "MinP": fmt_num(best["p_value"], 3),
        p + "MinPCounty": latex.escape(best["county"]),
        p + "Exact": fmt_int((counties["pre_rmspe"] < EXACT).sum()),
        p + "PlacebosExact": fmt_int(counties["placebos_exact"].sum()),
        p + "Placebos": fmt_int(counties["n_placebos"].sum()),
        p + "Top": fmt_int(TOP),
        p + "ExactBelow": fmt_num(EXACT, 2),
        p + "Verdict": (
            f"at the {ALPHA:.2f} level the placebo distribution gives no evidence of an effect"
            if agg["p_value"] >= ALPHA
            else f"fewer than {ALPHA:.0%} of the placebo averages are as large in magnitude".replace("%", "\\%")
        ),
    }


def outcomes_body(t: pd.DataFrame) -> str:
    """Table synth_nc_outcomes: per outcome, the number of treated counties, how many county ATTs are
    negative, the lowest and highest, how many county p-values are below ALPHA, the average and its p-value."""
    rows = []
    for outcome in outcomes(t):
        counties, agg = split(t, outcome)
        rows.append(
            {
                "outcome": label(outcome),
                "counties": len(counties),
                "negative": int((counties["att"] < 0).sum()),
                "low": counties["att"].min(),
                "high": counties["att"].max(),
                "below": int((counties["p_value"] < ALPHA).sum()),
                "att": agg["att"],
                "p_value": agg["p_value"],
            }
        )
    formats = {"outcome": "text", "counties": "int", "negative": "int", "low": 1, "high": 1, "below": "int"}
    return latex.data_table(pd.DataFrame(rows), formats | {"att": 1, "p_value": 3}, labels=OUTCOME_LABELS)


def outcome_macros(t: pd.DataFrame) -> dict[str, str]:
    """NcSynth<Outcome>Att / P / Negative / BelowAlpha for the outcomes besides the headline one, and
    NcSynthOutcomesVerdict: which averages have a placebo p-value below ALPHA."""
    out, low = {}, []
    for outcome in outcomes(t):
        counties, agg = split(t, outcome)
        if agg["p_value"] < ALPHA:
            low.append(label(outcome).lower())
        if outcome == HEADLINE:
            continue
        p = "NcSynth" + outcome.capitalize()
        out |= {
            p + "Att": num(agg["att"], 1),
            p + "P": fmt_num(agg["p_value"], 3),
            p + "Negative": fmt_int((counties["att"] < 0).sum()),
            p + "BelowAlpha": fmt_int((counties["p_value"] < ALPHA).sum()),
        }
    out["NcSynthOutcomesVerdict"] = (
        f"none of the three averages has a placebo $p$-value below {ALPHA:.2f}"
        if not low
        else f"the averages for {' and '.join(low)} have placebo $p$-values below {ALPHA:.2f}"
    )
    return out


def figure_gaps(counties: pd.DataFrame, gaps: pd.DataFrame) -> None:
    """Figure synth_nc_gaps: per treated county, its gap path (colour) over its placebos' (grey)."""
    n = len(counties)
    ncols = 3
    nrows = -(-n // ncols)
    fig, axes = style.figure(height=2.0 * nrows, nrows=nrows, ncols=ncols, sharex=True, sharey=True)
    axes = np.asarray(axes).ravel()
    for ax, row in zip(axes, counties.itertuples()):
        part = gaps[gaps["design"] == row.fips]
        for _, path in part[~part["treated"]].groupby("fips"):
            ax.plot(path["year"], path["gap"], color="0.75", lw=0.5)
        own = part[part["treated"]]
        ax.plot(own["year"], own["gap"], color=style.OKABE_ITO["vermillion"], lw=1.6)
        ax.axvline(int(row.first_year) - 0.5, color="black", lw=0.6, ls="--")
        ax.axhline(0, color="black", lw=0.6)
        ax.set_title(f"{short(row.county)}, {int(row.first_year)}; p = {row.p_value:.3f}", fontsize=8)
    for ax in axes[n:]:
        ax.set_visible(False)
    for ax in axes[(nrows - 1) * ncols :]:
        ax.set_xlabel("Year")
    for ax in axes[::ncols]:
        ax.set_ylabel("Gap, crimes per 100,000")
    style.save(fig, "synth_nc_gaps")


def build() -> dict[str, str]:
    t = read_all()
    counties, agg = split(t)
    latex.write_table(table_body(counties, agg), "synth_nc")
    latex.write_table(outcomes_body(t), "synth_nc_outcomes")
    gaps = inputs.read_csv(GAPS, ["outcome", "design", "fips", "year", "gap", "treated"])
    gaps = gaps[gaps["outcome"] == HEADLINE]
    gaps["design"], gaps["fips"] = gaps["design"].astype(str), gaps["fips"].astype(str)
    figure_gaps(counties, gaps)
    return macros(counties, agg) | outcome_macros(t)
