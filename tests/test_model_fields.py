"""Controls, baseline controls and fixed effects in every estimator: checked against pyfixest (and
diff-diff) called directly, the fixest small-sample convention with non-nested fixed effects,
singletons, refusals, and recovery of known effects."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pyfixest as pf
import pytest

from analysis.estimators import cs, imputation, ppml, sunab, twfe, wild
from analysis.estimators.simulate import simulate_panel
from analysis.model import add_fe_columns, baseline_by_year, dof_k, drop_singletons, fixest_fe, nested

TIER = "unit"  # the default tier of these tests (tests/conftest.py)

Y, UNIT, T, G = "log_rate_violent", "fips", "year", "g287_county"


@pytest.fixture(scope="module")
def panel():
    """Simulated panel with a time-varying control x, a baseline control x0, a weight w and a
    state-by-year fixed-effect column."""
    df = simulate_panel(240, seed=21)
    rng = np.random.default_rng(0)
    df = df.assign(
        x=rng.normal(size=len(df)),
        w=df.groupby(UNIT)["population"].transform("first"),
        x0=df[UNIT].map(dict(zip(df[UNIT].unique(), rng.normal(size=df[UNIT].nunique())))),
    )
    df, _ = add_fe_columns(df, ["county", "state^year"])
    df, by_year = baseline_by_year(df, ["x0"])
    return df.assign(d=twfe.treated(df, T, G)), by_year


def test_fe_columns_and_fixest_notation(panel):
    df, by_year = panel
    assert (df["_fe_state_x_year"] == df["state_fips"] + "|" + df["year"].astype(str)).all()
    assert fixest_fe(["county", "state^year"]) == "fips + state_fips^year"
    assert by_year == [f"_x0_x_{y}" for y in range(2001, 2013)]
    assert (df["_x0_x_2005"] == df["x0"] * (df["year"] == 2005)).all()


@pytest.mark.parametrize(
    "fe, formula", [(None, "fips + year"), (["fips", "_fe_state_x_year"], "fips + state_fips^year")]
)
@pytest.mark.parametrize("cluster", ["fips", "state_fips"])
@pytest.mark.parametrize("weights", [None, "w"])
def test_twfe_equals_pyfixest_with_controls_and_fixed_effects(panel, fe, formula, cluster, weights):
    df, by_year = panel
    ours = twfe.static(df, Y, UNIT, T, G, cluster=cluster, weights=weights, controls=["x", *by_year], fe=fe).summary
    fx = pf.feols(f"{Y} ~ d + x + i(year, x0, ref=2000) | {formula}", data=df, vcov={"CRV1": cluster}, weights=weights)
    assert ours["estimate"] == pytest.approx(fx.coef()["d"], abs=1e-10)
    assert ours["se"] == pytest.approx(fx.se()["d"], rel=1e-8)
    assert ours["n_obs"] == fx._N


def test_event_study_with_state_by_year_effects_equals_pyfixest(panel):
    df, _ = panel
    fit = twfe.event_study(df, Y, UNIT, T, G, window=(-3, 2), controls=["x"], fe=["fips", "_fe_state_x_year"])
    rel = (df[T] - df[G]).clip(-3, 2).where(df[G] > 0, -1)  # as twfe.event_dummies: later cohorts have leads
    fx = pf.feols(f"{Y} ~ i(rel, ref=-1) + x | fips + state_fips^year", data=df.assign(rel=rel), vcov={"CRV1": UNIT})
    names = [c for c in fx.coef().index if c.startswith("C(rel)") or c.startswith("rel")]
    np.testing.assert_allclose(fit.event["estimate"], fx.coef()[names], atol=1e-10)
    np.testing.assert_allclose(fit.event["se"], fx.se()[names], rtol=1e-8)


def test_state_year_effects_with_county_clusters_are_counted(panel):
    """State x year effects are not nested in county clusters: fixest counts them in K, and the old
    convention (no effect counted) would understate the SE."""
    df, _ = panel
    codes = pd.Series(pd.factorize(df[UNIT])[0])
    fe = df[["fips", "_fe_state_x_year"]].reset_index(drop=True)
    assert nested(fe["fips"], codes) and not nested(fe["_fe_state_x_year"], codes)
    assert dof_k(1, fe, codes) == 1 + df["_fe_state_x_year"].nunique()
    state = pd.Series(pd.factorize(df["state_fips"])[0])
    assert dof_k(1, fe, state) == 2  # both nested in state clusters: fixest adds one per nested effect, minus one
    assert dof_k(1, df[["fips", "year"]].reset_index(drop=True), codes) == 1 + df[T].nunique()


def test_singletons_are_dropped_and_listed_as_fixest_does():
    df = simulate_panel(60, seed=3)
    lone = df[UNIT].iloc[0]
    df = df.assign(state_fips=np.where(df[UNIT] == lone, "99", df["state_fips"]))  # a one-county state
    df, fe = add_fe_columns(df, ["county", "state^year"])
    fit = twfe.static(df, Y, UNIT, T, G, fe=fe)
    fx = pf.feols(f"{Y} ~ d | fips + state_fips^year", data=df.assign(d=twfe.treated(df, T, G)), vcov={"CRV1": UNIT})
    kept, n = drop_singletons(df, fe)
    assert n >= 13 and lone not in set(kept[UNIT])  # the one-county state (and any other) in every year
    assert fit.summary["n_obs"] == fx._N == len(df) - n
    assert fit.summary["se"] == pytest.approx(fx.se()["d"], rel=1e-8)
    row = fit.dropped[fit.dropped["reason"].str.startswith("singleton")]
    assert row["rows"].tolist() == [n]


def test_imputation_with_any_fixed_effects_equals_diff_diff_with_county_and_year(panel):
    """The did2s path (any fixed effects) reproduces diff-diff's BJS estimator and its variance."""
    df, by_year = panel
    for controls in ([], ["x"]):
        dd = imputation.imputation(df, Y, UNIT, T, G, controls=controls, window=(-5, 4))
        fx = imputation._did2s(df, Y, UNIT, T, G, None, UNIT, 0.05, controls, ["fips", "year"], (-5, 4))
        assert fx.summary["estimate"] == pytest.approx(dd.summary["estimate"], abs=1e-6)
        assert fx.summary["se"] == pytest.approx(dd.summary["se"], rel=1e-6)
        both = dd.event.merge(fx.event, on="event_time")
        assert len(both) == len(dd.event) == 5
        np.testing.assert_allclose(both["estimate_x"], both["estimate_y"], atol=1e-6)
        np.testing.assert_allclose(both["se_x"], both["se_y"], rtol=1e-6)


