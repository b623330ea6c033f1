"""Callaway–Sant'Anna group-time ATTs (diff_diff.CallawaySantAnna) with R ``did``'s aggregations.

diff-diff estimates every ATT(g,t) and its influence function; this module adds what it lacks
or does differently from R ``did`` 2.5: the calendar aggregation, the overall summaries of the
group and dynamic aggregations, uniform (sup-t) bands for every aggregation, cluster sums of the
influence function, a seeded multiplier bootstrap, R's Wald pre-test on the pre-period cells and a
joint Wald test of the event-study leads (well posed where small cohorts make the cell test
singular). All four aggregations go through one influence-function combiner written after R's
``compute.aggte`` (``get_agg_inf_func`` plus ``wif``, the term for estimated group shares), and are
validated against R on ``mpdta``.

Treatment timing coding (``g``): 0 = never treated. A unit whose ``g`` lies after the last
period (e.g. 2013 in a 2000-2012 panel) is untreated throughout the window and is recoded to 0,
a control, as R ``did`` does; ``g`` within ``anticipation`` periods after the last period is
dropped (those units may anticipate inside the window). Units treated in or before the first
period (plus anticipation) have no pre-period and are dropped. Units not observed in every
period are dropped (panel estimator, as R's default). With ``control_group='not_yet_treated'``
and no never-treated units, periods from the last cohort's date on have no controls: they are
dropped and the last cohort becomes the control group, as in R. Every drop or recode is listed
in ``AttGtResult.dropped``.

Influence functions are on R's scale (``se = sqrt(mean(inf**2) / n)``). With ``cluster`` the
influence function is summed within clusters (R's ``mboot``); the analytic SE is then
``sqrt(sum_c S_c**2) / n`` (no small-sample factor). With ``bootstrap > 0`` SEs are R's
IQR-based multiplier-bootstrap SEs (Rademacher weights drawn per cluster from ``seed``, by
default ``analysis.config.SEED``; None is refused, so no draw is ever unseeded) and a uniform band
uses the bootstrap sup-t critical value.

Covariates (``covariates``, R's ``xformla``) must be time-invariant within units (e.g. a baseline
value): the outcome regression (``est_method='reg'``), the propensity score (``'ipw'``) or both
(``'dr'``, doubly robust) condition on them, as R ``did`` does with its base-period covariates.

Memory and time grow linearly in the number of units (measured by ``python -m analysis.infra.bench``).
The influence functions are one dense units x cells array (each cell touches its cohort and every
control, most units). The bootstrap never holds a draws x clusters matrix of floats beyond one
block of ``CLUSTER_BLOCK`` clusters: the multipliers are drawn in batches of rows (``DRAW_BATCH``,
memory only: the same stream, so the same draws whatever the batch) and kept as bits, one per draw
and cluster. Within one block (every specification on the county panel, at most 3,143 counties)
they are expanded once to a dense matrix and every product is the single product of an unblocked
computation. Beyond it, ``att_gt`` makes one pass over the multipliers, block by block, for the
draws of the cells and of the cohort indicators; an aggregation's influence function is a fixed
combination of those (``_weighted_elements`` keeps its coefficients), so its draws are that combination of
the stored draws, with no further pass over units. Aggregations combine influence functions
``UNIT_BLOCK`` units at a time. The arithmetic depends on these fixed constants only.
"""

from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from diff_diff import CallawaySantAnna, SurveyDesign
from scipy import stats

from analysis.config import SEED
from analysis.estimators.tidy import dropped_frame, staggered_frame

KINDS = ("simple", "group", "dynamic", "calendar")
CELL_COLUMNS = ("group", "time", "event_time", "att", "n_treated", "n_control")
PRETESTS = ("cells (R did)", "event-study leads")
TINY_SE = np.sqrt(np.finfo(float).eps) * 10  # R did: standard errors below this are treated as zero
# Blocking (see the module docstring). CLUSTER_BLOCK and UNIT_BLOCK fix the order of floating-point
# sums, so changing them may change the last bits of bootstrap draws and aggregated influence
# functions; DRAW_BATCH only bounds memory. CLUSTER_BLOCK is a multiple of 8 (whole bytes of bits).
CLUSTER_BLOCK = 4096  # clusters expanded per bootstrap product (999 draws: 33 MB of +-1)
UNIT_BLOCK = 65536  # units per block when aggregations combine influence functions
DRAW_BATCH = 2**26  # multipliers drawn per batch (int8, 64 MB) before packing into bits
_SIGNS = np.where(np.unpackbits(np.arange(256, dtype=np.uint8)[:, None], axis=1) == 1, 1.0, -1.0)  # byte -> 8 signs


