"""Reporting-coverage diagnostics per county-year: do a county's crime counts cover its population,
and the same population every year?

The ICPSR county files carry, besides COVIND, the population of the agencies whose offenses they
count (CPOPCRIM = ``pop_ucr``) and the number of those agencies (AG_OFF = ``ag_off``). COVIND can be
100 in a year in which ``pop_ucr`` is a fraction of the county's residents, and the counts then move
with ``pop_ucr``, not with crime. The columns below make such years visible; the sample rules in
analysis/samples.yaml (analysis/sample.py) act on them.

Jumps compare a county-year with the same county's previous calendar year in the panel (NaN in the
county's first year, after a gap, and where both years are zero); a jump from or to zero is infinite.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# Diagnostic columns added to the county panel (documented in analysis/codebook.yaml).
COLUMNS = ["cov_ratio", "log_cov_ratio", "cov_ratio_jump", "ag_off_jump", "index_jump", "zero_index", "zero_ag_off"]


def fold_jump(current: pd.Series, previous: pd.Series) -> pd.Series:
    """The larger of two non-negative values over the smaller (>= 1): inf if exactly one is zero,
    NaN if both are zero or one is missing."""
    hi, lo = np.maximum(current, previous), np.minimum(current, previous)
    out = (hi / lo.where(lo > 0)).astype(float)
    out[(lo == 0) & (hi > 0)] = np.inf
    return out.where(current.notna() & previous.notna())


def previous_year(df: pd.DataFrame, column: str) -> pd.Series:
    """``column`` in the same county's previous calendar year (NaN if that year is not in ``df``)."""
    prev = df[["fips", "year", column]].assign(year=df["year"] + 1)
    merged = df[["fips", "year"]].merge(prev, on=["fips", "year"], how="left", validate="1:1")
    return pd.Series(merged[column].to_numpy(dtype=float), index=df.index)


def add_coverage(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` (one row per fips x year, columns pop_ucr, population, ag_off, index) with COLUMNS:

    cov_ratio = pop_ucr / population; log_cov_ratio = ln(cov_ratio), NaN where pop_ucr = 0;
    cov_ratio_jump = |change in log_cov_ratio| from the previous year (inf if exactly one of the two
    years has pop_ucr = 0); ag_off_jump and index_jump = fold change (larger / smaller) in reporting
    agencies and in index crimes from the previous year; zero_index, zero_ag_off = the count is 0."""
    ratio = df["pop_ucr"] / df["population"]
    log_ratio = np.log(ratio.where(df["pop_ucr"] > 0))
    out = df.assign(cov_ratio=ratio, log_cov_ratio=log_ratio)
    prev_log, prev_pop = previous_year(out, "log_cov_ratio"), previous_year(out, "pop_ucr")
    jump = (log_ratio - prev_log).abs()
    one_zero = prev_pop.notna() & ((df["pop_ucr"] == 0) != (prev_pop == 0))
    jump[one_zero] = np.inf
    return out.assign(
        cov_ratio_jump=jump,
        ag_off_jump=fold_jump(df["ag_off"].astype(float), previous_year(out, "ag_off")),
        index_jump=fold_jump(df["index"].astype(float), previous_year(out, "index")),
        zero_index=df["index"] == 0,
        zero_ag_off=df["ag_off"] == 0,
    )


def county_summary(df: pd.DataFrame) -> pd.DataFrame:
    """Per county: the worst year of each diagnostic (max |log_cov_ratio|, inf if some year has no
    covered population; max cov_ratio_jump, ag_off_jump, index_jump; any zero index year)."""
    level = df["log_cov_ratio"].abs().fillna(np.inf)
    return pd.DataFrame(
        {
            "max_abs_log_cov_ratio": level.groupby(df["fips"]).max(),
            "max_cov_ratio_jump": df.groupby("fips")["cov_ratio_jump"].max(),
            "max_ag_off_jump": df.groupby("fips")["ag_off_jump"].max(),
            "max_index_jump": df.groupby("fips")["index_jump"].max(),
            "any_zero_index": df.groupby("fips")["zero_index"].any(),
        }
    )


def elasticity_by_jump(df: pd.DataFrame, edges: list[float]) -> pd.DataFrame:
    """How much of a change in coverage passes into the crime counts, by size of the change.

    For consecutive county-years with positive coverage and index crimes in both years: the OLS
    slope (with intercept) of the change in ln(index crimes per resident) on the change in
    ln(pop_ucr / population), within bins of |change| given by ``edges`` (right-closed), with its
    heteroskedasticity-robust (HC1) standard error, and the median absolute change in the log rate. A
    slope near 1 means the counts move one for one with the covered population: the change is in
    measurement, not in crime."""
    prev_rate = previous_year(df, "rate_index")
    dy = np.log(df["rate_index"].where(df["rate_index"] > 0)) - np.log(prev_rate.where(prev_rate > 0))
    dx = df["log_cov_ratio"] - previous_year(df, "log_cov_ratio")
    ok = dy.notna() & dx.notna() & np.isfinite(dx)
    d = pd.DataFrame({"dx": dx[ok], "dy": dy[ok]})
    d["bin"] = pd.cut(d["dx"].abs(), edges, include_lowest=True, right=True)
    rows = []
    for interval, part in d.groupby("bin", observed=False):
        slope, se = _ols_slope(part["dx"].to_numpy(), part["dy"].to_numpy())
        rows.append(
            {
                "low": interval.left if interval.left > 0 else 0.0,
                "high": interval.right,
                "county_years": len(part),
                "slope": slope,
                "se": se,
                "median_abs_change": float(part["dy"].abs().median()) if len(part) else np.nan,
            }
        )
    return pd.DataFrame(rows)


def _ols_slope(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Slope of y on x (with intercept) and its HC1 standard error; NaN with fewer than 10 points."""
    if len(x) < 10 or np.ptp(x) == 0:
        return np.nan, np.nan
    X = np.column_stack([np.ones_like(x), x])
    beta, *_ = np.linalg.lstsq(X, y, rcond=None)
    resid = y - X @ beta
    bread = np.linalg.inv(X.T @ X)
    meat = (X * resid[:, None] ** 2).T @ X
    vcov = bread @ meat @ bread * len(x) / (len(x) - 2)
    return float(beta[1]), float(np.sqrt(vcov[1, 1]))
