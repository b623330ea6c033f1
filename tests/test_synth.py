"""Synthetic control (analysis/estimators/synth.py, diff-diff's SyntheticControl) checked against
references before use: scipy's solution of the same weight problem, an exact convex combination of
donors, and a factor-model panel with a known effect. diff-diff ships no copy of the Proposition 99
data (load_prop99 downloads a log-sales version without ADH's predictors), so ADH's numbers are not
reproduced."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import minimize

from analysis.estimators import synth

TIER = "unit"  # the default tier of these tests (tests/conftest.py)

YEARS = np.arange(2000, 2013)


def panel(y: np.ndarray, first: dict[int, int]) -> pd.DataFrame:
    """Long panel of the unit x year matrix ``y`` (units 'u00', 'u01', ...), adoption years ``first``
    by unit index (0: never treated)."""
    n = y.shape[0]
    units = [f"u{i:02d}" for i in range(n)]
    return pd.DataFrame(
        {
            "fips": np.repeat(units, len(YEARS)),
            "year": np.tile(YEARS, n),
            "y": y.ravel(),
            "g": np.repeat([first.get(i, 0) for i in range(n)], len(YEARS)),
        }
    )


def scipy_weights(z1: np.ndarray, z0: np.ndarray) -> np.ndarray:
    """The independent solution: min over w >= 0, sum w = 1 of ||z1 - z0 w||^2 (uniform V on the raw
    pre-period outcomes, the predictors and V the wrapper gives diff-diff), by SLSQP."""
    j, scale = z0.shape[1], float(z1 @ z1)  # the objective scaled to order 1 for SLSQP's tolerance
    res = minimize(
        lambda w: np.sum((z1 - z0 @ w) ** 2) / scale,
        np.full(j, 1 / j),
        jac=lambda w: -2 * z0.T @ (z1 - z0 @ w) / scale,
        bounds=[(0, 1)] * j,
        constraints=[{"type": "eq", "fun": lambda w: w.sum() - 1, "jac": lambda w: np.ones(j)}],
        method="SLSQP",
        options={"ftol": 1e-14, "maxiter": 1000},
    )
    assert res.success
    return res.x


def test_weights_equal_scipys_solution_of_the_same_problem():
    rng = np.random.default_rng(3)
    donors = 100 + rng.normal(0, 10, (8, len(YEARS))).cumsum(axis=1)
    treated = donors.mean(axis=0) + rng.normal(0, 3, len(YEARS))  # off the donors' hull: unique weights
    y = np.vstack([treated, donors])
    fit = synth.fit_county(panel(y, {0: 2008}), "y", "fips", "year", "u00", 2008, [f"u{i:02d}" for i in range(1, 9)])
    pre = YEARS < 2008
    w_ref = scipy_weights(treated[pre], donors[:, pre].T)
    w = fit["weights"].reindex([f"u{i:02d}" for i in range(1, 9)]).fillna(0).to_numpy()
    assert np.abs(w - w_ref).max() < 1e-6
    gap = treated[pre] - donors[:, pre].T @ w_ref
    assert fit["row"]["pre_rmspe"] == pytest.approx(np.sqrt(np.mean(gap**2)), rel=1e-8)
    assert fit["row"]["n_pre"] == 8 and fit["row"]["n_post"] == 5 and fit["row"]["n_donors"] == 8


def test_an_exact_convex_combination_gets_its_weights_and_no_effect():
    rng = np.random.default_rng(5)
    donors = 50 + rng.normal(0, 5, (5, len(YEARS))).cumsum(axis=1)  # 5 donors, 9 pre-years: unique
    true = np.array([0.5, 0.3, 0.2, 0.0, 0.0])
    y = np.vstack([true @ donors, donors])
    fit = synth.fit_county(panel(y, {0: 2009}), "y", "fips", "year", "u00", 2009, [f"u{i:02d}" for i in range(1, 6)])
    w = fit["weights"].reindex([f"u{i:02d}" for i in range(1, 6)]).fillna(0).to_numpy()
    assert np.abs(w - true).max() < 1e-8
    assert abs(fit["row"]["att"]) < 1e-8 and fit["row"]["pre_rmspe"] < 1e-8


def factor_panel(effect: float, n_donors: int = 40, seed: int = 11) -> tuple[pd.DataFrame, np.ndarray]:
    """Donors y = a_i + l_i' F_t + noise; the treated unit's intercept and loadings a convex combination
    of three donors', plus ``effect`` from 2008."""
    rng = np.random.default_rng(seed)
    a, lam = rng.normal(100, 10, n_donors), rng.uniform(0, 2, (n_donors, 2))
    factors = rng.normal(0, 5, (len(YEARS), 2)).cumsum(axis=0)
    mix = np.zeros(n_donors)
    mix[:3] = [0.5, 0.3, 0.2]
    y = np.vstack([mix @ a + factors @ (mix @ lam), (a[:, None] + lam @ factors.T)])
    y = y + rng.normal(0, 0.1, y.shape)
    y[0, YEARS >= 2008] += effect
    return panel(y, {0: 2008}), y


