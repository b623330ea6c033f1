"""Every path the package uses, relative to the repository root, and the one seed.

No other module builds absolute paths or changes directory: import from here.
"""

from __future__ import annotations

import os
from pathlib import Path

from analysis.infra.errors import StopBuild

ROOT = Path(__file__).resolve().parent.parent

# Raw inputs (gitignored, verified against the committed manifest).
DATA_RAW = ROOT / "data_raw"
MANIFEST = DATA_RAW / "manifest.csv"
RAW_STAMP = DATA_RAW / ".verified"

# Where the acquisition step looks for a local copy before downloading: the folder named by the
# environment variable DATA_MIRROR (if set), then DEFAULT_MIRROR beside the checkout, if it exists.
DEFAULT_MIRROR = ROOT.parent / "shared" / "data_raw"


class ConfigError(ValueError, StopBuild):
    """A setting (environment variable) names something that does not exist."""


def mirror_dirs() -> list[Path]:
    """Mirror folders to copy raw files from, in order of preference. ConfigError if DATA_MIRROR is
    set but is not a folder (a misspelt path must not silently fall back to downloading)."""
    dirs = []
    if os.environ.get("DATA_MIRROR"):
        named = Path(os.environ["DATA_MIRROR"])
        if not named.is_dir():
            raise ConfigError(
                f"DATA_MIRROR={named} is not a folder: correct the path, or unset DATA_MIRROR "
                f"to copy from {DEFAULT_MIRROR} (if present) or download from the pinned URLs"
            )
        dirs.append(named)
    if DEFAULT_MIRROR.is_dir():
        dirs.append(DEFAULT_MIRROR)
    return dirs


# Clean data (gitignored).
DATA_CLEAN = ROOT / "data_clean"
PANEL = DATA_CLEAN / "county_panel.parquet"
AGREEMENTS = DATA_CLEAN / "agreements_287g.parquet"
SC_ACTIVATION = DATA_CLEAN / "sc_activation.parquet"
SAMPLE_LOG = DATA_CLEAN / "sample_log.csv"
CODEBOOK = DATA_CLEAN / "codebook.csv"

# Specifications, robustness grids and published results (hand-written, committed); results (generated).
SPECS = ROOT / "analysis" / "specs"
GRIDS = ROOT / "analysis" / "grids"
PUBLISHED = ROOT / "analysis" / "published.yaml"
RESULTS = ROOT / "results"
# The result folders of a robustness grid analysis/grids/<stem>.yaml: its estimates and its randomization
# inference (the Makefile's results/grid_%/ and results/ri_%/; tests/test_registry.py checks they agree).
GRID_PREFIX, RI_PREFIX = "grid_", "ri_"


def grid_folder(stem: str) -> Path:
    """results/grid_<stem>/: the estimates of grid analysis/grids/<stem>.yaml."""
    return RESULTS / f"{GRID_PREFIX}{stem}"


def ri_folder(stem: str) -> Path:
    """results/ri_<stem>/: the randomization inference of grid analysis/grids/<stem>.yaml."""
    return RESULTS / f"{RI_PREFIX}{stem}"


# Exhibits for the paper (generated) and the paper itself.
PAPER = ROOT / "paper"
GENERATED = PAPER / "generated"
FIGURES = GENERATED / "figures"
TABLES = GENERATED / "tables"
NUMBERS = GENERATED / "numbers.tex"

# Derived columns (hand-written definitions, built when a spec uses them) and their codebook (generated).
DERIVED = ROOT / "analysis" / "derived.yaml"
CODEBOOK_DERIVED = DATA_CLEAN / "codebook_derived.csv"

# The user workspace: a student's own specs (myspecs/*.yaml, gitignored), their results and the
# figures and tables the helpers write. Never read by the paper build.
MINE = ROOT / "myspecs"
MINE_RESULTS = MINE / "results"
MINE_OUTPUT = MINE / "output"

# Make's bookkeeping (generated, gitignored): per-sample and per-derived-column content stamps and
# the dependency list of every spec (analysis.infra.specdeps).
MAKE_STATE = ROOT / ".make"

# Run records.
LOGS = ROOT / "logs"

# Notebooks: jupytext py:percent sources (committed) and their executed copies (generated).
NOTEBOOKS = ROOT / "notebooks"
NOTEBOOK_BUILD = NOTEBOOKS / "_build"

# Analysis window and the one random seed (bootstrap, permutations, simulations).
FIRST_YEAR, LAST_YEAR = 2000, 2012
SEED = 20180212

# Hand-made fixes to the 287(g) agency table (committed, one reason per row).
FIXES_287G = ROOT / "analysis" / "readers" / "agreements_287g_fixes.csv"

# County panel: committed rules as data (FIPS recodes, named samples, codebook) and an extra output.
FIPS_RECODES = ROOT / "analysis" / "readers" / "fips_recodes.csv"
SAMPLES = ROOT / "analysis" / "samples.yaml"
CODEBOOK_SPEC = ROOT / "analysis" / "codebook.yaml"
SAMPLE_STATE_LOSSES = DATA_CLEAN / "sample_state_losses.csv"
# Data sanity checks (analysis/checks.py): every suspicious county-year and the rule that drops it.
SANITY_CHECKS = DATA_CLEAN / "sanity_checks.csv"

# The 2025-2026 287(g) wave: rules and fixes (committed), county timing, agreements, log, codebook (generated).
WAVE_RULES = ROOT / "analysis" / "readers" / "wave_287g_rules.yaml"
WAVE_FIXES = ROOT / "analysis" / "readers" / "wave_287g_fixes.csv"
WAVE_COUNTY_NAMES = ROOT / "analysis" / "readers" / "wave_287g_county_names.csv"
WAVE_CODEBOOK_SPEC = ROOT / "analysis" / "codebook_wave_287g.yaml"
WAVE_TIMING = DATA_CLEAN / "wave_287g_timing.parquet"
WAVE_AGREEMENTS = DATA_CLEAN / "wave_287g_agreements.parquet"
WAVE_LISTS = DATA_CLEAN / "wave_287g_lists.csv"
WAVE_LOG = DATA_CLEAN / "wave_287g_log.csv"
WAVE_CODEBOOK = DATA_CLEAN / "wave_287g_codebook.csv"

# County boundaries for maps (raw, verified like every raw file).
COUNTY_BOUNDARIES = DATA_RAW / "geo" / "us-atlas" / "counties-albers-10m.json"

# Benchmark (generated, gitignored): the report and the separate venv for other DiD packages.
BENCH = ROOT / "bench"
BENCH_REPORT = BENCH / "benchmark.md"
BENCH_VENV = BENCH / "venv"
