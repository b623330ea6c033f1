"""Rules of the 2025-2026 wave timing, one by one, on hand-built ICE lists (no raw files).

Each test builds a few list rows, applies the committed rules (analysis/readers/wave_287g_rules.yaml)
with the fixes it needs, and checks the agreements table, the county timing and the log.
"""

from __future__ import annotations

import copy
from pathlib import Path

import pandas as pd
import pytest

from analysis.config import WAVE_RULES
from analysis.infra.errors import InputError
from analysis.readers import wave_287g as w
from analysis.rulelog import COLUMNS as RULELOG_COLUMNS

TIER = "unit"  # the default tier of these tests (tests/conftest.py)

STATES = pd.DataFrame(
    {
        "state_fips": ["01", "22", "51", "12"],
        "state": ["AL", "LA", "VA", "FL"],
        "state_name": ["ALABAMA", "LOUISIANA", "VIRGINIA", "FLORIDA"],
    }
)
COUNTIES = pd.DataFrame(
    [
        ("AL", "01", "01001", "Autauga County"),
        ("AL", "01", "01003", "Baldwin County"),
        ("AL", "01", "01005", "Barbour County"),
        ("AL", "01", "01049", "DeKalb County"),
        ("LA", "22", "22001", "Acadia Parish"),
        ("LA", "22", "22097", "St. Landry Parish"),
        ("VA", "51", "51670", "Hopewell city"),
        ("VA", "51", "51059", "Fairfax County"),
        ("VA", "51", "51157", "Rappahannock County"),
        ("VA", "51", "51187", "Warren County"),
        ("FL", "12", "12099", "Palm Beach County"),
        ("FL", "12", "12086", "Miami-Dade County"),
        ("GU", "66", "66010", "Guam"),
    ],
    columns=["state", "state_fips", "fips", "county_name"],
)
CROSSWALK = pd.DataFrame(
    [
        ("01", "01003", "local police department", "foley police department"),
        ("01", "01001", "local police department", "twin police department"),
        ("01", "01005", "local police department", "twin police department"),
        ("12", "12099", "local police department", "jupiter police department"),
        ("12", "12099", "state law enforcement agency", "florida highway patrol"),
    ],
    columns=["fips_state_code", "fips_state_county_code", "agency_type", "crosswalk_agency_name"],
)
# One list a month, Jan 2021 .. Jun 2025 would be long: these tests use five list dates.
DATES = {
    "2021-01": "2021-01-13",
    "2024-12": "2024-12-01",
    "2025-03": "2025-03-01",
    "2025-04": "2025-04-01",
    "2025-05": "2025-05-01",
}


def lst(*rows) -> pd.DataFrame:
    """List rows: (month key, state, agency, type, county, model[, signed])."""
    out = []
    for i, row in enumerate(rows):
        month, state, agency, kind, county, model, *signed = row
        out.append(
            {
                "list_date": pd.Timestamp(DATES[month]),
                "file": f"list-{month}.xlsx",
                "state": state,
                "agency": agency,
                "type": kind,
                "county": county,
                "support_type": model,
                "signed": pd.Timestamp(signed[0] if signed else DATES[month]) - pd.Timedelta(days=5),
                "line": i + 2,
            }
        )
    return pd.DataFrame(out)


def rules(**changes) -> w.Rules:
    """The committed rules, with ``rule={'apply': False}`` style changes."""
    base = copy.deepcopy(w.read_rules(WAVE_RULES))
    for name, change in changes.items():
        base.steps[name].update(change)
    return base


def fixes_table(tmp_path: Path, *rows, name="fixes.csv") -> tuple[pd.DataFrame, Path]:
    path = tmp_path / name
    pd.DataFrame(rows, columns=w.FIX_COLUMNS).to_csv(path, index=False)
    return w.read_fixes(path), path


def names_table(tmp_path: Path, *rows) -> tuple[pd.DataFrame, Path]:
    path = tmp_path / "names.csv"
    pd.DataFrame(rows, columns=w.NAME_COLUMNS).to_csv(path, index=False)
    return w.read_county_names(path), path


