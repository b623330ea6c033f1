"""Static TWFE on mpdta (linearmodels and pyfixest agree on -0.036549), trends and the event study."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyfixest as pf
import pytest
import statsmodels.formula.api as smf

from analysis import config
from analysis.estimators import twfe
from analysis.estimators.simulate import simulate_panel

TIER = "unit"  # the default tier of these tests (tests/conftest.py)

MPDTA = config.ROOT / "tests" / "fixtures" / "did_r" / "mpdta.csv"
TWFE_MPDTA = -0.036549  # lemp on treat_post, county and year FE (Callaway-Sant'Anna 2021 replication)


@pytest.fixture(scope="module")
def mpdta():
    return pd.read_csv(MPDTA)


def test_static_twfe_on_mpdta_in_linearmodels_and_pyfixest(mpdta):
    ours = twfe.static(mpdta, "lemp", "countyreal", "year", "first.treat").summary
    assert ours["estimate"] == pytest.approx(TWFE_MPDTA, abs=5e-7)
    data = mpdta.assign(treat_post=mpdta["treat"] * (mpdta["year"] >= mpdta["first.treat"]))
    fx = pf.feols("lemp ~ treat_post | countyreal + year", data=data, vcov={"CRV1": "countyreal"})
    assert fx.coef()["treat_post"] == pytest.approx(TWFE_MPDTA, abs=5e-7)
    # the same CR1: fixest's small-sample factor, the year effects (not nested in county clusters) counted
    assert ours["se"] == pytest.approx(fx.se()["treat_post"], rel=1e-10)
    assert (ours["n_obs"], ours["n_units"], ours["n_clusters"]) == (2500, 500, 500)


def test_weights_and_state_clusters_change_what_they_should(mpdta):
    base = twfe.static(mpdta, "lemp", "countyreal", "year", "first.treat").summary
    equal = twfe.static(mpdta.assign(w=2.0), "lemp", "countyreal", "year", "first.treat", weights="w").summary
    assert equal["estimate"] == pytest.approx(base["estimate"], abs=1e-12)
    assert equal["se"] == pytest.approx(base["se"], rel=1e-10)
    pop = twfe.static(mpdta.assign(w=np.exp(mpdta["lpop"])), "lemp", "countyreal", "year", "first.treat", weights="w")
    assert pop.summary["estimate"] != pytest.approx(base["estimate"], abs=1e-4)
    state = twfe.static(
        mpdta.assign(st=mpdta["countyreal"] // 1000), "lemp", "countyreal", "year", "first.treat", cluster="st"
    ).summary
    assert state["estimate"] == base["estimate"] and state["n_clusters"] == mpdta["countyreal"].floordiv(1000).nunique()


@pytest.mark.filterwarnings("ignore::statsmodels.tools.sm_exceptions.SingularMatrixWarning")
def test_unit_trends_equal_explicit_dummy_regression():
    panel = simulate_panel(40, seed=5)
    ours = twfe.static(panel, "log_rate_violent", "fips", "year", "g287_county", trends=True).summary
    data = panel.assign(d=twfe.treated(panel, "year", "g287_county"), tc=panel["year"] - 2006)
    ols = smf.ols("log_rate_violent ~ d + C(fips) + C(year) + C(fips):tc", data=data).fit()
    assert ours["estimate"] == pytest.approx(ols.params["d"], abs=1e-8)


def test_event_study_bins_endpoints_and_omits_minus_one():
    panel = simulate_panel(300, seed=4)
    d = twfe.event_dummies(panel, "year", "g287_county", (-3, 2))
    assert list(d.columns) == ["e-3", "e-2", "e0", "e1", "e2"]
    e = panel["year"] - panel["g287_county"]
    treated = panel["g287_county"].between(1, 2012)
    assert (d["e-3"][treated] == (e[treated] <= -3)).all() and (d["e2"][treated] == (e[treated] >= 2)).all()
    assert (d[panel["g287_county"] == 0].sum() == 0).all()
    fit = twfe.event_study(panel, "log_rate_violent", "fips", "year", "g287_county", window=(-3, 2))
    assert fit.event["event_time"].tolist() == [-3, -2, 0, 1, 2]
    assert list(fit.vcov.index) == [-3, -2, 0, 1, 2]
    np.testing.assert_allclose(np.sqrt(np.diag(fit.vcov)), fit.event["se"])
    assert (fit.event.query("event_time < 0")["pvalue"] > 0.001).all()  # no effect before treatment
