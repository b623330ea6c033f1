"""The 2025-2026 wave timing on the real ICE lists: known facts, real counties, checks against the
raw lists that do not go through the rules, the schema validator and the build step's loud stops."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis import config, wave_timing
from analysis.infra.errors import InputError
from analysis.readers import wave_287g as w
from analysis.readers.ice_lists import clean_ice_lists, count_agreements
from analysis.readers.places import read_counties, read_states

TIER = "unit"  # the default tier of these tests (tests/conftest.py)


@pytest.fixture(scope="module")
def lists():
    return clean_ice_lists()


@pytest.fixture(scope="module")
def built(lists):
    agreements, timing, log = w.clean_wave_287g(lists=lists)
    return timing, agreements, log


@pytest.fixture(scope="module")
def census():
    counties = read_counties()
    return counties[counties["state_fips"].isin(read_states()["state_fips"])]


def test_known_counts_of_the_lists(lists, built):
    """From data_raw/README.md: 628 agreements in 40 states on 28 May 2025; 135 in December 2024."""
    assert count_agreements(lists, "2025-05-28") == (628, 40)
    for day in ["2024-12-01", "2024-12-15"]:
        assert (lists["list_date"] == day).sum() == 135
    _, _, log = built
    assert log["rows_before"].iloc[0] == len(lists) and lists["file"].nunique() == 68


def test_one_row_per_real_county_and_placed_agreements_in_their_state(built, census):
    timing, agreements, _ = built
    assert len(timing) == len(census) == 3143 and timing["fips"].is_unique
    assert set(timing["fips"]) == set(census["fips"])
    placed = agreements.dropna(subset=["fips"]).assign(fips=lambda d: d["fips"].str.split(";")).explode("fips")
    assert placed["fips"].isin(set(census["fips"])).all()
    state_of = census.set_index("fips")["state"]
    assert (placed["fips"].map(state_of) == placed["state"]).all()
    assert agreements.loc[agreements["level"] == "state", "fips"].isna().all()


def test_the_tables_pass_their_codebook_and_invariants(built, census):
    timing, agreements, log = built
    book = wave_timing.read_wave_codebook()
    wave_timing.validate(timing, agreements, log, book, set(census["fips"]))
    assert list(log["rule"]) == w.RULES
    assert log["counties_after"].iloc[-1] == timing["adopted"].sum()


def test_wave_adopters_are_the_counties_with_no_agreement_before_the_wave(built):
    timing, agreements, _ = built
    start = w.read_rules().wave_start
    local = agreements[agreements["in_timing"]].assign(fips=lambda d: d["fips"].str.split(";")).explode("fips")
    before = set(local.loc[local["first_list_date"] < start, "fips"])
    t = timing.set_index("fips")
    assert set(t.index[t["wave_adopter"]]) == set(local["fips"]) - before
    assert set(t.index[t["adopted"] & ~t["wave_adopter"]]) == before
    assert (t.loc[t["wave_adopter"], "first_month"] >= "2025-02-01").all()


def test_printed_counties_agree_with_the_timing_except_where_a_rule_says_why(lists, built, census):
    """Straight from the raw lists: a local row whose COUNTY is exactly a Census county of its
    state puts that county in the timing no later than the row's list. The one exception is a
    row the name rule overrides, in a county no other agency dates."""
    timing, agreements, _ = built
    usps = read_states().set_index("state_name")["state"]
    names = {(s, n.lower()): f for s, n, f in zip(census["state"], census["county_name"], census["fips"])}
    rows = lists[lists["type"].isin(["County", "Municipality"]) & lists["county"].notna()].copy()
    rows["fips"] = [names.get((usps.get(s), c.lower())) for s, c in zip(rows["state"], rows["county"])]
    rows = rows.dropna(subset=["fips"])
    first = timing.set_index("fips")["first_list_date"]
    late = rows[~(rows["list_date"] >= rows["fips"].map(first))]
    assert len(rows) > 10_000
    assert late[["agency", "county"]].drop_duplicates().values.tolist() == [
        ["Bradford County Sheriff's Office", "Bedford County"]
    ]  # placed in Bradford County by its name
    # Agency by agency, the county placed differs from the one ICE last printed only by a committed fix.
    moved = agreements[agreements["printed_fips"].notna() & (agreements["fips"] != agreements["printed_fips"])]
    assert (moved["placed_by"] == "fips_fixes").all()
    assert set(moved["agency"]) == {
        "Cherokee Police Department",
        "Monroe Police Department",
        "Tye Police Department",
        "Yoakum Police Department",
    }


def test_sheriffs_named_for_their_county_date_it(lists, built, census):
    """Every row of '<Census county> Sheriff's Office', in any list since 2021 (also before ICE
    printed counties), dates its county no later than the row's list."""
    timing, _, _ = built
    usps = read_states().set_index("state_name")["state"]
    sheriffs = {
        (s, f"{n} Sheriff's Office"): f for s, n, f in zip(census["state"], census["county_name"], census["fips"])
    }
    rows = lists.assign(fips=[sheriffs.get((usps.get(s), a)) for s, a in zip(lists["state"], lists["agency"])]).dropna(
        subset=["fips"]
    )
    first = timing.set_index("fips")["first_list_date"]
    assert len(rows) > 10_000 and (rows["list_date"] >= rows["fips"].map(first)).all()
    early = rows[rows["list_date"] < "2025-03-17"]  # no COUNTY column yet: placed by carry or name
    assert (
        early["fips"].nunique() > 100
        and (timing.set_index("fips").loc[early["fips"].unique(), "first_year"] <= 2025).all()
    )


