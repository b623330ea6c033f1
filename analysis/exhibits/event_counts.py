"""Treated counties at each event time of the main event studies (appendix table event_counts).

For each spec in SPECS, the estimation sample that analysis.estimate.prepare builds (named sample,
the spec's sample rules, its clean-control rule) and, at each event time e in EVENT_TIMES, the
number of treated counties (treatment year inside the window) observed in year g + e. Event-time
estimates far from adoption rest on these counties only.

Macros: for each headline spec, the window its event-study figure shows (the TWFE event study's
event times, from results/<spec>/event_study.csv) and the smallest count at either end of it.
"""

from __future__ import annotations

import pandas as pd

from analysis import config
from analysis.design import first_in_window
from analysis.estimate import prepare
from analysis.exhibits import inputs, latex
from analysis.exhibits.numbers import fmt_int
from analysis.spec import load_spec

EVENT_TIMES = list(range(-5, 6))
# (spec, row label, macro prefix or None)
SPECS = [
    ("us_287g_index", "287(g), index", "EventCountsNational"),
    ("us_287g_violent", "287(g), violent", None),
    ("us_287g_property", "287(g), property", None),
    ("sc_index", "SC, index", "EventCountsSc"),
    ("sc_violent", "SC, violent", None),
    ("sc_property", "SC, property", None),
]


def counts_by_event_time(df: pd.DataFrame, treatment: str, event_times=EVENT_TIMES) -> pd.Series:
    """Distinct treated counties (treatment year in the years of ``df``) with a row at each event
    time (year - treatment year); 0 where none."""
    g = first_in_window(df[treatment], int(df["year"].max()))
    treated = df.assign(_e=df["year"] - g)[g != float("inf")]
    counts = treated.groupby("_e")["fips"].nunique()
    counts.index = counts.index.astype(int)
    return counts.reindex(event_times, fill_value=0).rename_axis("event_time")


def spec_counts(name: str, panel: pd.DataFrame) -> pd.Series:
    """counts_by_event_time on the design sample of spec ``name``."""
    spec = load_spec(config.SPECS / f"{name}.yaml")
    df, _, _ = prepare(spec, panel)
    return counts_by_event_time(df, spec["treatment"])


def shown_window(name: str) -> tuple[int, int]:
    """The event times at either end of the spec's event-study figure (the TWFE event study's,
    results/<spec>/event_study.csv), limited to EVENT_TIMES."""
    ev = inputs.result(name, "event_study")
    times = ev.loc[ev["estimator"] == "event_twfe", "event_time"]
    if times.empty:
        raise ValueError(f"results/{name}/event_study.csv has no event_twfe rows")
    return max(int(times.min()), EVENT_TIMES[0]), min(int(times.max()), EVENT_TIMES[-1])


def smallest_at_ends(counts: pd.Series, window: tuple[int, int]) -> tuple[int, int]:
    """(event time, count) of the smaller count at the two ends of ``window`` (the lead on a tie)."""
    lo, hi = window
    return (lo, int(counts[lo])) if counts[lo] <= counts[hi] else (hi, int(counts[hi]))


def build() -> dict[str, str]:
    """Write table event_counts; return the smallest-count macros of the headline specs."""
    panel = inputs.panel()
    rows = {label: spec_counts(name, panel) for name, label, _ in SPECS}
    table = pd.DataFrame(rows).T
    table.columns = [str(e) for e in EVENT_TIMES]
    body = latex.data_table(
        table.reset_index(names="design"),
        {"design": "text", **{c: "int" for c in table.columns}},
        labels={"design": "Design", **{c: latex.Raw(c.replace("-", "$-$")) for c in table.columns}},
        groups=[[("", 1), ("Event time (years since adoption)", len(EVENT_TIMES))]],
    )
    latex.write_table(body, "event_counts")
    macros = {}
    for name, label, prefix in SPECS:
        if prefix is None:
            continue
        window = shown_window(name)
        e, n = smallest_at_ends(rows[label], window)
        macros.update(
            {
                f"{prefix}WindowLo": str(window[0]).replace("-", "$-$"),
                f"{prefix}WindowHi": str(window[1]),
                f"{prefix}MinTime": str(e).replace("-", "$-$"),
                f"{prefix}Min": fmt_int(n),
                f"{prefix}AtZero": fmt_int(rows[label][0]),
            }
        )
    return macros
