"""Tests of the Census population reader and the FIPS recodes shared with the crime reader."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from analysis.config import DATA_RAW, FIPS_RECODES
from analysis.infra.errors import InputError
from analysis.readers.crime import clean_crime
from analysis.readers.fips_recodes import read_recodes
from analysis.readers.population import clean_population, read_estimates

TIER = "unit"  # the default tier of these tests (tests/conftest.py)

OLD, NEW = DATA_RAW / "census/co-est00int-tot.csv", DATA_RAW / "census/co-est2019-alldata.csv"


def raw_population(path: Path, fips: str, year: int) -> int:
    """A county's estimate read straight from a Census file with the csv module."""
    with open(path, encoding="latin-1", newline="") as fh:
        for row in csv.DictReader(fh):
            if row["STATE"].zfill(2) + row["COUNTY"].zfill(3) == fips and row["SUMLEV"].lstrip("0") == "50":
                return int(row[f"POPESTIMATE{year}"])
    raise KeyError(fips)


@pytest.fixture(scope="module")
def population():
    return clean_population()


def test_one_row_per_county_year_with_state_and_name(population):
    pop, _ = population
    assert not pop.duplicated(["fips", "year"]).any() and pop.notna().all().all()
    assert set(pop["year"]) == set(range(2000, 2013)) and (pop["population"] > 0).all()
    years = pop.groupby("fips")["year"].size()
    assert set(years[years < 13].index) == {"08001", "08013", "08014", "08059", "08123"}  # Broomfield
    county = pop.drop_duplicates("fips").set_index("fips")
    assert county.loc["35013", "county_name"] == "Doña Ana County"
    assert county.loc["37119", ["county_name", "state"]].tolist() == ["Mecklenburg County", "NC"]
    assert not pop.drop_duplicates(["fips", "county_name", "state"])["fips"].duplicated().any()


def test_values_come_from_the_right_file(population):
    pop = population[0].set_index(["fips", "year"])["population"]
    assert pop[("37119", 2005)] == raw_population(OLD, "37119", 2005)
    assert pop[("37119", 2010)] == raw_population(NEW, "37119", 2010)  # Vintage 2019, not co-est00int
    assert pop[("37119", 2010)] != raw_population(OLD, "37119", 2010)


def test_merged_and_renamed_counties(population):
    pop = population[0].set_index(["fips", "year"])["population"]
    assert pop[("51019", 2005)] == raw_population(OLD, "51019", 2005) + raw_population(OLD, "51515", 2005)
    assert pop[("51019", 2012)] == raw_population(NEW, "51019", 2012)  # Bedford city already inside
    assert pop[("02232", 2011)] == raw_population(NEW, "02105", 2011) + raw_population(NEW, "02230", 2011)
    assert pop[("02270", 2011)] == raw_population(NEW, "02158", 2011)  # Kusilvak = Wade Hampton
    assert pop[("46113", 2012)] == raw_population(NEW, "46102", 2012)  # Oglala Lakota = Shannon
    codes = set(population[0]["fips"])
    assert not codes & set(read_recodes().query("action == 'merge'")["old_fips"])


def test_log_starts_from_the_raw_rows(population):
    _, log = population
    lines = {path: sum(1 for _ in open(path, encoding="latin-1")) - 1 for path in (OLD, NEW)}
    assert log["rows_before"].iloc[0] == lines[OLD] * 10 + lines[NEW] * 3
    assert (log["rows_after"] == log["rows_before"] - log["dropped_rows"]).all()
    assert (log["rows_before"].iloc[1:].to_numpy() == log["rows_after"].iloc[:-1].to_numpy()).all()
    assert log["rows_after"].iloc[-1] == len(population[0])


def test_every_crime_county_year_has_a_population_but_yellowstone(population):
    crime, _ = clean_crime()
    merged = crime.merge(population[0], on=["fips", "year"], how="left")
    assert set(merged.loc[merged["population"].isna(), "fips"]) == {"30113"}


def test_bad_census_value_names_line_and_field(tmp_path):
    path = tmp_path / "est.csv"
    path.write_text(
        "SUMLEV,STATE,COUNTY,CTYNAME,POPESTIMATE2000\n50,1,1,A County,100\n50,1,3,B County,1O0\n", encoding="latin-1"
    )
    with pytest.raises(InputError) as err:
        read_estimates(path, range(2000, 2001))
    assert (err.value.line, err.value.field) == (3, "POPESTIMATE2000")
    path.write_text("SUMLEV,STATE,COUNTY,CTYNAME\n50,1,1,A County\n")
    with pytest.raises(InputError, match="field 'POPESTIMATE2000' missing column"):
        read_estimates(path, range(2000, 2001))


def test_recode_table_is_checked(tmp_path):
    header = FIPS_RECODES.read_text().splitlines()[0]
    path = tmp_path / "recodes.csv"
    path.write_text(header + "\nmerge,51515,,2000,2012,x,no successor\n")
    with pytest.raises(InputError) as err:
        read_recodes(path)
    assert (err.value.line, err.value.field) == (2, "new_fips")
    path.write_text(header + "\nmerge,51515,51019,2000,2012,x,ok\ndrop,08014,,2001,2000,,backwards\n")
    with pytest.raises(InputError, match=":3: field 'last_year'"):
        read_recodes(path)
    recodes = read_recodes()
    assert recodes["reason"].str.len().min() > 20 and not recodes.duplicated(["old_fips", "first_year"]).any()
