"""Callaway–Sant'Anna at scale: the blocked bootstrap and aggregations against the dense formulas.

The multipliers are the one-shot stream whatever the draw batch; every number is byte-identical
whatever the batch; problems within one block give exactly the dense results (every real-data
specification); beyond one block (block sizes shrunk here so small panels cross them) the results
equal the dense ones to rounding and still recover the simulated effect.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis import config
from analysis.estimators import cs, tidy
from analysis.estimators.simulate import simulate_panel

TIER = "unit"  # the default tier of these tests (tests/conftest.py)

SIM = dict(y="log_rate_index", t="year", unit="fips", g="g287_county")
MPDTA = dict(y="lemp", t="year", unit="countyreal", g="first.treat")


@pytest.fixture(scope="module")
def mpdta():
    return pd.read_csv(config.ROOT / "tests" / "fixtures" / "did_r" / "mpdta.csv")


@pytest.fixture(scope="module")
def sim():
    panel = simulate_panel(700, seed=11)
    weight = panel.groupby("fips")["population"].transform("first")
    return panel.assign(st=panel["state_fips"], w=weight / weight.mean())


@pytest.fixture(autouse=True)
def fresh_cache():
    cs.clear_multipliers()
    yield
    cs.clear_multipliers()


def dense_multipliers(seed, draws, n_clusters):
    """The dense definition: a draws x clusters matrix of +-1."""
    rng = np.random.default_rng(seed)
    return (rng.integers(0, 2, size=(draws, n_clusters), dtype=np.int8) * 2 - 1).astype(float)


def dense_inference(result, sums, band=True):
    """R's multiplier bootstrap on a dense multiplier matrix: SEs and the sup-t critical value."""
    n = len(result.units)
    draws = dense_multipliers(result.seed, result.bootstrap, sums.shape[0]) @ sums / n
    q25, q75 = np.quantile(draws, [0.25, 0.75], axis=0, method="inverted_cdf")
    se = (q75 - q25) / (stats.norm.ppf(0.75) - stats.norm.ppf(0.25))
    se = np.where(se > cs.TINY_SE, se, np.nan)
    if not (band and sums.shape[1]):
        return se, None
    tmax = np.nanmax(np.abs(draws / se), axis=1)
    return se, float(np.quantile(tmax[np.isfinite(tmax)], 1 - result.alpha, method="inverted_cdf"))


def dense_combine(att, inf, weights, share_groups=None, shares=None, result=None):
    """R's combiner on whole arrays (the unblocked formula)."""
    att_agg, inf_agg = float(weights @ att), inf @ weights
    if share_groups is not None:
        ind = (result.cohort[:, None] == share_groups[None, :]) * result.unit_weight[:, None] - shares[None, :]
        wif = ind / shares.sum() - ind.sum(axis=1, keepdims=True) * (shares / shares.sum() ** 2)[None, :]
        inf_agg = inf_agg + wif @ att
    return att_agg, inf_agg


def fit(df, cols, **kw):
    return cs.att_gt(df, cols["y"], cols["t"], cols["unit"], cols["g"], **kw)


def everything(result):
    """Every number a result and its four aggregations carry, as one flat dict of arrays."""
    out = {"table": result.table.to_numpy(float), "inf": result.inf}
    for kind in cs.KINDS:
        agg = cs.aggregate(result, kind)
        out.update(
            {
                f"{kind}_table": agg.table.to_numpy(float),
                f"{kind}_inf": agg.inf,
                f"{kind}_vcov": agg.vcov,
                f"{kind}_overall": np.array(
                    [agg.overall_att, agg.overall_se, np.nan if agg.crit is None else agg.crit]
                ),
            }
        )
    return out


def assert_same(a, b, rtol=0.0):
    assert a.keys() == b.keys()
    for key in a:
        if rtol:
            np.testing.assert_allclose(a[key], b[key], rtol=rtol, atol=0, equal_nan=True, err_msg=key)
        else:
            assert a[key].tobytes() == b[key].tobytes(), key


