"""Credibility designs (#12 §3): placebo adoption dates, the largest treated county, leave one state
out (analysis.credibility), on hand-built and simulated panels; and the spec results they sit beside."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

from analysis import config, credibility
from analysis.estimate import run_spec
from analysis.estimators.simulate import simulate_panel

TIER = "unit"  # the default tier of these tests (tests/conftest.py)


def hand_panel() -> pd.DataFrame:
    """Three counties 2000-2012: adopts 2006, never, not yet (2015)."""
    rows = [{"fips": f, "year": y, "g": g} for f, g in (("a", 2006), ("b", 0), ("c", 2015)) for y in range(2000, 2013)]
    return pd.DataFrame(rows)


def test_placebo_rows_keep_only_years_before_the_true_adoption_and_shift_the_date():
    out = credibility.placebo_rows(hand_panel(), "g", 3)
    a = out[out["fips"] == "a"]
    assert a["year"].tolist() == list(range(2000, 2006)) and (a["g"] == 2003).all()
    for f, g in (("b", 0), ("c", 2015)):  # never and not-yet-treated: every year, date unchanged
        part = out[out["fips"] == f]
        assert len(part) == 13 and (part["g"] == g).all()


def test_shifted_keeps_every_row():
    out = credibility.shifted(hand_panel(), "g", 2)
    assert len(out) == 39 and set(out.groupby("fips")["g"].first()) == {2004, 0, 2015}


def test_largest_treated_county_ignores_controls_and_later_adopters():
    df = hand_panel().assign(
        population=lambda d: d["fips"].map({"a": 10, "b": 1000, "c": 500}),
        county_name=lambda d: "County " + d["fips"],
        state="XX",
    )
    assert credibility.largest(df, "g") == ("a", "County a, XX")
    with pytest.raises(ValueError, match="no county adopts"):
        credibility.largest(df.assign(g=0), "g")


@pytest.fixture(scope="module")
def simulated():
    return simulate_panel(n_counties=300, seed=7, cohorts=(2005, 2007, 2009, 2013))


def _placebo(spec, panel):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rows, n = credibility.placebo(spec, panel)
    return rows.set_index("estimator"), n


def test_placebo_is_zero_without_pre_trends_though_the_true_effect_is_not(simulated):
    spec = {**credibility.headline("287g"), "bootstrap": 0}
    rows, n = _placebo(spec, simulated)
    assert n > 50
    for est in ("twfe", "cs_dynamic"):
        assert abs(rows.loc[est, "estimate"]) < 3 * rows.loc[est, "se"] + 0.005, est
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        true = run_spec(spec, simulated)["overall"].set_index("estimator")
    assert true.loc["twfe", "estimate"] < -0.05  # the real design sees the simulated effect


def test_placebo_detects_a_pre_trend_of_the_treated(simulated):
    spec = {**credibility.headline("287g"), "bootstrap": 0}
    treated = (simulated["g287_county"] > 0) & (simulated["g287_county"] <= config.LAST_YEAR)
    trend = simulated.assign(
        log_rate_index=simulated["log_rate_index"] - 0.03 * (simulated["year"] - config.FIRST_YEAR) * treated
    )
    rows, _ = _placebo(spec, trend)
    for est in ("twfe", "cs_dynamic"):
        assert rows.loc[est, "estimate"] < -0.03 and rows.loc[est, "ci_high"] < 0, est


def test_loso_runs_every_state_once(simulated):
    # the counties of five of the 20 simulated states (one run_spec per state: 20 would take four times as long)
    simulated = simulated[simulated["state"].isin(sorted(simulated["state"].unique())[:5])]
    spec = {**credibility.headline("287g"), "bootstrap": 0}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = credibility.loso(spec, simulated, "287g")
    states = sorted(simulated["state"].unique())
    assert len(states) == 5
    assert sorted(table["state"].unique()) == states
    assert len(table) == 2 * len(states)
    full = simulated.groupby("state")["fips"].nunique()
    for r in table[table["estimator"] == "twfe"].itertuples():  # each run lost exactly its state's counties
        assert r.n_units == simulated["fips"].nunique() - full[r.state]


def test_loso_states_are_those_with_a_dated_county(simulated):
    """A state whose counties all lack a treatment date is in no estimator's sample: no run of its own."""
    spec = credibility.headline("287g")
    first = sorted(simulated["state"].unique())[0]
    undated = simulated.assign(g287_county=simulated["g287_county"].where(simulated["state"] != first))
    assert first in credibility.states(spec, simulated)
    assert first not in credibility.states(spec, undated)
    assert len(credibility.states(spec, undated)) == simulated["state"].nunique() - 1


def test_loco_drops_each_cohort_in_turn(simulated):
    spec = {**credibility.headline("287g"), "bootstrap": 0}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = credibility.loco(spec, simulated, "287g")
    g = simulated.groupby("fips")["g287_county"].first()
    assert sorted(table["cohort"].unique()) == [2005, 2007, 2009]  # 2013 is after the window: a control
    for r in table[table["estimator"] == "twfe"].itertuples():
        assert r.n_units == len(g) - (g == r.cohort).sum()


def test_results_of_the_loops_are_built():
    path = config.RESULTS / "credibility" / "estimates.csv"
    if not path.exists():
        pytest.skip("make estimates first")
    est = pd.read_csv(path)
    assert set(zip(est["program"], est["design"])) == {
        (p, d) for p in ("287g", "sc") for d in ("placebo", "drop_largest", "sdid")
    }
    loso = pd.read_csv(config.RESULTS / "credibility" / "loso.csv")
    for program, part in loso.groupby("program"):  # every run leaves out some county (AK, HI: none in SC)
        full = pd.read_csv(config.RESULTS / credibility.HEADLINE[program] / "overall.csv").set_index("estimator")
        assert (part.loc[part["estimator"] == "twfe", "n_units"] < full.loc["twfe", "n_units"]).all(), program
    syn = pd.read_csv(config.RESULTS / "credibility" / "sdid.csv")
    for program, part in syn.groupby("program"):  # the aggregate is the weighted mean of the cohorts with an SE
        part = part[part["se"].notna()]
        w = part["n_treated"] * part["n_post"]
        row = est[(est["program"] == program) & (est["estimator"] == "sdid")].iloc[0]
        assert row["estimate"] == pytest.approx((w * part["estimate"]).sum() / w.sum(), abs=1e-9)
        assert row["se"] == pytest.approx((w * part["se"]).sum() / w.sum(), abs=1e-9)
    loso = pd.read_csv(config.RESULTS / "credibility" / "loso.csv")
    assert loso.groupby(["program", "estimator"]).size().min() >= 40
    loco = pd.read_csv(config.RESULTS / "credibility" / "loco.csv")
    assert set(loco["program"]) == {"287g", "sc"} and (loco.groupby(["program", "estimator"]).size() >= 5).all()