def run(lists, tmp_path, fixes=(), names=(), R=None, crosswalk=CROSSWALK):
    fx, fpath = fixes_table(tmp_path, *fixes)
    nm, npath = names_table(tmp_path, *names)
    return w.build_wave(lists, COUNTIES, STATES, crosswalk, R or rules(), fx, nm, fixes_path=fpath, names_path=npath)


def timing_of(timing, fips):
    return timing.set_index("fips").loc[fips]


# ---- the rules file ------------------------------------------------------------------------------------


def test_committed_rules_list_every_rule_once_in_order_with_reasons():
    R = w.read_rules(WAVE_RULES)
    assert list(R.steps) == w.RULES
    assert all(len(s["reason"]) > 40 and s["apply"] for s in R.steps.values())
    assert R.wave_start == pd.Timestamp("2025-01-20")


@pytest.mark.parametrize(
    "edit,line,field",
    [
        (lambda t: t.replace("  - rule: gaps\n", "  - rule: gapz\n"), None, "rule"),
        (lambda t: t.replace("    date_to: first_list\n", "    date_to: sometime\n"), None, "date_to"),
        (lambda t: t.replace("  - rule: unplaced\n", "  - rule: unplaced\n    apply: maybe\n"), None, "apply"),
        (lambda t: t.replace("  - rule: left_censored\n", "  - rule: left_censored\n    width: 3\n"), None, "width"),
        (lambda t: t.replace("wave_start: 2025-01-20", "wave_start: soon"), 13, "wave_start"),
    ],
)
def test_a_bad_rules_file_stops_naming_line_and_field(tmp_path, edit, line, field):
    path = tmp_path / "rules.yaml"
    path.write_text(edit(WAVE_RULES.read_text()))
    with pytest.raises(InputError, match=rf"rules\.yaml:\d+: field '{field}'") as err:
        w.read_rules(path)
    if line:
        assert err.value.line == line


def test_a_rule_left_out_or_moved_stops(tmp_path):
    text = WAVE_RULES.read_text()
    start = text.index("  - rule: duplicate_rows")
    end = text.index("  # ---- agency level")
    path = tmp_path / "rules.yaml"
    path.write_text(text[:start] + text[end:])
    with pytest.raises(InputError, match="expected 'duplicate_rows' here"):
        w.read_rules(path)
    path.write_text(text[: text.index("  - rule: intent_to_treat")])
    with pytest.raises(InputError, match="rule 'intent_to_treat' is missing"):
        w.read_rules(path)


@pytest.mark.parametrize(
    "row,field",
    [
        (("ALABAMA", "X Police Department", "colour", "red", "why"), "field"),
        (("ALABAMA", "X Police Department", "level", "city", "why"), "value"),
        (("ALABAMA", "X Police Department", "fips", "1001", "why"), "value"),
        (("ALABAMA", "X Police Department", "fips", "01001", ""), "reason"),
        (("Alabama", "X Police Department", "fips", "01001", "why"), "state"),
    ],
)
def test_a_bad_fix_stops_naming_line_and_field(tmp_path, row, field):
    path = tmp_path / "fixes.csv"
    pd.DataFrame([("ALABAMA", "Y Police Department", "fips", "01003", "fine"), row], columns=w.FIX_COLUMNS).to_csv(
        path, index=False
    )
    with pytest.raises(InputError, match=rf"fixes\.csv:3: field '{field}'"):
        w.read_fixes(path)


# ---- identity ----------------------------------------------------------------------------------------


