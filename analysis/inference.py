"""Multiple testing and equivalence tests across specifications: ``python -m analysis.inference``.

Reads analysis/inference.yaml (its comments state each null hypothesis) and writes into
results/inference/:

* romano_wolf.csv - per program, cluster level (county, state) and outcome: the static TWFE
  coefficient, its WCR11 wild cluster bootstrap p-value and the Romano-Wolf stepdown p-value over
  the program's outcomes. The bootstrap is analysis.estimators.wild.wcr (wildboottest on the
  weighted Frisch-Waugh form, so population-weighted SC designs are covered), run with one seed on
  the same clusters for every outcome, so the draws are joint; the stepdown is pyfixest's
  (``rwolf``'s own routine). Every coefficient is checked against results/<spec>/overall.csv.
* honest_simple.csv - HonestDiD robust confidence sets for the primary estimand itself, the
  Callaway-Sant'Anna simple ATT: l' beta_post over the full event study (analytic covariance, as the
  specs' honest.csv), with l the cohort-size shares of the post-period cells at each event time, so
  that l' beta_post equals cs_simple (checked against results/<spec>/overall.csv); with every
  available pre-period and with the event-study window's; under relative magnitudes (Mbar) and under
  smoothness (M); at the grid points a bisection needs to find each breakdown value (the first M whose
  set holds zero: the full grid scan's, exactly).
* tost.csv - two one-sided tests (normal approximation, county-clustered SE of the spec) of
  |effect| >= bound, bound = bound_pct % of the treated counties' mean outcome before adoption.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pyfixest.estimation.post_estimation.multcomp import _get_rwolf_pval
from scipy.stats import norm

from analysis.config import RESULTS, ROOT, SPECS
from analysis.estimate import CLUSTER, FLOAT, TIME, UNIT, prepare
from analysis.estimators import cs, honest
from analysis.estimators.twfe import treated
from analysis.estimators.wild import wcr
from analysis.infra import cli
from analysis.infra.atomic import atomic_dir
from analysis.infra.errors import InputError
from analysis.infra.yamlfile import read_yaml
from analysis.sample import read_panel
from analysis.spec import check_estimator_names, load_spec, outcome_column

CONFIG = ROOT / "analysis" / "inference.yaml"
OUT = RESULTS / "inference"
KEYS = {
    "romano_wolf": {"estimator", "seed", "reps", "families"},
    "tost": {"estimator", "bound_pct", "specs"},
    "honest": {"specs", "pre_periods", *honest.GRIDS},
}
# A coefficient recomputed here must equal the spec's results to this relative tolerance.
TOLERANCE = 1e-6


def read_config(path=CONFIG) -> dict:
    """analysis/inference.yaml, checked: every block and key present, nothing unknown (InputError)."""
    data, root = read_yaml(path, dict, "a mapping with blocks romano_wolf and tost")
    for block, keys in KEYS.items():
        if not isinstance(data.get(block), dict):
            raise InputError(path, "block missing or not a mapping", field=block)
        got = set(data[block])
        if got != keys:
            raise InputError(
                path,
                f"keys must be {sorted(keys)}: missing {sorted(keys - got)}, unknown {sorted(got - keys)}",
                field=block,
            )
    unknown = set(data) - set(KEYS)
    if unknown:
        raise InputError(path, f"unknown blocks {sorted(unknown)}", field=sorted(unknown)[0])
    check_estimator_names(
        path, root, {f"{b}.estimator": data[b]["estimator"] for b in ("romano_wolf", "tost")}, rows=True
    )
    rw = data["romano_wolf"]
    if data["tost"]["estimator"] != "twfe" or rw["estimator"] != "twfe":
        raise InputError(path, "only the static TWFE coefficient ('twfe') is supported", field="estimator")
    if set(rw["reps"]) - set(CLUSTER) or not all(isinstance(r, int) and r >= 99 for r in rw["reps"].values()):
        raise InputError(
            path, f"reps: a whole number >= 99 per cluster level of {sorted(CLUSTER)}", field="romano_wolf.reps"
        )
    if not 0 < data["tost"]["bound_pct"] < 100:
        raise InputError(path, "bound_pct must lie strictly between 0 and 100", field="tost.bound_pct")
    return data


def romano_wolf(t_stats, boot_t) -> np.ndarray:
    """Romano-Wolf stepdown p-values of S tests from their t-statistics (S) and the joint bootstrap
    t-statistics (B x S), as pyfixest's rwolf computes them."""
    t_stats, boot_t = np.asarray(t_stats, float), np.asarray(boot_t, float)
    if boot_t.ndim != 2 or boot_t.shape[1] != len(t_stats):
        raise ValueError(f"romano_wolf: {len(t_stats)} statistics but bootstrap draws of shape {boot_t.shape}")
    return np.array(_get_rwolf_pval(t_stats, boot_t), float)