@dataclass(frozen=True)
class AttGtResult:
    """Group-time ATTs with the per-unit quantities every aggregation needs."""

    table: pd.DataFrame  # group, time, event_time, att, se, ci_low, ci_high[, cband_*], n_treated, n_control
    inf: np.ndarray  # n_units x n_cells influence functions (R scale), columns in table order
    units: np.ndarray  # unit ids, rows of ``inf``
    cohort: np.ndarray  # each unit's g after recoding (0 = control throughout)
    unit_weight: np.ndarray  # each unit's weight, mean 1
    cluster: np.ndarray  # each unit's cluster code 0..C-1 (the unit itself without clustering)
    dropped: pd.DataFrame  # level, id, reason, rows
    n_obs: int
    alpha: float
    bootstrap: int
    seed: int | None
    control_group: str
    est_method: str
    basis: np.ndarray | None = None  # beyond one block: bootstrap draws of the cells and cohort indicators


@dataclass(frozen=True)
class Aggregation:
    """An aggregation of ATT(g,t): one row per element plus the overall summary."""

    kind: str
    table: pd.DataFrame  # element, att, se, ci_low, ci_high[, cband_low, cband_high]
    overall_att: float
    overall_se: float
    inf: np.ndarray  # n_units x n_elements
    vcov: np.ndarray  # analytic covariance of the elements (cluster sums of the IF)
    crit: float | None  # sup-t critical value of the uniform band (bootstrap only)


BALANCED = "not observed in every period (CS uses a balanced panel)"
ALL_CS_TREATED = "no not-yet-treated controls (all units treated)"


def _prepare(data, y, t, unit, g, covariates, weights, cluster, control_group, anticipation):
    """The balanced estimation frame with recoded cohorts in '_g' (tidy.staggered_frame), and the drop records."""
    needed = [y, t, unit, g, *(covariates or []), *[c for c in (weights, cluster) if c]]
    missing = [c for c in needed if c not in data.columns]
    if missing:
        raise ValueError(f"att_gt: columns not in data: {', '.join(missing)}")
    df, records = staggered_frame(
        data,
        needed,
        unit,
        t,
        g,
        last_cohort_control=control_group != "never_treated",
        anticipation=anticipation,
        balanced=BALANCED,
        all_treated=ALL_CS_TREATED,
    )
    if not (df["_g"] == 0).any() and control_group == "never_treated":
        raise ValueError(
            "att_gt: no never-treated units (g=0 or after the last period); use control_group='not_yet_treated'"
        )
    if g not in (y, t, unit, *(covariates or []), weights, cluster):  # only '_g' is used from here on
        df = df.drop(columns=g)
    varying = [c for c in covariates or [] if (df.groupby(unit)[c].nunique() > 1).any()]
    if varying:
        raise ValueError(
            f"att_gt: covariates {', '.join(varying)} vary within units; Callaway-Sant'Anna "
            "conditions on time-invariant covariates (use a baseline value)"
        )
    if weights and (df.groupby(unit)[weights].nunique() > 1).any():
        raise ValueError(f"att_gt: weights '{weights}' vary within units; pass a time-invariant weight")
    if cluster and (df.groupby(unit)[cluster].nunique() > 1).any():
        raise ValueError(f"att_gt: cluster '{cluster}' varies within units")
    return df.reset_index(drop=True), records


def _first_rows(unit: pd.Series) -> np.ndarray:
    """Positions of each unit's first row, ordered by unit id (``drop_duplicates`` then ``sort_index``
    with one hash pass): factorize numbers units in order of first appearance, so a unit's first row
    is where the running maximum of the codes steps up."""
    codes, ids = pd.factorize(unit)
    running = np.maximum.accumulate(codes)
    first = np.flatnonzero(np.concatenate(([True], running[1:] > running[:-1])))
    return first[np.asarray(pd.Index(ids).argsort())]


