"""Rollout of 287(g) and Secure Communities, and the seed article's numbers checked against ours: the
pipeline step ``python -m analysis.rollout`` writes results/rollout/ (agreements_per_month.csv,
sc_quarters.csv, seed_numbers.csv, details.json), which the exhibits and notebooks read.

Counting rules (one place, used by the figures, the table and the macros):

* Pre-2018 history (Deportation Data Project best-guess table, cleaned by
  analysis.readers.agreements_287g, rules 1-3: one row per agency, signed 2002-2017). The unit
  is the agency: before 2018 an agency held one MOA, which could cover both models (hybrid).
  An agency is in force on day d if ``first_signed <= d`` and, when it is terminated,
  ``d <= active_to`` (its last evidence date, the reader's end_date). An agency not
  terminated is in force up to HISTORY_END, the last ICE roster (1 Aug 2017); no count is
  made after it. Five agencies have no evidence window at all (no roster, no removals); the
  reader treats them as not terminated, so they count from signing to HISTORY_END.
* ICE lists 2021-2026 (analysis.readers.ice_lists): the unit is the agreement, one list row =
  agency x support type; the count on day d is that of the latest list dated on or before d
  (count_agreements).
* A month's value is the count on its last day. Months whose last day is after HISTORY_END
  and before the first ICE list (Aug 2017 - Dec 2020) have no source: NA, no line drawn.
  The best-guess file lists some agencies signed in 2019-2020 but no end dates and only part
  of the program, so it does not fill the gap.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from analysis import config
from analysis.infra import cli
from analysis.infra.atomic import write_csv, write_text
from analysis.readers import agreements_287g as a287
from analysis.readers.ice_lists import clean_ice_lists, count_agreements

OUT = config.RESULTS / "rollout"
FIRST_MONTH, LAST_MONTH = "2002-01", "2026-05"
HISTORY_END = pd.Timestamp("2017-08-01")  # last ICE roster behind the pre-2018 history
FIRST_TERM = (pd.Timestamp("2009-01-20"), pd.Timestamp("2013-01-19"))
SECOND_TERM = (pd.Timestamp("2013-01-20"), pd.Timestamp("2017-01-19"))
DEC_2024 = (pd.Timestamp("2024-12-01"), pd.Timestamp("2024-12-31"))
MAY_28_2025 = pd.Timestamp("2025-05-28")
SC_QUARTERS = ("2008Q4", "2013Q1")
SOURCES = {"history": "pre-2018 history", "ice": "ICE lists", "none": "none"}


def agency_windows(agreements_or_source: pd.DataFrame) -> pd.DataFrame:
    """One row per pre-2018 agency: agency_id, state, start, end (NaT = open to HISTORY_END),
    evidence (the agency has an evidence window; NA when given the agreements table).

    Accepts the agreements table (clean_agreements_287g) or the best-guess file as read by
    read_source; the latter goes through the reader's rules 1-3 (state, duplicate spellings,
    signed after 2017), so both give the same agencies and dates."""
    df = agreements_or_source
    if {"agency_id", "first_signed", "end_date"} <= set(df.columns):
        out = df.groupby("agency_id", sort=True).agg(
            state=("state", "first"), start=("first_signed", "first"), end=("end_date", "first")
        )
        return out.assign(evidence=pd.NA).reset_index()
    if not {"first_signed_best", "active_to", "terminated"} <= set(df.columns):
        raise KeyError("need the agreements table or the best-guess source (read_source)")
    df = df.assign(agency_id=a287.agency_ids(df, a287.read_fixes(df)))
    df = a287.collapse_duplicates(df[df["state"].notna()])
    df = df[~df["agency_id"].duplicated() & (df["first_signed_best"] <= a287.LAST_SIGNED)]
    out = pd.DataFrame(
        {
            "agency_id": df["agency_id"],
            "state": df["state"],
            "start": df["first_signed_best"],
            "end": df["active_to"].where(df["terminated"] == "TRUE"),
            "evidence": df["active_to"].notna(),
        }
    )
    return out.sort_values("agency_id").reset_index(drop=True)


def in_force(windows: pd.DataFrame, date) -> pd.Series:
    """Mask of agencies in force on ``date`` (pre-2018 rule; raises after HISTORY_END)."""
    date = pd.Timestamp(date)
    if date > HISTORY_END:
        raise ValueError(f"{date.date()} is after the pre-2018 history ({HISTORY_END.date()})")
    return (windows["start"] <= date) & (windows["end"].isna() | (windows["end"] >= date))


def count_history(windows: pd.DataFrame, date) -> tuple[int, int]:
    """(agencies, states) in force on ``date`` in the pre-2018 history."""
    mask = in_force(windows, date)
    return int(mask.sum()), int(windows.loc[mask, "state"].nunique())


def agreements_active_by_month(agreements_or_source: pd.DataFrame, lists: pd.DataFrame) -> pd.DataFrame:
    """Monthly series FIRST_MONTH..LAST_MONTH: month (Period), n_active, n_states (Int64, NA in
    the gap), source ('pre-2018 history', 'ICE lists', 'none'); counts on each month's last day."""
    windows = agency_windows(agreements_or_source)
    first_list = lists["list_date"].min()
    rows = []
    for month in pd.period_range(FIRST_MONTH, LAST_MONTH, freq="M"):
        end = month.end_time.normalize()
        if end <= HISTORY_END:
            n, k, source = *count_history(windows, end), SOURCES["history"]
        elif end >= first_list:
            n, k, source = *count_agreements(lists, end), SOURCES["ice"]
        else:
            n, k, source = pd.NA, pd.NA, SOURCES["none"]
        rows.append({"month": month, "n_active": n, "n_states": k, "source": source})
    return pd.DataFrame(rows).astype({"n_active": "Int64", "n_states": "Int64"})