# ---- the multiplier stream -----------------------------------------------------------------------
@pytest.mark.parametrize("draws, n_clusters", [(7, 1), (13, 5), (199, 1001), (50, 4099)])
@pytest.mark.parametrize("batch", [1, 3, 4, 7, 64, 1000, 10**9])
def test_multiplier_bits_are_the_one_shot_draws_whatever_the_batch(draws, n_clusters, batch):
    packed = cs.draw_multipliers(20180212, draws, n_clusters, batch=batch)
    assert packed.shape == (draws, -(-n_clusters // 8)) and packed.dtype == np.uint8
    signs = np.where(np.unpackbits(packed, axis=1, count=n_clusters) == 1, 1.0, -1.0)
    np.testing.assert_array_equal(signs, dense_multipliers(20180212, draws, n_clusters))


def test_different_seeds_give_different_multipliers_and_the_cache_is_read_only():
    a, b = cs._multipliers(1, 99, 300), cs._multipliers(2, 99, 300)
    assert not np.array_equal(a, b)
    assert cs._multipliers(1, 99, 300) is a and not a.flags.writeable


@pytest.mark.parametrize("n_clusters, n_cols", [(40, 3), (4096, 1), (4096, 5), (4097, 1), (4097, 2), (9001, 20)])
def test_multiplier_draws_equal_the_dense_product(n_clusters, n_cols):
    rng = np.random.default_rng(n_clusters)
    sums = rng.normal(size=(n_clusters, n_cols)) * rng.exponential(size=(n_clusters, 1))
    dense = dense_multipliers(5, 199, n_clusters) @ sums
    got = cs.multiplier_draws(cs.draw_multipliers(5, 199, n_clusters), sums)
    side_by_side = cs.multiplier_draws(cs.draw_multipliers(5, 199, n_clusters), sums[:, :1], sums[:, 1:])
    np.testing.assert_allclose(side_by_side, dense, rtol=0, atol=1e-12 * np.abs(dense).max())
    if n_clusters <= cs.CLUSTER_BLOCK:
        assert got.tobytes() == dense.tobytes()  # one block: the same single product
    else:
        np.testing.assert_allclose(got, dense, rtol=0, atol=1e-12 * np.abs(dense).max())


# ---- whole results -------------------------------------------------------------------------------
@pytest.mark.parametrize("extra", [{}, {"control_group": "not_yet_treated"}, {"cluster": "st"}])
def test_results_are_byte_identical_whatever_the_draw_batch(sim, monkeypatch, extra):
    """Draw batches change memory only: every number is the same bytes, in one block and beyond it."""
    monkeypatch.setattr(cs, "CLUSTER_BLOCK", 64)
    monkeypatch.setattr(cs, "UNIT_BLOCK", 100)
    runs = []
    for batch in (1, 999, 12345, 2**26):
        monkeypatch.setattr(cs, "DRAW_BATCH", batch)
        cs.clear_multipliers()
        runs.append(everything(fit(sim, SIM, bootstrap=199, seed=4, **extra)))
    for other in runs[1:]:
        assert_same(runs[0], other)


@pytest.mark.parametrize("data", ["mpdta", "sim"])
@pytest.mark.parametrize("extra", [{}, {"control_group": "not_yet_treated"}])
def test_within_one_block_every_number_is_the_dense_one(request, data, extra):
    df, cols = request.getfixturevalue(data), (MPDTA if data == "mpdta" else SIM)
    res = fit(df, cols, bootstrap=199, seed=8, **extra)
    assert len(res.units) <= min(cs.CLUSTER_BLOCK, cs.UNIT_BLOCK)
    se, crit = dense_inference(res, res.inf)
    assert res.table["se"].to_numpy().tobytes() == se.tobytes()
    assert res.table["cband_high"].to_numpy().tobytes() == (res.table["att"] + crit * se).to_numpy().tobytes()
    dyn = cs.aggregate(res, "dynamic")
    tab = res.table
    att, grp, tim = tab["att"].to_numpy(), tab["group"].to_numpy(), tab["time"].to_numpy()
    pg = np.array([res.unit_weight[res.cohort == c].sum() / len(res.units) for c in grp])
    for e, column in zip(dyn.table["element"], dyn.inf.T):
        m = (tim - grp) == e
        _, dense_inf = dense_combine(att[m], res.inf[:, m], pg[m] / pg[m].sum(), grp[m], pg[m], res)
        assert column.tobytes() == dense_inf.tobytes()
    assert dyn.table["se"].to_numpy().tobytes() == dense_inference(res, dyn.inf)[0].tobytes()


@pytest.mark.parametrize(
    "data, extra",
    [
        ("mpdta", {}),
        ("mpdta", {"control_group": "not_yet_treated"}),
        ("sim", {}),
        ("sim", {"cluster": "st"}),
        ("sim", {"weights": "w"}),
    ],
)
def test_beyond_one_block_every_number_is_the_dense_one_to_rounding(request, monkeypatch, data, extra):
    """Beyond one block the cells and cohort indicators are drawn in one pass and every aggregation's
    draws are their combinations: equal to the dense products to rounding."""
    df, cols = request.getfixturevalue(data), (MPDTA if data == "mpdta" else SIM)
    whole = everything(fit(df, cols, bootstrap=199, seed=8, **extra))
    assert fit(df, cols, bootstrap=199, seed=8, **extra).basis is None
    cs.clear_multipliers()
    monkeypatch.setattr(cs, "CLUSTER_BLOCK", 8)
    monkeypatch.setattr(cs, "UNIT_BLOCK", 50)
    res = fit(df, cols, bootstrap=199, seed=8, **extra)
    assert res.basis.shape == (199, len(res.table) + len(np.unique(res.table["group"])))
    blocked = everything(res)
    assert whole["table"][:, :6].tobytes() == blocked["table"][:, :6].tobytes()  # ATT(g,t) and counts: untouched
    assert_same(whole, blocked, rtol=1e-10)


def test_blocked_bootstrap_recovers_the_simulated_effect_with_sensible_ses(sim, monkeypatch):
    """Known effect through the blocked path: the overall ATT is the truth, bootstrap SEs the analytic ones."""
    monkeypatch.setattr(cs, "CLUSTER_BLOCK", 64)
    monkeypatch.setattr(cs, "UNIT_BLOCK", 100)
    post = sim[(sim["g287_county"] > 0) & (sim["g287_county"] <= 2012) & (sim["year"] >= sim["g287_county"])]
    boot = cs.aggregate(fit(sim, SIM, bootstrap=999, seed=1), "dynamic")
    analytic = cs.aggregate(fit(sim, SIM), "dynamic")
    simple = cs.aggregate(fit(sim, SIM, bootstrap=999, seed=1), "simple")
    assert simple.overall_att == pytest.approx(post["true_effect"].mean(), abs=0.02)
    np.testing.assert_allclose(boot.table["se"], analytic.table["se"], rtol=0.2)
    assert boot.overall_se == pytest.approx(analytic.overall_se, rel=0.2)
    assert boot.crit > stats.norm.ppf(0.975)


def test_unbalanced_rows_are_the_units_missing_a_period():
    unit = pd.Series(["a", "a", "a", "b", "b", "c", "c", "c", "d"])
    t = pd.Series([1, 2, 3, 1, 3, 3, 2, 1, 2])
    np.testing.assert_array_equal(tidy.unbalanced(unit, t), [False] * 3 + [True] * 2 + [False] * 3 + [True])


@pytest.mark.parametrize(
    "ids", [["b", "a", "b", "c", "a", "c"], [30, 10, 10, 20, 30, 20], [2.5, 2.5, -1.0, 0.0, -1.0, 0.0]]
)
def test_first_rows_are_drop_duplicates_sorted_by_unit(ids):
    unit = pd.Series(ids, index=[9, 8, 7, 6, 5, 4])
    frame = pd.DataFrame({"u": unit, "row": range(6)})
    expected = frame.drop_duplicates("u").set_index("u").sort_index()["row"].to_numpy()
    np.testing.assert_array_equal(cs._first_rows(unit), expected)
