"""Borusyak–Jaravel–Spiess imputation estimator: diff_diff.ImputationDiD for unit and year fixed
effects, pyfixest's two-stage ``did2s`` (Gardner) for any other fixed effects.

Both fit the untreated outcome ``y = unit + year (or the given fixed effects) + controls`` on the
untreated observations, impute it for the treated ones and average ``y - imputed``: the same point
estimates (Gardner's two-stage estimator with a treatment dummy in the second stage is the
imputation estimator). With one second-stage dummy per cohort x horizon cell, did2s's GMM variance
(Butts & Gardner) is BJS's conservative variance with their cohort x horizon auxiliary model:
tests/test_model_fields.py checks that both paths agree with unit and year effects.
"""

from __future__ import annotations

import warnings
from functools import partial

import numpy as np
import pandas as pd
import pyfixest as pf
from diff_diff import ImputationDiD
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from analysis.estimators.tidy import (
    EstimatorFit,
    dropped_frame,
    fit_diff_diff,
    normal_inference,
    staggered_frame,
    summary_row,
)
from analysis.estimators.twfe import SINGLETON
from analysis.model import drop_singletons, is_default, treated_indicator

TARGET = "average effect over treated unit-years"


def imputation(
    data: pd.DataFrame,
    y: str,
    unit: str,
    t: str,
    g: str,
    weights: str | None = None,
    cluster: str | None = None,
    alpha: float = 0.05,
    controls: list[str] = (),
    fe: list[str] | None = None,
    window: tuple[int, int] | None = None,
) -> EstimatorFit:
    """Fixed effects (default unit and year) and ``controls`` fitted on untreated observations,
    treated outcomes imputed. Summary: the average effect over all treated unit-years; event table:
    the post-period horizons 0..``window[1]`` (all of them without a window), with their covariance
    when the method gives one (did2s does; diff-diff 3.13 does not)."""
    if not is_default(fe, unit, t):
        return _did2s(data, y, unit, t, g, weights, cluster or unit, alpha, list(controls), list(fe), window)
    model = partial(ImputationDiD, alpha=alpha)
    fit, summary, records = fit_diff_diff(model, "imputation", TARGET, data, y, unit, t, g, weights, cluster, controls)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        es = fit.aggregate("event_study")
    keep = ~np.asarray(es.is_reference, bool)
    times = [int(e) for e in np.asarray(es.event_time)[keep]]
    event = pd.DataFrame({"event_time": times, "estimate": np.asarray(es.att)[keep], "se": np.asarray(es.se)[keep]})
    event = event.assign(**normal_inference(event["estimate"], event["se"], alpha))
    vcov = None  # diff-diff 3.13 gives no covariance for the imputation event study (vcov is None)
    if es.vcov is not None:
        rows = [list(map(int, es.vcov_index)).index(e) for e in times]
        vcov = pd.DataFrame(np.asarray(es.vcov)[np.ix_(rows, rows)], index=times, columns=times)
    event, vcov = _window(event, vcov, window)
    return EstimatorFit(summary=summary, event=event, vcov=vcov, dropped=dropped_frame(records))


def _window(event: pd.DataFrame, vcov: pd.DataFrame | None, window) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """The event table (and covariance) restricted to event times <= window[1]."""
    if window is None:
        return event, vcov
    keep = event["event_time"] <= window[1]
    event = event[keep].reset_index(drop=True)
    return event, None if vcov is None else vcov.loc[event["event_time"], event["event_time"]]


