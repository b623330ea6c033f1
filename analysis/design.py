"""The estimation sample of a specification: its named sample, then its control-group rule.

No treated county may serve as a control. A design dates treatment by its own timing column (e.g.
g287_jem, jail-model agreements); a county that another definition (``clean_controls``, e.g.
g287_any: any local 287(g) agreement) treats earlier, or treats while the design never does, would
sit among the design's never- or not-yet-treated comparisons while treated. Such counties are
dropped, with a sample-log row (stage ``controls``) that counts them.

Treatment after the sample's last year counts as never (as in the estimators: a county adopting in
2016 is untreated throughout 2000-2012).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.rulelog import RuleLog
from analysis.sample import apply_sample

NEVER = np.inf


def first_in_window(timing: pd.Series, last_year: int) -> pd.Series:
    """Treatment year inside the window, inf for never (0, NA or after ``last_year``)."""
    g = pd.to_numeric(timing, errors="coerce").astype(float)
    return g.where((g > 0) & (g <= last_year), NEVER)


def contaminated(df: pd.DataFrame, treatment: str, others: list[str]) -> pd.Series:
    """Per row: its county is treated under one of ``others`` before (or without) being treated under
    ``treatment``, within the years of ``df``."""
    last = int(df["year"].max())
    own = first_in_window(df[treatment], last)
    if not others:
        return pd.Series(False, index=df.index)
    other = pd.concat([first_in_window(df[c], last) for c in others], axis=1).min(axis=1)
    return other < own


def clean_controls(df: pd.DataFrame, spec: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Drop the counties that ``spec['clean_controls']`` shows to be treated before the design's own
    treatment (or without it); one sample-log row (also when the list is empty or nothing is dropped)."""
    others = list(spec.get("clean_controls") or [])
    log = RuleLog("controls", "county-year", units="fips")
    if others:
        bad = contaminated(df, spec["treatment"], others)
        reason = (
            f"Counties treated under {', '.join(others)} before (or without) being treated under "
            f"{spec['treatment']}: not clean controls, and their pre-periods are treated."
        )
    else:
        bad = pd.Series(False, index=df.index)
        reason = "No control-group rule (clean_controls empty): every county of the sample is kept."
    out = log.drop(df, bad, "clean_controls" if others else "clean_controls_none", reason)
    return out.reset_index(drop=True), log.frame()


def design_sample(panel: pd.DataFrame, spec: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The county-years a spec is estimated on and the sample log of every rule applied to get them."""
    df, sample_log = apply_sample(panel, spec["sample"])
    df, controls_log = clean_controls(df, spec)
    log = pd.concat([sample_log, controls_log], ignore_index=True)
    return df, log.assign(step=range(1, len(log) + 1))
