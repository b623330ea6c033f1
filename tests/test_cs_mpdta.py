"""Callaway–Sant'Anna on mpdta against R did 2.5.0: every ATT(g,t), every aggregation, the pre-test."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import config
from analysis.estimators import cs

TIER = "unit"  # the default tier of these tests (tests/conftest.py)

FIX = config.ROOT / "tests" / "fixtures" / "did_r"
SCENARIOS = {
    "mpdta_nev_dr": dict(control_group="never_treated", est_method="dr"),
    "mpdta_nyt_dr": dict(control_group="not_yet_treated", est_method="dr"),
    "mpdta_nev_ipw": dict(control_group="never_treated", est_method="ipw"),
    "mpdta_nev_reg_cov": dict(control_group="never_treated", est_method="reg", covariates=["lpop"]),
}
ATT_TOL, SE_TOL = 1e-8, 5e-5


@pytest.fixture(scope="module")
def mpdta():
    return pd.read_csv(FIX / "mpdta.csv")


@pytest.fixture(scope="module", params=list(SCENARIOS))
def fitted(request, mpdta):
    name = request.param
    return name, cs.att_gt(mpdta, "lemp", "year", "countyreal", "first.treat", **SCENARIOS[name])


def test_every_att_gt_and_se(fitted):
    name, res = fitted
    ref = pd.read_csv(FIX / "ref_attgt.csv").query("scenario == @name").rename(columns={"t": "time"})
    both = res.table.merge(ref, on=["group", "time"], suffixes=("", "_r"), validate="one_to_one")
    assert len(both) == len(ref) == len(res.table) == 12
    np.testing.assert_allclose(both["att"], both["att_r"], rtol=0, atol=ATT_TOL)
    np.testing.assert_allclose(both["se"], both["se_r"], rtol=0, atol=SE_TOL)


@pytest.mark.parametrize("kind", cs.KINDS)
def test_every_aggregation_element_and_overall(fitted, kind):
    name, res = fitted
    ref = pd.read_csv(FIX / "ref_aggte.csv").query("scenario == @name and type == @kind")
    agg = cs.aggregate(res, kind)
    assert agg.overall_att == pytest.approx(ref["overall_att"].iloc[0], abs=ATT_TOL, rel=0)
    assert agg.overall_se == pytest.approx(ref["overall_se"].iloc[0], abs=SE_TOL, rel=0)
    elements = ref.dropna(subset=["egt"])
    assert agg.table["element"].tolist() == elements["egt"].astype(int).tolist()
    np.testing.assert_allclose(agg.table["att"], elements["att_egt"], rtol=0, atol=ATT_TOL)
    np.testing.assert_allclose(agg.table["se"], elements["se_egt"], rtol=0, atol=SE_TOL)


def test_pretest(fitted):
    name, res = fitted
    ref = pd.read_csv(FIX / "ref_pretest.csv").query("scenario == @name").iloc[0]
    got = cs.pretest(res)
    assert got["df"] == 5  # pre-treatment cells: 2006 x {2004, 2005}, 2007 x {2004, 2005, 2006}
    assert got["W"] == pytest.approx(ref["W"], abs=1e-6, rel=0)
    assert got["pvalue"] == pytest.approx(ref["Wpval"], abs=5e-6)  # R rounds to 5 decimals


def test_diff_diff_own_aggregations_agree_with_r(mpdta):
    """The library check: diff-diff's overall ATT and event study (not used by us) also match R."""
    from diff_diff import CallawaySantAnna

    fit = CallawaySantAnna().fit(mpdta, outcome="lemp", unit="countyreal", time="year", first_treat="first.treat")
    ref = pd.read_csv(FIX / "ref_aggte.csv").query("scenario == 'mpdta_nev_dr'")
    simple = ref.query("type == 'simple'").iloc[0]
    assert fit.overall_att == pytest.approx(simple["overall_att"], abs=ATT_TOL)
    assert fit.overall_se == pytest.approx(simple["overall_se"], abs=SE_TOL)
    es = fit.aggregate("event_study").to_dataframe()
    dyn = ref.query("type == 'dynamic'")
    np.testing.assert_allclose(es["att"], dyn["att_egt"], atol=ATT_TOL)
    np.testing.assert_allclose(es["se"], dyn["se_egt"], atol=SE_TOL)


