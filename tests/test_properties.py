"""Property tests of the whole panel build on random small raw folders (hypothesis).

Each example writes a complete raw folder for build_panel: 13 crime files with random counties,
years and counts; Census estimates for a random subset of those counties; random 287(g)
agencies (sheriffs and police, signed 2002-2020) next to the real rows that
agreements_287g_fixes.csv names; random Secure Communities dates (or none). The real 2010
county list and OIG list are copied; the crosswalk and the Post's table are tiny stand-ins.
The reader-level properties (test_crime, test_treatment) are not repeated here.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import shutil
import tempfile
from pathlib import Path

import pandas as pd
import pyreadr
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis.config import DATA_RAW, FIRST_YEAR, FIXES_287G, LAST_YEAR
from analysis.panel import build_panel, sample_log_problems
from analysis.readers.agreements_287g import CROSSWALK, OIG, SOURCE, WAPO
from analysis.readers.crime import crime_file
from analysis.readers.places import COUNTIES_FILE
from analysis.readers.population import FILES as CENSUS_FILES

TIER = "data"  # copies the real county list, OIG list and fixed 287(g) rows from data_raw/
YEARS = list(range(FIRST_YEAR, LAST_YEAR + 1))
STATES = {"01": "Alabama", "37": "North Carolina", "48": "Texas"}  # no FIPS recode touches these
WIDTHS = [4, 1, 1, 4, 2, 3, 8, 8, 3, 3, 8, 6, 6, 4, 4, 5, 5, 6, 6, 6, 4]  # ucr/SOURCES.md 3a
SETTINGS = settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _pool() -> list[tuple[str, str]]:
    counties = pd.read_csv(DATA_RAW / COUNTIES_FILE, header=None, dtype=str)
    counties = counties[counties[1].isin(STATES)]
    return sorted(zip(counties[1] + counties[2], counties[3]))[::7][:40]


@functools.cache
def all_states() -> dict[str, str]:
    """State FIPS -> name from the real Census file (read when a test runs: collection needs no data)."""
    est = pd.read_csv(
        DATA_RAW / "census/co-est2019-alldata.csv", dtype=str, encoding="latin-1", usecols=["SUMLEV", "STATE", "STNAME"]
    )
    return dict(est.loc[est["SUMLEV"] == "040", ["STATE", "STNAME"]].itertuples(index=False))


@pytest.fixture(scope="module")
def static(tmp_path_factory) -> Path:
    """The files every example shares: county list, OIG list, the real fixes' agencies, Census
    state rows, a one-row crosswalk and a one-row WaPo table."""
    root = tmp_path_factory.mktemp("static")
    for rel in (COUNTIES_FILE, OIG):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(DATA_RAW / rel, root / rel)
    (root / CROSSWALK).parent.mkdir(parents=True, exist_ok=True)
    pyreadr.write_rds(
        root / CROSSWALK,
        pd.DataFrame(
            {
                "agency_type": ["local police department"],
                "fips_state_code": ["01"],
                "crosswalk_agency_name": ["Nowhere Police Department"],
                "fips_state_county_code": ["01001"],
            }
        ),
    )
    (root / WAPO).parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame({"State": ["Alabama"], "County": ["Nowhere County"], "FIPS": ["1999"], "y2008": ["X"]}).to_excel(
        root / WAPO, index=False
    )
    return root


@functools.cache
def fix_rows() -> tuple[list[str], list[list[str]]]:
    """Header and rows of the real 287(g) file that agreements_287g_fixes.csv refers to."""
    fixes = pd.read_csv(FIXES_287G, dtype=str, keep_default_na=False)
    named = set(zip(fixes["state"], fixes["agency"]))
    named |= set(zip(fixes.loc[fixes["field"] == "same_as", "state"], fixes.loc[fixes["field"] == "same_as", "value"]))
    with open(DATA_RAW / SOURCE, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    state, agency = rows[0].index("state"), rows[0].index("agency")
    return rows[0], [r for r in rows[1:] if (r[state].strip("* ").upper(), r[agency]) in named]


def fix_fips() -> set[str]:
    header, rows = fix_rows()
    return {f"{int(c):05d}" for r in rows for c in r[header.index("county_fips")].split("; ") if c}


def record(study: int, fips: str, counts: list[int], covind: float) -> str:
    values = [
        study if study < 10000 else 9999,
        1,
        4,
        1,
        int(fips[:2]),
        int(fips[2:]),
        1000,
        1000,
        1,
        1,
        f"{covind:.4f}",
        0,
        0,
        *counts,
        0,
    ]
    return "".join(str(v).rjust(w) for v, w in zip(values, WIDTHS))


county_draw = st.fixed_dictionaries(
    {
        "years": st.sets(st.sampled_from(YEARS), min_size=1),
        "counts": st.lists(st.integers(0, 5000), min_size=7, max_size=7),
        "covind": st.sampled_from([0.0, 45.5, 89.9, 90.0, 100.0]),
        "census": st.booleans() | st.just(True),  # a county without Census rows is dropped (logged)
        "population": st.integers(1, 2_000_000),
        "agencies": st.lists(
            st.tuples(st.sampled_from(["sheriff", "police"]), st.dates(dt.date(2002, 1, 1), dt.date(2020, 12, 31))),
            max_size=2,
        ),
        # activations ran Oct 2008 - Jan 2013; a date after June 2013 would give sc_year_midyear 2014
        "sc": st.none()
        | st.tuples(st.integers(2008, 2012), st.integers(1, 12))
        | st.tuples(st.just(2013), st.integers(1, 6)),
    }
)
# (fips, name) of real counties in the three states, drawn from once a test runs (deferred).
raw_draw = st.deferred(lambda: st.dictionaries(st.sampled_from(_pool()), county_draw, min_size=1, max_size=8))


def write_raw(root: Path, static: Path, draw: dict) -> dict:
    """Write a raw folder for ``draw`` under ``root``; return the crime record count."""
    shutil.copytree(static, root, dirs_exist_ok=True)
    for year in YEARS:
        path = crime_file(root, year)
        path.parent.mkdir(parents=True, exist_ok=True)
        study = int(path.name[:5])
        lines = [record(study, f, c["counts"], c["covind"]) for (f, _), c in draw.items() if year in c["years"]]
        lines.append(record(study, "01999", [1] * 7, 100.0))  # a pseudo-county: dropped, logged
        path.write_text("\n".join(lines) + "\n", encoding="latin-1")
    for rel, years in CENSUS_FILES.items():
        rows = [["040", fips, "000", name, name, *["1000000"] * len(years)] for fips, name in all_states().items()]
        rows += [
            ["050", f[:2], f[2:], STATES[f[:2]], name, *[str(c["population"])] * len(years)]
            for (f, name), c in draw.items()
            if c["census"]
        ]
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        with open(root / rel, "w", newline="", encoding="latin-1") as fh:
            writer = csv.writer(fh, lineterminator="\n")
            writer.writerow(["SUMLEV", "STATE", "COUNTY", "STNAME", "CTYNAME", *(f"POPESTIMATE{y}" for y in years)])
            writer.writerows(rows)
    header, fixed = fix_rows()
    agencies = [dict(zip(header, r)) for r in fixed]
    for (fips, name), c in draw.items():
        for kind, date in c["agencies"]:
            town = name.removesuffix(" County")  # 'X County Police' would be a county agency
            agency = f"{name} Sheriff's Office" if kind == "sheriff" else f"{town} Police Department"
            agencies.append(
                {
                    "state": STATES[fips[:2]].upper(),
                    "agency": agency,
                    "county_fips": fips,
                    "first_signed_best": date.isoformat(),
                    "first_signed_source": "test",
                    "models": "Jail Enforcement",
                    "terminated": "FALSE",
                    "confidence": "high",
                    "n_sources": "1",
                }
            )
    with open(root / SOURCE, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, header, lineterminator="\n")
        writer.writeheader()
        writer.writerows(agencies)
    sc = pd.DataFrame(
        [
            {
                "countyfips": int(f),
                "state": STATES[f[:2]],
                "activation_month": float(c["sc"][1]) if c["sc"] else float("nan"),
                "activation_year": float(c["sc"][0]) if c["sc"] else float("nan"),
            }
            for (f, _), c in draw.items()
        ]
    )
    sc_path = root / "secure_communities/activation_dates_makayla_revisedforbalance.dta"
    sc_path.parent.mkdir(parents=True, exist_ok=True)
    sc.astype({"countyfips": "int32"}).to_stata(sc_path, write_index=False)
    return sum(len(c["years"]) for c in draw.values()) + len(YEARS)  # + one pseudo-county a year


def expected_first_year(draw: dict, fips: str, kinds: set[str]) -> int:
    """The oracle for g287_county (kinds {'sheriff'}) and g287_any (both): first signing year
    up to 2017 among the county's drawn agencies, 0 if none."""
    years = [d.year for k, d in draw[fips]["agencies"] if k in kinds and d <= dt.date(2017, 12, 31)]
    return min(years, default=0)