def test_outside_states_drops_territories_and_stops_on_an_unknown_state(tmp_path):
    lists = lst(
        ("2025-03", "ALABAMA", "Autauga County Sheriff's Office", "County", "Autauga County", "JEM"),
        ("2025-03", "GUAM", "Guam Police Department", "Municipality", None, "TFM"),
    )
    agreements, timing, log = run(lists, tmp_path)
    assert log.set_index("rule").loc["outside_states", ["dropped_rows", "dropped_units"]].tolist() == [1, 1]
    assert list(agreements["state"]) == ["AL"] and "66010" not in set(timing["fips"])
    bad = lst(("2025-03", "ALABAMA", "A", "County", None, "JEM"), ("2025-03", "ALABMA", "B", "County", None, "JEM"))
    with pytest.raises(InputError, match=r"list-2025-03\.xlsx:3: field 'STATE' 'ALABMA' is not a U\.S\. state"):
        run(bad, tmp_path)


def test_state_fix_moves_a_row_and_merges_the_agreement(tmp_path):
    lists = lst(
        ("2025-03", "VIRGINIA", "Acadia Parish Sheriff's Office", "County", "Acadia Parish", "WSO"),
        ("2025-04", "LOUISIANA", "Acadia Parish Sheriff's Office", "County", "Acadia Parish", "WSO"),
    )
    fix = ("VIRGINIA", "Acadia Parish Sheriff's Office", "state", "LOUISIANA", "Wrong state printed.")
    agreements, timing, log = run(lists, tmp_path, fixes=[fix])
    assert len(agreements) == 1 and agreements["first_list_date"].iloc[0] == pd.Timestamp("2025-03-01")
    assert log.set_index("rule").at["state_fixes", "dropped_units"] == 1
    assert timing_of(timing, "22001")["first_month"] == pd.Timestamp("2025-03-01")
    with pytest.raises(InputError, match=r"fixes\.csv:2: field 'agency' no agency 'Nobody'"):
        run(lists, tmp_path, fixes=[("VIRGINIA", "Nobody", "state", "LOUISIANA", "x")])
    with pytest.raises(InputError, match=r"fixes\.csv:2: field 'value' 'NARNIA' is not a state name"):
        run(lists, tmp_path, fixes=[fix[:3] + ("NARNIA", "x")])


def test_normalised_names_join_spellings_and_switching_it_off_splits_them(tmp_path):
    lists = lst(
        ("2025-03", "ALABAMA", "Baldwin County Sheriff's Office", "County", "Baldwin County", "JEM"),
        ("2025-04", "ALABAMA", "Baldwin County Sheriffs Office (Addendum)", "County", "Baldwin County", "JEM"),
    )
    agreements, _, log = run(lists, tmp_path)
    assert len(agreements) == 1 and agreements["n_lists"].iloc[0] == 2
    assert log.set_index("rule").at["normalise_names", "dropped_units"] == 1
    agreements, _, _ = run(lists, tmp_path, R=rules(normalise_names={"apply": False}))
    assert len(agreements) == 2


def test_same_as_fix_joins_a_rename_so_it_is_not_an_exit_and_an_entry(tmp_path):
    lists = lst(
        ("2025-03", "FLORIDA", "Macro Island Police Department", "Municipality", "Palm Beach County", "TFM"),
        ("2025-04", "FLORIDA", "Marco Island Police Department", "Municipality", "Palm Beach County", "TFM"),
        ("2025-05", "FLORIDA", "Marco Island Police Department", "Municipality", "Palm Beach County", "TFM"),
    )
    fix = ("FLORIDA", "Macro Island Police Department", "same_as", "Marco Island Police Department", "Typo.")
    agreements, _, log = run(lists, tmp_path, fixes=[fix])
    row = agreements.iloc[0]
    assert len(agreements) == 1 and row["agency"] == "Marco Island Police Department"
    assert row["first_list_date"] == pd.Timestamp("2025-03-01") and row["in_latest_list"]
    assert log.set_index("rule").at["same_as_fixes", "dropped_units"] == 1
    assert len(run(lists, tmp_path)[0]) == 2  # without the fix: one exit and one new agreement
    with pytest.raises(InputError, match=r"fixes\.csv:2: field 'value' no agency 'Marko"):
        run(lists, tmp_path, fixes=[fix[:3] + ("Marko Island Police Department", "x")])


