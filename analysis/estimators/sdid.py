"""Synthetic difference-in-differences (Arkhangelsky et al. 2021) through diff-diff's ``SyntheticDiD``.

SDID is defined for block adoption: one treated group, one adoption date, controls untreated in every
year used. For staggered adoption it is run cohort by cohort (``by_cohort``): the counties of cohort c
are the treated group, the controls are the counties untreated through ``end`` (never treated, or
adopting after ``end``; other cohorts are left out), the years are the window's first year to ``end``
and the post periods c..end. ``end`` is the window's last year when there are untreated counties
throughout it, else the year before the last cohort adopts (that cohort then serves as the control
group, as in Callaway-Sant'Anna with not-yet-treated controls), so the last cohort gets no estimate.

``aggregate`` averages the cohort ATTs with weights n_c x (post years of c), the weights of the
Callaway-Sant'Anna simple ATT. Its standard error is the weighted sum of the cohort standard errors:
the cohorts share controls, so their estimates are correlated, and sd(sum w_c X_c) <= sum w_c sd(X_c)
under any correlation, so this bound is conservative.

Cohort SEs: diff-diff's jackknife variance (Algorithm 3 of the paper: units left out one at a time,
weights held fixed; deterministic, seconds on 1,300 counties). It is undefined for a cohort of one
treated county (NaN; such cohorts are left out of the aggregate). The placebo variance (Algorithm 4)
needs more controls than treated counties (it returns 0 for the SC cohort of 2010) and takes minutes
with 1,300 controls. Sampling weights (SC: population) enter as diff-diff survey pweights.

Checked in tests/test_sdid.py: with near-uniform unit and time weights (large regularisation) SDID
equals the 2x2 difference in means, and on a simulated factor-model panel with a known effect SDID
recovers it.
"""

from __future__ import annotations

import warnings

import pandas as pd
from diff_diff import SyntheticDiD
from scipy import stats

REPLICATIONS = 200
VARIANCE = "jackknife"


def block(df: pd.DataFrame, unit: str, t: str, g: str, cohort: int, end: int) -> pd.DataFrame:
    """The block design of ``cohort``: its counties (``_treated`` 1) and those untreated through ``end``
    (0), years up to ``end``."""
    first = df.groupby(unit)[g].first()
    timing = pd.to_numeric(first, errors="coerce")
    untreated = (timing == 0) | (timing > end)
    units = first.index[(timing == cohort) | untreated]
    out = df[df[unit].isin(units) & (df[t] <= end)].copy()
    out["_treated"] = (out[unit].map(timing) == cohort).astype(int)
    return out


def fit_block(
    data: pd.DataFrame,
    y: str,
    unit: str,
    t: str,
    cohort: int,
    end: int,
    seed: int,
    weights: str | None = None,
    replications: int = REPLICATIONS,
    **options,
) -> dict:
    """SDID of one block design; ``weights`` a unit-constant column of sampling weights (pweights)."""
    survey = None
    if weights:
        from diff_diff import SurveyDesign

        survey = SurveyDesign(weights=weights)
    model = SyntheticDiD(variance_method=VARIANCE, n_bootstrap=replications, seed=seed, **options)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = model.fit(
            data,
            outcome=y,
            treatment="_treated",
            unit=unit,
            time=t,
            post_periods=list(range(cohort, end + 1)),
            survey_design=survey,
        )
    return {
        "cohort": cohort,
        "estimate": float(res.att),
        "se": float(res.se),
        "ci_low": float(res.conf_int[0]),
        "ci_high": float(res.conf_int[1]),
        "n_treated": int(res.n_treated),
        "n_control": int(res.n_control),
        "n_post": end - cohort + 1,
        "n_obs": int(len(data)),
        "n_units": int(data[unit].nunique()),
    }


def window_end(df: pd.DataFrame, unit: str, t: str, g: str) -> int:
    """The last year of the block designs: the window's last year if some county is untreated
    throughout it, else the year before the last cohort adopts."""
    last = int(df[t].max())
    timing = pd.to_numeric(df.groupby(unit)[g].first(), errors="coerce")
    if ((timing == 0) | (timing > last)).any():
        return last
    return int(timing.max()) - 1


def by_cohort(
    df: pd.DataFrame,
    y: str,
    unit: str,
    t: str,
    g: str,
    seed: int,
    weights: str | None = None,
    replications: int = REPLICATIONS,
) -> pd.DataFrame:
    """One SDID row per cohort adopting after the first year and by ``window_end`` (counties with no
    date, NA, are in no design)."""
    df = df[df[g].notna()]
    end, first = window_end(df, unit, t, g), int(df[t].min())
    timing = pd.to_numeric(df.groupby(unit)[g].first())
    cohorts = sorted(int(c) for c in timing[(timing > first) & (timing <= end)].unique())
    return pd.DataFrame(
        [fit_block(block(df, unit, t, g, c, end), y, unit, t, c, end, seed, weights, replications) for c in cohorts]
    )


def aggregate(rows: pd.DataFrame, alpha: float = 0.05) -> dict:
    """The cohort ATTs averaged with weights n_treated x n_post, and the conservative SE (module
    docstring) with its normal interval, over the cohorts with a standard error (the jackknife needs
    two treated counties: single-county cohorts are left out and counted in ``left_out``)."""
    left_out = rows[rows["se"].isna()]
    rows = rows[rows["se"].notna()]
    w = rows["n_treated"] * rows["n_post"]
    w = w / w.sum()
    est, se = float((w * rows["estimate"]).sum()), float((w * rows["se"]).sum())
    z = stats.norm.ppf(1 - alpha / 2)
    return {
        "estimate": est,
        "se": se,
        "ci_low": est - z * se,
        "ci_high": est + z * se,
        "n_treated": int(rows["n_treated"].sum()),
        "cohorts": [int(c) for c in rows["cohort"]],
        "left_out": [int(c) for c in left_out["cohort"]],
    }


def did_2x2(data: pd.DataFrame, y: str, unit: str, t: str, cohort: int) -> float:
    """The 2x2 difference in means (treated minus control, post minus pre) of a block design."""
    post = data[t] >= cohort
    m = data.groupby(["_treated", post])[y].mean()
    return float((m[(1, True)] - m[(1, False)]) - (m[(0, True)] - m[(0, False)]))


def largest(rows: pd.DataFrame) -> pd.Series:
    """The row of the cohort with the most treated counties (the earliest on a tie)."""
    return rows.sort_values(["n_treated", "cohort"], ascending=[False, True]).iloc[0]