@SETTINGS
@given(raw_draw)
def test_random_raw_folder_builds_a_valid_panel(static, draw):
    draw_by_fips = {f: c for (f, _), c in draw.items()}
    assert not set(draw_by_fips) & fix_fips()
    with tempfile.TemporaryDirectory() as tmp:
        n_records = write_raw(Path(tmp), static, draw)
        panel, _, _, log, _ = build_panel(Path(tmp))

    # one row per county-year: exactly the crime county-years that have a Census population
    expected = {(f, y) for f, c in draw_by_fips.items() if c["census"] for y in c["years"]}
    assert not panel.duplicated(["fips", "year"]).any()
    assert set(zip(panel["fips"], panel["year"])) == expected and len(panel) == len(expected)

    # treatment years: within the data window's definitions, and the ones drawn
    by_county = panel.drop_duplicates("fips").set_index("fips")
    for column in ["g287_county", "g287_any"]:
        assert (by_county[column].eq(0) | by_county[column].between(2002, 2017)).all()
    sc_years = by_county["sc_year"].dropna()
    assert sc_years.between(2008, 2013).all()
    for fips, row in by_county.iterrows():
        c = draw_by_fips[fips]
        assert row["g287_county"] == expected_first_year(draw_by_fips, fips, {"sheriff"})
        assert row["g287_any"] == expected_first_year(draw_by_fips, fips, {"sheriff", "police"})
        assert (pd.isna(row["sc_year"]) and c["sc"] is None) or row["sc_year"] == c["sc"][0]
        assert row["sc_dated"] == (c["sc"] is not None)

    # the sample log reconciles: each step, each stage's chain, the ends, the raw record count
    assert sample_log_problems(log, panel) == []
    assert log.groupby("stage").first().loc["crime", "rows_before"] == n_records
    main = panel[panel["in_main"]]
    assert (main.groupby("fips")["year"].size() == len(YEARS)).all() and (main["covind"] >= 90).all()
