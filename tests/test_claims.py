"""The results section's pattern statements (analysis.exhibits.claims): each rule says what the numbers say,
in both directions, and the built paper's statements agree with the results files they describe."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis import config
from analysis.exhibits import claims
from analysis.exhibits.numbers import parse

TIER = "unit"  # the default tier of these tests (tests/conftest.py)


def test_signs_and_outcome_comparison():
    assert claims.sign_words([-0.1, -0.2]) == "are negative"
    assert claims.sign_words([0.1, 0.2]) == "are positive"
    assert claims.sign_words([-0.1, 0.2]) == "differ in sign"
    assert claims.outcome_compare(-0.11, -0.05).startswith("Violent crime falls more")
    assert claims.outcome_compare(-0.02, -0.05).startswith("Violent crime falls less")
    assert claims.outcome_compare(0.08, 0.05).startswith("Violent crime rises more")
    assert "opposite directions" in claims.outcome_compare(-0.02, 0.05)


def _event(post: list[float], pre_ci_excludes: int = 0, gap: float = 0.0) -> pd.DataFrame:
    rows = []
    for est in ("event_twfe", "cs", "sunab"):
        shift = gap if est == "sunab" else 0.0
        for i, e in enumerate([-4, -3, -2]):
            lo = 0.01 if i < pre_ci_excludes and est == "cs" else -0.05
            rows.append({"estimator": est, "event_time": e, "estimate": 0.0, "se": 0.02, "ci_low": lo, "ci_high": 0.05})
        for e, b in enumerate(post):
            rows.append(
                {
                    "estimator": est,
                    "event_time": e,
                    "estimate": b + shift,
                    "se": 0.02,
                    "ci_low": b - 0.04,
                    "ci_high": b + 0.04,
                }
            )
    return pd.DataFrame(rows)


def test_event_text_follows_the_coefficients():
    text = claims.event_text(_event([-0.01, -0.03, -0.06, -0.09]))
    assert text.startswith("no pre-adoption coefficients") and "effects that grow with time" in text
    assert "at most 0.000 apart" in text
    text = claims.event_text(_event([-0.09, -0.03, -0.06, -0.01], pre_ci_excludes=2, gap=0.03))
    assert text.startswith("2 of 9 pre-adoption coefficients") and "do not grow steadily" in text
    assert "at most 0.030 apart" in text and "1.5 times the median" in text
    assert "do not grow" in claims.event_text(_event([0.02, -0.03, -0.06, -0.09]))  # a change of sign


def test_verdicts_in_both_directions():
    assert claims.honest_verdict(1.0) == "puts the 287(g) result on thin ice"  # the set holds zero at Mbar = 1
    assert claims.honest_verdict(0.5) == "puts the 287(g) result on thin ice"
    assert claims.honest_verdict(1.5).startswith("leaves the 287(g) result standing")
    assert "large counties" in claims.weights_verdict(-0.04, -0.001)
    assert "large counties" in claims.weights_verdict(-0.04, 0.01)
    assert "similar size" in claims.weights_verdict(-0.04, -0.03)
    plain = pd.Series({"estimate": -0.04, "pvalue": 0.001})
    assert claims.trends_verdict(plain, pd.Series({"estimate": -0.005, "pvalue": 0.6})).endswith("too")
    assert "does not vanish" in claims.trends_verdict(plain, pd.Series({"estimate": -0.03, "pvalue": 0.01}))
    assert "does not vanish" in claims.trends_verdict(plain, pd.Series({"estimate": -0.05, "pvalue": 0.3}))
    assert claims.agree_words([0.054, 0.2], "agree with them") == "agree with them"
    assert claims.agree_words([0.01, 0.2], "agree with them") == "do not agree with them"
    assert claims.agree_words([0.3, 0.04], "agree too") == "do not agree"


def test_abstract_rules():
    assert claims.firm([0.01, 0.02], 1.5)
    assert not claims.firm([0.052, 0.009], 1.5)  # one randomization-inference scheme does not reject
    assert not claims.firm([0.01, 0.02], 1.0)  # the robust set holds zero at Mbar = 1
    assert not claims.firm([0.01, 0.02], 0.08)
    assert claims.firm([0.01], float("nan"))  # no breakdown on the grid
    ri = {"unrestricted": 0.052, "within_state": 0.009, "within_size3_2000": 0.005}
    assert claims.fragile_text(ri, 0.08) == (
        "show that the 287(g) estimate is fragile: the primary estimand's robust confidence set includes zero "
        "from $\\bar M=0.08$; permuting adoption across all counties ($p=0.052$) does not reject at 5\\%, "
        "though permuting within states ($p=0.009$) and within population terciles ($p=0.005$) does"
    )
    assert claims.fragile_text({"unrestricted": 0.01}, 0.5).endswith("includes zero from $\\bar M=0.5$")
    assert claims.fragile_text({"unrestricted": 0.01}, 1.5) == "do not show the 287(g) estimate to be fragile"
    assert claims.fragile_text({"unrestricted": 0.2}, 1.5).endswith(
        "across all counties ($p=0.200$) does not reject at 5\\%"
    )
    with pytest.raises(ValueError, match="within_county"):
        claims.fragile_text({"within_county": 0.2}, 1.5)
    assert claims.change_words(-6.6, -5.7).startswith("fell by 6.6")
    assert claims.change_words(2.0, 1.0).startswith("rose by 2.0")
    assert claims.change_words(-2.0, 1.0) == "changed by $-$2.0\\% (TWFE) and 1.0\\% (Callaway--Sant'Anna)"
    plain = pd.Series({"estimate": -0.04, "pvalue": 0.001})
    assert claims.trends_abstract(plain, pd.Series({"estimate": -0.008, "pvalue": 0.2})).startswith("shrinks to")
    assert "unlike" in claims.trends_abstract(plain, pd.Series({"estimate": -0.05, "pvalue": 0.01}))


# ---- On the built paper -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def macros():
    if not config.NUMBERS.exists():
        pytest.skip("numbers.tex not built (make exhibits)")
    return parse(config.NUMBERS)


def _overall(spec: str) -> pd.DataFrame:
    return pd.read_csv(config.RESULTS / spec / "overall.csv").set_index("estimator")


@pytest.mark.data
def test_the_papers_statements_agree_with_the_results(macros):
    violent = _overall("us_287g_violent").loc["cs_simple", "estimate"]
    prop = _overall("us_287g_property").loc["cs_simple", "estimate"]
    assert ("falls more" in macros["NationalOutcomeCompare"]) == (violent < prop < 0)
    honest = pd.read_csv(config.RESULTS / "us_287g_index" / "honest.csv")
    at_one = honest[(honest["method"] == "relative_magnitude") & (honest["M"] == 1)].iloc[0]
    assert ("thin ice" in macros["NationalHonestVerdict"]) == (at_one["ci_low"] <= 0 <= at_one["ci_high"])
    sc = _overall("sc_index")
    negative = sc.loc["cs_simple", "estimate"] < 0 and sc.loc["sunab", "estimate"] < 0
    assert (macros["ScRobustSigns"] == "are negative") == negative
    nc = [_overall(f"nc_287g_{o}") for o in ("violent", "property")]
    assert (macros["NcWildVerdict"] == "agree with them") == all(t.loc["wild", "pvalue"] >= 0.05 for t in nc)
    assert (macros["NcTwfeSigns"] == "are negative") == all(t.loc["twfe", "estimate"] < 0 for t in nc)
    ev = pd.read_csv(config.RESULTS / "us_287g_index" / "event_study.csv")
    pre = ev[(ev["event_time"] < -1) & ev["estimator"].isin(["event_twfe", "cs", "sunab"])]
    off = ((pre["ci_low"] > 0) | (pre["ci_high"] < 0)).sum()
    assert macros["NationalEventText"].startswith("no pre-adoption") == (off == 0)
    paper = (config.PAPER / "paper.tex").read_text()
    ri = pd.read_csv(config.RESULTS / "ri_287g" / "ri.csv")["p_perm"]
    if (ri >= 0.05).any():
        assert macros["NationalFirmVerdict"] == "do not support a firm conclusion"
        assert "does not reject" in macros["NationalFragile"]
    for name in [
        "NationalAbstractChange",
        "NationalFirmVerdict",
        "NationalFragile",
        "ScAbstractTrends",
        "NationalOutcomeCompare",
        "NationalEventText",
        "NationalHonestVerdict",
        "ScRobustSigns",
        "ScWeightsVerdict",
        "ScTrendsVerdict",
        "NcTwfeSigns",
        "NcWildVerdict",
        "NcCsVerdict",
        "NcPreTrendText",
    ]:
        assert "\\" + name in paper, name
