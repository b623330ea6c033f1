"""Inference at the level of assignment (issue #12 §4): the weighted wild cluster bootstrap, Romano-Wolf,
TOST and MDE on hand-built data; the loud stops; and the table, macros and paper paragraph against the
results files and the specs they name."""

from __future__ import annotations

import math
import re
import warnings

import numpy as np
import pandas as pd
import pyfixest as pf
import pytest

from analysis import config, inference
from analysis.estimators import registry
from analysis.estimators.wild import wcr
from analysis.exhibits import assignment_inference as ai
from analysis.exhibits import latex
from analysis.exhibits.headline import SPECS, fmt_p
from analysis.exhibits.numbers import fmt_num, parse
from analysis.infra.errors import InputError

TIER = "unit"  # the default tier of these tests (tests/conftest.py)


def panel(seed: int = 3, units: int = 60, years: int = 8) -> pd.DataFrame:
    """Staggered adoption in 12 'states' of 5 units, a state shock, a covariate, integer weights."""
    rng = np.random.default_rng(seed)
    df = pd.DataFrame([(u, t) for u in range(units) for t in range(years)], columns=["u", "t"])
    df["s"] = df.u // 5
    g = {u: (3 + u % 4 if u % 3 else 0) for u in range(units)}
    df["d"] = [float(g[u] > 0 and t >= g[u]) for u, t in zip(df.u, df.t)]
    df["x"] = rng.normal(size=len(df))
    shock = rng.normal(size=(units // 5, years))
    df["y"] = 0.2 * df.d + 0.5 * df.x + 0.1 * df.u + shock[df.s, df.t] + rng.normal(size=len(df))
    df["y2"] = -0.1 * df.d + shock[df.s, df.t] + rng.normal(size=len(df))
    df["y3"] = shock[df.s, df.t] + rng.normal(size=len(df))
    df["w"] = rng.integers(1, 4, units)[df.u].astype(float)
    return df


def pyfixest_wild(df, y, seed, reps=999):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = pf.feols(f"{y} ~ d + x | u + t", data=df, vcov={"CRV1": "s"})
        return fit, float(fit.wildboottest(param="d", reps=reps, cluster="s", seed=seed)["Pr(>|t|)"])


@pytest.mark.parametrize("seed", [0, 1, 7])
def test_wcr_equals_pyfixest_wild_bootstrap_unweighted(seed):
    df = panel()
    fit, p = pyfixest_wild(df, "y", seed)
    r = wcr(df, "y", ["d", "x"], ["u", "t"], "s", reps=999, seed=seed)
    assert r.pvalue == p
    assert r.coef == pytest.approx(fit.coef()["d"], rel=1e-9)
    assert r.boot_t.shape == (999,)


def test_fast_denominator_equals_wildboottest_own():
    """wild._WildboottestCL (matrix products) gives the library's bootstrap t-statistics and p-value."""
    from wildboottest.wildboottest import WildboottestCL

    from analysis.estimators.wild import _WildboottestCL

    rng = np.random.default_rng(4)
    cl = np.repeat(np.arange(40), 6)
    x = rng.normal(size=(len(cl), 5))
    y = 0.1 * x[:, 0] + rng.normal(size=len(cl)) + rng.normal(size=40)[cl]
    r = np.eye(5)[0]
    runs = []
    for cls in (WildboottestCL, _WildboottestCL):
        boot = cls(X=x, Y=y, cluster=cl, R=r, B=199, seed=9, parallel=False)
        boot.get_scores(bootstrap_type="11", impose_null=True, adj=True, cluster_adj=True)
        boot.get_weights(weights_type="rademacher")
        for step in (boot.get_numer, boot.get_denom, boot.get_tboot, boot.get_vcov, boot.get_tstat):
            step()
        boot.get_pvalue(pval_type="two-tailed")
        runs.append(boot)
    theirs, ours = runs
    np.testing.assert_allclose(np.ravel(ours.t_boot), np.ravel(theirs.t_boot), rtol=1e-12, atol=1e-12)
    assert float(np.ravel(ours.pvalue)[0]) == float(np.ravel(theirs.pvalue)[0])


def test_wcr_with_weights_equals_regression_on_duplicated_rows():
    df = panel()
    dup = df.loc[df.index.repeat(df.w.astype(int))].reset_index(drop=True)
    weighted = wcr(df, "y", ["d", "x"], ["u", "t"], "s", weights="w", reps=999, seed=5)
    duplicated = wcr(dup, "y", ["d", "x"], ["u", "t"], "s", reps=999, seed=5)
    assert weighted.pvalue == duplicated.pvalue
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wls = pf.feols("y ~ d + x | u + t", data=df, weights="w", vcov={"CRV1": "s"})
    assert weighted.coef == pytest.approx(wls.coef()["d"], rel=1e-9)


def test_wcr_detects_a_large_effect_and_not_a_null_one():
    df = panel()
    df["big"] = df["y3"] + 3 * df["d"]
    assert wcr(df, "big", ["d"], ["u", "t"], "s", reps=999, seed=1).pvalue < 0.01
    assert wcr(df, "y3", ["d"], ["u", "t"], "s", reps=999, seed=1).pvalue > 0.05


def test_wcr_stops_without_seed_or_with_bad_weights():
    df = panel()
    with pytest.raises(ValueError, match="seed"):
        wcr(df, "y", ["d"], ["u", "t"], "s", seed=None)
    with pytest.raises(ValueError, match="positive"):
        wcr(df.assign(w=0.0), "y", ["d"], ["u", "t"], "s", weights="w")


def test_romano_wolf_equals_pyfixest_rwolf():
    df = panel()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fits = [pf.feols(f"{y} ~ d + x | u + t", data=df, vcov={"CRV1": "s"}) for y in ("y", "y2", "y3")]
        theirs = pf.rwolf(fits, "d", reps=999, seed=11)
    ours = [wcr(df, y, ["d", "x"], ["u", "t"], "s", reps=999, seed=11) for y in ("y", "y2", "y3")]
    adjusted = inference.romano_wolf([r.tstat for r in ours], np.column_stack([r.boot_t for r in ours]))
    expected = theirs.loc["RW Pr(>|t|)"].astype(float).to_numpy()
    np.testing.assert_allclose(adjusted, expected, atol=1e-12)
    assert (adjusted >= np.array([r.pvalue for r in ours]) - 1e-12).all()


def test_romano_wolf_by_hand_and_shape_check():
    # Two tests; B = 3 draws. Stepdown: larger |t| first against the max of both, then the other alone.
    boot = np.array([[0.5, 3.0], [2.5, 0.1], [0.2, 0.3]])
    p = inference.romano_wolf([2.0, 1.0], boot)
    # |t|=2: max draws (3.0, 2.5, 0.3) >= 2 twice -> (2+1)/4; |t|=1: second column (3.0, 0.1, 0.3) >= 1 once -> 2/4,
    # then monotone: max(0.5, 0.75)
    np.testing.assert_allclose(p, [0.75, 0.75])
    with pytest.raises(ValueError, match="statistics"):
        inference.romano_wolf([1.0, 2.0, 3.0], boot)


def test_tost_by_hand():
    z = 1.6448536269514722
    r = inference.tost(0.0, 1.0, z)
    assert r["p_tost"] == pytest.approx(0.05)
    assert inference.tost(0.0, 1.0, 0.5)["p_tost"] > 0.3  # a bound inside the noise: no equivalence
    assert inference.tost(2.0, 1.0, 1.0)["p_tost"] > 0.5  # the estimate outside the bound
    assert inference.tost(0.0, 0.1, 1.0)["p_tost"] < 1e-6
    with pytest.raises(ValueError):
        inference.tost(0.0, 0.0, 1.0)


def test_mde_and_verdicts():
    assert ai.mde(0.01) == pytest.approx(0.028)
    with pytest.raises(ValueError):
        ai.mde(0.0)
    assert ai.ci_verdict(-0.1, -0.01) == "excludes" and ai.ci_verdict(-0.1, 0.2) == "includes"
    assert "not evidence of no effect" in ai.tost_conclusion([0.3, 0.4, 0.9])
    assert ai.tost_conclusion([0.01, 0.02]).startswith("every")


def test_config_stops_loudly(tmp_path):
    good = inference.read_config()
    bad = tmp_path / "inference.yaml"
    bad.write_text(
        "romano_wolf:\n  estimator: twfe\n  seed: 1\n  reps: {state: 999}\n  families: {}\n"
        "tost:\n  estimator: twfe\n  specs: []\nhonest:\n  specs: []\n  pre_periods: [all]\n"
        "  relative_magnitude: {step: 0.1, max: 1}\n  smoothness: {step: 0.01, max: 0.02}\n"
    )
    with pytest.raises(InputError, match="bound_pct"):
        inference.read_config(bad)
    bad.write_text(
        bad.read_text().replace(
            "tost:\n  estimator: twfe\n  specs: []", "tost:\n  estimator: twfe\n  specs: []\n  bound_pct: 150"
        )
    )
    with pytest.raises(InputError, match="between 0 and 100"):
        inference.read_config(bad)
    assert set(good["romano_wolf"]["reps"]) == {"county", "state"}


def test_recomputed_coefficient_must_match_results():
    inference._check("x", 0.1, 0.1, 10, 10)
    with pytest.raises(RuntimeError, match="disagree"):
        inference._check("x", 0.1, 0.1001, 10, 10)
    with pytest.raises(RuntimeError, match="disagree"):
        inference._check("x", 0.1, 0.1, 10, 11)


def test_makefile_lists_the_specs_of_inference_yaml():
    cfg = inference.read_config()
    named = {s for names in cfg["romano_wolf"]["families"].values() for s in names} | set(cfg["tost"]["specs"])
    text = (config.ROOT / "Makefile").read_text()
    block = re.search(r"INFERENCE_SPECS := (.*?)\nINFERENCE_OUT", text, re.S).group(1)
    assert set(block.replace("\\", " ").split()) == named


# ---- On the built results, exhibits and paper -------------------------------------------------


def _built():
    if not (config.RESULTS / "inference" / "romano_wolf.csv").exists() or not config.NUMBERS.exists():
        pytest.skip("results/inference or numbers.tex not built (make all)")


@pytest.fixture(scope="module")
def macros():
    _built()
    return parse(config.NUMBERS)


def overall(spec: str) -> pd.DataFrame:
    return pd.read_csv(config.RESULTS / spec / "overall.csv").set_index("estimator")


def test_primary_estimands_are_the_fixed_ones():
    assert ai.PRIMARY == {"287g": ("us_287g_index", "cs_simple", "National"), "sc": ("sc_index", "cs_simple", "Sc")}


@pytest.mark.parametrize("program", ["287g", "sc"])
def test_primary_paragraph_names_the_spec_behind_the_headline_macros(macros, program):
    spec, estimator, name = ai.PRIMARY[program]
    headline = SPECS[spec][0] + registry.row(estimator).macro  # e.g. NationalIndexCs
    assert macros[f"Primary{name}Spec"] == rf"\texttt{{{spec.replace('_', chr(92) + '_')}}}"
    assert macros[f"Primary{name}Estimator"] == rf"\texttt{{{estimator.replace('_', chr(92) + '_')}}}"
    assert macros[f"Primary{name}"] == macros[headline]
    assert macros[f"Primary{name}Se"] == macros[headline + "Se"]
    row = overall(spec).loc[estimator]
    assert macros[f"Primary{name}"] == fmt_num(row["estimate"], 3)
    state = overall(ai.STATE_TWIN[spec]).loc[estimator]
    assert state["estimate"] == row["estimate"] and int(state["n_obs"]) == int(row["n_obs"])
    assert macros[f"Primary{name}SeState"] == fmt_num(state["se"], 3)
    assert macros[f"Primary{name}Mde"] == fmt_num(2.8 * row["se"], 3)
    twin = ai.check_twin(spec)
    assert twin["cluster"] == "state" and int(state["n_clusters"]) < int(row["n_clusters"])


def test_paper_inputs_the_paragraph_before_the_results():
    tex = (config.PAPER / "paper.tex").read_text()
    assert tex.count(r"\input{sections/primary_inference}") == 1
    assert tex.index(r"\input{sections/primary_inference}") < tex.index(r"\section{Results}")
    section = (config.PAPER / "sections" / "primary_inference.tex").read_text()
    for name in ("National", "Sc"):
        assert rf"\Primary{name}Spec" in section and rf"\Primary{name}Estimator" in section
    assert not re.search(r"(?<![\\\w{])-?\d+\.\d+", section.replace(r"\%", "")), "numbers must be macros"


def test_romano_wolf_results_match_the_specs():
    _built()
    rw = pd.read_csv(config.RESULTS / "inference" / "romano_wolf.csv")
    assert len(rw) == 12 and set(rw["cluster"]) == {"county", "state"}
    for _, r in rw.iterrows():
        assert r["estimate"] == pytest.approx(overall(r["spec"]).loc["twfe", "estimate"], rel=1e-9)
        assert r["p_romano_wolf"] >= r["p_wild"] - 1e-12
    # the state wild p of the headline equals the state twin spec's wild estimator (same bootstrap, same seed)
    for spec in ai.STATE_TWIN:
        twin = overall(ai.STATE_TWIN[spec]).loc["wild", "pvalue"]
        assert rw.set_index(["spec", "cluster"]).loc[(spec, "state"), "p_wild"] == pytest.approx(twin, abs=1e-12)


def test_inference_table_numbers_equal_results():
    _built()
    rows = ai.table_rows()
    tex = (config.TABLES / "inference_primary.tex").read_text()
    rw = pd.read_csv(config.RESULTS / "inference" / "romano_wolf.csv").set_index(["spec", "cluster"])
    for _, r in rows.iterrows():
        res = overall(r["spec"]).loc[r["estimator"]]
        assert r["estimate"] == res["estimate"] and r["se_county"] == res["se"] and r["p_county"] == res["pvalue"]
        if r["estimator"] == "twfe":
            assert r["p_rw_state"] == rw.loc[(r["spec"], "state"), "p_romano_wolf"]
        lines = [
            line
            for line in tex.splitlines()
            if f"& {r['row']} &" in line and latex.fmt_number(r["estimate"], 3) in line
        ]
        assert len(lines) == 1
        cells = [c.strip() for c in lines[0].removesuffix(r"\\").split("&")]
        assert cells[3] == latex.fmt_number(r["se_county"], 3) and cells[4] == fmt_p(r["p_county"])
        assert cells[6] == latex.fmt_number(2.8 * r["se_county"], 3)
        if r["estimator"] == "twfe":
            assert cells[5] == fmt_p(rw.loc[(r["spec"], "county"), "p_romano_wolf"])
            assert cells[10] == fmt_p(rw.loc[(r["spec"], "state"), "p_romano_wolf"])
    assert len(rows) == 8


def test_tost_results_and_macros(macros):
    tost = pd.read_csv(config.RESULTS / "inference" / "tost.csv")
    for _, r in tost.iterrows():
        res = overall(r["spec"]).loc["twfe"]
        assert r["estimate"] == res["estimate"] and r["se"] == res["se"]
        assert r["bound"] == pytest.approx(r["bound_pct"] / 100 * r["pre_mean"])
        assert r["p_tost"] == pytest.approx(inference.tost(r["estimate"], r["se"], r["bound"])["p_tost"])
        prefix = SPECS[r["spec"]][0]
        assert macros[prefix + "TostVerdict"] == ("rejects" if r["p_tost"] < 0.05 else "does not reject")


def test_simple_weights_reproduce_the_simple_att():
    from analysis.estimators import cs
    from analysis.estimators.simulate import simulate_panel

    df = simulate_panel(60, seed=3, cohorts=(2004, 2007, 2010))
    y = "log_rate_violent"
    res = cs.att_gt(df, y, "year", "fips", "g287_county", control_group="never_treated", base_period="universal")
    w = inference.simple_weights(res)
    dyn = cs.aggregate(res, "dynamic").table.set_index("element")["att"]
    assert w.sum() == pytest.approx(1) and (w.index >= 0).all()
    assert float(w @ dyn.loc[w.index]) == pytest.approx(cs.aggregate(res, "simple").overall_att, rel=1e-10)


@pytest.mark.parametrize("slope", [0.0, 0.01, -0.03])
def test_bisection_finds_the_full_scans_breakdown_value(slope):
    from analysis.estimators import honest
    from analysis.exhibits.diagnostics import breakdown

    event = pd.DataFrame(
        {
            "event_time": [-4, -3, -2, 0, 1, 2],
            "se": [0.02, 0.02, 0.02, 0.02, 0.03, 0.03],
            "estimate": [0.02 + slope, -0.01, slope, -0.1, -0.12, -0.08],
        }
    )
    vcov = pd.DataFrame(np.diag(event["se"] ** 2), index=event["event_time"], columns=event["event_time"])
    points = inference.grid({"step": 0.05, "max": 2})
    full = honest.honest(event, vcov, grid=points)
    calls = []

    def fit(m):
        calls.append(m)
        return honest.honest(event, vcov, grid=[m]).iloc[0]

    found = inference.bisect_breakdown(fit, points)
    assert breakdown(found, "relative_magnitude") == breakdown(full, "relative_magnitude")
    assert len(calls) <= 2 + math.ceil(math.log2(len(points))) and found["M"].is_monotonic_increasing
    assert full.set_index("M").loc[found["M"], ["ci_low", "ci_high"]].to_numpy() == pytest.approx(
        found[["ci_low", "ci_high"]].to_numpy()
    )
    assert not math.isnan(breakdown(full, "relative_magnitude"))  # the case is one with a breakdown value


def test_smoothness_at_zero_removes_a_linear_pre_trend():
    """Known effect: pre-period estimates on a line through the reference period, post-period ones on its
    continuation plus tau. Delta^SD with M = 0 (linear extrapolation) identifies tau exactly; its FLCI is
    tight around tau and far from the naive average (tau + the trend's post-period mean, 0.05 here)."""
    from analysis.estimators import honest

    slope, tau = 0.02, -0.08
    times = [-5, -4, -3, -2, 0, 1, 2, 3]
    event = pd.DataFrame(
        {"event_time": times, "estimate": [slope * (e + 1) + (tau if e >= 0 else 0) for e in times], "se": 0.001}
    )
    vcov = pd.DataFrame(np.diag(event["se"] ** 2), index=times, columns=times)
    h = honest.honest(event, vcov, "smoothness", grid=[0.0, 0.01])
    at_zero, wider = h.iloc[0], h.iloc[1]
    assert at_zero["lb"] == pytest.approx(tau, abs=1e-6) and at_zero["ub"] == pytest.approx(tau, abs=1e-6)
    assert at_zero["ci_low"] < tau < at_zero["ci_high"] and at_zero["ci_high"] - at_zero["ci_low"] < 0.01
    assert wider["ci_low"] < at_zero["ci_low"] and wider["ci_high"] > at_zero["ci_high"]


def test_smooth_text_says_where_the_sets_first_hold_zero():
    nan = float("nan")
    assert ai.smooth_text(0.0, 0.0, 0.02).startswith("already at $M=0$ (a linear extrapolation")
    assert ai.smooth_text(0.004, 0.004, 0.02) == "at $M=0.004$, with all pre-periods and with the window's alike"
    assert ai.smooth_text(0.004, 0.0, 0.02).startswith("at $M=0.004$ with all pre-periods and already at $M=0$")
    assert (
        ai.smooth_text(nan, 0.01, 0.02) == "at no $M$ up to 0.02 with all pre-periods and at $M=0.01$ with the window's"
    )
    assert ai.smooth_text(nan, nan, 0.02).startswith("at no $M$ up to 0.02, with all")


def test_honest_takes_custom_weights_and_checks_their_length():
    from analysis.estimators import honest

    event = pd.DataFrame(
        {
            "event_time": [-3, -2, -1, 0, 1],
            "estimate": [0.01, -0.01, 0.0, -0.1, -0.2],
            "se": [0.02, 0.02, 0.0, 0.02, 0.03],
        }
    )
    vcov = pd.DataFrame(np.diag([4e-4, 4e-4, 0, 4e-4, 9e-4]), index=event["event_time"], columns=event["event_time"])
    event = event[event["event_time"] != -1]
    vcov = vcov.loc[event["event_time"], event["event_time"]]
    avg = honest.honest(event, vcov, grid=[0.0])
    same = honest.honest(event, vcov, grid=[0.0], target="custom", l_vec=[0.5, 0.5])
    assert same[["ci_low", "ci_high"]].to_numpy() == pytest.approx(avg[["ci_low", "ci_high"]].to_numpy())
    first = honest.honest(event, vcov, grid=[0.0], target="custom", l_vec=[1.0, 0.0])
    assert first["lb"].iloc[0] == pytest.approx(-0.1)
    with pytest.raises(ValueError, match="l_vec"):
        honest.honest(event, vcov, grid=[0.0], l_vec=[1.0])


def test_honest_breakdown_macros(macros):
    from analysis.exhibits.diagnostics import breakdown

    h = pd.read_csv(config.RESULTS / "inference" / "honest_simple.csv")
    for spec, _, name in ai.PRIMARY.values():
        part = h[(h["spec"] == spec) & (h["pre_periods"].astype(str) == "all")]
        assert part["estimate"].iloc[0] == pytest.approx(overall(spec).loc["cs_simple", "estimate"], rel=1e-9)
        rm = part[part["method"] == "relative_magnitude"]
        at_zero = rm[rm["M"] == 0].iloc[0]
        assert at_zero["ci_high"] < 0  # the conventional set excludes zero: a breakdown exists
        b = breakdown(rm, "relative_magnitude")
        assert macros[f"Primary{name}HonestBreakdownAll"] == f"{b:g}"
        below = rm[rm["M"] < b]
        assert (below["ci_high"] < 0).all()
        found = {}
        for pre, label in (("all", "All"), ("5", "Window")):
            sd = h[(h["spec"] == spec) & (h["pre_periods"].astype(str) == pre) & (h["method"] == "smoothness")]
            assert sd["M"].min() == 0 and sd["M"].is_monotonic_increasing
            holds = (sd["ci_low"] <= 0) & (sd["ci_high"] >= 0)
            found[label] = b = breakdown(sd, "smoothness")
            assert macros[f"Primary{name}HonestSmoothBreakdown{label}"] == (
                f"{b:g}" if b == b else f"above {sd['M'].max():g}"
            )
            # every fitted point below the breakdown value excludes zero, the breakdown value itself holds it
            assert not holds[sd["M"] < b].any() and (math.isnan(b) or holds[sd["M"] == b].all())
        assert macros[f"Primary{name}HonestSmoothText"] == ai.smooth_text(found["All"], found["Window"], sd["M"].max())
