"""Callaway–Sant'Anna pre-tests: the cell-level Wald test returns no statistic on a singular covariance
(as R did), while the joint test of the event-study leads stays well posed and has power."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.estimators import cs
from analysis.estimators.simulate import simulate_panel

TIER = "unit"  # the default tier of these tests (tests/conftest.py)

Y, UNIT, T, G = "log_rate_index", "fips", "year", "g287_county"


def fit(panel):
    return cs.att_gt(panel, Y, T, UNIT, G, base_period="universal")


@pytest.fixture(scope="module")
def panel():
    return simulate_panel(800, seed=11)


def test_single_unit_cohorts_make_the_cell_test_singular_but_not_the_leads(panel):
    """Cohorts 2005 and 2007 with one treated county each: no treated-unit variation, so under a
    universal base period their pre-period cells differ by period-constant terms (rank deficient)."""
    first = panel.drop_duplicates(UNIT).set_index(UNIT)[G]
    keep = list(first.index[first == 0]) + [first.index[first == g][0] for g in (2005, 2007)]
    res = fit(panel[panel[UNIT].isin(keep)])
    cells = cs.pretest(res)
    assert cells["test"] == "cells (R did)" and cells["df"] == 10  # 2005 x 2000-03, 2007 x 2000-05
    assert np.isnan(cells["W"]) and np.isnan(cells["pvalue"])
    assert "singular covariance" in cells["note"]
    assert cells["note"].endswith(
        "2 cohorts have no more treated units than pre-period cells "
        "(units/cells g=2005: 1/4, g=2007: 1/6), 2 of them a single unit"
    )
    leads = cs.pretest_leads(cs.aggregate(res, "dynamic"))
    assert leads["test"] == "event-study leads" and leads["df"] == 6  # e = -7..-2; e = -1 is the base
    # finite, though not to be trusted here: one treated county per cohort puts no treated-unit noise in the SEs
    assert np.isfinite(leads["W"]) and leads["W"] > 0 and np.isfinite(leads["pvalue"])
    assert leads["note"] == "event times -7, -6, -5, -4, -3, -2"


def test_leads_test_keeps_parallel_pre_trends_and_rejects_an_injected_pre_trend(panel):
    res = fit(panel)
    agg = cs.aggregate(res, "dynamic", -5, 5)
    clean = cs.pretest_leads(agg)
    assert clean["df"] == 4 and clean["pvalue"] > 0.05  # e = -5..-2
    assert cs.pretest(res)["pvalue"] > 0.05  # well-posed here: the cell test agrees
    e = panel[T] - panel[G]
    trend = panel.assign(**{Y: panel[Y] + np.where((panel[G] > 0) & (e < 0), 0.02 * e, 0.0)})
    assert cs.pretest_leads(cs.aggregate(fit(trend), "dynamic", -5, 5))["pvalue"] < 0.01


def test_leads_test_needs_the_dynamic_aggregation(panel):
    with pytest.raises(ValueError, match="dynamic"):
        cs.pretest_leads(cs.aggregate(fit(panel), "group"))
