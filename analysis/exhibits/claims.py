"""The results section's statements about patterns, each generated from the numbers it describes, so
that no "falls more", "are negative" or "nearly coincide" is typed into the text (issue #12 §5). Each
rule is stated in its function's docstring; the paper prints the numbers beside the words.

Macros:

* ``NationalAbstractChange``, ``NationalFirmVerdict``, ``NationalFragile``, ``ScAbstractTrends`` - the
  abstract's and the limitations' statements: the direction of the 287(g) estimates, whether
  randomization inference (every scheme) and HonestDiD (the primary estimand, all pre-periods) support a
  firm conclusion (firm; ``NationalFragile`` names the schemes and the breakdown value behind the
  verdict), and what county trends do to the SC estimate;
* ``NationalOutcomeCompare`` - violent against property crime (Callaway-Sant'Anna simple ATTs);
* ``NationalEventText`` - the 287(g) event study (figure event_287g): how many pre-adoption
  coefficients have pointwise intervals that exclude zero, whether the CS effects grow with time since
  adoption, and how far apart the three estimators are (in log points and median standard errors);
* ``NationalHonestVerdict`` - what the relative-magnitude breakdown value says about the 287(g) result;
* ``ScRobustSigns`` - the signs of the SC Callaway-Sant'Anna and Sun-Abraham estimates;
* ``ScWeightsVerdict`` - whether the SC TWFE estimate's size comes from the large counties;
* ``ScTrendsVerdict`` - whether the SC TWFE estimate survives county trends;
* ``NcTwfeSigns``, ``NcWildVerdict``, ``NcCsVerdict``, ``NcPreTrendText`` - North Carolina: the signs
  of the TWFE estimates, whether inference suited to few clusters (wild bootstrap) and Callaway-Sant'Anna
  agree with the published null, and what the event-study leads show.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis import config
from analysis.exhibits import inputs
from analysis.exhibits.event_studies import SERIES, event_table
from analysis.exhibits.headline import fmt_p_text, pct
from analysis.exhibits.numbers import fmt_int, fmt_num
from analysis.exhibits.robustness import RI_SCHEMES

ALPHA = 0.05
NUMBER_WORDS = {2: "two", 3: "three", 4: "four"}
# Effects "grow" with time since adoption when the rank correlation of their size with event time is at
# least this (and the last is larger than the first).
GROW_RANK = 0.8
# The weighted estimate's size "comes from the large counties" when the unweighted one is below this
# share of it (in absolute value) or of the other sign.
WEIGHTS_SHARE = 0.5


def sign_words(values: list[float]) -> str:
    """'are negative' / 'are positive' / 'differ in sign' for the estimates ``values``."""
    if all(v < 0 for v in values):
        return "are negative"
    if all(v > 0 for v in values):
        return "are positive"
    return "differ in sign"


def outcome_compare(violent: float, prop: float, digits: int = 3) -> str:
    """Violent against property crime: which falls (or rises) more, with both numbers."""
    v, p = fmt_num(violent, digits), fmt_num(prop, digits)
    if violent < 0 and prop < 0:
        verb = "falls more" if violent < prop else "falls less"
    elif violent > 0 and prop > 0:
        verb = "rises more" if violent > prop else "rises less"
    else:
        return f"Violent and property crime move in opposite directions (CS {v} and {p})"
    return f"Violent crime {verb} (CS {v}) than property crime (CS {p})"


def event_text(ev: pd.DataFrame, digits: int = 3) -> str:
    """The event study in words: pre-adoption coefficients (event times before -1, every estimator of the
    figure) whose pointwise 95% interval excludes zero; whether the CS post-adoption effects grow in size
    with time since adoption (GROW_RANK); the largest gap between the estimators at one event time, in
    median pointwise standard errors."""
    pre = ev[ev["event_time"] < -1]
    off = int(((pre["ci_low"] > 0) | (pre["ci_high"] < 0)).sum())
    flat = "no" if off == 0 else f"{fmt_int(off)} of {fmt_int(len(pre))}"
    cs = ev[(ev["estimator"] == "cs") & (ev["event_time"] >= 0)].sort_values("event_time")
    size = cs["estimate"].abs().reset_index(drop=True)
    rank = size.rank().corr(pd.Series(np.arange(len(size), dtype=float)))
    same_sign = bool((np.sign(cs["estimate"]) == np.sign(cs["estimate"].iloc[-1])).all())
    grows = len(size) > 1 and same_sign and size.iloc[-1] > size.iloc[0] and rank >= GROW_RANK
    first, last = cs.iloc[0], cs.iloc[-1]
    numbers = (
        f"Callaway--Sant'Anna: {fmt_num(first['estimate'], digits)} at adoption, "
        f"{fmt_num(last['estimate'], digits)} after {fmt_int(last['event_time'])} years"
    )
    wide = ev.pivot(index="event_time", columns="estimator", values="estimate")[[e for e, *_ in SERIES]]
    gap = float((wide.max(axis=1) - wide.min(axis=1)).max())
    se = float(ev["se"].median())
    return (
        f"{flat} pre-adoption coefficient{'s' if off != 1 else ''} whose pointwise 95\\% interval excludes zero, "
        f"and effects that {'grow' if grows else 'do not grow steadily'} with time since adoption ({numbers}); "
        f"the {NUMBER_WORDS.get(len(SERIES), str(len(SERIES)))} estimators are at most {fmt_num(gap, digits)} "
        f"apart at any event time ({fmt_num(gap / se, 1)} times the median pointwise standard error, "
        f"{fmt_num(se, digits)})"
    )


def honest_verdict(mbar: float) -> str:
    """The relative-magnitude breakdown value in words: at or below 1, the robust set includes zero once
    post-adoption departures from parallel trends may be as large as the largest pre-adoption one."""
    if np.isnan(mbar):
        return "leaves the 287(g) result standing on the whole grid"
    if mbar <= 1:
        return "puts the 287(g) result on thin ice"
    return "leaves the 287(g) result standing against departures as large as the pre-adoption ones"


def weights_verdict(weighted: float, unweighted: float) -> str:
    """Whether the weighted TWFE estimate's size comes from the large counties (WEIGHTS_SHARE); it says
    TWFE because the other estimators need not agree (the unweighted CS estimate is quoted beside it)."""
    if np.sign(weighted) != np.sign(unweighted) or abs(unweighted) < WEIGHTS_SHARE * abs(weighted):
        return "the size of the weighted SC TWFE estimate comes from the large counties"
    return (
        "the unweighted TWFE estimate is of similar size, so the SC TWFE estimate does not rest on the "
        "large counties alone"
    )


def trends_verdict(plain: pd.Series, trends: pd.Series) -> str:
    """Whether the estimate vanishes with county trends too: the trend estimate smaller in size and its
    p-value at least ALPHA."""
    if abs(trends["estimate"]) < abs(plain["estimate"]) and trends["pvalue"] >= ALPHA:
        return "and it vanishes with county trends too"
    return "but it does not vanish with county trends"


def agree_words(pvalues: list[float], verb: str) -> str:
    """``verb`` when no p-value is below ALPHA (agreeing with a published null), else its negation."""
    return verb if all(p >= ALPHA for p in pvalues) else f"do not {verb.removesuffix(' too')}"


def pre_trend_text(spec: str, national: str) -> str:
    """The CS leads (event times before -1) of ``spec``: their average and joint test, against the national
    design's joint test."""
    ev = inputs.result(spec, "event_study", ["estimator", "event_time", "estimate"])
    leads = ev[(ev["estimator"] == "cs") & (ev["event_time"] < -1)]["estimate"]
    test = inputs.result(spec, "pretest", ["test", "pvalue"]).set_index("test").loc["event-study leads", "pvalue"]
    other = inputs.result(national, "pretest", ["test", "pvalue"]).set_index("test").loc["event-study leads", "pvalue"]
    mean = float(leads.mean())
    if test < ALPHA:
        direction = "falling" if mean > 0 else "rising"
        head = (
            f"The treated counties' crime was {direction} relative to the controls' before their agreements "
            f"(the Callaway--Sant'Anna leads average {fmt_num(mean, 1)} per 100,000 and are jointly different "
            f"from zero, {fmt_p_text(test)})"
        )
    else:
        head = (
            "The Callaway--Sant'Anna leads do not reject parallel pre-trends "
            f"({fmt_p_text(test)}; average {fmt_num(mean, 1)} per 100,000)"
        )
    national_too = "rejects" if other < ALPHA else "does not reject"
    tail = f"the national design's joint test of its leads {national_too} parallel pre-trends ({fmt_p_text(other)})"
    return f"{head}; {tail}"


