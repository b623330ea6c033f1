"""Tests of the ICPSR county crime reader: layout checks, recomputed totals, known facts."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.config import DATA_RAW
from analysis.infra.errors import InputError
from analysis.readers.crime import check_study, clean_crime, crime_file, read_crime_file

TIER = "unit"  # the default tier of these tests (tests/conftest.py)

FIXTURES = Path(__file__).parent / "fixtures"
# Field widths of the 97-character record, written out from ucr/SOURCES.md section 3a.
WIDTHS = [4, 1, 1, 4, 2, 3, 8, 8, 3, 3, 8, 6, 6, 4, 4, 5, 5, 6, 6, 6, 4]
YEARS = range(2000, 2013)
RECORDS = [3146] + [3147] * 7 + [3172] + [3177] * 2 + [3178] * 2  # documented, 2000-2012


def record(*values) -> str:
    """One fixed-width record, each value right-aligned in its field."""
    line = "".join(str(v).rjust(w) for v, w in zip(values, WIDTHS))
    assert len(line) == 97
    return line


def stage(raw_dir: Path, year: int, text: str) -> Path:
    """Write ``text`` as the ICPSR file of ``year`` under ``raw_dir``."""
    path = crime_file(raw_dir, year)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.fixture
def no_recodes(tmp_path) -> Path:
    path = tmp_path / "no_recodes.csv"
    path.write_text("action,old_fips,new_fips,first_year,last_year,name,reason\n")
    return path


@pytest.mark.parametrize(
    "fixture, line, field, words",
    [
        ("crime_short_line.txt", 2, "MURDER", "60 characters"),
        ("crime_bad_field.txt", 3, "ROBBERY", "'12x4' is not a non-negative number"),
    ],
)
def test_garbled_line_names_file_line_and_field(tmp_path, fixture, line, field, words):
    path = stage(tmp_path, 2000, (FIXTURES / fixture).read_text())
    with pytest.raises(InputError) as err:
        clean_crime(tmp_path, years=[2000])
    assert (err.value.file, err.value.line, err.value.field) == (str(path), line, field)
    assert str(err.value).startswith(f"{path}:{line}: field '{field}'") and words in str(err.value)


def test_overlong_and_crlf_lines_are_refused(tmp_path):
    lines = (FIXTURES / "crime_valid.txt").read_text().splitlines()
    stage(tmp_path, 2000, "\n".join(lines[:2] + [lines[2] + "7"] + lines[3:]) + "\n")
    with pytest.raises(InputError, match=r":3: field 'ARSON' record has 98 characters"):
        clean_crime(tmp_path, years=[2000])
    stage(tmp_path, 2000, "\r\n".join(lines) + "\r\n")
    with pytest.raises(InputError, match=r":1: .*98 characters"):
        clean_crime(tmp_path, years=[2000])


def test_missing_year_file(tmp_path):
    with pytest.raises(InputError, match="03721-0004-Data.txt: crime file for 2001 not found"):
        clean_crime(tmp_path, years=[2001])


def test_valid_fixture(tmp_path):
    stage(tmp_path, 2000, (FIXTURES / "crime_valid.txt").read_text())
    crime, log = clean_crime(tmp_path, years=[2000])
    assert list(crime["fips"]) == ["01001", "01003", "37119"]  # space-padded state FIPS, 09999 dropped
    meck = crime.set_index("fips").loc["37119"]
    assert (meck["violent"], meck["property"], meck["index"]) == (78 + 300 + 2900 + 4399, 43000, 50677)
    assert (meck["covind"], meck["pop_ucr"], meck["ag_off"], meck["year"]) == (95.5, 695454, 7, 2000)
    assert list(log["rule"][:2]) == ["pseudo_county_999", "pseudo_county_777"]
    assert (log["rows_before"].iloc[0], log["dropped_rows"].iloc[0], log["rows_after"].iloc[-1]) == (4, 1, 3)


def test_record_counts_match_the_documentation():
    for year, n in zip(YEARS, RECORDS):
        assert len(read_crime_file(crime_file(DATA_RAW, year))) == n


def test_known_violent_counts():
    crime, log = clean_crime()
    violent = crime.set_index(["fips", "year"])["violent"]
    assert violent[("37119", 2000)] == 7677 and violent[("37119", 2012)] == 5519  # Mecklenburg NC
    assert violent[("04013", 2000)] == 16996 and violent[("04013", 2012)] == 16447  # Maricopa AZ
    assert log["rows_before"].iloc[0] == sum(RECORDS)
    assert crime["nyc_2001"].sum() == 5 and set(crime.loc[crime["nyc_2001"], "year"]) == {2001}


def test_national_violent_with_and_without_pseudo_counties(no_recodes):
    crime, _ = clean_crime(recodes_path=no_recodes)
    national = crime.groupby("year")["violent"].sum()
    assert national[2000] == 1_358_626 and national[2012] == 1_199_028
    raw = read_crime_file(crime_file(DATA_RAW, 2000))
    assert raw[["MURDER", "RAPE", "ROBBERY", "AGASSLT"]].astype(int).to_numpy().sum() == 1_360_392


def test_recodes_keep_totals_except_boundary_drops(no_recodes):
    plain, _ = clean_crime(recodes_path=no_recodes)
    recoded, log = clean_crime()
    dropped = log.set_index("rule").loc["boundary_change", "dropped_rows"]
    lost = plain.merge(recoded[["fips", "year"]], how="left", indicator=True)
    lost = lost[lost["_merge"] == "left_only"]
    merged_away = {"51515", "51560", "51780"}  # VA independent cities folded into their counties
    assert set(lost["fips"]) - merged_away == {"08001", "08013", "08014", "08059", "08123"}
    broomfield = lost[~lost["fips"].isin(merged_away)]
    assert len(broomfield) == dropped and set(broomfield["year"]) == {2000, 2001}
    assert plain["index"].sum() - broomfield["index"].sum() == recoded["index"].sum()
    bedford = plain[plain["fips"].isin(["51019", "51515"]) & (plain["year"] == 2005)]
    assert recoded.set_index(["fips", "year"]).loc[("51019", 2005), "violent"] == bedford["violent"].sum()


county = st.tuples(st.integers(1, 56), st.integers(1, 775))
counts = st.lists(st.integers(0, 999), min_size=7, max_size=7)


@settings(max_examples=40, deadline=None)
@given(st.dictionaries(county, st.tuples(counts, st.floats(0, 100)), min_size=1, max_size=25))
def test_random_valid_records(records):
    lines = [
        record(4717, 1, 4, i, f"{s:2d}", c, 1000, 1000, 1, 1, f"{cov:8.4f}", 0, 0, *n, 0)
        for i, ((s, c), (n, cov)) in enumerate(records.items(), start=1)
    ]
    with tempfile.TemporaryDirectory() as tmp:
        stage(Path(tmp), 2005, "\n".join(lines) + "\n")
        crime, log = clean_crime(Path(tmp), years=[2005])
    assert not crime.duplicated(["fips", "year"]).any()
    assert (crime["violent"] + crime["property"] == crime["index"]).all()
    assert crime["index"].sum() == sum(sum(n) for n, _ in records.values())
    assert log["rows_before"].iloc[0] == len(records) and log["rows_after"].iloc[-1] == len(crime)
    assert crime["fips"].str.fullmatch(r"\d{5}").all() and crime["covind"].between(0, 100).all()


def test_a_file_of_another_year_is_refused_by_its_own_study_number(tmp_path):
    """The 2001 file (study 3721) put where the 2000 file belongs: its records say STUDYNO 3721."""
    stage(tmp_path, 2000, crime_file(DATA_RAW, 2001).read_text(encoding="latin-1"))
    with pytest.raises(InputError) as err:
        clean_crime(tmp_path, years=[2000])
    assert (err.value.line, err.value.field) == (1, "STUDYNO")
    assert "'3721' (study 3721: the 2001 file), expected '3451': this file is read as the 2000 file" in str(err.value)


def test_every_real_file_carries_its_study_number():
    for year in YEARS:
        path = crime_file(DATA_RAW, year)
        check_study(path, read_crime_file(path), year)  # raises if a record disagrees