def _state_shock_panel(effect=-0.1, seed=8):
    """Counties adopt with their state (staggered by state), and state-year shocks hit adopting states
    before they adopt: county and year effects are biased, state x year effects are not."""
    df = simulate_panel(600, seed=seed, effect=lambda g, e: np.where(e >= 0, effect, 0.0))
    rng = np.random.default_rng(seed)
    states = sorted(df["state"].unique())
    state_g = dict(zip(states, rng.choice([2004, 2006, 2008, 2010, 0], len(states))))
    within = rng.random(df[UNIT].nunique()) < 0.6  # some counties of a state never adopt
    adopt = dict(zip(df[UNIT].unique(), within))
    g = df["state"].map(state_g) * df[UNIT].map(adopt)
    shock = {
        (s, y): rng.normal(0, 0.1) + (0.3 if state_g[s] and y >= state_g[s] - 2 else 0.0)
        for s in states
        for y in range(2000, 2013)
    }
    y = (
        np.log(df["rate_violent"])
        + effect * ((g > 0) & (df[T] >= g))
        - df["true_effect"]
        + pd.Series([shock[k] for k in zip(df["state"], df[T])], index=df.index)
    )
    df = df.assign(g=g.astype(int), y=y)
    df, fe = add_fe_columns(df, ["county", "state^year"])
    return df, fe


def test_state_by_year_effects_recover_the_effect_where_year_effects_do_not():
    df, fe = _state_shock_panel()
    naive = twfe.static(df, "y", UNIT, T, "g").summary["estimate"]
    fixed = twfe.static(df, "y", UNIT, T, "g", fe=fe).summary
    imp = imputation.imputation(df, "y", UNIT, T, "g", fe=fe).summary
    assert abs(naive - (-0.1)) > 0.05
    assert fixed["estimate"] == pytest.approx(-0.1, abs=3 * fixed["se"])
    assert imp["estimate"] == pytest.approx(-0.1, abs=3 * imp["se"])


def test_imputation_drops_treated_rows_whose_state_year_has_no_untreated_county():
    """Every county of one state adopts in 2008: its state-years from 2008 on have no untreated county,
    so the untreated outcome of those county-years cannot be imputed; they are dropped and counted."""
    df, fe = _state_shock_panel()
    state = df["state"].value_counts().index[0]
    df = df.assign(g=np.where(df["state"] == state, 2008, df["g"]))
    fit = imputation.imputation(df, "y", UNIT, T, "g", fe=fe)
    reason = fit.dropped["reason"].str.contains("cannot be imputed")
    expected = int(((df["state"] == state) & (df[T] >= 2008)).sum())
    assert expected > 0 and fit.dropped.loc[reason, "rows"].sum() == expected
    assert fit.summary["estimate"] == pytest.approx(-0.1, abs=3 * fit.summary["se"])


def test_imputation_components():
    units, part_of_level = imputation.components(pd.Series(["a", "a", "b", "c"]), pd.Series([1, 2, 2, 3]))
    assert units["a"] == units["b"] != units["c"]
    assert part_of_level[1] == part_of_level[2] == units["a"] and part_of_level[3] == units["c"]


