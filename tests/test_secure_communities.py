"""Tests of the Secure Communities activation table: known counts, recodes, log, cross-check."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis.infra.errors import InputError
from analysis.readers import secure_communities as scr

TIER = "unit"  # the default tier of these tests (tests/conftest.py)


@pytest.fixture(scope="module")
def cleaned():
    return scr.clean_sc()


def test_activations_per_year_are_the_known_ones():
    raw = scr.read_sc()
    counts = raw["sc_year"].value_counts().sort_index()
    assert counts.to_dict() == {2008: 14, 2009: 88, 2010: 780, 2011: 1098, 2012: 1016, 2013: 106}
    assert raw["sc_year"].isna().sum() == 140
    assert (raw.loc[raw["sc_year"] == 2013, "sc_month"] == 1).all()


def test_table_and_recodes(cleaned):
    sc, _ = cleaned
    assert sc["fips"].str.fullmatch(r"\d{5}").all() and sc["fips"].is_unique
    assert not sc["fips"].str.startswith("72").any()
    assert sc.loc[sc["fips"] == "01001", ["sc_month", "sc_year"]].iloc[0].tolist() == [4, 2011]
    dated = sc[sc["sc_dated"]]
    late = dated["sc_month"] >= 7
    assert (dated["sc_year_midyear"] == dated["sc_year"] + late.astype(int)).all()
    undated = sc[~sc["sc_dated"]]
    assert undated[["sc_month", "sc_year", "sc_year_midyear"]].isna().all().all()
    assert set(undated["state"]) == {"AK", "HI", "VA", "SD", "MT", "WV"}


def test_log_reconciles(cleaned):
    sc, log = cleaned
    assert log["rows_before"].iloc[0] == 3242
    assert (log["rows_after"] == log["rows_before"] - log["dropped_rows"]).all()
    assert (log["rows_before"].iloc[1:].to_numpy() == log["rows_after"].iloc[:-1].to_numpy()).all()
    rules = log.set_index("rule")["dropped_rows"]
    assert rules["outside_panel"] == 79 and rules["sc_undated"] == 61
    assert log["rows_after"].iloc[-1] == sc["sc_dated"].sum() == 3102


def test_yearly_pattern_agrees_with_the_cpuma_file(cleaned):
    """County shares activated by January rise with East & Velasquez's CPUMA means and stay
    within 0.15 of them. The gap is expected: CPUMAs are areas of 100,000+ people, so their
    mean weights populous counties, which ICE activated first (gap about 0.10 in 2010-2011)."""
    cov = scr.sc_coverage_by_year(cleaned[0]).set_index("year").loc[2008:2013]
    for column in ["county_share", "cpuma_mean"]:
        assert cov[column].is_monotonic_increasing
        assert cov.at[2008, column] < 0.01 and cov.at[2013, column] > 0.95
    assert cov["difference"].abs().max() <= 0.15


def test_bad_month_names_file_line_and_field(tmp_path):
    df = pd.DataFrame(
        {
            "countyname": ["A", "B"],
            "countyfips": [1001, 1003],
            "state": ["AL", "AL"],
            "statefips": [1, 1],
            "activation_month": [4.0, 13.0],
            "activation_year": [2011.0, 2011.0],
            "l": ["", ""],
        }
    )
    target = tmp_path / scr.SOURCE
    target.parent.mkdir(parents=True)
    df.to_stata(target, write_index=False, version=118)
    with pytest.raises(InputError) as err:
        scr.clean_sc(tmp_path)
    assert err.value.line == 2 and err.value.field == "activation_month"
    assert str(target) in str(err.value)
