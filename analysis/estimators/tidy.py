"""Tidy containers shared by the estimators: one summary row, an event-study table, what was dropped."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

DROPPED_COLUMNS = ["level", "id", "reason", "rows"]
ALL_TREATED = "no untreated units (all treated): period dropped"
# The tidy result format of every estimator and aggregation (results/<spec>/*.csv, analysis.results):
# overall.csv has OVERALL_COLUMNS (one row per estimator or aggregation; 'target' says what it averages);
# every event study (event_study.csv, any estimator) has 'estimator' + EVENT_COLUMNS, event times relative
# to the first treated year (-1 the reference); aggregations.csv has 'estimator', 'element' + EVENT_COLUMNS[1:].
OVERALL_COLUMNS = [
    "estimator",
    "estimate",
    "se",
    "ci_low",
    "ci_high",
    "pvalue",
    "n_obs",
    "n_units",
    "n_clusters",
    "target",
]
EVENT_COLUMNS = ["event_time", "estimate", "se", "ci_low", "ci_high", "cband_low", "cband_high", "pvalue"]


def dropped_frame(records: list[dict]) -> pd.DataFrame:
    """Records {level, id, reason, rows} as a DataFrame sorted by reason, level and id.

    ``level`` is 'unit', 'period', 'row' or 'cell'; ``rows`` counts the panel rows concerned
    (0 for recodes and for group-time cells, which remove no data)."""
    frame = pd.DataFrame(records, columns=DROPPED_COLUMNS).astype({"id": str, "rows": "int64"})
    return frame.sort_values(["reason", "level", "id"]).reset_index(drop=True)


def missing_rows(data: pd.DataFrame, columns: list[str]) -> tuple[pd.DataFrame, list[dict]]:
    """``data`` without rows missing any of ``columns``, and one drop record per column."""
    records = []
    for col in columns:
        bad = data[col].isna()
        if bad.any():
            records.append({"level": "row", "id": col, "reason": f"missing {col}", "rows": int(bad.sum())})
            data = data[~bad]
    return data, records


def normal_inference(estimate, se, alpha: float = 0.05) -> dict:
    """Pointwise normal CI and two-sided p-value (arrays or scalars); no p-value (NaN) where the se is
    zero or missing, e.g. an event study's reference period."""
    z = stats.norm.ppf(1 - alpha / 2)
    estimate, se = np.asarray(estimate, float), np.asarray(se, float)
    tstat = np.divide(estimate, se, out=np.full(np.broadcast(estimate, se).shape, np.nan), where=se > 0)
    return {"ci_low": estimate - z * se, "ci_high": estimate + z * se, "pvalue": 2 * stats.norm.sf(np.abs(tstat))}


def summary_row(
    estimator: str, estimate, se, n_obs, n_units, n_clusters, target: str, ci=None, pvalue=None, alpha: float = 0.05
) -> dict:
    """One row of overall.csv (OVERALL_COLUMNS). ``ci`` (low, high) and ``pvalue`` are the library's
    when given, else the normal ones of ``estimate`` and ``se`` (NaN where se is NaN or 0);
    ``n_clusters`` None is written as NaN (no clustered inference)."""
    normal = normal_inference(estimate, se, alpha)
    low, high = (normal["ci_low"], normal["ci_high"]) if ci is None else ci
    return {
        "estimator": estimator,
        "estimate": float(estimate),
        "se": float(se),
        "ci_low": float(low),
        "ci_high": float(high),
        "pvalue": float(normal["pvalue"] if pvalue is None else pvalue),
        "n_obs": int(n_obs),
        "n_units": int(n_units),
        "n_clusters": float("nan") if n_clusters is None else int(n_clusters),
        "target": target,
    }


@dataclass(frozen=True)
class EstimatorFit:
    """What every estimator hands back: one summary row (estimate, se, ci_low, ci_high, pvalue,
    n_obs, n_units, n_clusters, target, ...), an optional event-study table with its covariance
    (rows/columns named by event time), and the drop records."""

    summary: dict
    event: pd.DataFrame | None = None
    vcov: pd.DataFrame | None = None
    dropped: pd.DataFrame = field(default_factory=lambda: dropped_frame([]))


def unbalanced(unit: pd.Series, t: pd.Series) -> np.ndarray:
    """Rows of units not observed in every period of ``t`` (a units x periods table of what is seen;
    no groupby)."""
    u_codes, u_ids = pd.factorize(unit)
    t_codes, t_ids = pd.factorize(t)
    seen = np.zeros((len(u_ids), len(t_ids)), bool)
    seen[u_codes, t_codes] = True
    return (seen.sum(axis=1) < len(t_ids))[u_codes]


