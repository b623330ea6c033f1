"""Poisson pseudo-maximum likelihood (pyfixest fepois): crime counts with unit and year FE and
population as exposure (offset log population), so the coefficient is a log rate ratio; optional
regression ``weights`` (pyfixest ``weights=``) weight each county's likelihood contribution; ``controls``
enter linearly in the index and ``fe`` replaces the unit and year fixed effects (any columns, e.g. a
state-by-year column)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pyfixest as pf

from analysis.estimators.tidy import EstimatorFit, dropped_frame, missing_rows, summary_row
from analysis.estimators.twfe import treated


def ppml(
    data: pd.DataFrame,
    count: str,
    unit: str,
    t: str,
    g: str,
    population: str = "population",
    cluster: str | None = None,
    weights: str | None = None,
    controls: list[str] = (),
    fe: list[str] | None = None,
) -> EstimatorFit:
    """count_it ~ exp(b D_it + a_i + l_t + log population_it); clustered (CRV1) by ``cluster`` or the unit.
    pyfixest drops units whose counts are all zero (separation); they are listed in ``dropped``."""
    cluster = cluster or unit
    fe = list(fe or [unit, t])
    needed = [count, unit, t, g, population, *controls, *fe, *([weights] if weights else [])]
    df, records = missing_rows(data[list(dict.fromkeys([*needed, cluster]))], needed)
    df = df.assign(_d=treated(df, t, g), _log_pop=np.log(df[population]))
    zero = df.groupby(unit)[count].transform("sum") == 0
    records += [
        {"level": "unit", "id": str(u), "reason": "all counts zero (no Poisson information)", "rows": int(n)}
        for u, n in df[zero].groupby(unit).size().items()
    ]
    df = df[~zero]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = pf.fepois(
            f"{count} ~ {' + '.join(['_d', *controls])} | {' + '.join(fe)}",
            data=df,
            vcov={"CRV1": cluster},
            offset="_log_pop",
            weights=weights,
        )
    tidy = fit.tidy().loc["_d"]
    summary = summary_row(
        "ppml",
        tidy["Estimate"],
        tidy["Std. Error"],
        fit._N,
        df[unit].nunique(),
        df[cluster].nunique(),
        "log rate ratio of D_it (Poisson, exposure = population)",
        ci=(tidy["2.5%"], tidy["97.5%"]),
        pvalue=tidy["Pr(>|t|)"],
    )
    return EstimatorFit(summary=summary, dropped=dropped_frame(records))
