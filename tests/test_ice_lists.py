"""Tests of the ICE participating-agency lists: dates, layouts, known counts, speed."""

from __future__ import annotations

import time

import pandas as pd
import pytest

from analysis.readers import ice_lists as ice

TIER = "unit"  # the default tier of these tests (tests/conftest.py)


@pytest.fixture(scope="module")
def timed_lists():
    start = time.perf_counter()
    lists = ice.clean_ice_lists()
    return lists, time.perf_counter() - start


def test_list_dates_from_file_names():
    assert ice.list_date("ParticipatingEntities-20241215164140.xlsx") == pd.Timestamp("2024-12-15")
    assert ice.list_date("participatingAgencies-20250301180751.xlsx") == pd.Timestamp("2025-03-01")
    assert ice.list_date("participatingAgencies05282025am.xlsx") == pd.Timestamp("2025-05-28")
    assert ice.list_date("participatingAgencies01052025pm.xlsx") == pd.Timestamp("2026-01-05")


def test_signed_cells():
    assert ice._signed("05/082025") == pd.Timestamp("2025-05-08")
    assert ice._signed("2020-06-09") == pd.Timestamp("2020-06-09")
    assert ice._signed(pd.Timestamp("2025-03-17").to_pydatetime()) == pd.Timestamp("2025-03-17")


def test_all_lists_read_into_one_table(timed_lists):
    lists, _ = timed_lists
    assert lists["file"].nunique() == 68 and lists["list_date"].nunique() == 68
    assert list(lists.columns) == ice.COLUMNS
    assert set(lists["support_type"]) == {"JEM", "TFM", "WSO"}
    assert lists["agency"].notna().all() and lists["signed"].notna().all()
    early = lists[lists["list_date"] < "2025-02-01"]
    assert early["type"].isna().all() and early["county"].isna().all()
    late = lists[lists["list_date"] >= "2025-05-01"]
    assert set(late["type"].dropna()) == {"County", "Municipality", "State Agency"}
    assert late["type"].isna().sum() == 1  # one blank TYPE cell, in the 1 Aug 2025 list


def test_known_counts(timed_lists):
    """An agreement is a row: one agency x one support type."""
    lists, _ = timed_lists
    assert ice.count_agreements(lists, "2025-05-28") == (628, 40)
    assert ice.count_agreements(lists, "2024-12-01")[0] == 135
    assert ice.count_agreements(lists, "2024-12-20")[0] == 135  # the 15 Dec list is in force
    assert ice.count_agreements(lists, "2025-05-27")[0] < 628  # the 1 May list
    with pytest.raises(ValueError):
        ice.count_agreements(lists, "2020-12-31")


def test_reading_is_fast(timed_lists):
    assert timed_lists[1] < 30  # about 4-5 s on 2 cores; openpyxl alone takes about 8 s
