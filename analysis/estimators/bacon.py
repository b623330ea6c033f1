"""Goodman-Bacon decomposition of the static TWFE estimate (diff_diff.BaconDecomposition).

With ``weights`` (time-invariant regression weights) the decomposition is of the weighted TWFE
estimate: diff-diff's ``survey_design`` weights the 2x2 means and the group shares."""

from __future__ import annotations

import warnings

import pandas as pd
from diff_diff import BaconDecomposition, SurveyDesign

from analysis.estimators.tidy import EstimatorFit, dropped_frame, staggered_frame, summary_row


def bacon(
    data: pd.DataFrame, y: str, unit: str, t: str, g: str, weights: str | None = None
) -> tuple[EstimatorFit, pd.DataFrame]:
    """The (weighted) TWFE estimate and its 2x2 comparisons (treated, control, type, estimate, weight);
    the weighted sum of the comparisons equals the TWFE estimate on a balanced panel."""
    df, records = staggered_frame(data, [y, *([weights] if weights else [])], unit, t, g)
    with warnings.catch_warnings():  # diff-diff notes that it rescales the weights to mean 1 (no effect)
        warnings.filterwarnings("ignore", message="pweight weights normalized", category=UserWarning)
        fit = BaconDecomposition().fit(
            df,
            outcome=y,
            unit=unit,
            time=t,
            first_treat="_g",
            survey_design=SurveyDesign(weights=weights) if weights else None,
        )
    table = pd.DataFrame(
        [
            {
                "treated": str(c.treated_group),
                "control": str(c.control_group),
                "type": c.comparison_type,
                "estimate": float(c.estimate),
                "weight": float(c.weight),
            }
            for c in fit.comparisons
        ]
    )
    table = table.sort_values(["type", "treated", "control"]).reset_index(drop=True)
    target = "TWFE coefficient = weighted sum of 2x2 DiDs" + (" (regression-weighted TWFE)" if weights else "")
    summary = summary_row("bacon", fit.twfe_estimate, float("nan"), len(df), df[unit].nunique(), None, target)
    return EstimatorFit(summary=summary, dropped=dropped_frame(records)), table
