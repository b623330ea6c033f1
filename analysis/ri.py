"""Randomization inference for the static TWFE estimate: ``python -m analysis.ri analysis/grids/<program>.yaml``.

The design is the grid's ``base`` specification (sample, outcome, transform, timing column, weights);
the ``ri`` block gives the number of permutations, the seed and the ``strata``. Each permutation
reassigns the counties' adoption years (including 'never', 0) at random, so the number of treated
counties and the cohort sizes are kept, and re-estimates the TWFE coefficient. Schemes:

* ``unrestricted``: adoption years permuted across all counties of the sample. Null hypothesis: no
  effect for any county in any year (sharp null), and adoption dates exchangeable across counties.
* ``within_<column>`` for each column of ``strata`` (a panel column such as ``state``, or a column of
  analysis/derived.yaml such as ``size3_2000``, the population terciles of the *_sizeyear specs):
  adoption years permuted only among counties with the same value, so each stratum keeps its own
  cohorts. Null: the same sharp null, with dates exchangeable only within strata (random timing
  among comparable counties). A stratum whose counties share one date adds no variation.

The statistic is computed by Frisch–Waugh: with a balanced panel and weights constant within county,
the two-way within transform is x_it - xbar_i - xtilde_t + xtilde (unit means over years; weighted
means over counties), so beta = sum w D~ y~ / sum w D~^2 needs only the permuted D to be demeaned.
tests/test_analyses.py checks that the unpermuted statistic equals the linearmodels TWFE estimate.

Writes results/ri_<stem>/ri.csv (one row per scheme, unrestricted first: program, scheme, estimate,
p_perm, n_perm, seed, ...) and results/ri_<stem>/permutations.csv (scheme, draw, estimate) for the figure.
p_perm is two-sided with the +1
correction: (1 + #{|b_perm| >= |b_obs|}) / (1 + n_perm).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.config import DERIVED, SEED, ri_folder
from analysis.derived import add_columns, read_derived
from analysis.design import design_sample
from analysis.estimate import FLOAT
from analysis.grid import expand, read_grid
from analysis.infra import cli
from analysis.infra.atomic import write_text
from analysis.infra.errors import InputError
from analysis.model import population_weights, treated_indicator
from analysis.sample import read_panel
from analysis.spec import default_terms, outcome_column

MIN_PERMUTATIONS = 999


def design_arrays(spec: dict, panel: pd.DataFrame) -> dict:
    """The spec's sample as N x T arrays: outcome y, years, each county's adoption year g and weight w.
    Rows missing the outcome or the timing are dropped (as the TWFE estimator does); the rest must be
    a balanced panel."""
    extra = [f for f in ("controls", "baseline_controls", "sample_rules", "derived") if spec.get(f)]
    if extra or not default_terms(spec.get("fixed_effects", ["county", "year"])):
        raise InputError(
            spec["path"],
            "randomization inference permutes the static TWFE with county and year "
            f"effects on a named sample only: remove {', '.join(extra) or 'fixed_effects'}",
            field=(extra or ["fixed_effects"])[0],
        )
    df, _ = design_sample(panel, spec)
    y_col, g_col = outcome_column(spec), spec["treatment"]
    df = df.dropna(subset=[y_col, g_col]).sort_values(["fips", "year"])
    if spec["weights"] == "population":
        df = df.assign(_w=population_weights(df))
    else:
        df = df.assign(_w=1.0)
    years = np.sort(df["year"].unique())
    counts = df.groupby("fips").size()
    if (counts != len(years)).any():
        raise ValueError("randomization inference needs a balanced panel (use a balanced sample)")
    n, t = len(counts), len(years)
    return {
        "y": df[y_col].to_numpy(float).reshape(n, t),
        "years": years,
        "g": df.groupby("fips")[g_col].first().to_numpy("int64"),
        "w": df.groupby("fips")["_w"].first().to_numpy(float),
        "units": counts.index.to_numpy(),
    }


def within(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Two-way within transform of N x T (or P x N x T) arrays, balanced, unit weights ``w`` (length N)."""
    unit_mean = x.mean(axis=-1, keepdims=True)
    year_mean = np.tensordot(w, x, axes=([0], [-2])) / w.sum()
    year_mean = np.expand_dims(year_mean, -2)
    grand = year_mean.mean(axis=-1, keepdims=True)
    return x - unit_mean - year_mean + grand


