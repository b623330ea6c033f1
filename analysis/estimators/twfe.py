"""Two-way fixed-effects DiD (linearmodels): static, with unit-specific linear trends, and an event study.

Treatment is ``D_it = 1{g_i > 0 and t >= g_i}`` built from the timing column ``g`` (0 = never
treated; a ``g`` after the last period never switches D on, so those units are controls).
Standard errors are clustered by ``cluster`` (default: the unit), CR1 with G/(G-1) and n/(n-k),
fixed effects not counted (they are nested in unit or state clusters; linearmodels would otherwise
count them and inflate the SE by about sqrt(T/(T-1))); ``weights`` are regression weights.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from linearmodels import PanelOLS
from linearmodels.iv.absorbing import AbsorbingLS, Interaction

from analysis.estimators.tidy import EstimatorFit, dropped_frame, missing_rows, normal_inference


def treated(data: pd.DataFrame, t: str, g: str) -> pd.Series:
    """The 0/1 treatment indicator D_it of a staggered design."""
    return ((data[g] > 0) & (data[t] >= data[g])).astype(float)


def _frame(data, y, unit, t, g, weights, cluster):
    cols = [y, unit, t, g, *[c for c in (weights, cluster) if c]]
    df, records = missing_rows(data[list(dict.fromkeys(cols))], cols)
    return df.set_index([unit, t], drop=False).sort_index(), records


def _summary(est, se, df, unit, clusters, target, estimator) -> dict:
    inf = normal_inference(est, se)
    return {"estimator": estimator, "estimate": float(est), "se": float(se), "ci_low": float(inf["ci_low"]),
            "ci_high": float(inf["ci_high"]), "pvalue": float(inf["pvalue"]), "n_obs": len(df),
            "n_units": int(df[unit].nunique()), "n_clusters": int(clusters.nunique()), "target": target}


def _panel_fit(df, y, exog, weights, clusters):
    model = PanelOLS(df[y], exog, weights=df[weights] if weights else None, entity_effects=True,
                     time_effects=True, drop_absorbed=True)
    return model.fit(cov_type="clustered", clusters=pd.DataFrame({"cluster": pd.factorize(clusters)[0]}, index=df.index),
                     auto_df=False, count_effects=False, debiased=True, group_debias=True)


def static(data: pd.DataFrame, y: str, unit: str, t: str, g: str, weights: str | None = None,
           cluster: str | None = None, trends: bool = False) -> EstimatorFit:
    """y on D_it with unit and year fixed effects (PanelOLS); with ``trends`` also unit-specific
    linear time trends (AbsorbingLS absorbs unit x year-slope interactions)."""
    df, records = _frame(data, y, unit, t, g, weights, cluster)
    clusters = df[cluster or unit]
    d = treated(df, t, g).rename("treated")
    if trends:
        absorb = pd.DataFrame({"unit": pd.Categorical(df[unit]), "year": pd.Categorical(df[t])})
        slope = Interaction(cat=absorb[["unit"]], cont=(df[[t]] - df[t].mean()).astype(float))
        fit = AbsorbingLS(df[y], d.to_frame(), absorb=absorb, interactions=[slope],
                          weights=df[weights] if weights else None).fit(
            cov_type="clustered", clusters=pd.factorize(clusters)[0], debiased=False)
        n, n_clusters = len(df), clusters.nunique()  # CR0 -> the same CR1 as _panel_fit
        se = fit.std_errors["treated"] * np.sqrt(n_clusters / (n_clusters - 1) * n / (n - 1))
    else:
        fit = _panel_fit(df, y, d.to_frame(), weights, clusters)
        se = fit.std_errors["treated"]
    name = "twfe_trends" if trends else "twfe"
    return EstimatorFit(summary=_summary(fit.params["treated"], se, df, unit, clusters, "coefficient on D_it", name),
                        dropped=dropped_frame(records))


def event_dummies(data: pd.DataFrame, t: str, g: str, window: tuple[int, int]) -> pd.DataFrame:
    """Relative-time dummies ``e<k>`` for k in the window except -1 (the reference); event times beyond
    the window are binned into its endpoints; never-treated units have no dummies switched on."""
    lo, hi = window
    event = (data[t] - data[g]).clip(lo, hi).where(data[g] > 0)
    return pd.DataFrame({f"e{k}": (event == k).astype(float) for k in range(lo, hi + 1) if k != -1}, index=data.index)


def event_study(data: pd.DataFrame, y: str, unit: str, t: str, g: str, window: tuple[int, int] = (-5, 5),
                weights: str | None = None, cluster: str | None = None) -> EstimatorFit:
    """TWFE event study: y on relative-time dummies (binned endpoints, -1 omitted), unit and year FE.
    The summary is the average of the post-period coefficients (event times 0..hi)."""
    df, records = _frame(data, y, unit, t, g, weights, cluster)
    clusters = df[cluster or unit]
    dummies = event_dummies(df, t, g, window)
    empty = [c for c in dummies if dummies[c].sum() == 0]
    records += [{"level": "cell", "id": c, "reason": "event time not observed", "rows": 0} for c in empty]
    fit = _panel_fit(df, y, dummies.drop(columns=empty), weights, clusters)
    names = list(fit.params.index)
    times = [int(c[1:]) for c in names]
    table = pd.DataFrame({"event_time": times, "estimate": fit.params.to_numpy(), "se": fit.std_errors.to_numpy()})
    table = table.assign(**normal_inference(table["estimate"], table["se"]))
    vcov = pd.DataFrame(fit.cov.to_numpy(), index=times, columns=times)
    post = np.array(times) >= 0
    avg = np.full(post.sum(), 1 / post.sum())
    est, se = avg @ table["estimate"].to_numpy()[post], np.sqrt(avg @ vcov.to_numpy()[np.ix_(post, post)] @ avg)
    summary = _summary(est, se, df, unit, clusters, "mean of post-period event-time coefficients", "event_twfe")
    return EstimatorFit(summary=summary, event=table, vcov=vcov, dropped=dropped_frame(records))
