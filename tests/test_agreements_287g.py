"""Tests of the pre-2018 287(g) agreements table: rules, placement, fixes, cross-checks, errors."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis.config import DATA_RAW
from analysis.infra.errors import InputError
from analysis.readers import agreements_287g as ag
from analysis.readers.places import read_counties

TIER = "unit"  # the default tier of these tests (tests/conftest.py)


@pytest.fixture(scope="module")
def cleaned():
    return ag.clean_agreements_287g()


def test_log_reconciles_from_the_raw_record_count(cleaned):
    _, log = cleaned
    raw_rows = len(pd.read_csv(DATA_RAW / ag.SOURCE, dtype=str))
    assert log["rows_before"].iloc[0] == raw_rows == 229
    assert (log["rows_after"] == log["rows_before"] - log["dropped_rows"]).all()
    assert (log["units_after"] == log["units_before"] - log["dropped_units"]).all()
    assert (log["rows_before"].iloc[1:].to_numpy() == log["rows_after"].iloc[:-1].to_numpy()).all()
    assert list(log["step"]) == list(range(1, len(log) + 1))
    assert set(log["unit"]) == {"agreement"} and log["reason"].str.len().gt(20).all()


def test_rows_without_state_carry_no_signing_date(cleaned):
    """Dropping them loses no timing: the 26 name-only entries have no first_signed_best."""
    raw = pd.read_csv(DATA_RAW / ag.SOURCE, dtype=str)
    no_state = raw[raw["state"].isna()]
    assert len(no_state) == 26 and no_state["first_signed_best"].isna().all()
    log = cleaned[1].set_index("rule")
    assert log.at["no_state", "dropped_rows"] == 26


def test_signing_dates_lie_in_the_program_window(cleaned):
    table, log = cleaned
    assert table["first_signed"].between("2002-01-01", "2017-12-31").all()
    assert log.set_index("rule").at["signed_after_2017", "dropped_rows"] > 0


def test_every_local_agency_is_placed_in_a_real_county(cleaned):
    table, log = cleaned
    local = table[table["level"] != "state"]
    counties = set(read_counties()["fips"])
    assert local["fips"].isin(counties).all()
    assert (local["fips"].str[:2] == local["state_fips"]).all()
    assert table.loc[table["level"] == "state", "fips"].isna().all()
    placed = log.set_index("rule").at["not_placed", "rows_after"]
    assert local["agency_id"].nunique() == placed


def test_one_row_per_agency_and_county(cleaned):
    table, _ = cleaned
    assert not table.duplicated(["agency_id", "fips"]).any()
    assert set(table["level"]) == {"county", "municipal", "state"}
    assert set(table["model"].dropna()) <= {"JEM", "TF", "hybrid"}
    assert set(table["confidence"]) <= {"high", "medium", "low"}
    assert table["end_date"].isna().eq(~table["terminated"]).all()


def test_duplicate_spellings_and_fixes(cleaned):
    table, _ = cleaned
    by_id = table.groupby("agency_id")
    # three spellings of one regional jail: earliest date, and still active (re-signed 2013)
    jail = table[table["agency_id"].str.contains("prince-william-manassas")]
    assert len(jail) == 1 and jail["first_signed"].iloc[0] == pd.Timestamp("2007-07-09")
    assert not jail["terminated"].iloc[0]
    assert table["agency"].str.contains("Hartford|Addendum|AL State Police").sum() == 0
    assert list(by_id.get_group("AR:washington-county-sheriff")["fips"]) == ["05143"]
    assert list(by_id.get_group("UT:washington-county-sheriff")["fips"]) == ["49053"]
    assert list(by_id.get_group("VA:manassas-police")["fips"]) == ["51683"]
    assert by_id.get_group("NV:las-vegas-metropolitan-police")["level"].iloc[0] == "county"
    assert sorted(by_id.get_group("TX:carrollton-police")["fips"]) == ["48085", "48113", "48121"]


def test_model_and_level_rules():
    assert ag.model_code("Jail Enforcement") == "JEM"
    assert ag.model_code("Task Force") == "TF"
    assert ag.model_code("Jail Enforcement -> Task Force") == "hybrid"
    assert ag.model_code("Task Force; Jail Enforcement") == "hybrid"
    assert ag.model_code(float("nan")) is None
    assert ag.agency_level("Wake County Sheriff's Office", None) == "county"
    assert ag.agency_level("Hudson County Department of Corrections", None) == "county"
    assert ag.agency_level("Prince William County Police Department", None) == "county"
    assert ag.agency_level("City of Mesa Police Department", None) == "municipal"
    assert ag.agency_level("MO State Highway Patrol", None) == "state"
    assert ag.agency_level("Anything", "statewide") == "state"
    assert ag.agency_level("Board of Something", None) is None


def test_oig_2009_agreements_match_with_the_same_signing_date(cleaned):
    """Every agreement the OIG lists as signed in Oct 2009 is ours, signed the same day."""
    oig = ag.crosscheck_oig(cleaned[0])
    assert len(oig) == 67
    signed = oig[oig["status"] == "signed"]
    assert len(signed) == 61 and signed["same_date"].all()
    assert oig["in_table"].sum() >= 66  # only RI DOC (pending, never signed) is missing
    assert cleaned[0].loc[cleaned[0]["in_oig_2009"], "agency_id"].nunique() == oig["agency_id"].nunique()


def test_wapo_first_years_mostly_agree(cleaned):
    """The Post's first flagged year equals our signing year for most agencies it lists up to
    2017 (its flags start in 2005, so earlier signings show as 2005); FIPS agree except Collier,
    which the Post codes 12023 (Columbia County)."""
    wapo = ag.crosscheck_wapo(cleaned[0])
    early = wapo[(wapo["wapo_first_year"] <= 2017) & wapo["first_year"].notna()]
    assert len(early) >= 90
    assert (early["year_gap"] == 0).mean() >= 0.85
    assert early["year_gap"].abs().max() <= 6
    disagree = wapo[wapo["same_fips"].eq(False)]
    assert list(disagree["agency_id"]) == ["FL:collier-county-sheriff"]


def _write_source(tmp_path, row: int, field: str, value: str):
    raw = pd.read_csv(DATA_RAW / ag.SOURCE, dtype=str, keep_default_na=False)
    raw.loc[row, field] = value
    target = tmp_path / ag.SOURCE
    target.parent.mkdir(parents=True)
    raw.to_csv(target, index=False)


@pytest.mark.parametrize(
    "field, value",
    [
        ("first_signed_best", "1999-05-01"),
        ("first_signed_best", "2031-01-01"),
        ("active_to", "2018-03-01"),
        ("latest_signed", "2008-13-01"),
    ],
)
def test_date_out_of_range_names_file_line_and_field(tmp_path, field, value):
    _write_source(tmp_path, 40, field, value)
    with pytest.raises(InputError) as err:
        ag.clean_agreements_287g(tmp_path)
    assert err.value.line == 42 and err.value.field == field
    assert str(err.value).startswith(str(tmp_path / ag.SOURCE) + ":42:")


def test_a_fix_for_an_unknown_agency_is_an_error(tmp_path):
    source = ag.read_source()
    fixes = tmp_path / "fixes.csv"
    fixes.write_text(
        "state,agency,field,value,reason\n"
        "TEXAS,Harris County Sheriff's Office,level,county,fine\n"
        "TEXAS,Nowhere Police Department,fips,48201,no such agency\n"
    )
    with pytest.raises(InputError) as err:
        ag.read_fixes(source, fixes)
    assert err.value.line == 3 and err.value.field == "agency" and "fixes.csv" in str(err.value)
