"""Tests of the rollout exhibits: agreements in force per month, SC per quarter, seed numbers."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis import rollout
from analysis.readers.agreements_287g import clean_agreements_287g, read_source
from analysis.readers.ice_lists import clean_ice_lists, count_agreements
from analysis.readers.secure_communities import clean_sc

TIER = "unit"  # the default tier of these tests (tests/conftest.py)


@pytest.fixture(scope="module")
def lists():
    return clean_ice_lists()


@pytest.fixture(scope="module")
def agreements():
    return clean_agreements_287g()[0]


@pytest.fixture(scope="module")
def series(agreements, lists):
    return rollout.agreements_active_by_month(agreements, lists).set_index("month")


def _direct(agreements: pd.DataFrame, date) -> tuple[int, int]:
    """Agencies (and states) in force on ``date``, straight from the agreements table."""
    date = pd.Timestamp(date)
    live = agreements[
        (agreements["first_signed"] <= date) & (agreements["end_date"].isna() | (agreements["end_date"] >= date))
    ]
    return live["agency_id"].nunique(), live["state"].nunique()


def test_months_sources_and_gap(series):
    months = pd.period_range("2002-01", "2026-05", freq="M")
    assert list(series.index) == list(months)
    gap = series[series["source"] == "none"]
    assert gap.index.min() == pd.Period("2017-08", "M") and gap.index.max() == pd.Period("2020-12", "M")
    assert gap["n_active"].isna().all() and len(gap) == 41
    assert series.loc[:"2017-07", "source"].eq("pre-2018 history").all()
    assert series.loc["2021-01":, "source"].eq("ICE lists").all()
    assert series.loc[series["source"] != "none", "n_active"].notna().all()


def test_monthly_series_equals_the_lists_on_list_dates(series, lists):
    last_of_month = lists.groupby(lists["list_date"].dt.to_period("M"))["list_date"].max()
    assert len(last_of_month) == 65  # every month 2021-01..2026-05 has a list
    for month, date in last_of_month.items():
        assert (series.at[month, "n_active"], series.at[month, "n_states"]) == count_agreements(lists, date)


def test_history_counts_equal_a_direct_count(series, agreements):
    for date in ["2005-12-31", "2009-10-31", "2010-08-31", "2013-09-30", "2013-10-31", "2017-07-31"]:
        month = pd.Period(date, "M")
        assert (series.at[month, "n_active"], series.at[month, "n_states"]) == _direct(agreements, date)
    assert series.at[pd.Period("2002-06", "M"), "n_active"] == 0  # first MOA: 2 Jul 2002
    with pytest.raises(ValueError):
        rollout.count_history(rollout.agency_windows(agreements), "2017-08-02")


def test_source_and_table_give_the_same_history(agreements, lists):
    from_source = rollout.agreements_active_by_month(read_source(), lists)
    from_table = rollout.agreements_active_by_month(agreements, lists)
    pd.testing.assert_frame_equal(from_source, from_table)


def test_sc_bars_sum_to_dated_activations():
    sc, _ = clean_sc()
    q = rollout.sc_quarterly(sc)
    assert str(q["quarter"].iloc[0]) == "2008Q4" and str(q["quarter"].iloc[-1]) == "2013Q1"
    assert q["activations"].sum() == sc["sc_dated"].sum()
    dated = sc[sc["sc_dated"]]
    in_2010q2 = (dated["sc_year"] == 2010) & dated["sc_month"].between(4, 6)
    assert q.loc[q["quarter"] == pd.Period("2010Q2", "Q"), "activations"].item() == in_2010q2.sum()
    assert q["cum_share"].is_monotonic_increasing and q["cum_share"].iloc[-1] == pytest.approx(1.0)


def test_seed_table_one_row_per_claim_and_computed_match(agreements, lists):
    table, details = rollout.seed_numbers(agreements, lists)
    assert len(table) == 6 and table["claim"].is_unique
    assert list(table.columns) == ["claim", "article", "ours", "match", "how"]
    assert (table["match"] == "yes").eq(table["article"] == table["ours"]).all()
    ours = table.set_index("claim")["ours"]
    assert ours["Agreements, 28 May 2025"] == count_agreements(lists, "2025-05-28")[0]
    assert ours["Agreements, December 2024"] == count_agreements(lists, "2024-12-31")[0]
    # Independent first-term peak: sweep over the days on which the count can change.
    lo, hi = pd.Timestamp("2009-01-20"), pd.Timestamp("2013-01-19")
    events = pd.concat([agreements["first_signed"], agreements["end_date"] + pd.Timedelta(days=1)]).dropna()
    days = [lo] + sorted(d for d in events.unique() if lo < d <= hi)
    assert ours["Peak, Obama first term"] == max(_direct(agreements, d)[0] for d in days)
    # Dropping one row of the 28 May 2025 list must turn that claim's match to "no".
    drop = lists.index[lists["list_date"] == "2025-05-28"][0]
    changed, _ = rollout.seed_numbers(agreements, lists.drop(index=drop))
    row = changed.set_index("claim").loc["Agreements, 28 May 2025"]
    assert row["ours"] == ours["Agreements, 28 May 2025"] - 1 and row["match"] == "no"


def test_second_term_readings(agreements):
    windows = rollout.agency_windows(agreements)
    daily = rollout.daily_history(windows, "2013-01-20", "2017-01-19")
    assert len(daily) == 1461
    assert daily.iloc[0] == _direct(agreements, "2013-01-20")[0]
    assert daily.iloc[-1] == _direct(agreements, "2017-01-19")[0]
    assert daily.min() <= daily.median() <= daily.max()
