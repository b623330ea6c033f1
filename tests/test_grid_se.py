"""The robustness tables say what their standard errors are, from the grid files, and the grids use
the main tables' kind (issue #12 §5: robustness-table SEs are the same kind as the main table's)."""

import pytest

from analysis import config
from analysis.credibility import HEADLINE
from analysis.exhibits.robustness import se_note
from analysis.grid import read_grid
from analysis.spec import load_spec

TIER = "unit"  # the default tier of these tests (tests/conftest.py)


def test_note_follows_the_grid_bases():
    main = {"287g": {"bootstrap": 999}, "sc": {"bootstrap": 999}}
    boot = se_note({"287g": {"bootstrap": 999}, "sc": {"bootstrap": 999}}, main)
    assert "multiplier bootstrap over countys" not in boot and "999 draws, as in the main tables" in boot
    analytic = se_note({"287g": {"bootstrap": 0}, "sc": {"bootstrap": 0}}, main)
    assert analytic.startswith("analytic") and "not the main tables' bootstrap" in analytic
    with pytest.raises(ValueError, match="different standard errors"):
        se_note({"287g": {"bootstrap": 0}, "sc": {"bootstrap": 999}}, main)


def test_grids_use_the_main_tables_standard_errors():
    for program, spec in HEADLINE.items():
        base = read_grid(config.GRIDS / f"{program}.yaml")["base"]
        main = load_spec(config.SPECS / f"{spec}.yaml")
        assert (base.get("bootstrap", 0), base.get("cluster", "county")) == (
            main.get("bootstrap", 0),
            main.get("cluster", "county"),
        )
