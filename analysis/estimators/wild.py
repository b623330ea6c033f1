"""Wild cluster bootstrap p-value of the static TWFE coefficient (pyfixest feols + wildboottest),
for designs with few treated clusters (e.g. 287(g) in a handful of states) or few clusters (states).

pyfixest refuses the wild bootstrap of a weighted (WLS) regression. ``wcr`` runs wildboottest's
WCR11 bootstrap on the Frisch-Waugh-Lovell form instead, as Stata's boottest does: the fixed effects
nested in the clusters (county effects with county or state clusters) are partialled out with the
regression weights (pyfixest's ``demean``), the others (year, state-by-year) stay in as dummies,
and every column is multiplied by sqrt(weight), so OLS on them is the WLS fit. Partialling out
effects nested in the clusters leaves the restricted residuals, the bootstrap coefficients and the
bootstrap residuals unchanged (partialling out effects that cut across clusters would not: the
bootstrap errors are sign-flipped by cluster), so the bootstrap t-statistics are those of the full
model up to the small-sample factor, which cancels in the p-value. Unweighted, ``wcr`` gives
pyfixest's ``wildboottest`` p-value; with integer weights, that of the regression on duplicated rows
(tests/test_inference.py). ``wcr`` also returns the bootstrap t-statistics, which Romano-Wolf needs
(analysis.inference)."""

from __future__ import annotations

import warnings
from typing import NamedTuple

import numpy as np
import pandas as pd
import pyfixest as pf
from pyfixest.estimation import demean
from wildboottest.wildboottest import WildboottestCL

from analysis.config import SEED
from analysis.estimators.tidy import EstimatorFit, dropped_frame, missing_rows, summary_row
from analysis.estimators.twfe import treated
from analysis.model import nested


def wild(
    data: pd.DataFrame,
    y: str,
    unit: str,
    t: str,
    g: str,
    cluster: str,
    weights: str | None = None,
    reps: int = 9999,
    seed: int = SEED,
    controls: list[str] = (),
    fe: list[str] | None = None,
) -> EstimatorFit:
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
        fit = pf.feols(
            f"{y} ~ {' + '.join(['_d', *controls])} | {' + '.join(fe)}",
            data=df,
            vcov={"CRV1": "_cluster"},
            weights=weights,
        )
        # wcr unweighted gives pyfixest's wildboottest p-value (tests/test_inference.py), without its numba
        # compilation at every call
        pvalue = wcr(df, y, ["_d", *controls], fe, "_cluster", weights, reps=reps, seed=seed).pvalue
    tidy = fit.tidy().loc["_d"]
    summary = summary_row(
        "wild",
        tidy["Estimate"],
        tidy["Std. Error"],
        fit._N,
        df[unit].nunique(),
        df[cluster].nunique(),
        f"coefficient on D_it, wild cluster bootstrap p-value ({reps} draws)",
        ci=(float("nan"), float("nan")),
        pvalue=pvalue,
    )
    return EstimatorFit(summary=summary, dropped=dropped_frame(records))


class _WildboottestCL(WildboottestCL):
    """wildboottest's cluster bootstrap with its CRV1 denominator computed by matrix products: the library
    fills H[g, h] = R'(X'X)^-1 X_g'X_g (X'X)^-1 score_h in a Python double loop over clusters and compiles a
    numba loop at every call (minutes with ~2,800 county clusters); H = Q scores with Q[g] =
    R'(X'X)^-1 X_g'X_g (X'X)^-1 is the same matrix, and the denominators the same sums of squares of
    Z = C_g v - H v (tests/test_inference.py checks the draws against the library's own to 1e-12)."""

    def get_denom(self):
        if self.crv_type != "crv1":
            return super().get_denom()
        q = np.einsum("j,gjk->gk", self.R @ self.tXXinv, np.stack(self.tXgXg_list)) @ self.tXXinv
        z = self.Cg[:, None] * self.v - (q @ self.scores_mat) @ self.v
        self.denom = self.ssc * np.einsum("gb,gb->b", z, z)


class WcrResult(NamedTuple):
    """The WCR11 bootstrap of one coefficient: its t-statistic (up to the small-sample factor), the
    bootstrap t-statistics (same scale) and the two-sided bootstrap p-value."""

    coef: float
    tstat: float
    boot_t: np.ndarray
    pvalue: float


def wcr(
    df: pd.DataFrame,
    y: str,
    regressors: list[str],
    fe: list[str],
    cluster: str,
    weights: str | None = None,
    reps: int = 9999,
    seed: int = SEED,
) -> WcrResult:
    """WCR11 wild cluster bootstrap (null imposed, Rademacher weights by ``cluster``, drawn from
    ``seed``) of the first of ``regressors`` in y ~ regressors | fe, weighted by ``weights`` or not;
    rows must be complete. The same seed and the same clusters give the same draws for every outcome,
    as Romano-Wolf requires."""
    if seed is None:
        raise ValueError("wcr: the bootstrap needs a seed; None is not allowed")
    w = df[weights].to_numpy(float) if weights else np.ones(len(df))
    if not (w > 0).all():
        raise ValueError(f"wcr: weights '{weights}' must be positive")
    inner = [c for c in fe if nested(df[c], df[cluster])]
    outer = [pd.get_dummies(df[c], prefix=c, drop_first=True, dtype=float) for c in fe if c not in inner]
    values = pd.concat([df[[y, *regressors]].astype(float), *outer], axis=1).to_numpy(float)
    if inner:
        flist = np.column_stack([pd.factorize(df[c])[0] for c in inner]).astype(np.uint64)
        values, converged = demean(values, flist, w, tol=1e-10)
        if not converged:
            raise RuntimeError("wcr: demeaning by the fixed effects did not converge")
    else:
        values = np.column_stack([values, np.ones(len(df))])
    tilde = values * np.sqrt(w)[:, None]
    r = np.zeros(tilde.shape[1] - 1)
    r[0] = 1
    coef = float(np.linalg.lstsq(tilde[:, 1:], tilde[:, 0], rcond=None)[0][0])
    codes = pd.factorize(df[cluster], sort=True)[0]  # wildboottest needs integer ids; sorted: same draws per cluster
    boot = _WildboottestCL(X=tilde[:, 1:], Y=tilde[:, 0], cluster=codes, R=r, B=reps, seed=seed, parallel=False)
    boot.get_scores(bootstrap_type="11", impose_null=True, adj=True, cluster_adj=True)
    boot.get_weights(weights_type="rademacher")
    boot.get_numer()
    boot.get_denom()
    boot.get_tboot()
    boot.get_vcov()
    boot.get_tstat()
    boot.get_pvalue(pval_type="two-tailed")
    tstat = float(np.asarray(boot.t_stat).ravel()[0])
    return WcrResult(
        coef=coef,
        tstat=tstat,
        boot_t=np.asarray(boot.t_boot, float).ravel(),
        pvalue=float(np.asarray(boot.pvalue).ravel()[0]),
    )
