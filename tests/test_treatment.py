"""Tests of 287(g) treatment timing: a hand-built table with known answers, properties, real data."""
from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.readers.agreements_287g import clean_agreements_287g
from analysis.treatment import statewide_287g_states, timing_287g

ROWS = [  # fips, state_fips, level, model, first_signed
    ("37001", "37", "county", "JEM", "2008-06-30"),     # 30 June: full year is the same year
    ("37001", "37", "municipal", "TF", "2007-07-01"),   # earlier, but municipal; 1 July -> next
    ("37003", "37", "municipal", "JEM", "2009-03-01"),  # municipal only: g287_county stays 0
    ("37005", "37", "county", "hybrid", "2010-12-01"),  # hybrid counts for JEM and TF
    ("37005", "37", "county", None, "2009-01-15"),      # model unknown: counts for county/any only
    ("37007", "37", "county", "TF", "2016-08-01"),      # after the panel: not yet treated in 2012
    (None, "04", "state", "TF", "2007-04-15"),          # state agency: no county
]
EXPECTED = pd.DataFrame(
    [("37001", 2008, 2007, 2008, 2007, 2008, 2008),
     ("37003", 0, 2009, 2009, 0, 0, 2009),
     ("37005", 2009, 2009, 2010, 2010, 2009, 2009),
     ("37007", 2016, 2016, 0, 2016, 2017, 2017)],
    columns=["fips", "g287_county", "g287_any", "g287_jem", "g287_tf", "g287_county_full", "g287_any_full"])


def _table(rows) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=["fips", "state_fips", "level", "model", "first_signed"])
    return df.astype({"fips": "string", "model": "string"}).assign(
        first_signed=pd.to_datetime(df["first_signed"]))


def test_known_answers():
    got = timing_287g(_table(ROWS))
    pd.testing.assert_frame_equal(got, EXPECTED.astype({"fips": "string"}))


def test_statewide_states():
    assert statewide_287g_states(_table(ROWS)) == {"04"}


agreement = st.tuples(
    st.sampled_from(["01001", "01003", "37119", "48201"]),
    st.sampled_from(["county", "municipal", "state"]),
    st.sampled_from(["JEM", "TF", "hybrid", None]),
    st.dates(pd.Timestamp("2002-01-01").date(), pd.Timestamp("2017-12-31").date()))


@settings(max_examples=100, deadline=None)
@given(st.lists(agreement, min_size=1, max_size=12))
def test_timing_properties(rows):
    table = _table([(None if lvl == "state" else f, f[:2], lvl, m, str(d)) for f, lvl, m, d in rows])
    got = timing_287g(table).set_index("fips")
    local = table[table["level"] != "state"]
    assert set(got.index) == set(local["fips"])
    for column in got:
        assert got[column].eq(0).__or__(got[column].between(2002, 2018)).all()
    for base in ["g287_county", "g287_any"]:
        step = got[f"{base}_full"] - got[base]
        assert step.where(got[base] > 0, 0).isin([0, 1]).all()
        assert (got[f"{base}_full"] > 0).eq(got[base] > 0).all()
    assert (got["g287_any"] > 0).all()
    treated = got["g287_county"] > 0
    assert (got.loc[treated, "g287_any"] <= got.loc[treated, "g287_county"]).all()
    for model in ["g287_jem", "g287_tf"]:
        both = got[model] > 0
        assert (got.loc[both, "g287_any"] <= got.loc[both, model]).all()


@pytest.fixture(scope="module")
def real_timing():
    return timing_287g(clean_agreements_287g()[0]).set_index("fips")


def test_real_data_known_counties(real_timing):
    """North Carolina sheriffs as in Forrester & Nowrasteh: Mecklenburg 2006, Alamance and
    Gaston 2007, Wake 2008, Guilford 2009 (signed 15 Oct: first full year 2010)."""
    nc = real_timing["g287_county"]
    assert (nc["37119"], nc["37001"], nc["37071"], nc["37183"], nc["37081"]) == (2006, 2007, 2007, 2008, 2009)
    assert real_timing.at["37081", "g287_county_full"] == 2010
    assert real_timing.at["37063", "g287_tf"] == 2008  # Durham city police, task force
    assert (real_timing["g287_county"] > 0).sum() >= 70
    assert "51683" in real_timing.index and real_timing.at["51683", "g287_county"] == 0
