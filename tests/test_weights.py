"""Spec weights reach every estimator (Bacon, PPML) and run_spec copes with event studies without a covariance."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyfixest as pf
import pytest

from analysis import config, estimate
from analysis.estimators import bacon, ppml, twfe
from analysis.estimators.simulate import simulate_panel
from analysis.infra.errors import InputError
from analysis.spec import load_spec

TIER = "unit"  # the default tier of these tests (tests/conftest.py)

Y, UNIT, T, G = "log_rate_violent", "fips", "year", "g287_county"


@pytest.fixture(scope="module")
def panel():
    """A balanced simulated panel with a time-invariant weight ``_w``: first-year population, ten times
    larger for the 2004 cohort (whose effects differ most), so weighting visibly moves the estimates."""
    df = simulate_panel(120, seed=5, cohorts=(2004, 2008, 2013))
    return df.assign(_w=df.groupby(UNIT)["population"].transform("first") * np.where(df[G] == 2004, 10, 1))


def _spec(**changes) -> dict:
    spec = load_spec(config.SPECS / "sc_index.yaml")
    return {**spec, "program": "287g", "treatment": G, "control_group": "never_treated", **changes}


def test_weighted_bacon_decomposes_the_weighted_twfe(panel):
    fit, table = bacon.bacon(panel, Y, UNIT, T, G, weights="_w")
    weighted = twfe.static(panel, Y, UNIT, T, G, weights="_w").summary["estimate"]
    unweighted = twfe.static(panel, Y, UNIT, T, G).summary["estimate"]
    assert abs(weighted - unweighted) > 1e-3
    assert table["weight"].sum() == pytest.approx(1.0, abs=1e-10)
    assert (table["estimate"] * table["weight"]).sum() == pytest.approx(weighted, abs=1e-8)
    assert fit.summary["estimate"] == pytest.approx(weighted, abs=1e-8)


def test_weighted_ppml_equals_direct_pyfixest_call(panel):
    df = panel[panel[UNIT].isin(panel[UNIT].unique()[:60])]
    ours = ppml.ppml(df, "violent", UNIT, T, G, weights="_w").summary
    plain = ppml.ppml(df, "violent", UNIT, T, G).summary
    data = df.assign(d=twfe.treated(df, T, G), log_pop=np.log(df["population"]))
    direct = (
        pf.fepois(f"violent ~ d | {UNIT} + {T}", data=data, vcov={"CRV1": UNIT}, offset="log_pop", weights="_w")
        .tidy()
        .loc["d"]
    )
    assert abs(ours["estimate"] - plain["estimate"]) > 1e-4
    assert ours["estimate"] == pytest.approx(direct["Estimate"], abs=1e-8)
    assert ours["se"] == pytest.approx(direct["Std. Error"], rel=1e-6)


def test_run_spec_passes_population_weights_to_bacon_and_ppml(panel):
    overall = estimate.run_spec(_spec(estimators=["twfe", "bacon"]), panel)["overall"].set_index("estimator")
    assert overall.loc["bacon", "estimate"] == pytest.approx(overall.loc["twfe", "estimate"], abs=1e-8)
    counts = {
        w: estimate.run_spec(_spec(transform="count", estimators=["ppml"], weights=w), panel)["overall"]
        for w in ("population", "none")
    }
    assert abs(counts["population"]["estimate"].iloc[0] - counts["none"]["estimate"].iloc[0]) > 1e-4


def test_run_spec_without_event_covariance(tmp_path, panel):
    tables = estimate.run_spec(_spec(estimators=["twfe", "imputation"]), panel)
    assert set(tables["event_study"]["estimator"]) == {"imputation"}
    assert list(tables["event_vcov"].columns) == estimate.VCOV_COLUMNS and tables["event_vcov"].empty
    folder = estimate.write_results("t", tables, root=tmp_path)
    assert pd.read_csv(folder / "event_vcov.csv").empty
    assert set(pd.read_csv(folder / "overall.csv")["estimator"]) == {"twfe", "imputation"}


def test_honest_without_event_study_source_is_refused(panel):
    with pytest.raises(InputError, match="honest needs an event study") as err:
        estimate.run_spec(_spec(estimators=["twfe", "imputation", "honest"]), panel)
    assert err.value.field == "estimators"