def components(units: pd.Series, levels: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Connected parts of the bipartite graph linking each unit to the levels it is observed in: the
    part of every unit and of every level (the same number = linked)."""
    u_codes, u_index = pd.factorize(units)
    l_codes, l_index = pd.factorize(levels)
    n_u = len(u_index)
    graph = coo_matrix((np.ones(len(u_codes)), (u_codes, n_u + l_codes)), shape=(n_u + len(l_index),) * 2)
    _, labels = connected_components(graph, directed=False)
    return pd.Series(labels[:n_u], index=u_index), pd.Series(labels[n_u:], index=l_index, name="part")


def _did2s(data, y, unit, t, g, weights, cluster, alpha, controls, fe, window) -> EstimatorFit:
    """The imputation estimator with any fixed effects: pyfixest did2s with one second-stage dummy per
    cohort x horizon cell (BJS's auxiliary partition), aggregated with each cell's share of the
    (weighted) treated observations: overall and by horizon, with the delta-method covariance."""
    if len(fe) != 2 or unit not in fe:
        raise ValueError(f"imputation: takes the {unit} fixed effect plus one other (e.g. state x year), not {fe}")
    df, records = staggered_frame(
        data, [y, *controls, *fe, cluster, *([weights] if weights else [])], unit, t, g, last_cohort_control=True
    )
    df = df.assign(_d=treated_indicator(df["_g"], df[t]).astype(int))
    # untreated singletons (alone in a fixed-effect level) carry no information and fixest drops them
    kept, n_single = drop_singletons(df[df["_d"] == 0], fe)
    if n_single:
        single = (df["_d"] == 0) & ~df.index.isin(kept.index)
        records.append({"level": "row", "id": "fixed effects", "reason": SINGLETON, "rows": int(single.sum())})
        df = df[~single]
    # a treated row is imputable only if its unit and its other fixed-effect level are connected through
    # untreated rows (else alpha_unit + gamma_level has no unique value): BJS identification
    other = next(c for c in fe if c != unit)
    term = other.removeprefix("_fe_").replace("_x_", "^")  # the spec's term (analysis.model.fe_column)
    untreated = df[df["_d"] == 0]
    unit_part, level_part = components(untreated[unit], untreated[other])
    treated = df["_d"] == 1
    same = df[unit].map(unit_part) == df[other].map(level_part)
    orphan = treated & ~same.fillna(False).astype(bool)
    if orphan.any():
        records.append(
            {
                "level": "row",
                "id": "fixed effects",
                "rows": int(orphan.sum()),
                "reason": f"treated, and its {unit} and {term} effects are not connected through untreated "
                f"rows (e.g. no untreated row in its {term} cell): its untreated outcome cannot be "
                "imputed",
            }
        )
    df = df[~orphan].reset_index(drop=True)
    # a control that is zero on every untreated row (e.g. baseline x year for a year with no untreated
    # county) has no first-stage coefficient: it is left out, as fixest drops collinear variables
    idle = [c for c in controls if not df.loc[df["_d"] == 0, c].astype(float).ne(0).any()]
    if idle:
        records.append(
            {
                "level": "column",
                "id": ", ".join(idle),
                "rows": 0,
                "reason": "control zero on every untreated row (no untreated county-year it applies to): "
                "left out of the first stage",
            }
        )
        controls = [c for c in controls if c not in idle]
    # one level of `other` per connected part merged into a shared reference: the same column space without
    # the part-by-part collinearity that makes pyfixest's did2s variance matrix singular
    refs = set(level_part.groupby(level_part).head(1).index)
    df = df.assign(_fe_imputation=df[other].astype(str).where(~df[other].isin(refs), "_reference"))
    fe = [unit, "_fe_imputation"]
    e = (df[t] - df["_g"]).where(df["_d"] == 1)
    cells = sorted({(int(c), int(h)) for c, h in zip(df.loc[df["_d"] == 1, "_g"], e[df["_d"] == 1])})
    names = [f"_c{c}_{h}" for c, h in cells]
    df = df.assign(**{n: ((df["_g"] == c) & (e == h)).astype(float) for n, (c, h) in zip(names, cells)})
    first = "~ " + (" + ".join(controls) if controls else "0") + " | " + " + ".join(fe)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = pf.did2s(
            df,
            yname=y,
            first_stage=first,
            second_stage="~ " + " + ".join(names),
            treatment="_d",
            cluster=cluster,
            weights=weights,
        )
    beta, cov = (
        fit.coef()[names].to_numpy(),
        pd.DataFrame(np.asarray(fit._vcov), index=fit.coef().index, columns=fit.coef().index)
        .loc[names, names]
        .to_numpy(),
    )
    w = df[weights] if weights else pd.Series(1.0, index=df.index)
    mass = np.array([w[df[n] == 1].sum() for n in names])
    horizon = np.array([h for _, h in cells])
    shown = sorted(h for h in set(horizon) if window is None or h <= window[1])
    rows = np.vstack([mass / mass.sum()] + [np.where(horizon == h, mass, 0) / mass[horizon == h].sum() for h in shown])
    est, var = rows @ beta, rows @ cov @ rows.T
    se = np.sqrt(np.diag(var))
    summary = summary_row(
        "imputation", est[0], se[0], len(df), df[unit].nunique(), df[cluster].nunique(), TARGET, alpha=alpha
    )
    event = pd.DataFrame({"event_time": shown, "estimate": est[1:], "se": se[1:]})
    event = event.assign(**normal_inference(event["estimate"], event["se"], alpha))
    vcov = pd.DataFrame(var[1:, 1:], index=shown, columns=shown)
    return EstimatorFit(summary=summary, event=event, vcov=vcov, dropped=dropped_frame(records))