def test_same_as_chains_and_no_op_fixes_stop(tmp_path):
    lists = lst(
        ("2025-03", "FLORIDA", "A Police Department", "Municipality", "Palm Beach County", "TFM"),
        ("2025-04", "FLORIDA", "B Police Department", "Municipality", "Palm Beach County", "TFM"),
        ("2025-05", "FLORIDA", "C Police Department", "Municipality", "Palm Beach County", "TFM"),
    )
    chain = [
        ("FLORIDA", "A Police Department", "same_as", "B Police Department", "x"),
        ("FLORIDA", "B Police Department", "same_as", "C Police Department", "x"),
    ]
    with pytest.raises(InputError, match=r"fixes\.csv:2: field 'value' .* is itself renamed"):
        run(lists, tmp_path, fixes=chain)
    noop = [("FLORIDA", "A Police Department", "same_as", "A Police Dept.", "x")]
    lists2 = pd.concat(
        [lists, lst(("2025-05", "FLORIDA", "A Police Dept.", "Municipality", "Palm Beach County", "TFM"))]
    )
    with pytest.raises(InputError, match="already one agency"):
        run(lists2, tmp_path, fixes=noop)


def test_an_agreement_printed_twice_in_one_list_counts_once(tmp_path):
    lists = lst(
        ("2025-04", "FLORIDA", "City of Jupiter Police Department", "Municipality", "Palm Beach County", "TFM"),
        ("2025-04", "FLORIDA", "Jupiter Police Department", "Municipality", "Palm Beach County", "TFM"),
    )
    agreements, timing, log = run(lists, tmp_path)
    assert len(agreements) == 1 and log.set_index("rule").at["duplicate_rows", "dropped_rows"] == 1
    assert timing_of(timing, "12099")["n_agreements"] == 1


# ---- level ------------------------------------------------------------------------------------------------


def test_level_is_the_latest_type_then_fixes_then_the_name(tmp_path):
    lists = lst(
        ("2021-01", "ALABAMA", "Barbour County Sheriff's Office", None, None, "JEM"),  # untyped, left in 2021
        ("2025-03", "ALABAMA", "Foley Police Department", "County", "Baldwin County", "TFM"),
        ("2025-04", "ALABAMA", "Foley Police Department", "Municipality", "Baldwin County", "TFM"),
        ("2025-04", "ALABAMA", "Alabama Department of Corrections", "Municipality", None, "WSO"),
    )
    fix = ("ALABAMA", "Alabama Department of Corrections", "level", "state", "A state department.")
    agreements, timing, log = run(lists, tmp_path, fixes=[fix])
    level = agreements.set_index("agency")["level"]
    assert level["Foley Police Department"] == "municipal"  # latest TYPE, not the first
    assert level["Alabama Department of Corrections"] == "state"  # fix
    assert level["Barbour County Sheriff's Office"] == "county"  # from the name
    assert timing_of(timing, "01003")["first_month_municipal"] == pd.Timestamp("2025-03-01")
    assert pd.isna(timing_of(timing, "01003")["first_month_county_agency"])
    lg = log.set_index("rule")["agencies_changed"]
    assert (lg["level_latest_type"], lg["level_fixes"], lg["level_from_name"]) == (2, 1, 1)
    with pytest.raises(InputError, match="already has level municipal"):
        run(lists, tmp_path, fixes=[fix, ("ALABAMA", "Foley Police Department", "level", "municipal", "x")][1:])


def test_an_untyped_agency_whose_level_cannot_be_told_stops(tmp_path):
    lists = lst(("2021-01", "ALABAMA", "Office of Special Things", None, None, "TFM"))
    with pytest.raises(InputError, match=r"list-2021-01\.xlsx:2: field 'LAW ENFORCEMENT AGENCY' 'Office of Special"):
        run(lists, tmp_path)
    fixes = [("ALABAMA", "Office of Special Things", "level", "state", "A state office.")]
    agreements, _, _ = run(lists, tmp_path, fixes=fixes)
    assert agreements["level"].tolist() == ["state"]


