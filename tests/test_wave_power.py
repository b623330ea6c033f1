"""The power simulation of the 2025-2026 wave (analysis.wave_power) on hand-built and simulated data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import wave_power as wp
from analysis.estimators import cs, twfe
from analysis.estimators.simulate import simulate_panel

TIER = "unit"  # the default tier of these tests (tests/conftest.py)


def _timing(states: list[str], n_per_state: int = 12, seed: int = 0) -> pd.DataFrame:
    """Wave timing for counties 'SS000'..: in each state a third adopt in the wave (2025 or 2026),
    one county before it."""
    rng = np.random.default_rng(seed)
    rows = []
    for s, st in enumerate(states):
        for i in range(n_per_state):
            fips = f"{s + 1:02d}{i:03d}"
            wave, pre = i % 3 == 0, i == 1
            month = pd.Timestamp(f"{2025 + (i % 2)}-{1 + rng.integers(12):02d}-01") if wave else pd.NaT
            rows.append(
                {
                    "fips": fips,
                    "panel_fips": fips,
                    "state": st,
                    "adopted": wave or pre,
                    "wave_adopter": wave,
                    "first_month": pd.Timestamp("2021-01-01") if pre else month,
                }
            )
    t = pd.DataFrame(rows)
    t["first_year"] = t["first_month"].dt.year.astype("Int64")
    return t


@pytest.fixture(scope="module")
def sim():
    """A simulated 2000-2012 panel (no effect) and a wave timing for its counties."""
    panel = simulate_panel(n_counties=240, seed=3, effect=lambda g, e: np.zeros_like(e, dtype=float))
    counties = panel.drop_duplicates("fips")
    rng = np.random.default_rng(5)
    wave = rng.random(len(counties)) < 0.3
    pre = ~wave & (rng.random(len(counties)) < 0.05)
    month = [
        pd.Timestamp(f"{rng.choice([2025, 2026])}-{rng.integers(1, 13):02d}-01")
        if w
        else (pd.Timestamp("2021-01-01") if p else pd.NaT)
        for w, p in zip(wave, pre)
    ]
    timing = pd.DataFrame(
        {
            "fips": counties["fips"].to_numpy(),
            "panel_fips": counties["fips"].to_numpy(),
            "state": counties["state"].to_numpy(),
            "adopted": wave | pre,
            "wave_adopter": wave,
            "first_month": month,
        }
    )
    timing["first_year"] = timing["first_month"].dt.year.astype("Int64")
    population = panel[panel["year"] == 2012].set_index("fips")["population"]
    return panel, timing, population


def test_structure_shares_and_months():
    timing = _timing(["AA", "BB"])
    pop = pd.Series(np.arange(1, len(timing) + 1) * 1000.0, index=timing["fips"])
    cells, months, cuts = wp.structure(timing, pop)
    assert len(cuts) == wp.SIZE_BINS - 1
    assert cells["counties"].sum() == len(timing)
    # every cell's wave share is its counties' mean of wave_adopter
    t = timing.assign(size=np.searchsorted(cuts, pop.to_numpy(), side="right"))
    expect = t.groupby(["state", "size"])["wave_adopter"].mean().to_numpy()
    assert np.allclose(cells["p_wave"].to_numpy(), expect)
    assert sorted(months) == ["AA", "BB"]
    assert len(months["AA"]) == timing[(timing["state"] == "AA") & timing["wave_adopter"]].shape[0]


def test_draw_is_seeded_and_respects_cells():
    timing = _timing(["AA", "BB"])
    pop = pd.Series(np.arange(1, len(timing) + 1) * 1000.0, index=timing["fips"])
    cells, months, cuts = wp.structure(timing, pop)
    counties = pd.DataFrame(
        {
            "fips": [f"9{i:04d}" for i in range(400)],
            "state": ["AA"] * 200 + ["CC"] * 200,
            "size": np.tile([0, 1, 2, 0], 100),
        }
    )
    a = wp.draw(counties, cells, months, np.random.default_rng(1))
    b = wp.draw(counties, cells, months, np.random.default_rng(1))
    pd.testing.assert_frame_equal(a, b)
    # a state without wave adopters (CC) never adopts; AA's adopters take AA's months
    assert (a.loc[200:, "status"] == "none").all()
    wave = a[a["status"] == "wave"]
    assert len(wave) > 20
    assert set(zip(wave["wave_year"], wave["month"])) <= set(months["AA"])
    share = (a.loc[:199, "status"] == "wave").mean()
    expected = counties[:200].merge(cells, on=["state", "size"])["p_wave"].mean()
    assert abs(share - expected) < 0.1


def test_placebo_panel_codes_years_exposure_and_drops():
    sample = pd.DataFrame({"fips": np.repeat(["a", "b", "c", "d"], 13), "year": np.tile(range(2000, 2013), 4)})
    placebo = pd.DataFrame(
        {
            "fips": ["a", "b", "c", "d"],
            "status": ["wave", "wave", "pre", "none"],
            "wave_year": [2025, 2026, 0, 0],
            "month": [7, 1, 0, 0],
        }
    )
    one = wp.placebo_panel(sample, placebo, 1)
    assert one["year"].max() == 2010
    assert sorted(one["fips"].unique()) == ["a", "d"]  # pre-wave left out; 2026 adopter after the data
    a = one[one["fips"] == "a"].set_index("year")
    assert a.at[2010, "g"] == 2010 and a.at[2010, "x"] == pytest.approx(0.5) and a.at[2009, "x"] == 0
    three = wp.placebo_panel(sample, placebo, 3)
    b = three[three["fips"] == "b"].set_index("year")
    assert b.at[2011, "g"] == 2011 and b.at[2011, "x"] == 1.0 and b.at[2012, "D"] == 1 and b.at[2010, "D"] == 0
    assert three.loc[three["fips"] == "d", "g"].eq(0).all()


def _placebo(sim, seed=2):
    panel, timing, population = sim
    cells, months, cuts = wp.structure(timing, population)
    return wp.draw(wp.counties_of(panel, cuts), cells, months, np.random.default_rng(seed))


def test_within_state_equals_package_twfe(sim):
    panel = sim[0]
    df = wp.placebo_panel(panel, _placebo(sim), 3)
    ours = wp.fit_within_state(df, ["log_rate_index", "log_rate_violent"])
    df = df.assign(sy=df["state"].astype(str) + "_" + df["year"].astype(str))
    for y in ("log_rate_index", "log_rate_violent"):
        by_county = twfe.static(df, y, "fips", "year", "g", fe=["fips", "sy"]).summary
        by_state = twfe.static(df, y, "fips", "year", "g", fe=["fips", "sy"], cluster="state_fips").summary
        assert ours[y][0] == pytest.approx(by_county["estimate"], abs=1e-8)
        assert ours[y][1] == pytest.approx(by_state["se"], rel=1e-6)
        assert ours[y][2] == pytest.approx(by_county["se"], rel=1e-6)  # the plan's inference
        assert by_state["n_clusters"] == df["state_fips"].nunique() < by_county["n_clusters"]


def test_state_clustered_se_equals_att_gt_with_state_clusters(sim):
    df = wp.placebo_panel(sim[0], _placebo(sim), 3)
    est, se_county, se_state = wp.fit_cs(df, "log_rate_index")
    ref = cs.aggregate(cs.att_gt(df, "log_rate_index", "year", "fips", "g", cluster="state_fips"), "simple")
    assert est == pytest.approx(ref.overall_att, abs=1e-12)
    assert se_state == pytest.approx(ref.overall_se, rel=1e-10)
    assert se_state != pytest.approx(se_county, rel=1e-3)


def test_cs_sum_equals_the_fit_on_the_summed_outcome(sim):
    """Callaway-Sant'Anna without covariates is linear in the outcome: the cells and influence functions of
    y + x are those of y plus those of x, and so are the simple ATT and both SEs."""
    df = wp.placebo_panel(sim[0], _placebo(sim), 3)
    df = df.assign(plus=df["log_rate_index"] + df["x"])
    y, x, direct = (wp.cs_cells(df, c) for c in ("log_rate_index", "x", "plus"))
    summed = wp.cs_sum(y, x)
    assert np.allclose(summed.table["att"], direct.table["att"], rtol=0, atol=1e-12)
    assert np.allclose(summed.inf, direct.inf, rtol=0, atol=1e-10)
    assert wp.cs_summary(df, summed) == pytest.approx(wp.cs_summary(df, direct), rel=1e-10, abs=1e-13)
    assert "se" not in summed.table  # the cells' own SEs are not carried over
    short = df[~((df["fips"] == df["fips"].iloc[0]) & (df["year"] == 2003))]
    with pytest.raises(ValueError, match="different units or cells"):
        wp.cs_sum(wp.cs_cells(short, "log_rate_index"), x)


@pytest.mark.parametrize("design", wp.DESIGNS)
def test_three_fits_give_every_effect_exactly(sim, design):
    """est(tau) and se(tau) from the fits on y, x and y + x equal a fit on y + tau x."""
    panel = sim[0]
    df = wp.placebo_panel(panel, _placebo(sim), 2)
    df = df.assign(plus=df["log_rate_index"] + df["x"])
    fits = {
        "cs": lambda y: wp.fit_cs(df, y)[:2],
        "cs_state": lambda y: wp.fit_cs(df, y)[::2],
        "within_state": lambda y: wp.fit_within_state(df, [y])[y][::2],
        "within_state_state": lambda y: wp.fit_within_state(df, [y])[y][:2],
    }
    fit = fits[design]
    (e0, s0), (ex, sx), (_, s1) = fit("log_rate_index"), fit("x"), fit("plus")
    for tau in (-0.2, 0.07, 0.3):
        df["inj"] = df["log_rate_index"] + tau * df["x"]
        est, se = fit("inj")
        assert e0 + tau * ex == pytest.approx(est, abs=1e-9)
        assert np.sqrt(s0**2 + tau * (s1**2 - s0**2 - sx**2) + tau**2 * sx**2) == pytest.approx(se, rel=1e-6)


def test_power_and_mde_on_hand_built_replications():
    """With est(0) = 0 and SE 0.01 the test rejects exactly when |tau| > 1.96 x 0.01: MDE 0.02."""
    reps = pd.DataFrame(
        {
            "rep": range(4),
            "horizon": 1,
            "design": "cs",
            "outcome": "index",
            "est0": 0.0,
            "se0": 0.01,
            "est_x": 1.0,
            "se_x": 0.0,
            "se_sum": 0.01,
            "counties": 100,
            "treated": 30,
        }
    )
    power = wp.power_table(reps)
    assert power.loc[power["effect"] == 0, "power"].item() == 0
    assert power.loc[power["effect"] == 0.02, "power"].item() == 1
    assert power.loc[power["effect"] == 0.0175, "power"].item() == 0
    mde = wp.mde_table(power, reps)
    assert mde["mde"].item() == 0.02
    assert mde["mde_analytic"].item() == pytest.approx((1.959964 + 0.841621) * 0.01, rel=1e-5)
    # half the replications with a placebo estimate of +0.03: they reject at tau = 0 (size 0.5), and an
    # effect is detected at 80% only when both halves reject for both signs
    reps.loc[:1, "est0"] = 0.03
    power = wp.power_table(reps)
    mde = wp.mde_table(power, reps)
    assert mde["size"].item() == 0.5
    assert mde["mde_empirical"].item() == pytest.approx((1.959964 + 0.841621) * np.sqrt(0.03**2 / 2), rel=1e-5)
    assert mde["bias"].item() == pytest.approx(0.015)
    assert mde["mde"].item() == pytest.approx(0.05)  # -tau: |0.03 - tau| > 0.0196 needs tau > 0.0496


def test_injected_effect_is_detected_in_a_simulated_panel(sim):
    """On simulated data with a real effect of -0.15 added to the placebo adopters, the CS estimate
    recovers -0.15 x exposure and the test rejects; with no effect the estimate is near 0."""
    panel = sim[0]
    df = wp.placebo_panel(panel, _placebo(sim, seed=4), 3)
    est0, se0, _ = wp.fit_cs(df, "log_rate_index")
    assert abs(est0) < 3 * se0
    ex = wp.fit_cs(df, "x")[0]
    df["inj"] = df["log_rate_index"] - 0.15 * df["x"]
    est, se, _ = wp.fit_cs(df, "inj")
    assert est == pytest.approx(est0 - 0.15 * ex, abs=1e-9)
    assert abs(est + 0.15 * ex) < 3 * se and abs(est) / se > 1.96


def test_injected_effect_is_recovered_by_the_primary_within_state_design(sim):
    """The plan's primary design (county and state x year effects, county clusters) on simulated data:
    about 0 without an effect, -0.15 x exposure with one, and the county-clustered test rejects."""
    df = wp.placebo_panel(sim[0], _placebo(sim, seed=4), 3)
    df["inj"] = df["log_rate_index"] - 0.15 * df["x"]
    fits = wp.fit_within_state(df, ["log_rate_index", "x", "inj"])
    (est0, _, se0), (ex, _, _), (est, _, se) = fits["log_rate_index"], fits["x"], fits["inj"]
    assert abs(est0) < 3 * se0 and 0.5 < ex <= 1
    assert est == pytest.approx(est0 - 0.15 * ex, abs=1e-9)
    assert abs(est + 0.15 * ex) < 3 * se and abs(est) / se > 1.96


def test_run_is_deterministic_and_complete(sim):
    a = wp.run(reps=2, inputs=sim)
    b = wp.run(reps=2, inputs=sim)
    for name in ("replications", "power", "mde"):
        pd.testing.assert_frame_equal(a[name], b[name])
    assert a["meta"] == b["meta"]
    assert set(a["mde"]["design"]) == set(wp.DESIGNS) and set(a["mde"]["horizon"]) == set(wp.HORIZONS)
    # the plan's primary design (within state, county clusters) heads the MDE table
    assert wp.DESIGNS[0] == "within_state" and list(a["mde"]["design"].drop_duplicates()) == list(wp.DESIGNS)
    assert len(a["replications"]) == 2 * len(wp.HORIZONS) * len(wp.DESIGNS) * len(wp.WAVE_OUTCOMES)
    c = wp.run(reps=2, seed=7, inputs=sim)
    assert not a["replications"]["est0"].equals(c["replications"]["est0"])
