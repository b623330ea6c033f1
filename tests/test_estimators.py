"""Each library wrapper checked against a direct computation, plus what Callaway–Sant'Anna drops."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf
from linearmodels import PanelOLS

from analysis.estimators import bacon, cs, honest, imputation, ppml, sunab, twfe, wild
from analysis.estimators.simulate import simulate_panel

TIER = "unit"  # the default tier of these tests (tests/conftest.py)

Y, UNIT, T, G = "log_rate_violent", "fips", "year", "g287_county"


@pytest.fixture(scope="module")
def small():
    return simulate_panel(80, seed=11, cohorts=(2004, 2008, 2013))


def test_sunab_equals_hand_interaction_regression(small):
    df = small.assign(g=small[G].where(small[G] <= 2012, 0))
    e = df[T] - df["g"]
    cells = sorted({(g, k) for g, k in zip(df["g"], e) if g > 0 and k != -1})
    X = pd.DataFrame({f"c{g}_{k}": ((df["g"] == g) & (e == k)).astype(float) for g, k in cells}, index=df.index)
    fit = PanelOLS(
        df.set_index([UNIT, T])[Y],
        X.set_index(pd.MultiIndex.from_frame(df[[UNIT, T]])),
        entity_effects=True,
        time_effects=True,
    ).fit()
    size = df[df["g"] > 0].groupby("g")[UNIT].nunique()
    ours = sunab.sunab(small, Y, UNIT, T, G).event.set_index("event_time")["estimate"]
    for k in (-3, 0, 2, 5):
        gs = [g for g, kk in cells if kk == k]
        w = size[gs] / size[gs].sum()
        assert ours[k] == pytest.approx(sum(w[g] * fit.params[f"c{g}_{k}"] for g in gs), abs=1e-8)


def test_imputation_equals_direct_implementation(small):
    df = small.assign(g=small[G].where(small[G] <= 2012, 0))
    treated = (df["g"] > 0) & (df[T] >= df["g"])
    ols = smf.ols(f"{Y} ~ C({UNIT}) + C({T})", data=df[~treated]).fit()
    tau = df.loc[treated, Y] - ols.predict(df[treated])
    ours = imputation.imputation(small, Y, UNIT, T, G)
    assert ours.summary["estimate"] == pytest.approx(tau.mean(), abs=1e-8)
    by_e = tau.groupby((df[T] - df["g"])[treated]).mean()
    got = ours.event.set_index("event_time")["estimate"]
    np.testing.assert_allclose(got[by_e.index], by_e, atol=1e-8)


def test_bacon_weighted_sum_equals_twfe(small):
    fit, table = bacon.bacon(small, Y, UNIT, T, G)
    assert table["weight"].sum() == pytest.approx(1.0, abs=1e-10)
    direct = twfe.static(small, Y, UNIT, T, G).summary["estimate"]
    assert (table["estimate"] * table["weight"]).sum() == pytest.approx(direct, abs=1e-8)
    assert fit.summary["estimate"] == pytest.approx(direct, abs=1e-8)


def test_ppml_equals_poisson_glm_with_dummies(small):
    df = small[small[UNIT].isin(small[UNIT].unique()[:40])]
    ours = ppml.ppml(df, "violent", UNIT, T, G).summary
    data = df.assign(d=twfe.treated(df, T, G))
    glm = smf.glm(
        f"violent ~ d + C({UNIT}) + C({T})", data=data, family=sm.families.Poisson(), offset=np.log(data["population"])
    ).fit()
    assert ours["estimate"] == pytest.approx(glm.params["d"], abs=1e-6)


def test_honest_bounds_collapse_at_zero_and_widen_with_m():
    panel = simulate_panel(300, seed=8)
    es = twfe.event_study(panel, Y, UNIT, T, G, window=(-4, 3))
    rm = honest.honest(es.event, es.vcov, "relative_magnitude", grid=(0.0, 0.5, 1.0))
    target = es.event.query("event_time >= 0")["estimate"].mean()
    assert rm["lb"].iloc[0] == pytest.approx(target, abs=1e-6) == rm["ub"].iloc[0]
    assert (np.diff(rm["ci_high"] - rm["ci_low"]) > 0).all() and (rm["ci_low"] <= rm["lb"]).all()
    first = honest.honest(es.event, es.vcov, "relative_magnitude", grid=(0.0,), target="first")
    assert first["lb"].iloc[0] == pytest.approx(es.event.query("event_time == 0")["estimate"].iloc[0], abs=1e-6)
    with pytest.raises(ValueError, match="reference"):
        honest.honest(pd.concat([es.event, es.event.iloc[[0]].assign(event_time=-1)]), es.vcov)


def test_wild_bootstrap_reproducible_and_sensible():
    panel = simulate_panel(200, seed=9)
    runs = [wild.wild(panel, Y, UNIT, T, G, cluster="state", reps=499, seed=s).summary for s in (1, 1)]
    assert pd.Series(runs[0]).equals(pd.Series(runs[1])) and runs[0]["n_clusters"] == panel["state"].nunique()
    assert runs[0]["pvalue"] < 0.05  # a large true effect
    null = panel.assign(y0=panel[Y] - panel["true_effect"])
    assert wild.wild(null, "y0", UNIT, T, G, cluster="state", reps=499, seed=1).summary["pvalue"] > 0.01


def test_cs_recodes_late_cohorts_drops_always_treated_and_unbalanced_units():
    panel = simulate_panel(120, seed=12, cohorts=(2000, 2006, 2013))
    gone = panel[UNIT].unique()[:3]
    unbalanced = panel[~(panel[UNIT].isin(gone) & (panel[T] == 2005))]
    res = cs.att_gt(unbalanced, Y, T, UNIT, G)
    reasons = res.dropped.groupby("reason")["id"].apply(set)
    assert reasons["not observed in every period (CS uses a balanced panel)"] == set(gone)
    late = set(panel.loc[panel[G] == 2013, UNIT]) - set(gone)
    assert reasons["treated after the last period: recoded as control (g=0)"] == late
    early = set(panel.loc[panel[G] == 2000, UNIT]) - set(gone)
    assert reasons["treated in or before the first period: no pre-period"] == early
    assert set(res.table["group"]) == {2006} and set(res.cohort) == {0, 2006}
    assert not set(res.units) & (early | set(gone)) and late <= set(res.units)


def test_cs_without_never_treated_units():
    panel = simulate_panel(200, seed=13, cohorts=(2004, 2007, 2010), treated_share=1.0)
    with pytest.raises(ValueError, match="never-treated"):
        cs.att_gt(panel, Y, T, UNIT, G)
    res = cs.att_gt(panel, Y, T, UNIT, G, control_group="not_yet_treated")
    assert res.table["time"].max() == 2009 and set(res.table["group"]) == {2004, 2007}
    assert "no not-yet-treated controls (all units treated)" in set(res.dropped["reason"])
    assert np.isfinite(cs.aggregate(res, "simple").overall_att)
