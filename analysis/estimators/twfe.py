"""Two-way fixed-effects DiD (linearmodels): static, with unit-specific linear trends, and an event study.

Treatment is ``D_it = 1{g_i > 0 and t >= g_i}`` built from the timing column ``g`` (0 = never
treated; a ``g`` after the last period never switches D on, so those units are controls).
``controls`` are further regressors (time-varying columns, or the baseline x year columns of
analysis.model.baseline_by_year); ``fe`` are the fixed-effect columns (default: unit and year;
e.g. unit and a state-by-year column), absorbed by PanelOLS for unit + year and by AbsorbingLS
otherwise. Standard errors are clustered by ``cluster`` (default: the unit) with fixest's default
small-sample factor (analysis.model: CR0 x G/(G-1) x (n-1)/(n-K), fixed effects nested in the
clusters not counted in K), so they equal pyfixest's ``feols(..., vcov={"CRV1": cluster})``;
singletons are dropped first, as fixest does. ``weights`` are regression weights.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from linearmodels import PanelOLS
from linearmodels.iv.absorbing import AbsorbingLS, Interaction

from analysis.estimators.tidy import EstimatorFit, dropped_frame, missing_rows, normal_inference, summary_row
from analysis.model import drop_singletons, is_default, ssc, treated_indicator

SINGLETON = "singleton in a fixed effect (fitted perfectly, no information; fixest drops it too)"


def treated(data: pd.DataFrame, t: str, g: str) -> pd.Series:
    """The 0/1 treatment indicator D_it of a staggered design."""
    return treated_indicator(data[g], data[t])


def _frame(data, y, unit, t, g, weights, cluster, controls=(), fe=None):
    """Rows with every column present and no singletons, indexed by (unit, t); drop records; fe columns."""
    fe = list(fe or [unit, t])
    cols = list(dict.fromkeys([y, unit, t, g, *controls, *fe, *[c for c in (weights, cluster) if c]]))
    df, records = missing_rows(data[cols], cols)
    df, singles = drop_singletons(df, fe)
    if singles:
        records.append({"level": "row", "id": "fixed effects", "reason": SINGLETON, "rows": singles})
    return df.set_index([unit, t], drop=False).sort_index(), records, fe


def _summary(est, se, df, unit, clusters, target, estimator) -> dict:
    return summary_row(estimator, est, se, len(df), df[unit].nunique(), clusters.nunique(), target)


def _fit(df, y, exog, unit, t, fe, weights, clusters, trends=False):
    """Coefficients and their clustered covariance (fixest's small-sample factor, analysis.model.ssc)."""
    codes = pd.factorize(clusters)[0]
    w = df[weights] if weights else None
    if is_default(fe, unit, t) and not trends:
        fit = PanelOLS(df[y], exog, weights=w, entity_effects=True, time_effects=True, drop_absorbed=True).fit(
            cov_type="clustered",
            clusters=pd.DataFrame({"cluster": codes}, index=df.index),
            auto_df=False,
            count_effects=False,
            debiased=False,
            group_debias=False,
        )
    else:
        absorb = pd.DataFrame({c: pd.Categorical(df[c]) for c in fe}, index=df.index)
        slopes = (
            [
                Interaction(
                    cat=pd.DataFrame({"unit": pd.Categorical(df[unit])}, index=df.index),
                    cont=(df[[t]] - df[t].mean()).astype(float),
                )
            ]
            if trends
            else None
        )
        fit = AbsorbingLS(df[y], exog, absorb=absorb, interactions=slopes, weights=w, drop_absorbed=True).fit(
            cov_type="clustered", clusters=codes, debiased=False
        )
    fe_frame = df[fe].copy()
    if trends:
        fe_frame["_unit_slopes"] = df[unit].to_numpy()  # one slope per unit: counted like unit effects
    factor = ssc(len(df), len(fit.params), fe_frame.reset_index(drop=True), pd.Series(codes))
    return fit.params, fit.cov * factor


def static(
    data: pd.DataFrame,
    y: str,
    unit: str,
    t: str,
    g: str,
    weights: str | None = None,
    cluster: str | None = None,
    trends: bool = False,
    controls: list[str] = (),
    fe: list[str] | None = None,
) -> EstimatorFit:
    """y on D_it, ``controls`` and fixed effects ``fe`` (default unit and year); with ``trends`` also
    unit-specific linear time trends (AbsorbingLS absorbs unit x year-slope interactions).
    Returns the coefficient on D_it with its clustered SE; dropped rows are listed."""
    df, records, fe = _frame(data, y, unit, t, g, weights, cluster, controls, fe)
    clusters = df[cluster or unit]
    exog = pd.concat([treated(df, t, g).rename("treated"), df[list(controls)]], axis=1)
    params, cov = _fit(df, y, exog, unit, t, fe, weights, clusters, trends)
    se = np.sqrt(cov.loc["treated", "treated"])
    name = "twfe_trends" if trends else "twfe"
    return EstimatorFit(
        summary=_summary(params["treated"], se, df, unit, clusters, "coefficient on D_it", name),
        dropped=dropped_frame(records),
    )


def event_dummies(data: pd.DataFrame, t: str, g: str, window: tuple[int, int]) -> pd.DataFrame:
    """Relative-time dummies ``e<k>`` for k in the window except -1 (the reference); event times beyond
    the window are binned into its endpoints; never-treated units have no dummies switched on."""
    lo, hi = window
    event = (data[t] - data[g]).clip(lo, hi).where(data[g] > 0)
    return pd.DataFrame({f"e{k}": (event == k).astype(float) for k in range(lo, hi + 1) if k != -1}, index=data.index)


def event_study(
    data: pd.DataFrame,
    y: str,
    unit: str,
    t: str,
    g: str,
    window: tuple[int, int] = (-5, 5),
    weights: str | None = None,
    cluster: str | None = None,
    controls: list[str] = (),
    fe: list[str] | None = None,
) -> EstimatorFit:
    """TWFE event study: y on relative-time dummies (binned endpoints, -1 omitted), ``controls`` and
    fixed effects ``fe`` (default unit and year). The summary is the average of the post-period
    coefficients (event times 0..hi); the event table has one row per event time with its covariance."""
    df, records, fe = _frame(data, y, unit, t, g, weights, cluster, controls, fe)
    clusters = df[cluster or unit]
    dummies = event_dummies(df, t, g, window)
    empty = [c for c in dummies if dummies[c].sum() == 0]
    records += [{"level": "cell", "id": c, "reason": "event time not observed", "rows": 0} for c in empty]
    exog = pd.concat([dummies.drop(columns=empty), df[list(controls)]], axis=1)
    params, cov = _fit(df, y, exog, unit, t, fe, weights, clusters)
    names = [c for c in params.index if c in dummies.columns]
    times = [int(c[1:]) for c in names]
    se = np.sqrt(np.diag(cov.loc[names, names].to_numpy()))
    table = pd.DataFrame({"event_time": times, "estimate": params[names].to_numpy(), "se": se})
    table = table.assign(**normal_inference(table["estimate"], table["se"]))
    vcov = pd.DataFrame(cov.loc[names, names].to_numpy(), index=times, columns=times)
    post = np.array(times) >= 0
    avg = np.full(post.sum(), 1 / post.sum())
    est, se = avg @ table["estimate"].to_numpy()[post], np.sqrt(avg @ vcov.to_numpy()[np.ix_(post, post)] @ avg)
    summary = _summary(est, se, df, unit, clusters, "mean of post-period event-time coefficients", "event_twfe")
    return EstimatorFit(summary=summary, event=table, vcov=vcov, dropped=dropped_frame(records))
