"""The multiverse exhibits: the generated conclusion follows the joint tests; the macros and the curve
come from the tables."""

from __future__ import annotations

import pandas as pd

from analysis.exhibits import multiverse as mx

TIER = "unit"  # the default tier of these tests (tests/conftest.py)


def joint(p_median, p_neg):
    return pd.DataFrame(
        {
            "statistic": ["median", "share_positive", "share_negative"],
            "observed": [-5.0, 0.0, 0.8],
            "null_median": [0.0, 0.0, 0.1],
            "null_q95": [2.0, 0.1, 0.3],
            "p_value": [p_median, 1.0, p_neg],
            "draws": [99] * 3,
        }
    )


def test_conclusion_follows_the_p_values():
    assert mx.conclusion({"287g": joint(0.01, 0.01), "sc": joint(0.02, 0.03)}).startswith("for both programs")
    assert mx.conclusion({"287g": joint(0.01, 0.01), "sc": joint(0.2, 0.03)}).startswith("only for 287(g)")
    assert mx.conclusion({"287g": joint(0.5, 0.01), "sc": joint(0.2, 0.6)}).startswith("for neither")


def test_macros_and_curve_from_the_tables():
    est = pd.DataFrame(
        {
            "id": ["a", "b", "c"],
            "sample": ["main", "covind90", "main"],
            "outcome": ["index"] * 3,
            "reported": ["twfe"] * 3,
            "effect_pct": [-10.0, 2.0, -3.0],
            "estimate": [-0.1, 0.02, -0.03],
            "se": [0.01, 0.05, 0.001],
            "pvalue": [0.0, 0.7, 0.0],
        }
    )
    m = mx.macros("287g", {"estimates": est, "joint": joint(0.04, 0.02), "exclusions": pd.DataFrame({"id": ["x"]})})
    assert m["MvNationalSpecs"] == "3" and m["MvNationalExcluded"] == "1" and m["MvNationalNSigNeg"] == "2"
    assert m["MvNationalMin"] == "$-$10.0" and m["MvNationalMax"] == "2.0" and m["MvNationalDimensions"] == "1"
    assert m["MvNationalMedianVerdict"].startswith("further from zero")
    pts = mx.curve_frame(est)
    assert list(pts["id"]) == ["a", "c", "b"] and list(pts["sign"]) == ["negative", "negative", "none"]
    assert pts.loc[0, "lo"] < -10 < pts.loc[0, "hi"]


def test_median_verdict_counts_the_null_curves_from_p():
    """p = (1 + #)/(1 + draws): p = 0.02 of 49 draws is no null curve as far from zero (not "2% of them"),
    p = 0.04 of 99 draws is 3 of them; above 0.05 the median is within the null range."""
    assert mx.median_verdict(1 / 50, 49).startswith("further from zero than in every one of the 49 null curves")
    assert mx.median_verdict(4 / 100, 99) == "further from zero than in all but 3 of the 99 null curves"
    assert mx.median_verdict(0.3, 99) == "within the range of the null curves"