def treatment(g: np.ndarray, years: np.ndarray) -> np.ndarray:
    """D_it = 1{g_i > 0 and year_t >= g_i} for adoption years ``g`` (... x N) -> (... x N x T)."""
    return treated_indicator(np.asarray(g)[..., None], years)


def twfe_beta(y_within: np.ndarray, d: np.ndarray, w: np.ndarray) -> np.ndarray:
    """The TWFE coefficient(s) by Frisch–Waugh, for D of shape N x T or P x N x T."""
    d_within = within(d, w)
    wn = w[:, None]
    return (wn * d_within * y_within).sum(axis=(-2, -1)) / (wn * d_within**2).sum(axis=(-2, -1))


def shuffle(g: np.ndarray, rng: np.random.Generator, groups: list[np.ndarray] | None = None) -> np.ndarray:
    """``g`` permuted at random across all units (``groups`` None) or only within each group of unit
    indices (every unit in exactly one group)."""
    if groups is None:
        return rng.permutation(g)
    out = g.copy()
    for idx in groups:
        out[idx] = rng.permutation(g[idx])
    return out


def strata_groups(labels: np.ndarray) -> list[np.ndarray]:
    """Unit indices of each stratum (sorted by label), for ``shuffle``."""
    labels = pd.Series(labels).astype(str).to_numpy()
    return [np.flatnonzero(labels == v) for v in np.unique(labels)]


def permute(arrays: dict, n_perm: int, seed: int, strata: np.ndarray | None = None) -> tuple[float, np.ndarray]:
    """The observed TWFE estimate and ``n_perm`` estimates under permuted adoption years (seeded),
    across all units or, given ``strata`` (one label per unit), within strata only."""
    y_within = within(arrays["y"], arrays["w"])
    observed = float(twfe_beta(y_within, treatment(arrays["g"], arrays["years"]), arrays["w"]))
    groups = None if strata is None else strata_groups(strata)
    rng = np.random.default_rng(seed)
    draws = np.empty(n_perm)
    for start in range(0, n_perm, 100):  # chunks of 100 permutations keep memory small
        size = min(100, n_perm - start)
        g = np.stack([shuffle(arrays["g"], rng, groups) for _ in range(size)])
        draws[start : start + size] = twfe_beta(y_within, treatment(g, arrays["years"]), arrays["w"])
    return observed, draws


def stratum_labels(panel: pd.DataFrame, units: np.ndarray, column: str, grid_path) -> np.ndarray:
    """Each unit's value of ``column`` (a panel column, or one of analysis/derived.yaml built on the whole
    panel, as the specs build it); InputError if it is unknown or varies within a county."""
    if column not in panel.columns:
        definitions = read_derived(DERIVED)[0] if DERIVED.exists() else {}
        if column not in definitions:
            raise InputError(
                grid_path, f"stratum {column!r} is neither a panel column nor in {DERIVED.name}", field="strata"
            )
        panel = add_columns(panel, [column], definitions)
    values = panel[panel["fips"].isin(units)].groupby("fips")[column]
    if (values.nunique(dropna=False) > 1).any():
        raise InputError(grid_path, f"stratum {column!r} varies within a county", field="strata")
    labels = values.first().reindex(units)
    if labels.isna().any():
        raise InputError(
            grid_path, f"stratum {column!r} is missing for {int(labels.isna().sum())} counties", field="strata"
        )
    return labels.to_numpy()


