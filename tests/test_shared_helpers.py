"""The helpers shared instead of copied: result folder names (config and the Makefile agree), the one
minus-sign rule of macros and tables, the treatment indicator D_it and the population weights."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from analysis import config, ri, sample
from analysis.estimators import twfe
from analysis.exhibits.latex import fmt_number
from analysis.exhibits.numbers import fmt_num
from analysis.infra import specdeps
from analysis.infra.errors import InputError
from analysis.model import population_weights, treated_indicator

TIER = "unit"  # the default tier of these tests (tests/conftest.py)


def test_makefile_result_folders_are_the_config_ones():
    make = (config.ROOT / "Makefile").read_text(encoding="utf-8")
    grid = config.grid_folder("%").relative_to(config.ROOT).as_posix()
    rif = config.ri_folder("%").relative_to(config.ROOT).as_posix()
    assert re.search(rf"^GRID_RESULTS := .*,{re.escape(grid)}/estimates\.csv,", make, re.M)
    assert re.search(rf"^RI_RESULTS := .*,{re.escape(rif)}/ri\.csv,", make, re.M)
    assert re.search(rf"^{re.escape(grid)}/estimates\.csv:", make, re.M)
    assert re.search(rf"^{re.escape(rif)}/ri\.csv {re.escape(rif)}/permutations\.csv &:", make, re.M)
    _, targets = specdeps.rules()  # the grids' targets of .make/specs.mk
    for path in config.GRIDS.glob("*.yaml"):
        assert {f"{grid.replace('%', path.stem)}/estimates.csv", f"{rif.replace('%', path.stem)}/ri.csv"} <= set(
            targets
        )


@pytest.mark.parametrize(
    "x, digits, text",
    [(-0.0004, 3, "0.000"), (-0.0, 1, "0.0"), (-0.05, 1, "$-$0.1"), (-1234.5, 1, "$-$1234.5"), (0.25, 2, "0.25")],
)
def test_one_minus_rule_for_macros_and_tables(x, digits, text):
    assert fmt_num(x, digits) == text
    assert fmt_number(x, digits) == text.replace("1234", "1{,}234")


def test_one_treatment_indicator():
    g = np.array([0, 2003, 2005, np.nan])
    years = np.array([2002, 2003, 2004, 2005])
    expected = np.array([[0, 0, 0, 0], [0, 1, 1, 1], [0, 0, 0, 1], [0, 0, 0, 0]], float)
    assert (ri.treatment(g, years) == expected).all()
    frame = pd.DataFrame({"g": np.repeat(g, 4), "year": np.tile(years, 4)})
    assert (twfe.treated(frame, "year", "g").to_numpy() == expected.ravel()).all()
    assert (treated_indicator(frame["g"], frame["year"]).to_numpy() == expected.ravel()).all()


def test_population_weights_are_first_period_population():
    df = pd.DataFrame(
        {"fips": ["a", "a", "b", "b"], "year": [2001, 2000, 2000, 2001], "population": [20.0, 10.0, 5.0, 7.0]}
    )
    assert df.assign(w=population_weights(df))["w"].tolist() == [10.0, 10.0, 5.0, 5.0]  # aligned on the index


def test_one_panel_reader_with_one_message(tmp_path, monkeypatch):
    """Every step reads the panel through sample.read_panel: a missing panel stops it by name with the
    step that builds it; no step module reads the parquet itself."""
    monkeypatch.setattr(sample, "PANEL", tmp_path / "county_panel.parquet")
    with pytest.raises(InputError, match=r"county_panel\.parquet: the county panel is not built yet \(make panel\)"):
        sample.read_panel()
    pd.DataFrame({"fips": ["01001"], "year": [2000]}).to_parquet(tmp_path / "county_panel.parquet")
    assert list(sample.read_panel(columns=["year"]).columns) == ["year"]
    direct = [
        path.name
        for path in sorted((config.ROOT / "analysis").glob("*.py"))
        if path.name != "sample.py" and re.search(r"read_parquet\((config\.)?PANEL\b", path.read_text())
    ]
    assert direct == []


def test_yaml_reads_are_parsed_once_and_never_share_the_document(tmp_path):
    """read_yaml parses a text once; each caller gets its own copy of the document (changing it leaves the
    next read alone) and the shared node tree still gives line numbers; bad YAML stops with its line."""
    from analysis.infra.yamlfile import read_yaml

    path = tmp_path / "x.yaml"
    path.write_text("a:\n  b: [1, 2]\nc: 3\n")
    first, root = read_yaml(path, dict, "a mapping")
    first["a"]["b"].append(99)
    again, root_again = read_yaml(path, dict, "a mapping")
    assert again == {"a": {"b": [1, 2]}, "c": 3} and root_again is root
    assert [k.start_mark.line + 1 for k, _ in root.value] == [1, 3]
    path.write_text("a: [1\n")
    with pytest.raises(InputError, match="not valid YAML"):
        read_yaml(path, dict, "a mapping")
    path.write_text("- 1\n")
    with pytest.raises(InputError, match="expected a mapping") as err:
        read_yaml(path, dict, "a mapping")
    assert err.value.line == 1
