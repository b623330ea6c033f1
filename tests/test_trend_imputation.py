"""The paper says the imputation estimator with county trends fitted on untreated observations is not
reported because the maintained libraries do not estimate it. This checks that claim against the
installed versions: when a library gains the feature, this test fails and the row should be added."""

from __future__ import annotations

import inspect
import warnings

import numpy as np
import pandas as pd
import pyfixest as pf
import pytest
from diff_diff import ImputationDiD

TIER = "unit"  # the default tier of these tests (tests/conftest.py)


def tiny() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"u": np.repeat(np.arange(30), 8), "t": np.tile(np.arange(8), 30)})
    df["y"] = rng.normal(size=len(df)) + 0.01 * df["u"] * df["t"]
    df["D"] = ((df["u"] < 10) & (df["t"] >= 4)).astype(int)
    return df


def test_diff_diff_imputation_has_no_unit_trend_option():
    params = set(inspect.signature(ImputationDiD.__init__).parameters) | set(
        inspect.signature(ImputationDiD.fit).parameters
    )
    assert not [p for p in params if "trend" in p.lower() and p != "pretrends"]


@pytest.mark.parametrize("first_stage", ["~ 0 | u + t + u[t]", "~ i(u, t) | u + t"])
def test_pyfixest_did2s_rejects_unit_trends_in_its_first_stage(first_stage):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises((KeyError, NotImplementedError, ValueError)):
            pf.did2s(tiny(), "y", first_stage, "~i(D)", "D", "u")
    pf.did2s(tiny(), "y", "~ 0 | u + t", "~i(D)", "D", "u")  # the plain two-stage estimator runs
