"""Goodman-Bacon decomposition of the static TWFE estimate (diff_diff.BaconDecomposition)."""
from __future__ import annotations

import pandas as pd
from diff_diff import BaconDecomposition

from analysis.estimators.tidy import EstimatorFit, dropped_frame, staggered_frame


def bacon(data: pd.DataFrame, y: str, unit: str, t: str, g: str) -> tuple[EstimatorFit, pd.DataFrame]:
    """The TWFE estimate and its 2x2 comparisons (treated, control, type, estimate, weight); the
    weighted sum of the comparisons equals the TWFE estimate on a balanced panel."""
    df, records = staggered_frame(data, [y], unit, t, g)
    fit = BaconDecomposition().fit(df, outcome=y, unit=unit, time=t, first_treat="_g")
    table = pd.DataFrame([{"treated": str(c.treated_group), "control": str(c.control_group), "type": c.comparison_type,
                           "estimate": float(c.estimate), "weight": float(c.weight)} for c in fit.comparisons])
    table = table.sort_values(["type", "treated", "control"]).reset_index(drop=True)
    summary = {"estimator": "bacon", "estimate": float(fit.twfe_estimate), "se": float("nan"),
               "ci_low": float("nan"), "ci_high": float("nan"), "pvalue": float("nan"), "n_obs": len(df),
               "n_units": int(df[unit].nunique()), "n_clusters": float("nan"),
               "target": "TWFE coefficient = weighted sum of 2x2 DiDs"}
    return EstimatorFit(summary=summary, dropped=dropped_frame(records)), table
