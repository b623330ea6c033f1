"""Synthetic DiD (analysis/estimators/sdid.py) checked before use: diff-diff ships no copy of the
Proposition 99 data (load_prop99 downloads it), so the checks are an identity and a simulation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.estimators import sdid

TIER = "unit"  # the default tier of these tests (tests/conftest.py)


def factor_panel(n: int = 120, n_treated: int = 20, effect: float = -0.1, seed: int = 7) -> pd.DataFrame:
    """A balanced panel 2000-2012 with an interactive fixed effect on which the treated counties load
    more (so DiD is biased), block adoption in 2008 (g 0 for controls) and a known effect."""
    rng = np.random.default_rng(seed)
    years = np.arange(2000, 2013)
    treated = np.arange(n) < n_treated
    loading = rng.normal(size=n) + 0.8 * treated
    factor = np.cumsum(rng.normal(0, 0.1, len(years)))
    y = rng.normal(size=n)[:, None] + np.outer(loading, factor) + rng.normal(0, 0.05, (n, len(years)))
    y += effect * (treated[:, None] & (years >= 2008)[None, :])
    return pd.DataFrame(
        {
            "fips": np.repeat(np.arange(n), len(years)),
            "year": np.tile(years, n),
            "y": y.ravel(),
            "g": np.repeat(np.where(treated, 2008, 0), len(years)),
        }
    )


def test_sdid_with_uniform_weights_is_the_2x2_did():
    data = sdid.block(factor_panel(), "fips", "year", "g", 2008, 2012)
    uniform = sdid.fit_block(data, "y", "fips", "year", 2008, 2012, seed=1, zeta_omega=1e9, zeta_lambda=1e9)
    assert uniform["estimate"] == pytest.approx(sdid.did_2x2(data, "y", "fips", "year", 2008), abs=1e-8)


def test_sdid_recovers_a_known_effect_where_did_does_not():
    data = sdid.block(factor_panel(), "fips", "year", "g", 2008, 2012)
    fit = sdid.fit_block(data, "y", "fips", "year", 2008, 2012, seed=1)
    assert fit["estimate"] == pytest.approx(-0.1, abs=0.02) and fit["ci_low"] < -0.1 < fit["ci_high"]
    assert abs(sdid.did_2x2(data, "y", "fips", "year", 2008) + 0.1) > 0.1  # the check can fail


def test_cohort_blocks_and_aggregate():
    a, b = factor_panel(seed=1), factor_panel(seed=2, n_treated=10)
    b = b.assign(fips=b["fips"] + 1000, g=np.where(b["g"] > 0, 2010, 0))
    # the last cohort (2012) and no never-treated county: it is the control group, window ends 2011
    panel = pd.concat([a[a["g"] > 0], b[b["g"] > 0], a[a["g"] == 0].assign(g=2012)], ignore_index=True)
    assert sdid.window_end(panel, "fips", "year", "g") == 2011
    blk = sdid.block(panel, "fips", "year", "g", 2010, 2011)
    assert set(blk.loc[blk["_treated"] == 0, "g"]) == {2012} and set(blk.loc[blk["_treated"] == 1, "g"]) == {2010}
    assert blk["year"].max() == 2011
    rows = sdid.by_cohort(panel, "y", "fips", "year", "g", seed=1)
    assert list(rows["cohort"]) == [2008, 2010] and list(rows["n_post"]) == [4, 2]
    agg = sdid.aggregate(rows)
    w = np.array([20 * 4, 10 * 2]) / 100
    assert agg["estimate"] == pytest.approx((w * rows["estimate"]).sum())
    assert agg["se"] == pytest.approx((w * rows["se"]).sum()) and agg["left_out"] == []
    one = pd.concat(
        [rows, pd.DataFrame([{"cohort": 2009, "estimate": 5.0, "se": np.nan, "n_treated": 1, "n_post": 3}])],
        ignore_index=True,
    )
    assert sdid.aggregate(one)["estimate"] == pytest.approx(agg["estimate"]) and sdid.aggregate(one)["left_out"] == [
        2009
    ]