def daily_history(windows: pd.DataFrame, first, last) -> pd.Series:
    """Agencies in force on each day first..last (pre-2018 history)."""
    days = pd.date_range(first, last, freq="D")
    return pd.Series([int(in_force(windows, d).sum()) for d in days], index=days)


def sc_quarterly(sc: pd.DataFrame) -> pd.DataFrame:
    """SC activations per quarter SC_QUARTERS (quarter, activations, cumulative, cum_share of
    dated counties); raises if a dated activation falls outside those quarters."""
    dated = sc[sc["sc_dated"]]
    quarter = pd.PeriodIndex.from_fields(
        year=dated["sc_year"].astype(int), quarter=(dated["sc_month"].astype(int) - 1) // 3 + 1, freq="Q"
    )
    span = pd.period_range(*SC_QUARTERS, freq="Q")
    outside = ~quarter.isin(span)
    if outside.any():
        raise ValueError(f"{outside.sum()} activations outside {SC_QUARTERS}")
    counts = pd.Series(1, index=quarter).groupby(level=0).sum().reindex(span, fill_value=0)
    out = pd.DataFrame({"quarter": span, "activations": counts.to_numpy()})
    out["cumulative"] = out["activations"].cumsum()
    return out.assign(cum_share=out["cumulative"] / len(dated))


def _readings(daily: pd.Series) -> dict[str, float]:
    """The natural readings of a 'level' over a term: first and last day, mean, median, min, max."""
    return {
        "start": daily.iloc[0],
        "end": daily.iloc[-1],
        "mean": daily.mean(),
        "median": daily.median(),
        "min": daily.min(),
        "max": daily.max(),
    }


