"""HonestDiD sensitivity (Rambachan–Roth) of an event study: relative magnitudes and smoothness.

Input: an event-study table (event_time, estimate, se) normalised to the reference period -1
(TWFE event study; Callaway–Sant'Anna with base_period='universal') and its covariance. The target
parameter is ``l' beta_post``: ``target='average'`` averages the post-period effects (event times
0..max), ``target='first'`` is the effect on impact (event time 0); ``l_vec`` gives any other
weights on the post-period effects (e.g. those that make l' beta_post the Callaway-Sant'Anna simple
ATT, analysis.inference), with ``target`` then only its label.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from diff_diff import HonestDiD
from diff_diff.results import MultiPeriodDiDResults, PeriodEffect

from analysis.estimators.tidy import normal_inference

GRIDS = {"relative_magnitude": (0.0, 0.5, 1.0, 1.5, 2.0), "smoothness": (0.0, 0.01, 0.02, 0.05)}


def _as_results(event: pd.DataFrame, vcov: pd.DataFrame, alpha: float) -> MultiPeriodDiDResults:
    """A diff-diff MultiPeriodDiDResults carrying the event study, for diff_diff.HonestDiD."""
    event = event[~((event["event_time"] == -1) & ~(event["se"] > 0))]  # the reference row (zero, no SE)
    if -1 in set(event["event_time"]):
        raise ValueError(
            "honest: event time -1 is estimated; HonestDiD needs it as the reference "
            "(use base_period='universal' for Callaway–Sant'Anna)"
        )
    event = event.sort_values("event_time")
    times = event["event_time"].astype(int).tolist()
    inf = normal_inference(event["estimate"], event["se"], alpha)
    effects = {
        e: PeriodEffect(period=e, effect=b, se=s, t_stat=b / s, p_value=p, conf_int=(lo, hi))
        for e, b, s, p, lo, hi in zip(
            times, event["estimate"], event["se"], inf["pvalue"], inf["ci_low"], inf["ci_high"]
        )
    }
    post = [e for e in times if e >= 0]
    return MultiPeriodDiDResults(
        period_effects=effects,
        avg_att=float(np.mean([effects[e].effect for e in post])),
        avg_se=np.nan,
        avg_t_stat=np.nan,
        avg_p_value=np.nan,
        avg_conf_int=(np.nan, np.nan),
        n_obs=0,
        n_treated=0,
        n_control=0,
        pre_periods=[e for e in times if e < 0],
        post_periods=post,
        alpha=alpha,
        vcov=vcov.loc[times, times].to_numpy(),
        reference_period=-1,
        interaction_indices={e: i for i, e in enumerate(times)},
    )


def honest(
    event: pd.DataFrame,
    vcov: pd.DataFrame,
    method: str = "relative_magnitude",
    grid=None,
    target: str = "average",
    alpha: float = 0.05,
    l_vec=None,
) -> pd.DataFrame:
    """Identified set (lb, ub) and robust CI (ci_low, ci_high) of the target for each M in ``grid``
    (Mbar for relative magnitudes; M, the bound on second differences, for smoothness). ``l_vec``:
    weights on the post-period effects in event-time order (then ``target`` is a free label)."""
    results = _as_results(event, vcov, alpha)
    n_post = len(results.post_periods)
    if l_vec is not None:
        l_vec = np.asarray(l_vec, float)
        if l_vec.shape != (n_post,):
            raise ValueError(f"honest: l_vec has {l_vec.size} weights for {n_post} post-period effects")
    elif target not in ("average", "first"):
        raise ValueError(f"honest: target must be 'average' or 'first', got {target!r}")
    else:
        l_vec = np.full(n_post, 1 / n_post) if target == "average" else np.eye(n_post)[0]
    rows = []
    for m in grid if grid is not None else GRIDS[method]:
        fit = HonestDiD(method=method, M=m, alpha=alpha, l_vec=l_vec).fit(results)
        rows.append(
            {
                "method": method,
                "M": float(m),
                "target": target,
                "lb": float(fit.lb),
                "ub": float(fit.ub),
                "ci_low": float(fit.ci_lb),
                "ci_high": float(fit.ci_ub),
            }
        )
    return pd.DataFrame(rows)