# ---- counties ---------------------------------------------------------------------------------------------


def test_printed_counties_are_read_with_variants_and_the_spelling_table(tmp_path):
    lists = lst(
        ("2025-03", "LOUISIANA", "Arnaudville Police Department", "Municipality", "Saint Landry County", "TFM"),
        ("2025-03", "ALABAMA", "Ider Police Department", "Municipality", "De Kalb", "TFM"),
        ("2025-03", "LOUISIANA", "Morse Police Department", "Municipality", "Arcadia County", "TFM"),
        ("2025-03", "VIRGINIA", "Hopewell Sheriff's Office", "County", "Hopewell County", "JEM"),
    )
    names = [
        ("LOUISIANA", "Arcadia County", "22001", "Misspelling of Acadia Parish."),
        ("VIRGINIA", "Hopewell County", "51670", "Independent city."),
    ]
    agreements, timing, log = run(lists, tmp_path, names=names)
    placed = agreements.set_index("agency")["fips"]
    assert placed["Arnaudville Police Department"] == "22097"  # Saint -> St., County -> Parish
    assert placed["Ider Police Department"] == "01049"  # 'De Kalb' + County = DeKalb County
    assert placed["Morse Police Department"] == "22001"
    assert placed["Hopewell Sheriff's Office"] == "51670"
    assert (agreements["placed_by"] == "county_printed").all()
    assert log.set_index("rule").at["county_printed", "counties_after"] == 4


def test_an_unreadable_county_of_an_agency_no_rule_places_stops_naming_the_cell(tmp_path):
    lists = lst(("2025-03", "ALABAMA", "Nowhere Police Department", "Municipality", "Autauga Conty", "TFM"))
    with pytest.raises(
        InputError, match=r"list-2025-03\.xlsx:2: field 'COUNTY' 'Autauga Conty' is not a county of ALABAMA"
    ):
        run(lists, tmp_path)
    names = [("ALABAMA", "Autauga Conty", "01001", "Misspelling.")]
    assert run(lists, tmp_path, names=names)[0]["fips"].tolist() == ["01001"]
    with pytest.raises(InputError, match=r"names\.csv:2: field 'fips' 01003 is not a county of LOUISIANA"):
        run(lists, tmp_path, names=[("LOUISIANA", "Autauga Conty", "01003", "x")])


def test_carry_dates_a_county_by_the_agency_s_earliest_list(tmp_path):
    """Before 17 Mar 2025 the lists have no COUNTY: the agency's later county is carried back."""
    lists = lst(
        ("2024-12", "FLORIDA", "Jupiter Police Department", None, None, "TFM"),
        ("2025-04", "FLORIDA", "Jupiter Police Department", "Municipality", "Palm Beach County", "TFM"),
        ("2025-05", "FLORIDA", "Jupiter Police Department", "Municipality", None, "TFM"),
    )
    _, timing, log = run(lists, tmp_path)
    row = timing_of(timing, "12099")
    assert row["first_month"] == pd.Timestamp("2024-12-01") and not row["wave_adopter"]
    assert row["active_at_wave_start"] and row["in_latest_list"]
    lg = log.set_index("rule")
    assert lg.at["county_printed", "wave_counties_after"] == 1  # printed only from Apr 2025
    assert lg.at["carry_latest_county", "wave_counties_after"] == 0  # carried back to Dec 2024
    assert lg.at["carry_latest_county", "counties_redated"] == 1
    _, timing_off, _ = run(lists, tmp_path, R=rules(carry_latest_county={"apply": False}))
    assert timing_of(timing_off, "12099")["first_month"] == pd.Timestamp("2025-04-01")


def test_carry_takes_the_latest_printed_county(tmp_path):
    lists = lst(
        ("2025-04", "ALABAMA", "Twin Police Department", "Municipality", "Autauga County", "TFM"),
        ("2025-05", "ALABAMA", "Twin Police Department", "Municipality", "Barbour County", "TFM"),
    )
    agreements, timing, _ = run(lists, tmp_path)
    assert agreements["fips"].tolist() == ["01005"]
    assert not timing_of(timing, "01001")["adopted"]
    assert timing_of(timing, "01005")["first_month"] == pd.Timestamp("2025-04-01")


