"""Tables of the data section: sample construction (data_clean/sample_log.csv) and summary
statistics of the main sample by treatment status."""

from __future__ import annotations

import pandas as pd

from analysis import config
from analysis.exhibits import inputs, latex

STAGES = {
    "crime": "UCR crime",
    "population": "Population",
    "treatment_287g": "287(g) table",
    "treatment_sc": "SC dates",
    "panel": "Panel",
    "sample_main": "Main sample",
}
REASON_WIDTH = r">{\raggedright\arraybackslash}p{0.36\textwidth}"  # needs \usepackage{array}

# (label, column, scale): summary rows; scale divides the column (population in thousands).
VARIABLES = [
    ("Population (thousands)", "population", 1000),
    ("Violent crimes per 100,000", "rate_violent", 1),
    ("Property crimes per 100,000", "rate_property", 1),
    ("Index crimes per 100,000", "rate_index", 1),
    ("Log index crime rate", "log_rate_index", 1),
    ("Coverage indicator (COVIND)", "covind", 1),
]


def sample_construction(log: pd.DataFrame) -> str:
    """Table body: every rule of the sample log, what it drops and what is left."""
    unknown = set(log["stage"]) - set(STAGES)
    if unknown:
        raise ValueError(f"{config.SAMPLE_LOG}: stages without a label: {sorted(unknown)}")
    df = pd.DataFrame(
        {
            "step": log["step"],
            "stage": log["stage"].map(STAGES),
            "reason": log["reason"],
            "unit": log["unit"],
            "dropped": log["dropped_rows"],
            "rows": log["rows_after"],
            "units": log["units_after"],
        }
    )
    return latex.data_table(
        df,
        {
            "step": "int",
            "stage": "text",
            "reason": "text",
            "unit": "text",
            "dropped": "int",
            "rows": "int",
            "units": "int",
        },
        labels={
            "step": "",
            "stage": "Stage",
            "reason": "Rule",
            "unit": "Row is a",
            "dropped": "Rows dropped",
            "rows": "Rows left",
            "units": "Units left",
        },
        align={"reason": REASON_WIDTH},
    )


def groups(df: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The county-years of each column of the summary table."""
    g, sc = df["g287_county"], df["sc_year"].astype("Float64")
    adopted = (g > 0) & (g <= config.LAST_YEAR)
    return {
        "All counties": df,
        "287(g) by 2012": df[adopted],
        "No 287(g) by 2012": df[~adopted],
        "SC by 2010": df[df["sc_dated"] & (sc <= 2010)],
        "SC 2011-13": df[df["sc_dated"] & (sc > 2010)],
    }


def summary_frame(df: pd.DataFrame) -> pd.DataFrame:
    """Rows: counties, county-years, then mean and s.d. of each VARIABLES column; one column per group."""
    parts = groups(df)
    rows = [
        {"label": "Counties", "digits": -1, **{k: float(v["fips"].nunique()) for k, v in parts.items()}},
        {"label": "County-years", "digits": -1, **{k: float(len(v)) for k, v in parts.items()}},
    ]
    for label, col, scale in VARIABLES:
        digits = 2 if col.startswith("log_") else 1
        rows.append(
            {"label": f"{label}: mean", "digits": digits, **{k: v[col].mean() / scale for k, v in parts.items()}}
        )
        rows.append({"label": "s.d.", "digits": digits, **{k: v[col].std() / scale for k, v in parts.items()}})
    return pd.DataFrame(rows)


def summary_stats(df: pd.DataFrame) -> str:
    """Table body of summary_frame: counts as integers, everything else with 1 decimal (log: 2)."""
    frame = summary_frame(df)
    cols = [c for c in frame.columns if c not in ("label", "digits")]
    rows = []
    for _, row in frame.iterrows():
        label, digits = row["label"], int(row["digits"])
        if digits < 0:
            cells = [latex.fmt_count(row[c]) for c in cols]
        else:
            cells = [latex.fmt_number(row[c], digits) for c in cols]
        rows.append([r"\quad s.d." if label == "s.d." else latex.escape(label), *cells])
    return latex.tabular(
        ["l"] + ["r"] * len(cols),
        ["", "All", "Adopted by 2012", "Not by 2012", "By 2010", "2011-13"],
        rows,
        groups=[[("", 2), ("287(g)", 2), ("Secure Communities", 2)]],
        centre=True,
    )


def build() -> dict[str, str]:
    """Tables sample_construction and summary_stats (no macros)."""
    log = inputs.read_csv(
        config.SAMPLE_LOG, ["step", "stage", "rule", "unit", "dropped_rows", "rows_after", "units_after", "reason"]
    )
    latex.write_table(sample_construction(log), "sample_construction")
    latex.write_table(summary_stats(inputs.main_sample()), "summary_stats")
    return {}