def staggered_frame(
    data: pd.DataFrame,
    columns: list[str],
    unit: str,
    t: str,
    g: str,
    last_cohort_control: bool = False,
    anticipation: int = 0,
    balanced: str | None = None,
    all_treated: str = ALL_TREATED,
) -> tuple[pd.DataFrame, list[dict]]:
    """Rows with every column present, timing recoded in '_g' (the cohort recoding of every staggered
    estimator): with ``balanced`` (the reason) units not observed in every period are dropped; a
    cohort treated after the last period (plus ``anticipation``) is untreated in the window (recoded
    0 = control), one within the anticipation window after it is dropped; units treated in or before
    the first period (plus ``anticipation``) have no pre-period and are dropped. With
    ``last_cohort_control`` and no untreated unit left, the last cohort becomes the control group and
    the periods from its adoption (less ``anticipation``) on, which have no untreated unit, are dropped
    (reason ``all_treated``), as Sun and Abraham (2021) do and as R did does for Callaway-Sant'Anna.
    Returns the frame and its drop records."""
    df, records = missing_rows(data[list(dict.fromkeys([*columns, unit, t, g]))], [*columns, unit, t, g])
    df = df.assign(_g=df[g].astype("int64"))

    def drop_units(mask, reason):
        nonlocal df
        if mask.any():
            records.extend(
                {"level": "unit", "id": str(u), "reason": reason, "rows": int(n)}
                for u, n in df[mask].groupby(unit).size().items()
            )
            df = df[~mask]

    if balanced:
        drop_units(unbalanced(df[unit], df[t]), balanced)
    first, last = df[t].min(), df[t].max()
    drop_units(
        (df["_g"] > last) & (df["_g"] - anticipation <= last),
        "treated within the anticipation window after the last period",
    )
    late = df["_g"] > last + anticipation
    records += [
        {"level": "unit", "id": str(u), "reason": "treated after the last period: recoded as control (g=0)", "rows": 0}
        for u in df.loc[late, unit].unique()
    ]
    df = df.copy()
    df.loc[late, "_g"] = 0
    if last_cohort_control and not (df["_g"] == 0).any() and len(df):
        gmax = df["_g"].max()
        cut = df[t] >= gmax - anticipation
        records += [
            {"level": "period", "id": str(p), "reason": all_treated, "rows": int(n)}
            for p, n in df[cut].groupby(t).size().items()
        ]
        records += [
            {"level": "unit", "id": str(u), "reason": "last cohort: used as control for earlier periods", "rows": 0}
            for u in df.loc[df["_g"] == gmax, unit].unique()
        ]
        df = df[~cut].copy()
        df.loc[df["_g"] == gmax, "_g"] = 0
    drop_units(
        (df["_g"] > 0) & (df["_g"] <= first + anticipation), "treated in or before the first period: no pre-period"
    )
    return df.reset_index(drop=True), records


def fit_diff_diff(
    model, name: str, target: str, data: pd.DataFrame, y, unit, t, g, weights=None, cluster=None, controls=()
):
    """A diff-diff staggered estimator fitted on :func:`staggered_frame` (the last cohort as control
    when no unit is untreated): ``model(cluster=...)`` builds it (cluster defaults to ``unit``), ``controls``
    are its covariates, ``weights`` a survey weight. Returns the fitted result, its overall.csv row
    ``name`` (diff-diff's overall ATT, SE, interval and p-value; ``target`` says what it averages) and
    the drop records. diff-diff's UserWarnings are silenced (the drops are recorded instead)."""
    from diff_diff import SurveyDesign

    df, records = staggered_frame(
        data, [y, *controls, *[c for c in (weights, cluster) if c]], unit, t, g, last_cohort_control=True
    )
    cluster = cluster or unit
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        fit = model(cluster=cluster).fit(
            df,
            outcome=y,
            unit=unit,
            time=t,
            first_treat="_g",
            covariates=list(controls) or None,
            survey_design=SurveyDesign(weights=weights) if weights else None,
        )
    summary = summary_row(
        name,
        fit.overall_att,
        fit.overall_se,
        fit.n_obs,
        df[unit].nunique(),
        df[cluster].nunique(),
        target,
        ci=fit.overall_conf_int,
        pvalue=fit.overall_p_value,
    )
    return fit, summary, records