def seed_numbers(agreements_or_source: pd.DataFrame, lists: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """The article's six claims against our data: a table (claim, article, ours, match, how) and
    the details behind it (every reading, dates, alternatives)."""
    windows = agency_windows(agreements_or_source)
    dec_first, dec = count_agreements(lists, DEC_2024[0]), count_agreements(lists, DEC_2024[1])
    dec_list = lists.loc[lists["list_date"] <= DEC_2024[1], "list_date"].max()
    may = count_agreements(lists, MAY_28_2025)
    first = daily_history(windows, *FIRST_TERM)
    second = daily_history(windows, *SECOND_TERM)
    peak_days = first[first == first.max()].index
    level = _readings(second)
    details = {
        "dec_first": dec_first,
        "dec": dec,
        "dec_list": dec_list,
        "may": may,
        "peak": int(first.max()),
        "peak_from": peak_days.min(),
        "peak_to": peak_days.max(),
        "second": level,
    }
    if windows["evidence"].notna().all():  # alternative: agencies with an evidence window only
        attested = windows[windows["evidence"].astype(bool)]
        details["peak_attested"] = int(daily_history(attested, *FIRST_TERM).max())
        details["second_attested"] = _readings(daily_history(attested, *SECOND_TERM))
        details["n_unattested"] = int((~windows["evidence"].astype(bool)).sum())

    def d(t):
        return f"{t.day} {t:%b %Y}"

    alt = ", ".join(f"{k} {v:.1f}" if k == "mean" else f"{k} {v:g}" for k, v in level.items())
    rows = [
        (
            "Agreements, December 2024",
            135,
            dec[0],
            f"rows of the ICE list of {d(dec_list)} (in force at month end); 1 Dec list: {dec_first[0]}",
        ),
        (
            "States, December 2024",
            25,
            dec[1],
            f"distinct states on the list of {d(dec_list)}; 1 Dec list: {dec_first[1]}",
        ),
        ("Agreements, 28 May 2025", 628, may[0], "rows (agency x support type) of the ICE list of 28 May 2025"),
        ("States, 28 May 2025", 40, may[1], "distinct states on the ICE list of 28 May 2025"),
        (
            "Peak, Obama first term",
            76,
            details["peak"],
            f"most agencies in force on a day, 20 Jan 2009-19 Jan 2013 (reached {d(peak_days.min())})",
        ),
        (
            "Level, Obama second term",
            35,
            int(round(level["median"])),
            f"median daily agencies in force, 20 Jan 2013-19 Jan 2017 (other readings: {alt})",
        ),
    ]
    table = pd.DataFrame(rows, columns=["claim", "article", "ours", "how"])
    table.insert(3, "match", np.where(table["article"] == table["ours"], "yes", "no"))
    return table, details


def details_json(details: dict, lists: pd.DataFrame) -> str:
    """The readings behind the seed table and the figures, as JSON (dates as YYYY-MM-DD)."""

    def plain(v):
        if isinstance(v, dict):
            return {k: plain(x) for k, x in v.items()}
        if isinstance(v, tuple):
            return [plain(x) for x in v]
        if isinstance(v, pd.Timestamp):
            return f"{v:%Y-%m-%d}"
        return v.item() if hasattr(v, "item") else v

    marks = {label: list(count_agreements(lists, date)) for label, date in MARKS.items()}
    return json.dumps({**plain(details), "marks": marks}, indent=1, sort_keys=True) + "\n"


MARKS = {"Dec 2024": DEC_2024[1], "28 May 2025": MAY_28_2025}


def build() -> None:
    """Write results/rollout/: the monthly series, SC quarters, the seed table and its details."""
    source = a287.read_source()
    lists = clean_ice_lists()
    sc = pd.read_parquet(config.SC_ACTIVATION)
    series = agreements_active_by_month(source, lists)
    table, details = seed_numbers(source, lists)
    write_csv(series.assign(month=series["month"].astype(str)), OUT / "agreements_per_month.csv")
    write_csv(sc_quarterly(sc).assign(quarter=lambda q: q["quarter"].astype(str)), OUT / "sc_quarters.csv")
    write_csv(table, OUT / "seed_numbers.csv")
    write_text(OUT / "details.json", details_json(details, lists))


if __name__ == "__main__":
    cli.run(build, "rollout")