def test_a_county_agency_is_placed_by_its_name_over_a_wrong_printed_county(tmp_path):
    lists = lst(
        ("2021-01", "ALABAMA", "Barbour County Sheriff's Office", None, None, "JEM"),
        ("2025-04", "ALABAMA", "Baldwin County Sheriff's Office", "County", "Barbour County", "WSO"),
        ("2025-04", "ALABAMA", "Autauga County Sheriff's Office", "County", "Autauga Cnty", "WSO"),
    )
    agreements, timing, log = run(lists, tmp_path)
    placed = agreements.set_index("agency")["fips"]
    assert placed["Baldwin County Sheriff's Office"] == "01003"  # not the printed Barbour
    assert placed["Autauga County Sheriff's Office"] == "01001"  # unreadable printed county, placed by name
    assert placed["Barbour County Sheriff's Office"] == "01005"  # left before 2025, no COUNTY ever
    assert timing_of(timing, "01005")["left_censored"] and timing_of(timing, "01005")["exited"]
    assert log.set_index("rule").at["county_agency_by_name", "agencies_changed"] == 3
    with pytest.raises(InputError, match="'Autauga Cnty' is not a county of ALABAMA"):
        run(lists, tmp_path, R=rules(county_agency_by_name={"apply": False}))


def test_crosswalk_places_a_unique_name_only(tmp_path):
    lists = lst(
        ("2025-04", "ALABAMA", "Foley Police Department", "Municipality", None, "TFM"),
        ("2025-04", "ALABAMA", "Twin Police Department", "Municipality", None, "TFM"),
        ("2025-04", "FLORIDA", "Florida Highway Patrol", "Municipality", None, "TFM"),
    )
    agreements, timing, log = run(lists, tmp_path)
    placed = agreements.set_index("agency")
    assert placed.at["Foley Police Department", "fips"] == "01003"
    assert placed.at["Foley Police Department", "placed_by"] == "crosswalk_by_name"
    assert pd.isna(placed.at["Twin Police Department", "fips"])  # two counties: ambiguous
    assert pd.isna(placed.at["Florida Highway Patrol", "fips"])  # state agencies excluded
    lg = log.set_index("rule")
    assert lg.at["crosswalk_by_name", "counties_after"] == 1
    assert lg.at["unplaced", "dropped_units"] == 2 and not placed["in_timing"].iloc[1:].any()


def test_fips_fix_places_in_several_counties_and_checks_the_state(tmp_path):
    lists = lst(("2025-04", "VIRGINIA", "Rappahannock, Warren Regional Jail", "County", None, "WSO"))
    fix = ("VIRGINIA", "Rappahannock, Warren Regional Jail", "fips", "51157;51187", "Named for both counties.")
    agreements, timing, log = run(lists, tmp_path, fixes=[fix])
    assert agreements["fips"].tolist() == ["51157;51187"]
    assert timing.set_index("fips").loc[["51157", "51187"], "adopted"].all()
    assert log.set_index("rule").at["fips_fixes", "counties_after"] == 2
    with pytest.raises(InputError, match=r"fixes\.csv:2: field 'value' 01001 is not a county of VIRGINIA"):
        run(lists, tmp_path, fixes=[fix[:3] + ("01001", "x")])
    placed = lst(("2025-04", "VIRGINIA", "Fairfax County Sheriff's Office", "County", "Fairfax County", "WSO"))
    with pytest.raises(InputError, match="the fix does nothing"):
        run(placed, tmp_path, fixes=[("VIRGINIA", "Fairfax County Sheriff's Office", "fips", "51059", "x")])
    state = lst(("2025-04", "VIRGINIA", "Virginia State Police", "State Agency", None, "TFM"))
    with pytest.raises(InputError, match="is a state agency"):
        run(state, tmp_path, fixes=[("VIRGINIA", "Virginia State Police", "fips", "51059", "x")])


