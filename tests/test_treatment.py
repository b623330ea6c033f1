"""Tests of 287(g) treatment timing: a hand-built table with known answers, properties, real data."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.readers.agreements_287g import clean_agreements_287g
from analysis.treatment import county_dating, exposure, list_dates, statewide_287g_states, timing_287g

TIER = "unit"  # the default tier of these tests (tests/conftest.py)

ROWS = [  # fips, state_fips, level, model, first_signed, end_date, wapo_first_year, agency_id
    ("37001", "37", "county", "JEM", "2008-06-30", None, 2008, "a"),  # 30 June: mid-year rule keeps 2008
    ("37001", "37", "municipal", "TF", "2007-07-01", None, None, "b"),  # earlier, but municipal; 1 July -> next
    ("37003", "37", "municipal", "JEM", "2009-03-01", None, None, "c"),  # municipal only: g287_county stays 0
    ("37005", "37", "county", "hybrid", "2010-12-01", "2011-05-01", 2019, "d"),  # hybrid counts for JEM and TF
    ("37005", "37", "county", None, "2009-01-15", "2012-09-30", None, "e"),  # model unknown: county/any only
    ("37007", "37", "county", "TF", "2016-08-01", None, None, "f"),  # after the panel: not yet treated in 2012
    ("37009", "37", "county", "JEM", "2008-06-30", "2010-01-01", None, "g"),  # shares 30 June 2008 with 37001
    ("37009", "37", "county", "JEM", "2009-02-01", None, 2009, "h"),  # a second, never-ended agreement
    (None, "04", "state", "TF", "2008-06-30", None, None, "i"),  # state agency: no county; 3rd on that date
]
COLUMNS = [
    "fips",
    "g287_county",
    "g287_any",
    "g287_jem",
    "g287_tf",
    "g287_county_midyear",
    "g287_any_midyear",
    "g287_county_wapo",
    "g287_county_month",
    "g287_county_end",
    "g287_county_list_date",
]
EXPECTED = pd.DataFrame(
    [
        ("37001", 2008, 2007, 2008, 2007, 2008, 2008, 2008, 6, 0, True),
        ("37003", 0, 2009, 2009, 0, 0, 2009, 0, 0, 0, False),
        # the Post's 2019 for the hybrid; the undated 2009 agreement keeps its own year: min 2009
        ("37005", 2009, 2009, 2010, 2010, 2009, 2009, 2009, 1, 2012, False),
        ("37007", 2016, 2016, 0, 2016, 2017, 2017, 2016, 8, 0, False),
        ("37009", 2008, 2008, 2008, 0, 2008, 2008, 2008, 6, 0, True),
    ],  # one agreement never ended: no end
    columns=COLUMNS,
)


def _table(rows) -> pd.DataFrame:
    df = pd.DataFrame(
        rows,
        columns=["fips", "state_fips", "level", "model", "first_signed", "end_date", "wapo_first_year", "agency_id"],
    )
    return df.astype({"fips": "string", "model": "string", "wapo_first_year": "Int64"}).assign(
        first_signed=pd.to_datetime(df["first_signed"]), end_date=pd.to_datetime(df["end_date"])
    )


def test_known_answers():
    got = timing_287g(_table(ROWS))
    pd.testing.assert_frame_equal(got, EXPECTED.astype({"fips": "string"}))


def test_list_dates_count_agencies_not_rows():
    table = _table(ROWS)
    assert list_dates(table) == {pd.Timestamp("2008-06-30")}
    assert list_dates(pd.concat([table, table.iloc[[0]]])) == {pd.Timestamp("2008-06-30")}  # same agency twice
    assert list_dates(table, minimum=4) == set()


def test_exposure_shares():
    year = pd.Series([2007, 2008, 2009, 2008, 2008])
    got = exposure(
        year, pd.Series([2008, 2008, 2008, 0, None], dtype="Int64"), pd.Series([4, 4, 4, 0, None], dtype="Int64")
    )
    assert got.tolist()[:4] == [0.0, 0.75, 1.0, 0.0] and pd.isna(got.iloc[4])


def test_county_dating_flags_disagreements():
    table = _table(ROWS).assign(
        oig_signed=pd.to_datetime([None, None, None, "2010-12-01", None, None, "2008-06-30", None, None])
    )
    got = county_dating(table).set_index("fips")
    assert got.loc["37001", "wapo_agrees"] and pd.isna(got.loc["37001", "oig_agrees"])
    assert not got.loc["37005", "wapo_agrees"]  # the Post says 2019, we say 2009
    assert not got.loc["37005", "oig_agrees"]  # the OIG's date is the later agreement's
    assert got.loc["37009", "oig_agrees"] and got.loc["37009", "list_date"]
    early = table.assign(
        first_signed=table["first_signed"].where(table["fips"] != "37001", pd.Timestamp("2003-05-01")),
        wapo_first_year=table["wapo_first_year"].where(table["fips"] != "37001", 2005),
    )
    assert county_dating(early).set_index("fips").loc["37001", "wapo_agrees"]  # 2005 is the Post's first column


def test_statewide_states():
    assert statewide_287g_states(_table(ROWS)) == {"04"}


agreement = st.tuples(
    st.sampled_from(["01001", "01003", "37119", "48201"]),
    st.sampled_from(["county", "municipal", "state"]),
    st.sampled_from(["JEM", "TF", "hybrid", None]),
    st.dates(pd.Timestamp("2002-01-01").date(), pd.Timestamp("2017-12-31").date()),
    st.one_of(st.none(), st.dates(pd.Timestamp("2002-01-01").date(), pd.Timestamp("2017-12-31").date())),
)


@settings(max_examples=100, deadline=None)
@given(st.lists(agreement, min_size=1, max_size=12))
def test_timing_properties(rows):
    table = _table(
        [
            (None if lvl == "state" else f, f[:2], lvl, m, str(d), None if e is None else str(max(d, e)), None, f"a{i}")
            for i, (f, lvl, m, d, e) in enumerate(rows)
        ]
    )
    got = timing_287g(table).set_index("fips")
    local = table[table["level"] != "state"]
    assert set(got.index) == set(local["fips"])
    for column in got.columns.drop(["g287_county_month", "g287_county_list_date"]):
        assert got[column].eq(0).__or__(got[column].between(2002, 2018)).all()
    for base in ["g287_county", "g287_any"]:
        step = got[f"{base}_midyear"] - got[base]
        assert step.where(got[base] > 0, 0).isin([0, 1]).all()
        assert (got[f"{base}_midyear"] > 0).eq(got[base] > 0).all()
    assert (got["g287_any"] > 0).all()
    treated = got["g287_county"] > 0
    assert (got.loc[treated, "g287_any"] <= got.loc[treated, "g287_county"]).all()
    assert got["g287_county_wapo"].eq(got["g287_county"]).all()  # no Post years given: our years
    assert ((got["g287_county_month"] > 0) == treated).all()
    ended = got["g287_county_end"] > 0
    assert (got.loc[ended, "g287_county_end"] >= got.loc[ended, "g287_county"]).all() and not (ended & ~treated).any()
    for model in ["g287_jem", "g287_tf"]:
        both = got[model] > 0
        assert (got.loc[both, "g287_any"] <= got.loc[both, model]).all()


@pytest.fixture(scope="module")
def real_timing():
    return timing_287g(clean_agreements_287g()[0]).set_index("fips")


def test_real_data_known_counties(real_timing):
    """North Carolina sheriffs as in Forrester & Nowrasteh: Mecklenburg 2006, Alamance and
    Gaston 2007, Wake 2008, Guilford 2009 (signed 15 Oct: 2010 by the mid-year rule)."""
    nc = real_timing["g287_county"]
    assert (nc["37119"], nc["37001"], nc["37071"], nc["37183"], nc["37081"]) == (2006, 2007, 2007, 2008, 2009)
    assert real_timing.at["37081", "g287_county_midyear"] == 2010
    assert real_timing.at["37081", "g287_county_list_date"]  # 15 Oct 2009: the re-signed MOAs
    assert real_timing.at["37081", "g287_county_end"] == 2011 and real_timing.at["37119", "g287_county_end"] == 0
    assert real_timing.at["37063", "g287_tf"] == 2008  # Durham city police, task force
    assert (real_timing["g287_county"] > 0).sum() >= 70
    assert "51683" in real_timing.index and real_timing.at["51683", "g287_county"] == 0
