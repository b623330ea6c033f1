"""Corrupted raw inputs: each fault gives an InputError naming file, line and field, and the panel
entry point (``python -m analysis.panel --raw-dir``) then exits non-zero and writes nothing.

Every test corrupts a fresh copy of the real raw files the panel reads (tmp_path/raw); nothing in
the package is patched. The entry point runs from a copy of the package (tmp_path/repo), so its
outputs land in tmp_path/repo/data_clean, never in the tree's own data_clean/.
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from analysis.config import DATA_RAW, ROOT
from analysis.infra.errors import InputError
from analysis.readers.agreements_287g import SOURCE as G287_SOURCE
from analysis.readers.agreements_287g import clean_agreements_287g
from analysis.readers.crime import clean_crime, crime_file
from analysis.readers.population import FILES as CENSUS_FILES
from analysis.readers.population import clean_population

TIER = "unit"  # the default tier of these tests (tests/conftest.py)

YEARS = range(2000, 2013)
# Every raw file build_panel opens (the ICE lists and the CPUMA cross-check are not read).
PANEL_INPUTS = [crime_file(Path("."), y) for y in YEARS] + [
    *CENSUS_FILES,
    Path("census/national_county.txt"),
    G287_SOURCE,
    Path("287g/deportationdata_ice-287g/data/intermediate/historical-oig-2009.csv"),
    Path("287g/wpinvestigative_sheriffs_287g/data/raw_data/287g_curated_2019.xlsx"),
    Path("ucr/jacobkap-crime_data/crosswalk.rds"),
    Path("secure_communities/activation_dates_makayla_revisedforbalance.dta"),
]
OUTPUTS = [
    "county_panel.parquet",
    "agreements_287g.parquet",
    "sc_activation.parquet",
    "sample_log.csv",
    "codebook.csv",
    "sample_state_losses.csv",
]
# 1-based positions of fields in the 97-character crime record (data_raw/ucr/SOURCES.md 3a).
FIPS_ST, FIPS_CTY, ROBBERY = (11, 12), (13, 15), (66, 70)


@pytest.fixture
def raw(tmp_path) -> Path:
    """A writable copy of the raw files the panel reads."""
    for rel in PANEL_INPUTS:
        target = tmp_path / "raw" / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(DATA_RAW / rel, target)
    return tmp_path / "raw"


@pytest.fixture
def repo(tmp_path) -> Path:
    """A copy of the package whose config.ROOT is tmp_path/repo, with a sentinel panel output."""
    repo = tmp_path / "repo"
    shutil.copytree(ROOT / "analysis", repo / "analysis", ignore=shutil.ignore_patterns("__pycache__"))
    (repo / "data_clean").mkdir()
    (repo / "data_clean" / OUTPUTS[0]).write_bytes(b"previous build")
    return repo


def run_panel(repo: Path, raw: Path) -> subprocess.CompletedProcess:
    """``python -m analysis.panel --raw-dir raw`` from the package copy, with a clean PYTHONPATH."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run(
        [sys.executable, "-m", "analysis.panel", "--raw-dir", str(raw)],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def lines_of(path: Path) -> list[str]:
    return path.read_bytes().decode("latin-1").split("\n")


def set_field(line: str, span: tuple[int, int], text: str) -> str:
    """``line`` with the 1-based inclusive span replaced by ``text`` right-aligned in it."""
    first, last = span
    return line[: first - 1] + text.rjust(last - first + 1) + line[last:]


def rewrite(path: Path, lines: list[str]) -> None:
    path.write_bytes("\n".join(lines).encode("latin-1"))


# Each fault corrupts the raw copy and returns (reader, file, line, field, words, text on that line).
def truncated_line(raw):
    path = crime_file(raw, 2005)
    lines = lines_of(path)
    lines[99] = lines[99][:60]  # cut inside MURDER (positions 58-61)
    rewrite(path, lines)
    return clean_crime, path, 100, "MURDER", "60 characters", lines[99]


def non_numeric(raw):
    path = crime_file(raw, 2010)
    lines = lines_of(path)
    lines[199] = set_field(lines[199], ROBBERY, "1x3")
    rewrite(path, lines)
    return clean_crime, path, 200, "ROBBERY", "'1x3' is not a non-negative number", "1x3"


def duplicated_county(raw):
    path = crime_file(raw, 2007)
    lines = lines_of(path)
    n = len([x for x in lines if x])
    rewrite(path, lines[:n] + [lines[9]] + lines[n:])  # line 10 again, as record n + 1
    county = lines[9][10:12].strip().zfill(2) + lines[9][12:15].strip().zfill(3)
    return clean_crime, path, n + 1, "FIPS_CTY", f"county {county} repeats line 10", lines[9]