def test_ppml_and_wild_take_controls_and_fixed_effects_like_pyfixest(panel):
    df, by_year = panel
    fe, controls = ["fips", "_fe_state_x_year"], ["x", *by_year]
    ours = ppml.ppml(df, "violent", UNIT, T, G, controls=controls, fe=fe).summary
    data = df.assign(lp=np.log(df["population"]))
    fx = pf.fepois(
        "violent ~ d + x + i(year, x0, ref=2000) | fips + state_fips^year", data=data, vcov={"CRV1": UNIT}, offset="lp"
    )
    assert ours["estimate"] == pytest.approx(fx.coef()["d"], abs=1e-8)
    assert ours["se"] == pytest.approx(fx.se()["d"], rel=1e-6)
    boot = wild.wild(df, Y, UNIT, T, G, cluster="state_fips", controls=controls, fe=fe, reps=199).summary
    fx = pf.feols(f"{Y} ~ d + x + i(year, x0, ref=2000) | fips + state_fips^year", data=df, vcov={"CRV1": "state_fips"})
    assert boot["estimate"] == pytest.approx(fx.coef()["d"], abs=1e-10)
    assert boot["se"] == pytest.approx(fx.se()["d"], rel=1e-8)


def test_sunab_takes_controls_and_the_window_and_refuses_other_fixed_effects(panel):
    df, _ = panel
    full = sunab.sunab(df, Y, UNIT, T, G)
    windowed = sunab.sunab(df, Y, UNIT, T, G, window=(-3, 2))
    assert windowed.event["event_time"].tolist() == [e for e in full.event["event_time"] if -3 <= e <= 2]
    assert list(windowed.vcov.index) == windowed.event["event_time"].tolist()
    assert windowed.summary["estimate"] == full.summary["estimate"]
    controlled = sunab.sunab(df, Y, UNIT, T, G, controls=["x"])
    assert controlled.summary["estimate"] != pytest.approx(full.summary["estimate"], abs=1e-9)
    with pytest.raises(ValueError, match="sunab"):
        sunab.sunab(df, Y, UNIT, T, G, fe=["fips", "_fe_state_x_year"])


def test_cs_baseline_covariate_removes_bias_from_covariate_specific_trends():
    """Trends differ by a baseline covariate that also drives adoption: unconditional parallel trends
    fail, parallel trends given the covariate hold; dr and reg with the covariate recover the effect."""
    df = simulate_panel(800, seed=12, effect=lambda g, e: np.where(e >= 0, -0.1, 0.0))
    rng = np.random.default_rng(5)
    units = df[UNIT].unique()
    x0 = pd.Series(rng.normal(size=len(units)), index=units)
    g = df.groupby(UNIT)[G].first()
    g = g.where(~((g > 0) & (x0 < -0.3)), 0)  # counties with low x0 rarely adopt
    y = np.log(df["rate_violent"]) - df["true_effect"] + 0.04 * df[UNIT].map(x0) * (df[T] - 2000)
    df = df.assign(x0=df[UNIT].map(x0), g=df[UNIT].map(g), y=y)
    df = df.assign(y=df["y"] - 0.1 * ((df["g"] > 0) & (df[T] >= df["g"]) & (df["g"] <= 2012)))
    plain = cs.aggregate(cs.att_gt(df, "y", T, UNIT, "g"), "simple")
    assert abs(plain.overall_att - (-0.1)) > 4 * plain.overall_se
    for method in ("dr", "reg"):
        agg = cs.aggregate(cs.att_gt(df, "y", T, UNIT, "g", covariates=["x0"], est_method=method), "simple")
        assert agg.overall_att == pytest.approx(-0.1, abs=3 * agg.overall_se)


def test_cs_refuses_time_varying_covariates(panel):
    df, _ = panel
    with pytest.raises(ValueError, match="vary within units"):
        cs.att_gt(df, Y, T, UNIT, G, covariates=["x"])


def test_run_spec_passes_the_model_to_every_estimator(panel):
    """One spec with controls, baseline controls and state x year effects: the package's twfe equals
    pyfixest on data prepared independently."""
    from analysis import estimate
    from analysis.spec import DEFAULTS

    df, _ = panel
    spec = {
        **DEFAULTS,
        "name": "t",
        "label": "t",
        "path": "t.yaml",
        "lines": {},
        "description": "t",
        "program": "287g",
        "sample": "main",
        "outcome": "violent",
        "transform": "log_rate",
        "treatment": G,
        "control_group": "never_treated",
        "estimators": ["twfe", "ppml"][:1],
        "controls": ["x"],
        "baseline_controls": ["x0"],
        "fixed_effects": ["county", "state^year"],
    }
    base = df.drop(columns=[c for c in df if c.startswith("_")])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = estimate.run_spec(spec, base)
    fx = pf.feols(f"{Y} ~ d + x + i(year, x0, ref=2000) | fips + state_fips^year", data=df, vcov={"CRV1": UNIT})
    row = out["overall"].set_index("estimator").loc["twfe"]
    assert row["estimate"] == pytest.approx(fx.coef()["d"], abs=1e-10)
    assert row["se"] == pytest.approx(fx.se()["d"], rel=1e-8)
    assert "i(year, x0)" in out["models"].set_index("estimator").loc["twfe", "model"]
