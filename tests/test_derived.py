"""Derived columns built when a spec runs: logs, baselines (a year, the first year, a period mean),
products; refused logs of zero; dependencies in any order; the codebook of analysis/derived.yaml."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import derived
from analysis.infra.errors import InputError

TIER = "unit"  # the default tier of these tests (tests/conftest.py)


def tiny() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "fips": ["a"] * 3 + ["b"] * 2,
            "year": [2000, 2001, 2002, 2001, 2002],
            "population": [100.0, 200.0, 400.0, 10.0, 20.0],
            "crimes": [0, 1, 2, 3, 4],
        }
    )


def test_every_kind_on_a_hand_built_panel():
    defs = {
        "lp": {"log": "population"},
        "l1": {"log1p": "crimes"},
        "lp_2000": {"baseline": "lp", "year": 2000},
        "lp_first": {"baseline": "lp", "year": "first"},
        "lp_mean": {"baseline": "lp", "years": [2000, 2001]},
        "inter": {"product": ["lp", "crimes"]},
    }
    df = derived.add_columns(tiny(), list(defs), defs)
    lp = np.log(df["population"])
    assert np.allclose(df["lp"], lp) and np.allclose(df["l1"], np.log1p(df["crimes"]))
    assert df.loc[df["fips"] == "a", "lp_2000"].eq(np.log(100.0)).all()
    assert df.loc[df["fips"] == "b", "lp_2000"].isna().all()  # no 2000 row: missing, not guessed
    assert df.loc[df["fips"] == "b", "lp_first"].eq(np.log(10.0)).all()
    assert df.loc[df["fips"] == "a", "lp_mean"].eq((np.log(100.0) + np.log(200.0)) / 2).all()
    assert np.allclose(df["inter"], lp * df["crimes"])


def test_indicators_match_as_text_and_keep_missing_values():
    panel = tiny().assign(state_fips=["06", "06", "06", "48", None])
    defs = {"ca": {"equals": "state_fips", "value": "06"}, "y01": {"equals": "year", "value": 2001}}
    df = derived.add_columns(panel, list(defs), defs)
    assert df["ca"].tolist()[:4] == [1.0, 1.0, 1.0, 0.0] and np.isnan(df["ca"].iloc[4])
    assert df["y01"].tolist() == [0.0, 1.0, 0.0, 1.0, 0.0]
    assert derived.meaning("ca", defs["ca"]) == "1 if state_fips is 06, else 0"
    with pytest.raises(ValueError, match=r"no row has state_fips equal to 6 .*quote a code with leading zeros"):
        derived.add_columns(panel, ["x"], {"x": {"equals": "state_fips", "value": 6}})  # YAML's reading of 06


def test_only_what_is_asked_and_its_sources_are_built_in_order():
    defs = {"b": {"baseline": "a", "year": 2000}, "a": {"log": "population"}, "c": {"log": "population"}}
    assert derived.order(["b"], defs) == ["a", "b"]
    assert set(derived.add_columns(tiny(), ["b"], defs).columns) == {*tiny().columns, "a", "b"}
    with pytest.raises(ValueError, match="cycle"):
        derived.order(["x"], {"x": {"log": "y"}, "y": {"log": "x"}})


def test_log_of_zero_is_refused_with_a_count():
    with pytest.raises(ValueError, match="log of crimes has 1 values <= 0"):
        derived.add_columns(tiny(), ["l"], {"l": {"log": "crimes"}})


@pytest.mark.parametrize(
    "entry, words",
    [
        ({"log": "x", "baseline": "y"}, "exactly one of"),
        ({"product": ["x"]}, "two or more"),
        ({"baseline": "x", "year": 1990}, "should be 'first' or a year"),
        ({"baseline": "x", "years": [2005, 2001]}, "should be [from, to]"),
        ({"logg": "x"}, "did you mean 'log'?"),
        ({"equals": "state_fips"}, "equals needs value"),
        ({"equals": "state_fips", "value": True}, "equals needs value"),
        ({"equals": "state_fips", "value": "06", "year": 2000}, "unknown key"),
    ],
)
def test_bad_definitions_are_named(entry, words):
    assert any(words in m for _, m in derived.definition_problems("x1", entry))


def test_shared_file_loads_builds_and_has_a_codebook(tmp_path):
    defs, lines = derived.read_derived()
    assert {"log_population", "log_pop_2000"} <= set(defs) and lines["log_population"] > 0
    book = derived.codebook(defs)
    assert list(book.columns) == ["column", "type", "meaning", "source"] and book["meaning"].str.len().min() > 10
    from analysis.estimators.simulate import simulate_panel

    panel = simulate_panel(30, seed=1)
    built = derived.add_columns(
        panel, [n for n in defs if all(s in panel or s in defs for s in derived.sources(defs[n]))], defs
    )
    assert built["log_pop_2000"].notna().all()
    assert (built.groupby("fips")["log_pop_2000"].nunique() == 1).all()
    bad = tmp_path / "d.yaml"
    bad.write_text("x:\n  log: population\n  years: [2000, 2001]\n")
    with pytest.raises(InputError, match=r"d.yaml:1: field 'years'"):
        derived.read_derived(bad)


def test_stamps_ignore_meanings():
    a = {"x": {"log": "population", "meaning": "one"}}
    b = {"x": {"log": "population", "meaning": "two"}}
    assert derived.stamp("x", a) == derived.stamp("x", b) != derived.stamp("x", {"x": {"log1p": "population"}})
