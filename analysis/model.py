"""Regression models as fixest writes them: controls, fixed effects, singletons, small-sample factor.

A specification states its model in fixest/pyfixest notation (README, "Adapt a model"):

* ``controls: [x1, x2]`` - time-varying columns, entered linearly: ``y ~ D + x1 + x2``.
* ``baseline_controls: [x0]`` - county characteristics fixed over time (e.g. 2000 log
  population). County fixed effects absorb such a column, so the regression estimators enter it
  interacted with year dummies, fixest's ``i(year, x0, ref=<first year>)``: counties with different
  x0 may follow different year effects (parallel trends conditional on x0). Callaway–Sant'Anna
  uses the same columns as its covariates (outcome regression / propensity score, ``est_method``).
* ``fixed_effects: [county, year]`` (the default) or e.g. ``[county, state^year]``: terms are
  ``county`` (fips), ``state`` (state_fips), ``year`` or another panel column, and ``a^b`` is
  fixest's combined factor (one effect per a x b cell). ``state^year`` nests ``year``.

Standard errors of every fixed-effects regression follow fixest/pyfixest's default small-sample
convention (``ssc(k_adj=True, k_fixef="nonnested", G_adj=True)``), one convention for the whole
package: clustered CR1 = CR0 x G/(G-1) x (n-1)/(n-K), where K counts the coefficients plus the
fixed effects that are *not nested* in the clusters (an effect whose every level lies within one
cluster, such as county effects with county or state clusters, is not counted; year or
state-by-year effects with county clusters are), with fixest's adjustment of one per additional
fixed effect. Singleton observations (alone in a fixed-effect level, hence fitted perfectly) are
dropped first, iteratively, as fixest and reghdfe do; they are listed as dropped.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

ALIASES = {"county": "fips", "state": "state_fips", "year": "year"}
DEFAULT_FE = ["county", "year"]
TERM = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\^[A-Za-z_][A-Za-z0-9_]*)*$")


def fe_parts(term: str) -> list[str]:
    """The panel columns a fixed-effect term combines: 'state^year' -> ['state_fips', 'year']."""
    return [ALIASES.get(part, part) for part in term.split("^")]


def fe_column(term: str) -> str:
    """The name of the data column that holds the codes of ``term`` (the term's single column, or
    '_fe_<term>' for a combination)."""
    parts = fe_parts(term)
    return parts[0] if len(parts) == 1 else "_fe_" + term.replace("^", "_x_")


def add_fe_columns(data: pd.DataFrame, terms: list[str]) -> tuple[pd.DataFrame, list[str]]:
    """``data`` with a column for every combined term, and the columns of ``terms`` in order."""
    new = {}
    for term in terms:
        parts = fe_parts(term)
        if len(parts) > 1:
            codes = [data[part].astype(str) for part in parts]
            new[fe_column(term)] = codes[0].str.cat(codes[1:], sep="|")  # vectorised: a row-wise join took 3-8 s
    return (data.assign(**new) if new else data), [fe_column(t) for t in terms]


def fixest_fe(terms: list[str]) -> str:
    """The fixed-effects part of a fixest formula: ['county', 'state^year'] -> 'fips + state_fips^year'."""
    return " + ".join("^".join(fe_parts(t)) for t in terms)


def is_default(fe: list[str] | None, unit: str = "fips", t: str = "year") -> bool:
    """Whether the fixed-effect data columns ``fe`` are just the unit and the year (None: the default)."""
    return fe is None or sorted(fe) == sorted([unit, t])


def baseline_by_year(data: pd.DataFrame, columns: list[str], t: str = "year") -> tuple[pd.DataFrame, list[str]]:
    """fixest's ``i(year, x, ref=first)`` for each baseline column x: x times a dummy for every year
    but the first one present. Returns the data with the new columns and their names."""
    years = sorted(data[t].unique())[1:]
    new = {f"_{x}_x_{y}": data[x] * (data[t] == y) for x in columns for y in years}
    if not new:
        return data, []
    # one concat, not one insert per column (a within-state spec adds 17 x 12 of them)
    return pd.concat([data, pd.DataFrame(new, index=data.index)], axis=1), list(new)


def drop_singletons(data: pd.DataFrame, fe_columns: list[str]) -> tuple[pd.DataFrame, int]:
    """``data`` without singleton observations (alone in a level of some fixed effect), removed
    iteratively until none is left, as fixest does; and how many rows were dropped."""
    keep = pd.Series(True, index=data.index)
    while True:
        single = pd.Series(False, index=data.index)
        for col in fe_columns:
            counts = data.loc[keep, col].map(data.loc[keep, col].value_counts())
            single.loc[counts.index] |= counts == 1
        if not single.any():
            return data[keep], int((~keep).sum())
        keep &= ~single


def nested(fe: pd.Series, clusters: pd.Series) -> bool:
    """Whether every level of the fixed effect ``fe`` lies within one cluster."""
    return bool((pd.Series(np.asarray(clusters), index=fe.index).groupby(fe.to_numpy()).nunique() <= 1).all())


def dof_k(k: int, fe: pd.DataFrame, clusters: pd.Series) -> int:
    """K of the (n-1)/(n-K) factor: ``k`` coefficients plus the fixed effects not nested in the
    clusters, counted as pyfixest's ``get_ssc`` with ``k_fixef='nonnested'`` counts them."""
    if fe.shape[1] == 0:
        return k
    levels = fe.nunique()
    is_nested = np.array([nested(fe[c], clusters) for c in fe.columns])
    k_fe = int(levels.sum()) - (fe.shape[1] - 1)
    if not is_nested.any():
        return k + k_fe
    return k + k_fe - int(levels[is_nested].sum()) + int(is_nested.sum())


def ssc(n: int, k: int, fe: pd.DataFrame, clusters: pd.Series) -> float:
    """fixest's default variance factor for clustered errors: G/(G-1) x (n-1)/(n-K)."""
    g = int(pd.Series(np.asarray(clusters)).nunique())
    return g / (g - 1) * (n - 1) / (n - dof_k(k, fe, clusters))


def treated_indicator(g, t):
    """D_it = 1{g_i > 0 and t >= g_i} as floats, for adoption years ``g`` (0 or NaN = never treated)
    and periods ``t`` (Series or broadcastable arrays): the one treatment indicator of the package."""
    return ((g > 0) & (t >= g)).astype(float)


def population_weights(data: pd.DataFrame, unit: str = "fips", t: str = "year") -> pd.Series:
    """Each unit's population in its first period of ``data`` (time-invariant, as Callaway–Sant'Anna
    requires): the weights of ``weights: population``."""
    return data.sort_values(t).groupby(unit)["population"].transform("first")
