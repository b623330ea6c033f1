"""Sun–Abraham interaction-weighted event study (diff_diff.SunAbraham).

diff-diff absorbs unit and year fixed effects only: other fixed effects (e.g. state x year) are
refused by the spec check (analysis.spec) and here. ``controls`` enter the saturated regression
linearly (diff-diff ``covariates``). The regression estimates every relative period; the event
table reports those within ``window`` (the spec's event_window), like the other event studies.
"""

from __future__ import annotations

from functools import partial

import pandas as pd
from diff_diff import SunAbraham

from analysis.estimators.tidy import EstimatorFit, dropped_frame, fit_diff_diff, normal_inference
from analysis.model import is_default

TARGET = "cohort-share weighted average of post-period effects"


def sunab(
    data: pd.DataFrame,
    y: str,
    unit: str,
    t: str,
    g: str,
    control_group: str = "never_treated",
    weights: str | None = None,
    cluster: str | None = None,
    alpha: float = 0.05,
    controls: list[str] = (),
    window: tuple[int, int] | None = None,
    fe: list[str] | None = None,
) -> EstimatorFit:
    """Cohort x relative-period interactions with unit and year FE, averaged with cohort-share weights.
    Summary: diff-diff's overall ATT (cohort-size weighted average of post-period cells); event
    table: the interaction-weighted effect at each event time (reference -1) with its covariance."""
    if not is_default(fe, unit, t):
        raise ValueError(f"sunab: diff-diff's SunAbraham absorbs {unit} and {t} fixed effects only, not {fe}")
    model = partial(SunAbraham, control_group=control_group, alpha=alpha)
    fit, summary, records = fit_diff_diff(model, "sunab", TARGET, data, y, unit, t, g, weights, cluster, controls)
    times = [int(e) for e in fit.event_study_vcov_index if window is None or window[0] <= e <= window[1]]
    effects = [fit.event_study_effects[e] for e in times]
    event = pd.DataFrame(
        {
            "event_time": times,
            "estimate": [float(x["effect"]) for x in effects],
            "se": [float(x["se"]) for x in effects],
        }
    )
    event = event.assign(**normal_inference(event["estimate"], event["se"], alpha))
    index = [int(e) for e in fit.event_study_vcov_index]
    vcov = pd.DataFrame(fit.event_study_vcov, index=index, columns=index).loc[times, times]
    return EstimatorFit(summary=summary, event=event, vcov=vcov, dropped=dropped_frame(records))