def firm(ri_pvalues: list[float], breakdown_all: float) -> bool:
    """A firm conclusion needs every randomization-inference p-value below ALPHA and a relative-magnitude
    breakdown value of the primary estimand above 1 (robust to post-adoption departures as large as the
    largest pre-adoption one)."""
    return all(p < ALPHA for p in ri_pvalues) and not (breakdown_all <= 1)


def fragile_text(ri: dict[str, float], breakdown_all: float) -> str:
    """Whether HonestDiD and randomization inference show the 287(g) estimate to be fragile (the rule of
    :func:`firm`), with the reasons: the permutation schemes that do not reject at ALPHA (and those that
    do), and a relative-magnitude breakdown value of the primary estimand at or below 1."""
    unknown = set(ri) - set(RI_SCHEMES)  # analysis.exhibits.robustness: one table of the schemes
    if unknown:
        raise ValueError(f"randomization-inference schemes without a description: {sorted(unknown)}")
    if firm(list(ri.values()), breakdown_all):
        return "do not show the 287(g) estimate to be fragile"

    def listed(items):
        return " and ".join(f"{RI_SCHEMES[k][3]} ({fmt_p_text(p)})" for k, p in items)

    reasons = []
    if breakdown_all <= 1:
        reasons.append(f"the primary estimand's robust confidence set includes zero from $\\bar M={breakdown_all:g}$")
    weak = [(k, p) for k, p in ri.items() if p >= ALPHA]
    strong = [(k, p) for k, p in ri.items() if p < ALPHA]
    if weak:
        text = f"permuting adoption {listed(weak)} does not reject at 5\\%"
        if strong:
            text += f", though permuting {listed(strong)} does"
        reasons.append(text)
    return "show that the 287(g) estimate is fragile: " + "; ".join(reasons)