def test_bootstrap_reproducible_with_seed_and_differs_across_seeds(mpdta):
    runs = [cs.att_gt(mpdta, "lemp", "year", "countyreal", "first.treat", bootstrap=199, seed=s) for s in (1, 1, 2)]
    aggs = [cs.aggregate(r, "dynamic") for r in runs]
    pd.testing.assert_frame_equal(aggs[0].table, aggs[1].table)
    assert aggs[0].crit == aggs[1].crit and aggs[0].overall_se == aggs[1].overall_se
    assert not np.allclose(aggs[0].table["se"], aggs[2].table["se"])
    # bootstrap SEs estimate the analytic ones; uniform band wider than pointwise
    analytic = cs.aggregate(cs.att_gt(mpdta, "lemp", "year", "countyreal", "first.treat"), "dynamic")
    np.testing.assert_allclose(aggs[0].table["se"], analytic.table["se"], rtol=0.25)
    assert aggs[0].crit > 1.96 and {"cband_low", "cband_high"} <= set(aggs[0].table.columns)


def test_cluster_sums_equal_unit_level_when_each_unit_is_its_own_cluster(mpdta):
    base = cs.att_gt(mpdta, "lemp", "year", "countyreal", "first.treat")
    own = cs.att_gt(mpdta.assign(cl=mpdta["countyreal"] * 7), "lemp", "year", "countyreal", "first.treat", cluster="cl")
    np.testing.assert_allclose(own.table["se"], base.table["se"], rtol=1e-12)
    states = cs.att_gt(
        mpdta.assign(st=mpdta["countyreal"] // 1000), "lemp", "year", "countyreal", "first.treat", cluster="st"
    )
    assert not np.allclose(states.table["se"], base.table["se"])


def test_constant_weights_equal_unweighted(mpdta):
    base = cs.att_gt(mpdta, "lemp", "year", "countyreal", "first.treat")
    weighted = cs.att_gt(mpdta.assign(w=3.0), "lemp", "year", "countyreal", "first.treat", weights="w")
    np.testing.assert_allclose(weighted.table["att"], base.table["att"], atol=1e-12)
    np.testing.assert_allclose(weighted.table["se"], base.table["se"], atol=1e-12)
    for kind in cs.KINDS:
        a, b = cs.aggregate(weighted, kind), cs.aggregate(base, kind)
        assert a.overall_att == pytest.approx(b.overall_att, abs=1e-12)
        assert a.overall_se == pytest.approx(b.overall_se, abs=1e-12)


def test_weighted_att_gt_is_the_weighted_two_by_two(mpdta):
    """No covariates: ATT(g,t) = weighted mean change of cohort g minus that of never-treated units."""
    df = mpdta.assign(w=np.exp(mpdta["lpop"]))
    res = cs.att_gt(df, "lemp", "year", "countyreal", "first.treat", weights="w")
    wide = df.pivot(index="countyreal", columns="year", values="lemp")
    unit = df.drop_duplicates("countyreal").set_index("countyreal").loc[wide.index]
    for g, t in [(2004, 2006), (2006, 2007), (2007, 2007)]:
        change = wide[t] - wide[g - 1]

        def wmean(mask, change=change):
            return np.average(change[mask], weights=unit["w"][mask])

        expected = wmean(unit["first.treat"] == g) - wmean(unit["first.treat"] == 0)
        got = res.table.query("group == @g and time == @t")["att"].iloc[0]
        assert got == pytest.approx(expected, abs=1e-10)
    assert not np.isclose(
        res.table["att"], cs.att_gt(mpdta, "lemp", "year", "countyreal", "first.treat").table["att"]
    ).all()