def test_a_known_effect_is_recovered_and_ranks_first():
    df, _ = factor_panel(effect=-8.0)
    fits, left = synth.by_county(df, "y", "fips", "year", "g")
    assert left == [] and len(fits) == 1
    row = fits[0]["row"]
    assert row["att"] == pytest.approx(-8.0, abs=0.5)
    assert row["p_value"] == pytest.approx(1 / 41) and row["n_placebos"] == 40
    null, _ = factor_panel(effect=0.0)
    assert abs(synth.by_county(null, "y", "fips", "year", "g")[0][0]["row"]["att"]) < 0.5
    assert len(fits[0]["placebo_att"]) == 40
    gaps = fits[0]["gaps"]
    assert len(gaps) == 41 * len(YEARS) and gaps["treated"].sum() == len(YEARS)
    own = gaps[gaps["treated"] & (gaps["year"] >= 2008)]
    assert own["gap"].mean() == pytest.approx(row["att"], rel=1e-12)
    placebo = gaps[~gaps["treated"] & (gaps["year"] >= 2008)].groupby("fips")["gap"].mean()
    assert np.allclose(placebo.sort_index(), fits[0]["placebo_att"].sort_index(), rtol=1e-12)
    assert 0 <= row["placebos_exact"] <= 40


def test_counties_with_too_few_pre_years_are_left_out_with_the_reason():
    df, _ = factor_panel(effect=0.0)
    df = df.assign(g=np.where(df["fips"] == "u00", 2002, df["g"]))
    fits, left = synth.by_county(df, "y", "fips", "year", "g")
    assert fits == [] and left == [("u00", 2002, "fewer than 4 years before adoption")]


def test_aggregate_is_the_mean_with_a_placebo_rank_p_value():
    placebos = [np.array([-1.0, 1.0]), np.array([-1.0, 1.0])]
    # draws average two of +-1: |average| is 1 with probability 1/2, 0 otherwise
    big = synth.aggregate(np.array([3.0, 5.0]), placebos, seed=1, draws=999)
    assert big["att"] == 4.0 and big["p_value"] == pytest.approx(1 / 1000)
    small = synth.aggregate(np.array([1.0, -0.5]), placebos, seed=1, draws=999)
    assert 0.4 < small["p_value"] < 0.6
    assert synth.aggregate(np.array([1.0, -0.5]), placebos, seed=1, draws=999) == small  # seeded
    tie = synth.aggregate(np.array([1.0, 1.0]), placebos, seed=1, draws=999)
    assert 0.4 < tie["p_value"] < 0.6  # draws tied with the average count against it


def test_top_donors_names_the_largest_weights():
    w = pd.Series({"b": 0.5, "a": 0.3, "c": 0.2})
    assert synth.top_donors(w, pd.Series({"a": "A County", "b": "B County"}), k=2) == "B County (0.50); A County (0.30)"