def change_words(twfe_pct: float, cs_pct: float) -> str:
    """'fell by X% (TWFE) or Y% (Callaway-Sant'Anna)' when both estimates are negative, 'rose by' when both
    are positive, else 'changed by' with the signed numbers."""
    if twfe_pct < 0 and cs_pct < 0:
        return f"fell by {fmt_num(-twfe_pct, 1)}\\% (TWFE) or {fmt_num(-cs_pct, 1)}\\% (Callaway--Sant'Anna)"
    if twfe_pct > 0 and cs_pct > 0:
        return f"rose by {fmt_num(twfe_pct, 1)}\\% (TWFE) or {fmt_num(cs_pct, 1)}\\% (Callaway--Sant'Anna)"
    return f"changed by {fmt_num(twfe_pct, 1)}\\% (TWFE) and {fmt_num(cs_pct, 1)}\\% (Callaway--Sant'Anna)"


def trends_abstract(plain: pd.Series, trends: pd.Series) -> str:
    """The SC estimate with county trends, for the abstract: 'shrinks to' (as Miles and Cox report) or
    'grows to' (unlike them), in percent with the trend estimate's p-value."""
    words = (
        ("shrinks", "as \\citet{miles2014} report")
        if abs(trends["estimate"]) < abs(plain["estimate"])
        else ("grows", "unlike in \\citet{miles2014}")
    )
    return (
        f"{words[0]} to {fmt_num(pct(trends['estimate']), 1)}\\% ({fmt_p_text(trends['pvalue'])}) once county "
        f"trends are added, {words[1]}"
    )


def build() -> dict[str, str]:
    """The macros listed in the module docstring."""
    from analysis.exhibits.diagnostics import breakdown, honest_table

    violent = inputs.estimate("us_287g_violent", "cs_simple")["estimate"]
    prop = inputs.estimate("us_287g_property", "cs_simple")["estimate"]
    sc = inputs.overall("sc_index")
    grid = inputs.read_csv(config.RESULTS / "grid_sc" / "estimates.csv", ["variant", "estimator", "estimate"])
    unweighted = grid[(grid["variant"] == "unweighted") & (grid["estimator"] == "twfe")]["estimate"]
    if len(unweighted) != 1:
        raise inputs.MissingResult("results/grid_sc/estimates.csv: no single unweighted TWFE row")
    nc = {o: inputs.overall(f"nc_287g_{o}") for o in ("violent", "property")}
    national = inputs.overall("us_287g_index")
    ri_table = inputs.read_csv(config.RESULTS / "ri_287g" / "ri.csv", ["scheme", "p_perm"])
    ri_by_scheme = dict(zip(ri_table["scheme"], ri_table["p_perm"]))
    simple = inputs.read_csv(config.RESULTS / "inference" / "honest_simple.csv", ["spec", "pre_periods", "method", "M"])
    simple = simple[(simple["spec"] == "us_287g_index") & (simple["pre_periods"].astype(str) == "all")]
    breakdown_all = breakdown(simple, "relative_magnitude")
    solid = firm(list(ri_by_scheme.values()), breakdown_all)
    return {
        "NationalAbstractChange": change_words(
            pct(national.loc["twfe", "estimate"]), pct(national.loc["cs_simple", "estimate"])
        ),
        "NationalFirmVerdict": "support a firm conclusion" if solid else "do not support a firm conclusion",
        "NationalFragile": fragile_text(ri_by_scheme, breakdown_all),
        "ScAbstractTrends": trends_abstract(sc.loc["twfe"], sc.loc["twfe_trends"]),
        "NationalOutcomeCompare": outcome_compare(violent, prop),
        "NationalEventText": event_text(event_table("us_287g_index")),
        "NationalHonestVerdict": honest_verdict(breakdown(honest_table("us_287g_index"), "relative_magnitude")),
        "ScRobustSigns": sign_words([sc.loc["cs_simple", "estimate"], sc.loc["sunab", "estimate"]]),
        "ScWeightsVerdict": weights_verdict(sc.loc["twfe", "estimate"], float(unweighted.iloc[0])),
        "ScTrendsVerdict": trends_verdict(sc.loc["twfe"], sc.loc["twfe_trends"]),
        "NcTwfeSigns": sign_words([t.loc["twfe", "estimate"] for t in nc.values()]),
        "NcWildVerdict": agree_words([t.loc["wild", "pvalue"] for t in nc.values()], "agree with them"),
        "NcCsVerdict": agree_words([t.loc["cs_simple", "pvalue"] for t in nc.values()], "agree too"),
        "NcPreTrendText": pre_trend_text("nc_287g_index", "us_287g_index"),
    }
