"""Synthetic control for the North Carolina 287(g) counties (#12 §3): table synth_nc (one row per
treated county and the equal-weight average, from results/credibility/synth_nc.csv of
analysis.synth_nc) and the ``NcSynth...`` macros of the text, each claim generated from the numbers:
how many county ATTs are negative, how many placebo p-values fall below ALPHA, how many pre-period
fits are exact (pre-RMSPE below EXACT), and the verdict on the average."""

from __future__ import annotations

import pandas as pd

from analysis import config
from analysis.estimators.synth import TOP
from analysis.exhibits import inputs, latex
from analysis.exhibits.numbers import fmt_int, fmt_num

num = latex.fmt_number  # thousands separators, as in the table

SOURCE = config.RESULTS / "credibility" / "synth_nc.csv"
ALPHA = 0.10
EXACT = 0.01  # crimes per 100,000: a pre-period RMSPE below this is an exact fit
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


def read() -> tuple[pd.DataFrame, pd.Series]:
    """The county rows and the aggregate row."""
    t = inputs.read_csv(SOURCE, ["fips", "county", *LABELS, "n_donors", "n_placebos"])
    t["fips"] = t["fips"].astype(str)
    counties, agg = t[t["fips"] != "all"], t[t["fips"] == "all"]
    if len(agg) != 1 or counties.empty:
        raise inputs.MissingResult(f"{SOURCE}: expected county rows and one 'all' row")
    return counties, agg.iloc[0]


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
        p + "Top": fmt_int(TOP),
        p + "ExactBelow": fmt_num(EXACT, 2),
        p + "Verdict": (
            f"at the {ALPHA:.2f} level the placebo distribution gives no evidence of an effect"
            if agg["p_value"] >= ALPHA
            else f"fewer than {ALPHA:.0%} of the placebo averages are as large in magnitude".replace("%", "\\%")
        ),
    }


def build() -> dict[str, str]:
    counties, agg = read()
    latex.write_table(table_body(counties, agg), "synth_nc")
    return macros(counties, agg)