def unknown_fips(raw):
    path = crime_file(raw, 2003)
    lines = lines_of(path)
    i = next(i for i, x in enumerate(lines) if x[10:12] == "37")  # first North Carolina record
    lines[i] = set_field(lines[i], FIPS_CTY, "998")  # 37998 is not a county
    rewrite(path, lines)
    return clean_crime, path, i + 1, "FIPS_CTY", "county 37998 is not a county", lines[i]


def census_utf16(raw):
    path = raw / "census/co-est00int-tot.csv"
    path.write_text(path.read_bytes().decode("latin-1"), encoding="utf-16")
    return clean_population, path, 1, "SUMLEV", "UTF-16", None


def census_utf8(raw):
    """Re-saved as UTF-8: read as latin-1 it would give 'DoÃ±a Ana County' without complaint."""
    path = raw / "census/co-est00int-tot.csv"
    text = path.read_bytes().decode("latin-1")
    path.write_text(text, encoding="utf-8")
    line = next(i for i, x in enumerate(text.split("\n"), start=1) if "Doña Ana" in x)
    return clean_population, path, line, "CTYNAME", "is UTF-8", "Doña Ana"


def census_c1_byte(raw):
    """A Windows-1252 dash (0x96) inside a population count: not a latin-1 character."""
    path = raw / "census/co-est2019-alldata.csv"
    lines = path.read_bytes().split(b"\n")
    header = lines[0].decode("latin-1").split(",")
    column = header.index("POPESTIMATE2011")
    cells = lines[40].split(b",")
    cells[column] = cells[column][:2] + b"\x96" + cells[column][2:]
    lines[40] = b",".join(cells)
    path.write_bytes(b"\n".join(lines))
    return clean_population, path, 41, "POPESTIMATE2011", "C1 control byte", None


def g287_date(field: str, value: str):
    def corrupt(raw):
        path = raw / G287_SOURCE
        with open(path, newline="", encoding="utf-8") as fh:
            rows = list(csv.reader(fh))
        column = rows[0].index(field)
        i = next(i for i, row in enumerate(rows) if i > 20 and row[column])
        rows[i][column] = value
        with open(path, "w", newline="", encoding="utf-8") as fh:
            csv.writer(fh, lineterminator="\n").writerows(rows)
        return clean_agreements_287g, path, i + 1, field, f"date '{value}' is not", value

    return corrupt


FAULTS = {
    "truncated_line": truncated_line,
    "non_numeric": non_numeric,
    "duplicated_county_year": duplicated_county,
    "unknown_fips": unknown_fips,
    "census_utf16": census_utf16,
    "census_utf8": census_utf8,
    "census_c1_byte": census_c1_byte,
    "g287_signed_after_range": g287_date("first_signed_best", "2031-05-01"),
    "g287_active_before_program": g287_date("active_from", "1999-12-31"),
}


@pytest.mark.parametrize("fault", FAULTS)
def test_reader_names_file_line_and_field(raw, fault):
    reader, path, line, field, words, marker = FAULTS[fault](raw)
    with pytest.raises(InputError) as err:
        reader(raw)
    assert (err.value.file, err.value.line, err.value.field) == (str(path), line, field)
    assert str(err.value).startswith(f"{path}:{line}: field '{field}'") and words in str(err.value)
    if marker is not None:  # the line named is the line corrupted
        text = path.read_bytes().decode("utf-8" if fault == "census_utf8" else "latin-1")
        assert marker in text.split("\n")[line - 1]


@pytest.mark.parametrize("fault", FAULTS)
def test_panel_entry_point_fails_and_writes_nothing(raw, repo, fault):
    _, path, line, field, _, _ = FAULTS[fault](raw)
    before = {p.name: p.read_bytes() for p in (repo / "data_clean").iterdir()}
    done = run_panel(repo, raw)
    assert done.returncode != 0
    assert f"error: {path}:{line}: field '{field}'" in done.stderr
    after = {p.name: p.read_bytes() for p in (repo / "data_clean").iterdir()}
    assert after == before  # no new output, no temporary left, the old output untouched


def test_panel_entry_point_succeeds_on_the_clean_copy(raw, repo):
    """The harness itself: the same copy, uncorrupted, builds all six outputs from --raw-dir."""
    done = run_panel(repo, raw)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (repo / "data_clean").iterdir()) == sorted(OUTPUTS)
    panel = pd.read_parquet(repo / "data_clean" / OUTPUTS[0])
    assert len(panel) > 40_000 and not panel.duplicated(["fips", "year"]).any()
