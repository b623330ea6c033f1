"""Borusyak–Jaravel–Spiess imputation estimator (diff_diff.ImputationDiD)."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from diff_diff import ImputationDiD, SurveyDesign

from analysis.estimators.tidy import EstimatorFit, dropped_frame, normal_inference, staggered_frame


def imputation(data: pd.DataFrame, y: str, unit: str, t: str, g: str, weights: str | None = None,
               cluster: str | None = None, alpha: float = 0.05) -> EstimatorFit:
    """Unit and year FE fitted on untreated observations, treated outcomes imputed; summary: the
    average effect over all treated unit-years; event table: post-period horizons (covariance when
    diff-diff provides one)."""
    df, records = staggered_frame(data, [y, *[c for c in (weights, cluster) if c]], unit, t, g,
                                  last_cohort_control=True)
    cluster = cluster or unit
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        fit = ImputationDiD(cluster=cluster, alpha=alpha).fit(
            df, outcome=y, unit=unit, time=t, first_treat="_g",
            survey_design=SurveyDesign(weights=weights) if weights else None)
        es = fit.aggregate("event_study")
    keep = ~np.asarray(es.is_reference, bool)
    times = [int(e) for e in np.asarray(es.event_time)[keep]]
    event = pd.DataFrame({"event_time": times, "estimate": np.asarray(es.att)[keep], "se": np.asarray(es.se)[keep]})
    event = event.assign(**normal_inference(event["estimate"], event["se"], alpha))
    vcov = None  # diff-diff 3.13 gives no covariance for the imputation event study (vcov is None)
    if es.vcov is not None:
        rows = [list(map(int, es.vcov_index)).index(e) for e in times]
        vcov = pd.DataFrame(np.asarray(es.vcov)[np.ix_(rows, rows)], index=times, columns=times)
    summary = {"estimator": "imputation", "estimate": float(fit.overall_att), "se": float(fit.overall_se),
               "ci_low": float(fit.overall_conf_int[0]), "ci_high": float(fit.overall_conf_int[1]),
               "pvalue": float(fit.overall_p_value), "n_obs": int(fit.n_obs), "n_units": int(df[unit].nunique()),
               "n_clusters": int(df[cluster].nunique()), "target": "average effect over treated unit-years"}
    return EstimatorFit(summary=summary, event=event, vcov=vcov, dropped=dropped_frame(records))