def tost(estimate: float, se: float, bound: float) -> dict:
    """Two one-sided tests of H0: effect <= -bound or effect >= bound (normal approximation).
    p_lower tests effect <= -bound, p_upper tests effect >= bound; p_tost = max of the two."""
    if not (se > 0 and bound > 0):
        raise ValueError(f"tost: se ({se}) and bound ({bound}) must be positive")
    p_lower = float(norm.sf((estimate + bound) / se))
    p_upper = float(norm.cdf((estimate - bound) / se))
    return {
        "bound": bound,
        "p_lower": p_lower,
        "p_upper": p_upper,
        "p_tost": max(p_lower, p_upper),
        "ci90_low": estimate - norm.ppf(0.95) * se,
        "ci90_high": estimate + norm.ppf(0.95) * se,
    }


def _design(name: str, panel: pd.DataFrame) -> tuple[dict, pd.DataFrame, dict]:
    """The spec, its estimation data with the treatment dummy _d (complete rows), and its design."""
    spec = load_spec(SPECS / f"{name}.yaml")
    df, _, design = prepare(spec, panel)
    y = outcome_column(spec)
    cols = [y, spec["treatment"], *design["fe"], *CLUSTER.values(), *([design["weights"]] if design["weights"] else [])]
    df = df.dropna(subset=list(dict.fromkeys(cols)))
    return spec, df.assign(_d=treated(df, TIME, spec["treatment"])), design


def _result(name: str, estimator: str) -> pd.Series:
    table = pd.read_csv(RESULTS / name / "overall.csv").set_index("estimator")
    if estimator not in table.index:
        raise InputError(RESULTS / name / "overall.csv", f"no estimator {estimator!r}: run make estimates")
    return table.loc[estimator]


def _check(name: str, coef: float, reported: float, n: int, n_reported: int) -> None:
    """Stop unless the recomputed coefficient and N are the spec's own (a wrong number never passes)."""
    if n != n_reported or abs(coef - reported) > TOLERANCE * max(1.0, abs(reported)):
        raise RuntimeError(
            f"{name}: recomputed TWFE {coef!r} on {n} rows, results/{name}/overall.csv has "
            f"{reported!r} on {n_reported}: the inference step and the spec disagree"
        )


def romano_wolf_table(cfg: dict, panel: pd.DataFrame) -> pd.DataFrame:
    """One row per program x cluster level x outcome (see the module docstring)."""
    rows = []
    for program, names in cfg["families"].items():
        designs = [_design(n, panel) for n in names]
        for level, reps in cfg["reps"].items():
            column = CLUSTER[level]
            clusters = {tuple(sorted(df[column].unique())) for _, df, _ in designs}
            if len(clusters) != 1:
                raise RuntimeError(
                    f"romano_wolf {program}: {names} do not share one set of {level} clusters; "
                    "joint bootstrap draws need the same clusters for every outcome"
                )
            fits = [
                wcr(
                    df,
                    outcome_column(spec),
                    ["_d", *design["controls"]],
                    design["fe"],
                    column,
                    design["weights"],
                    reps=reps,
                    seed=cfg["seed"],
                )
                for spec, df, design in designs
            ]
            adjusted = romano_wolf([f.tstat for f in fits], np.column_stack([f.boot_t for f in fits]))
            for (spec, df, _), name, fit, p_rw in zip(designs, names, fits, adjusted):
                reported = _result(name, cfg["estimator"])
                _check(name, fit.coef, float(reported["estimate"]), len(df), int(reported["n_obs"]))
                rows.append(
                    {
                        "program": program,
                        "cluster": level,
                        "spec": name,
                        "outcome": spec["outcome"],
                        "estimator": cfg["estimator"],
                        "estimate": fit.coef,
                        "p_wild": fit.pvalue,
                        "p_romano_wolf": float(p_rw),
                        "n_tests": len(names),
                        "reps": reps,
                        "seed": cfg["seed"],
                        "n_clusters": int(df[column].nunique()),
                    }
                )
    return pd.DataFrame(rows)


def pre_mean(spec: dict, df: pd.DataFrame) -> float:
    """Mean outcome of the treated counties in their years before adoption (unweighted county-years)."""
    y, g = outcome_column(spec), spec["treatment"]
    pre = df[(df[g] > 0) & (df[TIME] < df[g])]
    if pre.empty:
        raise RuntimeError(f"{spec['name']}: no treated county-year before adoption to scale the bound")
    return float(pre[y].mean())


def tost_table(cfg: dict, panel: pd.DataFrame) -> pd.DataFrame:
    """One row per spec: estimate, SE, the bound and the two one-sided tests."""
    rows = []
    for name in cfg["specs"]:
        spec, df, _ = _design(name, panel)
        row = _result(name, cfg["estimator"])
        mean = pre_mean(spec, df)
        rows.append(
            {
                "spec": name,
                "outcome": spec["outcome"],
                "transform": spec["transform"],
                "estimator": cfg["estimator"],
                "estimate": float(row["estimate"]),
                "se": float(row["se"]),
                "pre_mean": mean,
                "bound_pct": cfg["bound_pct"],
                **tost(float(row["estimate"]), float(row["se"]), cfg["bound_pct"] / 100 * mean),
            }
        )
    return pd.DataFrame(rows)