def test_state_agencies_are_not_placed_but_date_their_state(tmp_path):
    lists = lst(
        ("2025-03", "VIRGINIA", "Virginia State Police", "State Agency", "Fairfax County", "TFM"),
        ("2025-05", "VIRGINIA", "Fairfax County Sheriff's Office", "County", "Fairfax County", "JEM"),
    )
    agreements, timing, log = run(lists, tmp_path)
    assert agreements.set_index("level").at["state", "fips"] is pd.NA
    va = timing[timing["state"] == "VA"].set_index("fips")
    assert (va["first_month_state_agency"] == pd.Timestamp("2025-03-01")).all()
    assert va.at["51059", "first_month"] == pd.Timestamp("2025-05-01") and va["adopted"].sum() == 1
    assert log.set_index("rule").loc["state_agencies", ["dropped_rows", "dropped_units"]].tolist() == [1, 1]


# ---- timing ------------------------------------------------------------------------------------------------


def test_month_model_and_level_columns(tmp_path):
    lists = lst(
        ("2021-01", "ALABAMA", "Autauga County Sheriff's Office", None, None, "JEM"),
        ("2025-03", "FLORIDA", "Jupiter Police Department", "Municipality", "Palm Beach County", "TFM", "2025-02-20"),
        ("2025-04", "FLORIDA", "Palm Beach County Sheriff's Office", "County", "Palm Beach County", "JEM"),
        ("2025-05", "FLORIDA", "Palm Beach County Sheriff's Office", "County", "Palm Beach County", "WSO"),
    )
    _, timing, _ = run(lists, tmp_path)
    row = timing_of(timing, "12099")
    assert (row["first_month"], row["first_year"]) == (pd.Timestamp("2025-03-01"), 2025)
    assert row["first_month_municipal"] == row["first_month_tfm"] == pd.Timestamp("2025-03-01")
    assert row["first_month_county_agency"] == row["first_month_jem"] == pd.Timestamp("2025-04-01")
    assert row["first_month_wso"] == pd.Timestamp("2025-05-01")
    assert row["first_signed"] == pd.Timestamp("2025-02-15")
    assert row["wave_adopter"] and not row["left_censored"] and (row["n_agencies"], row["n_agreements"]) == (2, 3)
    never = timing_of(timing, "12086")
    assert not never["adopted"] and pd.isna(never["first_month"]) and never["n_agreements"] == 0
    assert len(timing) == 12 and "66010" not in set(timing["fips"])
    assert (
        timing_of(timing, "01001")["left_censored"] and not timing_of(timing, "01001")["wave_adopter"]
    )  # every county of the states, no territory


def test_gaps_flag_the_list_after_a_missing_month_and_can_date_it_earlier(tmp_path):
    """The hand-built lists skip Jan-Feb 2025: the 1 Mar 2025 list follows a gap."""
    lists = lst(
        ("2024-12", "ALABAMA", "Autauga County Sheriff's Office", "County", None, "JEM"),
        ("2025-03", "ALABAMA", "Baldwin County Sheriff's Office", "County", "Baldwin County", "JEM"),
        ("2025-04", "ALABAMA", "Barbour County Sheriff's Office", "County", "Barbour County", "JEM"),
    )
    agreements, timing, log = run(lists, tmp_path)
    t = timing.set_index("fips")
    assert t.at["01003", "after_gap"] and not t.at["01005", "after_gap"] and not t.at["01001", "after_gap"]
    assert t.at["01003", "first_month"] == pd.Timestamp("2025-03-01")
    assert log.set_index("rule").at["gaps", "counties_flagged"] == 1
    _, early, log2 = run(lists, tmp_path, R=rules(gaps={"date_to": "after_previous_list"}))
    assert early.set_index("fips").at["01003", "first_month"] == pd.Timestamp("2025-01-01")
    assert early.set_index("fips").at["01003", "wave_adopter"]  # by list date: first seen 1 Mar 2025
    assert log2.set_index("rule").at["gaps", "counties_redated"] == 1
    after, start = w.gap_dates(
        pd.Series(pd.to_datetime(["2025-01-04", "2025-02-09", "2025-05-01", "2025-05-28"])), "after_previous_list"
    )
    assert [after[d] for d in sorted(after)] == [False, False, True, False]
    assert start[pd.Timestamp("2025-05-01")] == pd.Timestamp("2025-03-01")
    assert start[pd.Timestamp("2025-05-28")] == pd.Timestamp("2025-05-28")


