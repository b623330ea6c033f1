"""Wild cluster bootstrap p-value of the static TWFE coefficient (pyfixest feols + wildboottest),
for designs with few treated clusters (e.g. 287(g) in a handful of states)."""
from __future__ import annotations

import warnings

import pandas as pd
import pyfixest as pf

from analysis.config import SEED
from analysis.estimators.tidy import EstimatorFit, dropped_frame, missing_rows
from analysis.estimators.twfe import treated


def wild(data: pd.DataFrame, y: str, unit: str, t: str, g: str, cluster: str, weights: str | None = None,
         reps: int = 9999, seed: int = SEED, controls: list[str] = (), fe: list[str] | None = None) -> EstimatorFit:
    """y ~ D_it + controls | fe (default unit + year); WCR11 bootstrap (null imposed, Rademacher weights)
    clustered by ``cluster``, drawn from ``seed`` (default config.SEED). The summary carries the CRV1
    estimate and SE with the bootstrap p-value."""
    if seed is None:
        raise ValueError("wild: the bootstrap needs a seed (default analysis.config.SEED); None is not allowed")
    fe = list(fe or [unit, t])
    cols = [y, unit, t, g, cluster, *controls, *fe, *([weights] if weights else [])]
    df, records = missing_rows(data[list(dict.fromkeys(cols))], cols)
    df = df.assign(_d=treated(df, t, g), _cluster=pd.factorize(df[cluster])[0])  # wildboottest needs integer ids
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = pf.feols(f"{y} ~ {' + '.join(['_d', *controls])} | {' + '.join(fe)}", data=df,
                       vcov={"CRV1": "_cluster"}, weights=weights)
        boot = fit.wildboottest(param="_d", reps=reps, cluster="_cluster", seed=seed)
    tidy = fit.tidy().loc["_d"]
    summary = {"estimator": "wild", "estimate": float(tidy["Estimate"]), "se": float(tidy["Std. Error"]),
               "ci_low": float("nan"), "ci_high": float("nan"), "pvalue": float(boot["Pr(>|t|)"]),
               "n_obs": int(fit._N), "n_units": int(df[unit].nunique()), "n_clusters": int(df[cluster].nunique()),
               "target": f"coefficient on D_it, wild cluster bootstrap p-value ({reps} draws)"}
    return EstimatorFit(summary=summary, dropped=dropped_frame(records))
