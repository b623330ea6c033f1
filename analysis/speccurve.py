"""Joint inference over a specification curve (Simonsohn, Simmons & Nelson 2020, Nat. Hum. Behav. 4).

Null hypothesis of every test here: *no specification has an effect* -- adoption dates carry no
information about crime once county and year (or the spec's own) effects are removed. The null
world of a spec is built as Simonsohn et al. do: its estimated effect is taken out of its outcome
(y - b D, so that the data satisfy the null whatever the true effect; without this step a real effect
leaks into the permuted estimates and costs power). Under this null, adoption years may be reshuffled
across the counties of a state (strata: states, so the state's treated share and its timing pattern
stay). Each null draw ``d`` reshuffles every spec's
timing with one permutation: county c receives a key u(d, c) from a counter-based hash of
(config.SEED, d, c); within each state of a spec's sample, the counties ordered by key receive the
timing of the counties ordered by FIPS code. Specs with the same sample therefore share the same
permutation in every draw, so a null *curve* (all specs of one draw) keeps the dependence between
specs that the observed curve has, and the draws do not depend on which worker runs which spec.

Three statistics of the observed curve are compared with their null distribution (one value per
draw): the median estimate, and the numbers of specs significant at 5% with a positive and with a
negative estimate. p-values are the share of null curves at least as extreme, with the +1
correction: (1 + #{null >= observed}) / (1 + draws); the median is two-sided (|median|).

Null re-estimation. ``NullTwfe`` refits the static TWFE (with or without county linear trends, any
fixed effects, weights) by Frisch-Waugh-Lovell: the outcome is residualised on the fixed effects
once, each draw residualises only the new treatment dummy (alternating projections; then one projection
off the spec's controls, partialled out of the fixed effects once), and the
clustered SE uses the same small-sample factor as analysis.estimators.twfe, so draw 0 (no
permutation) equals twfe.static to rounding (tests/test_multiverse.py). Other estimators are refitted
through their registry entries (``refit``), exactly as analysis.estimate.run_spec fits them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.linalg

from analysis.estimators import registry, twfe
from analysis.estimators.tidy import normal_inference
from analysis.model import ssc, treated_indicator

ALPHA = 0.05
RANK_TOL = 1e-10  # a control whose residual norm is below this share of the largest is collinear (dropped)
UNIT, TIME = "fips", "year"
MASK = np.uint64(0xFFFFFFFFFFFFFFFF)
STATISTICS = ("median", "share_positive", "share_negative")
NULL_HYPOTHESIS = (
    "no specification has an effect: each spec's estimate times D taken out of its outcome, then "
    "adoption years permuted across the counties of each state (one permutation per draw for all specs)"
)


def _splitmix(x: np.ndarray) -> np.ndarray:
    """The splitmix64 finaliser: a well-mixed 64-bit hash of each uint64 (wraps around on purpose)."""
    with np.errstate(over="ignore"):
        x = (x + np.uint64(0x9E3779B97F4A7C15)) & MASK
        x = ((x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)) & MASK
        x = ((x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)) & MASK
        return x ^ (x >> np.uint64(31))


def unit_codes(units: np.ndarray) -> np.ndarray:
    """Units as numeric codes (FIPS strings are read as integers)."""
    return np.asarray(pd.to_numeric(pd.Series(units).astype(str), errors="raise"), dtype="int64").astype("uint64")


def keys(seed: int, draw: int, units: np.ndarray, codes: np.ndarray | None = None) -> np.ndarray:
    """A key per unit for null draw ``draw``: a hash of (seed, draw, unit code); ``codes``, if given, are
    unit_codes(units), computed once per set of units; ties are practically impossible."""
    codes = unit_codes(units) if codes is None else codes
    x = _splitmix(np.full(len(codes), np.uint64(seed % 2**64)))
    x = _splitmix(x ^ np.uint64(draw))
    return _splitmix(x ^ codes)


class Permuter:
    """Null draws of unit timing. ``units`` has one row per unit with columns unit, stratum, g; in draw
    ``d`` (d >= 1; draw 0 is the observed timing), within each stratum the units ordered by key receive
    the timing of the units ordered by unit code."""

    def __init__(self, units: pd.DataFrame):
        self.g = units["g"].to_numpy(float)
        self.unit = units["unit"].to_numpy()
        self.codes = unit_codes(self.unit)  # parsed once, not at every draw
        self.strata = [
            idx[np.argsort(self.unit[idx], kind="stable")]
            for idx in units.groupby("stratum", sort=True).indices.values()
            if len(idx) > 1
        ]

    def draw(self, seed: int, draw: int) -> np.ndarray:
        """Timing per unit after null draw ``draw``."""
        if draw == 0:
            return self.g
        out, k = self.g.copy(), keys(seed, draw, self.unit, self.codes)
        for by_unit in self.strata:
            out[by_unit[np.argsort(k[by_unit], kind="stable")]] = self.g[by_unit]
        return out


def permuted_timing(units: pd.DataFrame, seed: int, draw: int) -> np.ndarray:
    """Timing per unit after null draw ``draw`` (see Permuter)."""
    return Permuter(units).draw(seed, draw)


def _codes(values) -> tuple[np.ndarray, int]:
    codes, uniques = pd.factorize(pd.Series(values), sort=True)
    return codes.astype("int64"), len(uniques)


class Projector:
    """Residualise columns on fixed effects (and optionally unit-specific linear trends) with weights,
    by alternating projections until the largest change is below ``tol``."""

    def __init__(
        self,
        groups: list[np.ndarray],
        weights: np.ndarray,
        trend_unit: np.ndarray | None = None,
        time: np.ndarray | None = None,
        tol: float = 1e-13,
        max_iter: int = 100_000,
    ):
        self.w, self.tol, self.max_iter = weights, tol, max_iter
        self.groups = [_codes(g) for g in groups]
        self.sums = [np.bincount(c, weights=weights, minlength=n) for c, n in self.groups]
        self.trend = None
        if trend_unit is not None:
            c, n = _codes(trend_unit)
            sw = np.bincount(c, weights=weights, minlength=n)
            tbar = np.bincount(c, weights=weights * time, minlength=n) / sw
            tc = time - tbar[c]
            self.trend = (c, n, sw, tc, np.bincount(c, weights=weights * tc * tc, minlength=n))

    def _sweep(self, x: np.ndarray) -> np.ndarray:
        w = self.w
        if self.trend is not None:
            c, n, sw, tc, stt = self.trend
            mean = np.bincount(c, weights=w * x, minlength=n) / sw
            slope = np.bincount(c, weights=w * tc * x, minlength=n) / np.where(stt > 0, stt, 1.0)
            x = x - mean[c] - slope[c] * tc
        for (c, n), s in zip(self.groups, self.sums):
            x = x - (np.bincount(c, weights=w * x, minlength=n) / s)[c]
        return x

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, float)
        scale = max(1.0, float(np.abs(x).max(initial=0.0)))
        for _ in range(self.max_iter):
            new = self._sweep(x)
            if np.abs(new - x).max(initial=0.0) <= self.tol * scale:
                return new
            x = new
        raise RuntimeError("alternating projections did not converge (fixed effects nearly collinear with trends?)")


class NullTwfe:
    """The static TWFE of a prepared design, refitted quickly for permuted timing (module docstring).

    ``df`` is the estimation data of analysis.estimate.prepare; ``fe`` its fixed-effect columns;
    ``trends`` adds county linear trends (twfe_trends); ``controls`` the design's control columns (e.g.
    baseline covariates by year), which stay fixed across draws: they are partialled out once, after the
    fixed effects (Frisch-Waugh-Lovell in two blocks), and each draw removes them from the new dummy by
    one projection. Rows are those twfe.static keeps."""

    def __init__(
        self,
        df: pd.DataFrame,
        y: str,
        g: str,
        fe: list[str],
        weights: str | None,
        cluster: str,
        trends: bool = False,
        controls: list[str] = (),
    ):
        frame, _, fe = twfe._frame(df, y, UNIT, TIME, g, weights, cluster, list(controls), fe)
        frame = frame.reset_index(drop=True)
        self.frame, self.g = frame, g
        self.w = frame[weights].to_numpy(float) if weights else np.ones(len(frame))
        time = frame[TIME].to_numpy(float)
        groups = [frame[c].to_numpy() for c in fe if not (trends and c == UNIT)]
        self.project = Projector(
            groups, self.w, frame[UNIT].to_numpy() if trends else None, time - time.mean() if trends else None
        )
        self.basis, rank = None, 0
        if controls:
            # An orthonormal basis of the weighted, fixed-effect-free controls; columns the fixed effects
            # absorb (or collinear with others) drop out, as linearmodels' drop_absorbed does.
            x = np.column_stack([self.project(frame[c].to_numpy(float)) for c in controls]) * np.sqrt(self.w)[:, None]
            q, r, _ = scipy.linalg.qr(x, mode="economic", pivoting=True)
            diag = np.abs(np.diag(r))
            rank = int((diag > RANK_TOL * diag.max(initial=0.0)).sum())
            self.basis = q[:, :rank]
        self.mean_y = float(np.average(frame[y].to_numpy(float), weights=self.w))
        self.y = self._residual(frame[y].to_numpy(float))
        self.cl, self.n_cl = _codes(frame[cluster].to_numpy())
        fe_frame = frame[fe].copy()
        if trends:
            fe_frame["_unit_slopes"] = frame[UNIT].to_numpy()
        self.factor = ssc(len(frame), 1 + rank, fe_frame, pd.Series(self.cl))
        self.unit_index, units = pd.factorize(frame[UNIT], sort=True)
        first = frame.groupby(UNIT, sort=True)[g].first()
        self.units = pd.DataFrame(
            {"unit": units.to_numpy(), "g": first.to_numpy(float), "stratum": _state(units.to_numpy())}
        )
        self.time = frame[TIME].to_numpy(float)

    def _residual(self, x: np.ndarray) -> np.ndarray:
        """``x`` residualised on the fixed effects (and trends), then on the controls."""
        x = self.project(x)
        if self.basis is None:
            return x
        sw = np.sqrt(self.w)
        v = x * sw
        return (v - self.basis @ (self.basis.T @ v)) / sw

    def _treated(self, g_units: np.ndarray) -> np.ndarray:
        return treated_indicator(g_units[self.unit_index], self.time)

    def remove_effect(self, beta: float) -> None:
        """Take ``beta`` x D (observed timing) out of the outcome: the null world of this spec."""
        self.y = self.y - beta * self._residual(self._treated(self.units["g"].to_numpy(float)))

    def fit(self, g_units: np.ndarray) -> tuple[float, float]:
        """(estimate, clustered SE) with unit timing ``g_units`` (ordered like self.units)."""
        dt = self._residual(self._treated(g_units))
        sdd = float(np.sum(self.w * dt * dt))
        if sdd <= 1e-12:
            return float("nan"), float("nan")
        beta = float(np.sum(self.w * dt * self.y) / sdd)
        e = self.y - beta * dt
        score = np.bincount(self.cl, weights=self.w * dt * e, minlength=self.n_cl)
        return beta, float(np.sqrt(self.factor * np.sum(score**2)) / sdd)


def _state(units: np.ndarray) -> np.ndarray:
    """The state of each county: the first two digits of its FIPS code."""
    return np.array([str(u)[:2] for u in units])


class NullRefit:
    """Any other estimator of a prepared design, refitted through its own function for permuted timing."""

    def __init__(self, estimator: str, df: pd.DataFrame, y: str, g: str, design: dict, spec: dict, cluster: str):
        self.estimator, self.df, self.y, self.g, self.design, self.spec, self.cluster = (
            estimator,
            df,
            y,
            g,
            design,
            spec,
            cluster,
        )
        first = df.groupby(UNIT, sort=True)[g].first()
        self.units = pd.DataFrame(
            {"unit": first.index.to_numpy(), "g": first.to_numpy(float), "stratum": _state(first.index.to_numpy())}
        )
        self.unit_index = pd.Index(first.index).get_indexer(df[UNIT])
        kept = df[[y, *([design["weights"]] if design["weights"] else [])]].dropna()
        self.mean_y = float(np.average(kept[y], weights=kept[design["weights"]] if design["weights"] else None))

    def remove_effect(self, beta: float) -> None:
        """Take ``beta`` x D (observed timing) out of the outcome: the null world of this spec."""
        d = twfe.treated(self.df, TIME, self.g).to_numpy(float)
        self.df = self.df.assign(**{self.y: self.df[self.y] - beta * d})

    def fit(self, g_units: np.ndarray) -> tuple[float, float]:
        df = self.df.assign(**{self.g: np.where(np.isnan(g_units[self.unit_index]), np.nan, g_units[self.unit_index])})
        return refit(self.estimator, self.spec, df, self.design, self.y, self.cluster)


def refit(estimator: str, spec: dict, df: pd.DataFrame, design: dict, y: str, cluster: str) -> tuple[float, float]:
    """(estimate, SE) of ``estimator``'s primary row on prepared data, fitted as analysis.estimate.run_spec
    fits it (its registry entry's ``null_fit``: cs the simple ATT with analytic SEs)."""
    ctx = registry.Context(spec, df, design, y, spec["treatment"], UNIT, TIME, cluster)
    return registry.get(estimator).null_fit(ctx)


def significant(estimate: np.ndarray, se: np.ndarray, alpha: float = ALPHA) -> tuple[np.ndarray, np.ndarray]:
    """Boolean arrays: significant at ``alpha`` (two-sided normal test) and positive / negative."""
    p = np.asarray(normal_inference(np.asarray(estimate, float), np.asarray(se, float))["pvalue"], float)
    sig = np.nan_to_num(p, nan=1.0) < alpha
    return sig & (np.asarray(estimate) > 0), sig & (np.asarray(estimate) < 0)


def curve_statistics(estimate: np.ndarray, se: np.ndarray) -> dict:
    """Median estimate and shares of specs significant with each sign, of one curve (1-d arrays)."""
    pos, neg = significant(estimate, se)
    return {
        "median": float(np.nanmedian(estimate)),
        "share_positive": float(pos.mean()),
        "share_negative": float(neg.mean()),
    }


def joint_test(
    observed_est: np.ndarray, observed_se: np.ndarray, null_est: np.ndarray, null_se: np.ndarray
) -> pd.DataFrame:
    """The three curve statistics, observed and against the null curves (specs x draws arrays):
    statistic, observed, null_median, null_q95, p_value, draws. p-values: share of null curves at least
    as extreme (+1 correction); the median two-sided (|median|), the shares one-sided (>=)."""
    obs = curve_statistics(observed_est, observed_se)
    draws = null_est.shape[1]
    nulls = pd.DataFrame([curve_statistics(null_est[:, d], null_se[:, d]) for d in range(draws)])
    rows = []
    for stat in STATISTICS:
        values = nulls[stat].to_numpy()
        extreme = np.abs(values) >= abs(obs[stat]) - 1e-12 if stat == "median" else values >= obs[stat] - 1e-12
        rows.append(
            {
                "statistic": stat,
                "observed": obs[stat],
                "null_median": float(np.median(values)),
                "null_q95": float(np.quantile(np.abs(values) if stat == "median" else values, 0.95)),
                "p_value": (1 + int(extreme.sum())) / (1 + draws),
                "draws": draws,
            }
        )
    return pd.DataFrame(rows)


def null_curves(null_est: np.ndarray, null_se: np.ndarray) -> pd.DataFrame:
    """One row per null draw: its curve's median and shares (for the figure)."""
    rows = [{"draw": d + 1, **curve_statistics(null_est[:, d], null_se[:, d])} for d in range(null_est.shape[1])]
    return pd.DataFrame(rows, columns=["draw", *STATISTICS])
