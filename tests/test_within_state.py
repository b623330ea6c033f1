"""The within-state Callaway-Sant'Anna design (analysis/specs/us_287g_index_within_state.yaml): its state
indicators cover every state with a treated county, each of those states has never-treated counties, and a
group-time effect is, as the spec says, the treated counties' change minus the mean change of the
never-treated counties of their own state."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis import config
from analysis.estimate import CLUSTER, TIME, UNIT, prepare
from analysis.estimators import cs
from analysis.sample import read_panel
from analysis.spec import load_spec, outcome_column

TIER = "data"  # the default tier of these tests (tests/conftest.py)


@pytest.fixture(scope="module")
def design():
    spec = load_spec(config.SPECS / "us_287g_index_within_state.yaml")
    df, _, info = prepare(spec, read_panel())
    return spec, df, info


def test_the_indicators_cover_every_treated_state(design):
    spec, df, _ = design
    g = df.groupby(UNIT)[spec["treatment"]].first().fillna(0)
    state = df.groupby(UNIT)["state_fips"].first()
    in_window = (g > 0) & (g <= df[TIME].max())  # adopters after the panel are controls in it
    treated = set(state[in_window])
    indicated = {e["value"] for n, e in spec["derived"].items() if n in spec["baseline_controls"]}
    assert treated <= indicated, f"treated states without an indicator: {sorted(treated - indicated)}"
    never = state[~in_window].value_counts()
    assert all(never.get(s, 0) > 0 for s in treated), "a treated state without never-treated counties"


def test_a_cell_is_the_change_against_the_own_states_controls(design):
    spec, df, info = design
    y, gname = outcome_column(spec), spec["treatment"]
    res = cs.att_gt(
        df,
        y,
        TIME,
        UNIT,
        gname,
        control_group=spec["control_group"],
        est_method=spec["est_method"],
        covariates=info["covariates"],
        cluster=CLUSTER[spec["cluster"]],
        base_period=spec["base_period"],
        bootstrap=0,
    )
    g = pd.Series(res.cohort, index=res.units)  # after recoding: 0 = untreated in the panel
    cohort = int(g[g > 0].value_counts().idxmax())  # the largest cohort
    wide = df.pivot(index=UNIT, columns=TIME, values=y)
    change = wide[cohort + 1] - wide[cohort - 1]
    state = df.groupby(UNIT)["state_fips"].first()
    control_mean = change[g == 0].groupby(state[g == 0]).mean()
    treated = g[g == cohort].index
    hand = float((change[treated] - state[treated].map(control_mean)).mean())
    cell = res.table[(res.table["group"] == cohort) & (res.table["time"] == cohort + 1)]["att"].iloc[0]
    assert cell == pytest.approx(hand, abs=1e-10)
    # and not the pooled comparison: the national mean change of the controls gives another number
    pooled = float(change[treated].mean() - change[g == 0].mean())
    assert abs(pooled - hand) > 1e-4