def test_counties_active_at_the_wave_start(lists, built, census):
    """The last list before 20 Jan 2025 (4 Jan 2025, 135 agreements): the counties of the sheriffs
    named for their county in it are active at the wave start, and no more counties are active
    than the list has agreements."""
    timing, _, _ = built
    last = lists.loc[lists["list_date"] < "2025-01-20", "list_date"].max()
    current = lists[lists["list_date"] == last]
    assert last == pd.Timestamp("2025-01-04") and len(current) == 135
    usps = read_states().set_index("state_name")["state"]
    sheriffs = {
        (s, f"{n} Sheriff's Office"): f for s, n, f in zip(census["state"], census["county_name"], census["fips"])
    }
    named = {sheriffs.get((usps.get(s), a)) for s, a in zip(current["state"], current["agency"])} - {None}
    t = timing.set_index("fips")
    active = set(t.index[t["active_at_wave_start"]])
    assert len(named) > 80 and named <= active and len(active) <= 135
    assert (t.loc[list(active), "first_list_date"] <= last).all()


def test_every_fix_changes_something_and_names_a_listed_agency(lists):
    """build_wave raises on a fix that does nothing or names no listed agency; the committed files pass."""
    fixes, names = w.read_fixes(), w.read_county_names()
    assert fixes["reason"].str.len().gt(10).all() and names["reason"].str.len().gt(10).all()
    listed = set(zip(lists["state"], lists["agency"]))
    assert all((f.state, f.agency) in listed or f.field != "state" for f in fixes.itertuples())


def test_validator_lists_violations(built):
    timing, agreements, log = built
    book = wave_timing.read_wave_codebook()
    bad = timing.copy()
    bad.loc[0, "fips"] = "99999"
    with pytest.raises(wave_timing.WaveSchemaError, match="not in census"):
        wave_timing.validate(bad, agreements, log, book, set(timing["fips"]))
    bad = timing.copy()
    bad.loc[bad["adopted"].idxmax(), "first_month_jem"] = pd.Timestamp("2019-01-01")
    with pytest.raises(wave_timing.WaveSchemaError, match="before first_month"):
        wave_timing.validate(bad, agreements, log, book)
    with pytest.raises(wave_timing.WaveSchemaError, match="columns"):
        wave_timing.validate(timing.drop(columns="exited"), agreements, log, book)
    bad_log = log.copy()
    bad_log.loc[3, "rows_after"] += 1
    with pytest.raises(wave_timing.WaveSchemaError, match="before - dropped"):
        wave_timing.validate(timing, agreements, bad_log, book)


def test_build_step_stops_on_a_bad_fix_and_writes_nothing(tmp_path, monkeypatch, lists):
    bad = tmp_path / "fixes.csv"
    text = config.WAVE_FIXES.read_text().splitlines()
    text.insert(3, "FLORIDA,Nowhere Police Department,fips,12099,Invented.")
    bad.write_text("\n".join(text) + "\n")
    outputs = {
        name: tmp_path / f"out_{name}" for name in ["WAVE_TIMING", "WAVE_AGREEMENTS", "WAVE_LOG", "WAVE_CODEBOOK"]
    }
    for name, path in outputs.items():
        monkeypatch.setattr(wave_timing, name, path)
    real = w.clean_wave_287g
    monkeypatch.setattr(
        wave_timing, "clean_wave_287g", lambda raw_dir, lists=None: real(raw_dir, fixes_path=bad, lists=lists)
    )
    with pytest.raises(InputError, match=r"fixes\.csv:4: field 'agency' no agency 'Nowhere Police Department'"):
        wave_timing.main([])  # analysis.infra.cli prints it as one line and exits 1
    assert not any(p.exists() for p in outputs.values())
