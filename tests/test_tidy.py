"""The shared inference helper: normal CIs and p-values, with no p-value where the se is zero."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy import stats

from analysis.estimators.tidy import normal_inference

TIER = "unit"  # the default tier of these tests (tests/conftest.py)


def test_normal_inference_values():
    got = normal_inference(np.array([1.0, -2.0]), np.array([0.5, 1.0]), alpha=0.10)
    z = stats.norm.ppf(0.95)
    np.testing.assert_allclose(got["ci_low"], [1 - z * 0.5, -2 - z])
    np.testing.assert_allclose(got["pvalue"], 2 * stats.norm.sf([2.0, 2.0]))


def test_zero_or_missing_se_gives_no_p_value_and_no_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = normal_inference(np.array([0.0, 0.3, 1.0]), np.array([0.0, 0.0, np.nan]))
        scalar = normal_inference(0.0, 0.0)
    assert np.isnan(got["pvalue"]).all() and np.isnan(scalar["pvalue"])
    assert normal_inference(1.0, 0.5)["pvalue"] == pytest.approx(2 * stats.norm.sf(2.0))