def att_gt(
    data: pd.DataFrame,
    y: str,
    t: str,
    unit: str,
    g: str,
    control_group: str = "never_treated",
    est_method: str = "dr",
    covariates: list[str] | None = None,
    weights: str | None = None,
    cluster: str | None = None,
    base_period: str = "varying",
    anticipation: int = 0,
    bootstrap: int = 0,
    seed: int = SEED,
    alpha: float = 0.05,
) -> AttGtResult:
    """Every estimable ATT(g,t) by diff-diff's CallawaySantAnna, with influence functions.

    Arguments: ``data`` a long panel; ``y`` the outcome column; ``t`` the period column; ``unit``
    the unit id; ``g`` the timing column: the first treated period, 0 = never treated, a period
    after the last one = not yet treated in the window (recoded 0, a control, as R does).
    ``control_group``: 'never_treated' or 'not_yet_treated'. ``est_method``: 'dr', 'ipw' or 'reg'.
    ``covariates``: time-invariant columns (see the module docstring). ``weights``: a time-invariant
    unit weight column (sampling weights, as R's ``weightsname``). ``cluster``: a time-invariant
    column; influence functions are summed within its values. ``base_period``: 'varying' or
    'universal' (every pre-period cell against g-1-anticipation). ``bootstrap``: multiplier-bootstrap
    draws (0 = analytic SEs) from ``seed``.

    Returns an :class:`AttGtResult`: ``table`` has one row per estimable (group, time) cell with
    event_time = time - group, att, se, ci_low, ci_high (and the uniform band with a bootstrap),
    n_treated, n_control; ``dropped`` lists every unit, period or cell left out and why. Aggregate
    it with :func:`aggregate`."""
    if seed is None:
        raise ValueError(
            "att_gt: seed=None would draw unseeded bootstrap weights; pass an int (default analysis.config.SEED)"
        )
    cluster = None if cluster == unit else cluster
    df, records = _prepare(data, y, t, unit, g, covariates, weights, cluster, control_group, anticipation)
    estimator = CallawaySantAnna(
        control_group=control_group,
        anticipation=anticipation,
        estimation_method=est_method,
        alpha=alpha,
        base_period=base_period,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        fit = estimator.fit(
            df,
            outcome=y,
            unit=unit,
            time=t,
            first_treat="_g",
            covariates=covariates,
            survey_design=SurveyDesign(weights=weights) if weights else None,
        )
    first_rows = df.iloc[_first_rows(df[unit])].set_index(unit)  # unit-level columns are time-invariant
    units, cohort = first_rows.index.to_numpy(), first_rows["_g"].to_numpy()
    kit = fit._aggregation_kit
    if not np.array_equal(np.asarray(kit.bookkeeping["unit_cohorts"]), cohort):
        raise RuntimeError("att_gt: diff-diff's unit order differs from the sorted unit ids")
    n, rows, infos = len(units), [], []
    for (gg, tt), cell in sorted(fit.group_time_effects.items()):
        if not np.isfinite(cell["effect"]) or (gg, tt) not in kit.influence:
            records.append(
                {"level": "cell", "id": f"g={gg} t={tt}", "reason": f"not estimable ({cell['skip_reason']})", "rows": 0}
            )
            continue
        infos.append(kit.influence[(gg, tt)])
        rows.append((gg, tt, tt - gg, cell["effect"], cell["n_treated"], cell["n_control"]))
    # diff-diff keeps each cell's influence function on disjoint, unique treated and control indices:
    # scattered into zeros column by column (indices never repeat within a column, so += equals
    # np.add.at; no units x cells index arrays are built)
    inf = np.zeros((n, len(infos)))
    for j, i in enumerate(infos):
        inf[i["treated_idx"], j] += i["treated_inf"]
        inf[i["control_idx"], j] += i["control_inf"]
    inf *= n
    columns = {
        name: np.array(v, dtype=float if name == "att" else np.int64)
        for name, v in zip(CELL_COLUMNS, list(zip(*rows)) or [()] * len(CELL_COLUMNS))
    }
    w = first_rows[weights].to_numpy(float) if weights else np.ones(n)
    codes = pd.factorize(first_rows[cluster], sort=True)[0] if cluster else np.arange(n)
    result = AttGtResult(
        table=pd.DataFrame(columns),
        inf=inf,
        units=units,
        cohort=cohort,
        unit_weight=w / w.mean(),
        cluster=codes,
        dropped=dropped_frame(records),
        n_obs=len(df),
        alpha=alpha,
        bootstrap=bootstrap,
        seed=seed,
        control_group=control_group,
        est_method=est_method,
    )
    sums = _cluster_sums(result, inf)
    if bootstrap and sums.shape[0] > CLUSTER_BLOCK and sums.shape[1]:
        # One pass over the multipliers for every later aggregation: the draws of the cells and of
        # the cohort indicators, whose combinations are the draws of any aggregated influence function.
        indicators = (cohort[:, None] == _cohorts(result)[None, :]) * result.unit_weight[:, None]
        basis = multiplier_draws(_multipliers(seed, bootstrap, sums.shape[0]), sums, _cluster_sums(result, indicators))
        result = AttGtResult(**{**result.__dict__, "basis": basis})
    cells = np.vstack((np.eye(len(infos)), np.zeros((len(_cohorts(result)), len(infos)))))
    table = _table(result, columns, *_inference(result, sums, coef=cells))
    return AttGtResult(**{**result.__dict__, "table": table})


def _cohorts(result: AttGtResult) -> np.ndarray:
    """The cohorts of the estimated cells, sorted: the indicator columns of ``result.basis``."""
    return np.unique(result.table["group"].to_numpy())


def _cluster_sums(result: AttGtResult, inf: np.ndarray) -> np.ndarray:
    """Influence functions summed within clusters (rows = clusters); ``inf`` itself without clustering."""
    if np.array_equal(result.cluster, np.arange(len(result.cluster))):
        return inf
    sums = np.zeros((result.cluster.max() + 1, inf.shape[1]))
    np.add.at(sums, result.cluster, inf)
    return sums


def draw_multipliers(seed: int | None, draws: int, n_clusters: int, batch: int = DRAW_BATCH) -> np.ndarray:
    """Rademacher multipliers as bits (draws x ceil(clusters / 8) bytes, ``np.packbits`` order; bit
    1 = +1): exactly the draws of ``default_rng(seed).integers(0, 2, (draws, n_clusters), int8)``,
    drawn about ``batch`` at a time. numpy draws int8 values four to a 32-bit word and drops a call's
    unused bytes, so every call but the last asks for a multiple of 4 values and the stream is the
    one-shot stream whatever ``batch`` is."""
    rng = np.random.default_rng(seed)
    packed = np.empty((draws, -(-n_clusters // 8)), np.uint8)
    rows = max(1, batch // max(n_clusters, 1))
    carry = np.empty(0, np.int8)
    for start in range(0, draws, rows):
        stop = min(start + rows, draws)
        size = (stop - start) * n_clusters
        need = size - len(carry)
        if stop < draws:
            need = -(-need // 4) * 4
        values = np.concatenate((carry, rng.integers(0, 2, size=need, dtype=np.int8))) if need > 0 else carry
        packed[start:stop] = np.packbits(values[:size].reshape(stop - start, n_clusters), axis=1)
        carry = values[size:]
    return packed


@functools.lru_cache(maxsize=4)
def _multipliers(seed: int | None, draws: int, n_clusters: int) -> np.ndarray:
    """The multipliers of ``draw_multipliers``, drawn once per seed and shape: every aggregation of
    one result reuses the same draws, as R's mboot does within one call."""
    packed = draw_multipliers(seed, draws, n_clusters)
    packed.flags.writeable = False
    return packed


def multiplier_draws(packed: np.ndarray, *sums: np.ndarray) -> np.ndarray:
    """The bootstrap draws ``V @ S`` (draws x estimators) for multipliers ``V`` = +-1 stored as bits
    in ``packed`` and cluster sums ``S`` (clusters x estimators; several arrays: side by side). Up
    to ``CLUSTER_BLOCK`` clusters: one product, as with a dense ``V``; more: block by block, in
    order, each block's signs expanded to floats."""
    n_clusters, n_draws = sums[0].shape[0], len(packed)
    if n_clusters <= CLUSTER_BLOCK:
        return _SIGNS[packed].reshape(n_draws, -1)[:, :n_clusters] @ (sums[0] if len(sums) == 1 else np.hstack(sums))
    out = np.zeros((n_draws, sum(x.shape[1] for x in sums)))
    for c0 in range(0, n_clusters, CLUSTER_BLOCK):
        c1 = min(c0 + CLUSTER_BLOCK, n_clusters)
        signs = _SIGNS[packed[:, c0 // 8 : -(-c1 // 8)]].reshape(n_draws, -1)[:, : c1 - c0]
        out += signs @ np.hstack([x[c0:c1] for x in sums])
    return out


@functools.lru_cache(maxsize=4)
def _dense_multipliers(seed: int | None, draws: int, n_clusters: int) -> np.ndarray:
    """Within one block, the multipliers as a draws x clusters matrix of +-1 (at most
    ``CLUSTER_BLOCK`` columns), expanded once for every product of one result."""
    v = np.ascontiguousarray(_SIGNS[_multipliers(seed, draws, n_clusters)].reshape(draws, -1)[:, :n_clusters])
    v.flags.writeable = False
    return v


def clear_multipliers() -> None:
    """Forget every cached multiplier (the benchmark draws them afresh in each run)."""
    _multipliers.cache_clear()
    _dense_multipliers.cache_clear()


def _bootstrap_draws(result: AttGtResult, sums: np.ndarray, coef: np.ndarray | None) -> np.ndarray:
    """``V @ sums`` for the result's multipliers ``V``: from ``result.basis`` when it was drawn
    (``coef``: the estimators' coefficients on the cells and cohort indicators), else within one
    block with the dense multipliers, else blocked (``multiplier_draws``)."""
    if not sums.shape[1]:
        return np.zeros((result.bootstrap, 0))
    if result.basis is not None and coef is not None:
        return result.basis @ coef
    if sums.shape[0] <= CLUSTER_BLOCK:
        return _dense_multipliers(result.seed, result.bootstrap, sums.shape[0]) @ sums
    return multiplier_draws(_multipliers(result.seed, result.bootstrap, sums.shape[0]), sums)


def _inference(
    result: AttGtResult, sums: np.ndarray, band: bool = True, coef: np.ndarray | None = None
) -> tuple[np.ndarray, float | None]:
    """Standard errors of the estimators whose influence functions have cluster sums ``sums``, and
    the sup-t critical value of their uniform band (bootstrap with ``band`` only, else None).
    Bootstrap: Rademacher multipliers per cluster, R's IQR-based SE (below TINY_SE: NaN); ``coef``
    (basis x estimators) says how each influence function combines the cells and cohort indicators."""
    n = len(result.units)
    if not result.bootstrap:
        return np.sqrt((sums**2).sum(axis=0)) / n, None
    draws = _bootstrap_draws(result, sums, coef) / n
    q25, q75 = np.quantile(draws, [0.25, 0.75], axis=0, method="inverted_cdf")
    se = (q75 - q25) / (stats.norm.ppf(0.75) - stats.norm.ppf(0.25))
    se = np.where(se > TINY_SE, se, np.nan)
    if not (band and sums.shape[1]):
        return se, None
    tmax = np.nanmax(np.abs(draws / se), axis=1)
    return se, float(np.quantile(tmax[np.isfinite(tmax)], 1 - result.alpha, method="inverted_cdf"))


def _table(result: AttGtResult, columns: dict, se: np.ndarray, crit: float | None) -> pd.DataFrame:
    """``columns`` (including att) plus se, the pointwise CI and, given ``crit``, the uniform band."""
    z, att = stats.norm.ppf(1 - result.alpha / 2), columns["att"]
    out = {**columns, "se": se, "ci_low": att - z * se, "ci_high": att + z * se}
    if crit is not None:
        out.update(cband_low=att - crit * se, cband_high=att + crit * se)
    return pd.DataFrame(out)


def _vcov(result: AttGtResult, sums: np.ndarray) -> np.ndarray:
    """Analytic covariance of the estimators whose influence functions have cluster sums ``sums``."""
    return sums.T @ sums / len(result.units) ** 2


def _weighted_elements(
    att, inf, columns, weights, share_groups=None, shares=None, result=None, coef=None, cohorts=None
):
    """Weighted sum of estimates ``att`` and its influence function, from the ``columns`` (mask) of
    ``inf``; with ``share_groups`` add R's ``wif`` term for the estimated cohort shares (``shares`` =
    P(G=g) of each item's cohort). Computed ``UNIT_BLOCK`` units at a time. With ``coef`` (basis x
    columns of ``inf``), also the sum's coefficients on the basis (cells, then the indicators of
    ``cohorts``): ``wif @ att`` is the indicators times att/S - (shares @ att)/S^2, S = sum(shares)."""
    att_agg, inf_agg = float(weights @ att), np.empty(len(inf))
    for r0 in range(0, len(inf), UNIT_BLOCK):
        rows = slice(r0, r0 + UNIT_BLOCK)
        part = inf[rows][:, columns] @ weights
        if share_groups is not None:
            ind = (result.cohort[rows, None] == share_groups[None, :]) * result.unit_weight[rows, None] - shares[
                None, :
            ]
            wif = ind / shares.sum() - ind.sum(axis=1, keepdims=True) * (shares / shares.sum() ** 2)[None, :]
            part = part + wif @ att
        inf_agg[rows] = part
    if coef is None:
        return att_agg, inf_agg, None
    coef_agg = coef[:, columns] @ weights
    if share_groups is not None:
        total = shares.sum()
        np.add.at(
            coef_agg,
            len(coef) - len(cohorts) + np.searchsorted(cohorts, share_groups),
            att / total - (shares @ att) / total**2,
        )
    return att_agg, inf_agg, coef_agg


def aggregate(result: AttGtResult, kind: str, min_e: int | None = None, max_e: int | None = None) -> Aggregation:
    """R ``did::aggte`` of an :func:`att_gt` result for ``kind``: 'simple' (post-treatment cells,
    weighted by cohort size), 'group' (each cohort's average over its post periods, then averaged
    with cohort shares), 'dynamic' (event study: one element per event time e = time - group,
    ``min_e``/``max_e`` its window; the overall value averages e >= 0) or 'calendar' (one element per
    year, averaged over years). Post-treatment cells are those with ``group <= time``.

    Returns an :class:`Aggregation`: ``table`` (element, att, se, ci_low, ci_high[, cband_low,
    cband_high]), ``overall_att`` and ``overall_se``, the elements' influence functions and analytic
    covariance ``vcov``, and the uniform band's critical value ``crit`` (bootstrap only)."""
    if kind not in KINDS:
        raise ValueError(f"aggregate: kind must be one of {', '.join(KINDS)}, got {kind!r}")
    tab = result.table
    att, grp, tim = tab["att"].to_numpy(), tab["group"].to_numpy(), tab["time"].to_numpy()
    p_of = {c: float(result.unit_weight[result.cohort == c].sum() / len(result.units)) for c in set(grp)}
    pg = np.array([p_of[c] for c in grp])
    post = grp <= tim

    cohorts = _cohorts(result)
    base = None if result.basis is None else np.vstack((np.eye(len(att)), np.zeros((len(cohorts), len(att)))))

    def cells(mask, with_shares=True):
        w = pg[mask] / pg[mask].sum()
        return _weighted_elements(
            att[mask], result.inf, mask, w, grp[mask] if with_shares else None, pg[mask], result, base, cohorts
        )

    if kind == "simple":
        overall_att, overall_inf, overall_coef = cells(post)
        elements, parts = [], []
    elif kind == "group":
        elements = sorted(set(grp[post]))
        parts = [cells(post & (grp == e), with_shares=False) for e in elements]
    elif kind == "dynamic":
        event = tim - grp
        elements = [e for e in sorted(set(event)) if (min_e is None or e >= min_e) and (max_e is None or e <= max_e)]
        parts = [cells(event == e) for e in elements]
    else:
        elements = sorted(set(tim[post]))
        parts = [cells(post & (tim == e)) for e in elements]
    if parts:
        el_att = np.array([p[0] for p in parts])
        el_inf = np.column_stack([p[1] for p in parts])
        el_coef = None if base is None else np.column_stack([p[2] for p in parts])
    else:
        el_att, el_inf = np.array([]), np.zeros((len(result.units), 0))
        el_coef = None if base is None else np.zeros((len(base), 0))
    if kind == "group":
        shares = np.array([p_of[e] for e in elements])
        overall_att, overall_inf, overall_coef = _weighted_elements(
            el_att,
            el_inf,
            np.ones(len(elements), bool),
            shares / shares.sum(),
            np.array(elements),
            shares,
            result,
            el_coef,
            cohorts,
        )
    elif kind in ("dynamic", "calendar"):
        keep = np.array(elements) >= 0 if kind == "dynamic" else np.ones(len(elements), bool)
        overall_att, overall_inf, overall_coef = _weighted_elements(
            el_att[keep], el_inf, keep, np.full(keep.sum(), 1 / keep.sum()), coef=el_coef
        )
    sums = _cluster_sums(result, el_inf)
    se, crit = _inference(result, sums, coef=el_coef)
    table = _table(result, {"element": elements, "att": el_att}, se, crit)
    overall_se = _inference(
        result,
        _cluster_sums(result, overall_inf[:, None]),
        band=False,
        coef=None if overall_coef is None else overall_coef[:, None],
    )[0][0]
    return Aggregation(
        kind=kind,
        table=table,
        overall_att=float(overall_att),
        overall_se=float(overall_se),
        inf=el_inf,
        vcov=_vcov(result, sums),
        crit=crit,
    )


def _wald(test: str, att: np.ndarray, vcov: np.ndarray, note: str) -> dict:
    """Wald statistic that ``att`` is zero (chi-squared, len(att) df) and ``note``; no statistic (NaN)
    when ``vcov`` is singular as R ``did`` decides it: reciprocal 1-norm condition number <= eps."""
    out = {"test": test, "W": np.nan, "df": len(att), "pvalue": np.nan, "note": note}
    if not len(att):
        return {**out, "note": "no pre-treatment estimates with nonzero SE"}
    rcond = 1 / np.linalg.cond(vcov, 1)
    if not rcond > np.finfo(float).eps:
        return {**out, "note": f"no statistic: singular covariance (reciprocal condition number {rcond:.1e})"}
    w = float(att @ np.linalg.solve(vcov, att))
    return {**out, "W": w, "pvalue": float(stats.chi2.sf(w, len(att)))}


def pretest(result: AttGtResult) -> dict:
    """R ``did``'s Wald pre-test that every pre-treatment ATT(g,t) (``group > time``) is zero, with the
    analytic covariance (cluster sums; cells with zero SE left out): test, W, df, pvalue, note.
    W is NaN when that covariance is singular (R returns none). The usual cause is small cohorts: the
    treated part of a cohort's influence functions spans at most (treated units - 1) dimensions (none
    for a single unit), so a cohort with no more treated units than pre-period cells leaves only the
    control part, shared across cohorts, to separate its cells; the note lists such cohorts."""
    tab = result.table
    vcov = _vcov(result, _cluster_sums(result, result.inf))
    pre = (tab["group"] > tab["time"]).to_numpy() & (np.sqrt(np.diag(vcov)) > TINY_SE)
    out = _wald(PRETESTS[0], tab["att"].to_numpy()[pre], vcov[np.ix_(pre, pre)], "")
    cells = tab["group"][pre].value_counts().sort_index()
    units = pd.Series(result.cohort).value_counts()[cells.index]
    small = cells.index[units <= cells]
    if np.isnan(out["W"]) and len(small):
        listed = ", ".join(f"g={g}: {units[g]}/{cells[g]}" for g in small)
        out["note"] += (
            f"; {len(small)} cohorts have no more treated units than pre-period cells (units/cells "
            f"{listed}), {int((units[small] == 1).sum())} of them a single unit"
        )
    return out


def pretest_leads(agg: Aggregation) -> dict:
    """Joint Wald test that every pre-treatment element (e < 0) of a dynamic aggregation is zero, with its
    analytic covariance (cluster sums; elements with zero SE, the universal base period's e = -1, left
    out): test, W, df, pvalue, note. Each lead averages over cohorts, so it stays well posed where
    the cell-level test is singular."""
    if agg.kind != "dynamic":
        raise ValueError(f"pretest_leads: needs the dynamic aggregation, got {agg.kind!r}")
    e = agg.table["element"].to_numpy()
    lead = (e < 0) & (np.sqrt(np.diag(agg.vcov)) > TINY_SE)
    return _wald(
        PRETESTS[1],
        agg.table["att"].to_numpy()[lead],
        agg.vcov[np.ix_(lead, lead)],
        f"event times {', '.join(map(str, e[lead]))}",
    )