def test_left_censored_and_exited_are_flags_not_drops(tmp_path):
    lists = lst(
        ("2021-01", "ALABAMA", "Autauga County Sheriff's Office", None, None, "JEM"),
        ("2024-12", "ALABAMA", "Barbour County Sheriff's Office", None, None, "JEM"),
        ("2025-03", "ALABAMA", "Baldwin County Sheriff's Office", "County", "Baldwin County", "JEM"),
        ("2025-05", "ALABAMA", "Baldwin County Sheriff's Office", "County", "Baldwin County", "JEM"),
    )
    agreements, timing, log = run(lists, tmp_path)
    t = timing.set_index("fips")
    assert t.at["01001", "left_censored"] and t.at["01001", "exited"] and t.at["01001", "adopted"]
    assert not t.at["01001", "active_at_wave_start"]
    assert not t.at["01003", "left_censored"] and not t.at["01003", "exited"]
    lg = log.set_index("rule")
    assert lg.at["left_censored", "counties_flagged"] == 1 and lg.at["intent_to_treat", "counties_flagged"] == 2
    assert (lg["dropped_rows"].loc[["gaps", "left_censored", "intent_to_treat"]] == 0).all()
    _, off, _ = run(lists, tmp_path, R=rules(left_censored={"apply": False}, intent_to_treat={"apply": False}))
    assert not off["left_censored"].any() and not off["exited"].any()


def test_new_in_wave_marks_counties_treated_before_that_add_an_agreement(tmp_path):
    lists = lst(
        ("2024-12", "ALABAMA", "Autauga County Sheriff's Office", None, None, "WSO"),
        ("2025-04", "ALABAMA", "Autauga County Sheriff's Office", "County", "Autauga County", "WSO"),
        ("2025-05", "ALABAMA", "Autauga County Sheriff's Office", "County", "Autauga County", "TFM"),
    )
    _, timing, _ = run(lists, tmp_path)
    row = timing_of(timing, "01001")
    assert row["first_month"] == pd.Timestamp("2024-12-01") and not row["wave_adopter"]
    assert row["first_month_new_in_wave"] == pd.Timestamp("2025-05-01")


def test_the_log_reconciles_and_every_rule_has_a_row(tmp_path):
    lists = lst(
        ("2021-01", "ALABAMA", "Autauga County Sheriff's Office", None, None, "JEM"),
        ("2025-03", "GUAM", "Guam Police Department", "Municipality", None, "TFM"),
        ("2025-04", "ALABAMA", "Twin Police Department", "Municipality", None, "TFM"),
        ("2025-04", "VIRGINIA", "Virginia State Police", "State Agency", None, "TFM"),
    )
    agreements, timing, log = run(lists, tmp_path)
    assert list(log["rule"]) == w.RULES and list(log.columns) == RULELOG_COLUMNS + w.LOG_EXTRA
    assert (log["rows_before"] - log["dropped_rows"] == log["rows_after"]).all()
    assert (log["rows_before"].iloc[1:].to_numpy() == log["rows_after"].iloc[:-1].to_numpy()).all()
    assert log["rows_before"].iloc[0] == len(lists) and log["rows_after"].iloc[-1] == 1
    assert log["counties_after"].iloc[-1] == timing["adopted"].sum() == 1
    assert agreements["in_timing"].sum() == log["units_after"].iloc[-1]
    assert len(agreements) == 3  # Guam dropped; Twin (unplaced) and the state police kept, not in the timing
