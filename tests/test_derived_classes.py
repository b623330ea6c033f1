"""Derived columns of the credibility designs (#12 §3): quantile classes of a time-invariant column
(size-class x year fixed effects) and pre-period slopes (baseline crime trends for doubly-robust CS)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import derived

TIER = "unit"  # the default tier of these tests (tests/conftest.py)


def counties(n: int = 9) -> pd.DataFrame:
    """n counties x years 2000-2003; population 100*(i+1), log crime rising by 0.1*i a year."""
    rows = [
        {"fips": f"{i:05d}", "year": y, "population": 100.0 * (i + 1), "lr": 1.0 + 0.1 * i * (y - 2000)}
        for i in range(n)
        for y in range(2000, 2004)
    ]
    return pd.DataFrame(rows)


def test_terciles_are_equal_count_and_ordered():
    defs = {"p0": {"baseline": "population", "year": 2000}, "size3": {"quantile": "p0", "groups": 3}}
    df = derived.add_columns(counties(), ["size3"], defs)
    per = df.groupby("fips")["size3"].agg(["min", "max"])
    assert (per["min"] == per["max"]).all()  # one class per county
    assert per["min"].tolist() == [1, 1, 1, 2, 2, 2, 3, 3, 3]  # the 3 smallest are class 1, the 3 largest 3


def test_quantile_of_a_time_varying_column_is_refused():
    with pytest.raises(ValueError, match="varies within 8 counties"):
        derived.add_columns(counties(), ["q"], {"q": {"quantile": "lr", "groups": 3}})


def test_quantile_leaves_a_missing_baseline_missing():
    df = counties(6)
    df.loc[df["fips"] == "00000", "population"] = np.nan
    out = derived.add_columns(df, ["q"], {"q": {"quantile": "population", "groups": 2}})
    assert out.loc[out["fips"] == "00000", "q"].isna().all()
    assert out.groupby("fips")["q"].first().dropna().value_counts().tolist() in ([3, 2], [2, 3])


def test_slope_recovers_each_county_trend_over_its_years():
    df = counties(4)
    df.loc[df["year"] == 2003, "lr"] += 5.0  # outside the window: ignored
    out = derived.add_columns(df, ["s"], {"s": {"slope": "lr", "years": [2000, 2002]}})
    assert np.allclose(out.groupby("fips")["s"].first().to_numpy(), [0.0, 0.1, 0.2, 0.3])


@pytest.mark.parametrize(
    "entry, words",
    [
        ({"quantile": "x"}, "groups"),
        ({"quantile": "x", "groups": 1}, "groups"),
        ({"slope": "x"}, "slope needs years"),
        ({"slope": "x", "years": [2005, 2005]}, "slope needs years"),
        ({"slope": "x", "year": 2000}, "unknown key"),
    ],
)
def test_bad_class_and_slope_definitions_are_named(entry, words):
    assert any(words in m for _, m in derived.definition_problems("x1", entry))
