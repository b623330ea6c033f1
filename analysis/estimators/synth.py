"""Synthetic control (Abadie, Diamond & Hainmueller 2010) county by county, through diff-diff's
``SyntheticControl``.

Design: each treated county (adoption year g, at least MIN_PRE years before g in the window) is fitted
alone. Donor pool: the never-treated counties (g == 0) of the data; pre-period: the years before g;
post-period: g to the last year. Predictors: every pre-period outcome, with equal weight (diff-diff
``v_method="custom"``, uniform V, ``standardize="none"``), so the donor weights minimise the pre-period
mean squared gap over the simplex (w >= 0, sum w = 1): with lagged outcomes as the only predictors this
is the least pre-period MSPE that diff-diff's nested V search aims at, deterministic (no random
starts), and one non-negative least squares per fit (the nested search took over a minute per county
with its placebos, the whole budget of the step).

Per county: ATT (mean post-period gap), pre-period RMSPE, post/pre RMSPE ratio, the top donors, and
diff-diff's in-space placebo test (``in_space_placebo``, ADH 2010 sec. 2.4): each donor in turn is the
treated unit, fitted against all other units of the fit (the real treated county included, ADH's
construction), and p = (1 + #placebos with ratio >= the county's) / (1 + #placebos). Null: no effect
in any unit, treatment assignment exchangeable across the county and its donors. diff-diff floors the
pre-period MSPE at 1e-8 x max|pre outcome|^2, so an exact pre-period fit (possible with more donors than
pre-years) gives a large but finite ratio.

Aggregate (Cavallo, Galiani, Noy & Pantano 2013): the county ATTs averaged with equal weights; its
placebo distribution draws, for each county, one of its placebo ATTs (the gap of a donor fitted with
that county's timing), DRAWS times from the spec's seed, and p = (1 + #draws with |average| >=
|ATT|) / (1 + DRAWS). Same null.

Checked in tests/test_synth.py: the weights equal scipy's solution of the same problem; a county that
is an exact convex combination of donors gets those weights and a zero effect; on a factor-model panel
with a known effect the ATT recovers it. diff-diff ships no copy of the Proposition 99 data
(``load_prop99`` downloads a log-sales version without ADH's predictors), so ADH's published numbers
are not reproduced.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from diff_diff import SyntheticControl

MIN_PRE = 4  # pre-period years a treated county needs
TOP = 3  # donors named per county
DRAWS = 9999  # placebo averages of the aggregate
EXACT = 0.01  # a pre-period RMSPE below this (outcome units) is an exact fit
COLUMNS = ["fips", "first_year", "n_pre", "n_post", "n_donors", "pre_rmspe", "att", "rmspe_ratio", "p_value"]


def fit_county(data: pd.DataFrame, y: str, unit: str, t: str, treated, first: int, donors: list) -> dict:
    """One county's synthetic control and its in-space placebos: the summary row (with the number of
    placebos fitted exactly before adoption), the donor weights (a Series, largest first), the placebo
    ATTs (a Series by donor) and every gap path (unit, year, gap, treated) of the county and its
    placebos."""
    sub = data.loc[data[unit].isin([treated, *donors]), [unit, t, y]]
    # diff-diff indexes units by label; integer codes (in sorted unit order, the order it uses) are
    # several times faster than string fips.
    units = sorted(sub[unit].unique())
    code = {u: i for i, u in enumerate(units)}
    sub = sub.assign(_unit=sub[unit].map(code), _d=((sub[unit] == treated) & (sub[t] >= first)).astype(int))
    n_pre = int((sub.loc[sub[unit] == treated, t] < first).sum())
    model = SyntheticControl(v_method="custom", custom_v=np.ones(n_pre), standardize="none")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # poor-fit warnings: the RMSPE is reported
        res = model.fit(sub, outcome=y, treatment="_d", unit="_unit", time=t, treated_unit=code[treated])
        table = res.in_space_placebo().set_index("unit")
    if res.n_failed or res.n_infeasible:
        raise RuntimeError(f"synthetic control of {treated}: {res.n_failed + res.n_infeasible} placebo fits failed")
    post = list(res.post_periods)
    gaps = res._placebo_gaps  # diff-diff keeps the placebo gap paths here; checked against its public table
    placebo_att = pd.Series({units[u]: float(np.mean([g[p] for p in post])) for u, g in gaps.items()})
    post_mspe = pd.Series({units[u]: float(np.mean([g[p] ** 2 for p in post])) for u, g in gaps.items()})
    public = table.loc[table["status"] == "placebo", "post_mspe"].rename(index=lambda u: units[u])
    if not np.allclose(post_mspe.sort_index(), public.sort_index(), rtol=1e-10, atol=0):
        raise RuntimeError("diff-diff's placebo gap paths disagree with its placebo table")
    paths = pd.DataFrame(
        [(treated, p, res.gap_path[p], True) for p in sorted(res.gap_path)]
        + [(units[u], p, g[p], False) for u, g in gaps.items() for p in sorted(g)],
        columns=[unit, t, "gap", "treated"],
    )
    exact = int((np.sqrt(table.loc[table["status"] == "placebo", "pre_mspe"]) < EXACT).sum())
    weights = pd.Series({units[u]: w for u, w in res.donor_weights.items()}).sort_values(ascending=False)
    row = {
        "fips": treated,
        "first_year": first,
        "n_pre": res.n_pre_periods,
        "n_post": res.n_post_periods,
        "n_donors": res.n_donors,
        "pre_rmspe": res.pre_rmspe,
        "att": res.att,
        "rmspe_ratio": res.rmspe_ratio,
        "p_value": res.placebo_p_value,
        "n_placebos": res.n_placebos,
        "placebos_exact": exact,
    }
    return {"row": row, "weights": weights, "placebo_att": placebo_att, "gaps": paths}


def by_county(df: pd.DataFrame, y: str, unit: str, t: str, g: str, min_pre: int = MIN_PRE) -> tuple[list, list]:
    """The fits (``fit_county``) of every county adopting in the window with at least ``min_pre`` years
    before its adoption, the never-treated counties (g == 0) as donors; and the treated counties left
    out, as (unit, adoption year, reason)."""
    timing = pd.to_numeric(df.groupby(unit)[g].first())
    donors = sorted(timing.index[timing == 0])
    start, end = int(df[t].min()), int(df[t].max())
    fits, left = [], []
    for u, first in timing[(timing > 0) & (timing <= end)].sort_index().items():
        if first - start < min_pre:
            left.append((u, int(first), f"fewer than {min_pre} years before adoption"))
            continue
        fits.append(fit_county(df, y, unit, t, u, int(first), donors))
    return fits, left


def aggregate(atts: np.ndarray, placebo_atts: list[np.ndarray], seed: int, draws: int = DRAWS) -> dict:
    """The equal-weight average of the county ATTs and its placebo p-value (module docstring): each
    draw averages one placebo ATT per county, drawn uniformly from that county's placebos."""
    rng = np.random.default_rng(seed)
    avg = float(np.mean(atts))
    sims = np.mean([rng.choice(p, size=draws) for p in placebo_atts], axis=0)
    p = (1 + int(np.sum(np.abs(sims) >= abs(avg)))) / (1 + draws)
    return {"att": avg, "p_value": p, "draws": draws, "placebo_sd": float(np.std(sims, ddof=1))}


def top_donors(weights: pd.Series, names: pd.Series, k: int = TOP) -> str:
    """'Name (0.41); Name (0.22); ...': the ``k`` largest donor weights."""
    return "; ".join(f"{names.get(u, u)} ({w:.2f})" for u, w in weights.head(k).items())