def simple_weights(res: cs.AttGtResult) -> pd.Series:
    """Weights l_e on the post-period event-time effects (indexed by e >= 0) with l' beta_post = the
    simple ATT: each post cell (g, t) weighs its cohort's share, as cs.aggregate('simple') does."""
    tab = res.table
    share = {c: float(res.unit_weight[res.cohort == c].sum()) for c in set(tab["group"])}
    post = tab[tab["group"] <= tab["time"]]
    w = post.assign(pg=post["group"].map(share)).groupby(post["time"] - post["group"])["pg"].sum()
    return (w / w.sum()).rename_axis("event_time")


def grid(block: dict) -> list[float]:
    """0, step, 2 step, ..., max (rounded to 10 decimals)."""
    n = int(round(block["max"] / block["step"]))
    return [round(i * block["step"], 10) for i in range(n + 1)]


def bisect_breakdown(fit, points: list[float]) -> pd.DataFrame:
    """The rows ``fit(M)`` (a mapping with ci_low, ci_high) needed to find the breakdown value on ``points``:
    the first M whose robust set holds zero. The sets are nested, growing with M (the restriction set
    grows), so bisection over the grid finds the full scan's point exactly: the first and last points, then
    halving, about log2(len(points)) + 2 fits. Rows sorted by M; each fitted M below the breakdown value
    excludes zero, the breakdown value itself is fitted (none: the last point excludes zero too)."""
    rows = {}

    def holds_zero(i: int) -> bool:
        if i not in rows:
            rows[i] = fit(points[i])
        return rows[i]["ci_low"] <= 0 <= rows[i]["ci_high"]

    lo, hi = 0, len(points) - 1
    if not holds_zero(lo) and holds_zero(hi):
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if holds_zero(mid):
                hi = mid
            else:
                lo = mid
    return pd.DataFrame([rows[i] for i in sorted(rows)])


def honest_table(cfg: dict, panel: pd.DataFrame) -> pd.DataFrame:
    """HonestDiD sets of the simple ATT for every spec, pre-period choice and restriction (relative magnitudes,
    smoothness), at the grid points that locate each breakdown value (bisect_breakdown)."""
    out = []
    for name in cfg["specs"]:
        spec = load_spec(SPECS / f"{name}.yaml")
        if spec["base_period"] != "universal":
            raise InputError(SPECS / f"{name}.yaml", "HonestDiD needs base_period: universal", field="base_period")
        df, _, design = prepare(spec, panel)
        res = cs.att_gt(
            df,
            outcome_column(spec),
            TIME,
            UNIT,
            spec["treatment"],
            control_group=spec["control_group"],
            est_method=spec["est_method"],
            covariates=design["covariates"] or None,
            weights=design["weights"],
            cluster=CLUSTER[spec["cluster"]],
            base_period=spec["base_period"],
            anticipation=spec["anticipation"],
            bootstrap=0,
            seed=spec["seed"],
        )
        dyn = cs.aggregate(res, "dynamic")
        event = dyn.table.rename(columns={"element": "event_time", "att": "estimate"})
        vcov = pd.DataFrame(dyn.vcov, index=event["event_time"], columns=event["event_time"])
        weights = simple_weights(res)
        target = float(weights @ event.set_index("event_time").loc[weights.index, "estimate"])
        _check(name, target, float(_result(name, "cs_simple")["estimate"]), 0, 0)
        for pre in cfg["pre_periods"]:
            keep = event if pre == "all" else event[event["event_time"] >= -int(pre)]
            times = keep["event_time"].tolist()
            for method in honest.GRIDS:

                def fit(m, keep=keep, cov=vcov.loc[times, times], method=method, w=weights):
                    return honest.honest(keep, cov, method, [m], target="cs_simple", l_vec=w.to_numpy()).iloc[0]

                h = bisect_breakdown(fit, grid(cfg[method]))
                n_pre = int((keep["event_time"] < -1).sum())
                out.append(h.assign(spec=name, pre_periods=str(pre), n_pre=n_pre, estimate=target))
    cols = ["spec", "pre_periods", "n_pre", "method", "M", "target", "estimate", "lb", "ub", "ci_low", "ci_high"]
    return pd.concat(out, ignore_index=True)[cols]


def main() -> int:
    cfg = read_config()
    panel = read_panel()
    tables = {
        "romano_wolf": romano_wolf_table(cfg["romano_wolf"], panel),
        "tost": tost_table(cfg["tost"], panel),
        "honest_simple": honest_table(cfg["honest"], panel),
    }
    with atomic_dir(OUT) as tmp:
        for stem, frame in tables.items():
            frame.to_csv(tmp / f"{stem}.csv", index=False, lineterminator="\n", float_format=FLOAT)
    print(OUT)
    return 0


if __name__ == "__main__":
    cli.run(lambda: main(), "inference")