def informative(g: np.ndarray, strata: np.ndarray | None) -> tuple[int, int]:
    """(strata, strata whose counties have more than one adoption year: only these vary under permutation)."""
    frame = pd.DataFrame({"g": g, "s": "all" if strata is None else pd.Series(strata).astype(str)})
    n_dates = frame.groupby("s")["g"].nunique()
    return len(n_dates), int((n_dates > 1).sum())


def p_value(observed: float, draws: np.ndarray) -> float:
    """Two-sided permutation p-value with the +1 correction (in (0, 1])."""
    return float((1 + np.sum(np.abs(draws) >= abs(observed) - 1e-12)) / (1 + len(draws)))


def run(grid_path: str | Path, panel: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(summary row, permutation distribution) for the base design of the grid in ``grid_path``."""
    grid = read_grid(grid_path)
    settings = grid.get("ri") or {}
    unknown = sorted(set(settings) - {"permutations", "seed", "strata"})
    if unknown:
        raise InputError(
            grid_path,
            f"unknown key(s) in the ri block: {', '.join(unknown)} (known: permutations, seed, strata)",
            field=unknown[0],
        )
    n_perm, seed = int(settings.get("permutations", MIN_PERMUTATIONS)), int(settings.get("seed", SEED))
    if n_perm < MIN_PERMUTATIONS:
        raise InputError(grid_path, f"at least {MIN_PERMUTATIONS} permutations", field="permutations")
    strata = settings.get("strata") or []
    if not isinstance(strata, list) or not all(isinstance(c, str) for c in strata):
        raise InputError(grid_path, "strata must be a list of column names", field="strata")
    spec = next(s for s in expand(grid_path, panel.columns) if s["variant"] == "base")
    arrays = design_arrays(spec, panel)
    schemes = {
        "unrestricted": None,
        **{f"within_{c}": stratum_labels(panel, arrays["units"], c, grid_path) for c in strata},
    }
    rows, draws = [], []
    for scheme, labels in schemes.items():  # every scheme from the same seed
        observed, dist = permute(arrays, n_perm, seed, labels)
        n_strata, varying = informative(arrays["g"], labels)
        rows.append(
            {
                "program": spec["program"],
                "scheme": scheme,
                "estimate": observed,
                "p_perm": p_value(observed, dist),
                "n_perm": n_perm,
                "seed": seed,
                "sample": spec["sample"],
                "outcome": outcome_column(spec),
                "treatment": spec["treatment"],
                "weights": spec["weights"],
                "n_units": len(arrays["units"]),
                "n_obs": arrays["y"].size,
                "n_treated_units": int(((arrays["g"] > 0) & (arrays["g"] <= arrays["years"].max())).sum()),
                "n_strata": n_strata,
                "n_strata_varying": varying,
                "n_distinct": int(len(np.unique(dist.round(12)))),
                "perm_sd": float(dist.std(ddof=1)),
            }
        )
        draws.append(pd.DataFrame({"scheme": scheme, "draw": np.arange(1, n_perm + 1), "estimate": dist}))
    return pd.DataFrame(rows), pd.concat(draws, ignore_index=True)


def main(paths: list[str]) -> int:
    """Run the RI of every grid file given; results/ri_<stem>/ri.csv and permutations.csv."""
    panel = read_panel()
    for path in paths:
        try:
            summary, draws = run(path, panel)
        except InputError as err:
            print(f"error: {err}", file=sys.stderr)
            return 1
        folder = ri_folder(Path(path).stem)
        write_text(folder / "permutations.csv", draws.to_csv(index=False, lineterminator="\n", float_format=FLOAT))
        write_text(folder / "ri.csv", summary.to_csv(index=False, lineterminator="\n", float_format=FLOAT))
        print(folder / "ri.csv")
    return 0


if __name__ == "__main__":
    cli.run(lambda: main(sys.argv[1:]), "ri")
