"""Power of the 2025-2026 287(g) wave design, by simulation on the 2000-2012 panel (``make wave-power``).

``python -m analysis.wave_power [--reps N]`` writes results/wave_power/: replications.csv (every
placebo fit), power.csv (rejection rate by effect size), mde.csv (minimum detectable effects) and
meta.json (the settings and the wave structure copied).

The placebo. Every replication draws placebo adopters among the counties of the main sample
(analysis/samples.yaml 'main', 1,347 counties, 2000-2012) with the wave's structure
(data_clean/wave_287g_timing.parquet): each county adopts in the wave with the share of counties of
its cell (state x national population tercile) that adopted in the wave, and is treated before the
wave (and left out, as the plan leaves those counties out) with its cell's share of pre-wave
adopters; a placebo wave adopter takes the adoption month of a wave adopter of its own state, drawn
at random. The wave's 2025 is the panel's PLACEBO_START (2010), 2026 is 2011: data for one, two or
three post-adoption years end in 2010, 2011 or 2012, with 2000-2009 as pre-period. Counties that
adopt after the last data year are left out (not clean controls), as the plan does.

The effect. A known effect ``tau`` on the log crime rate is added to the placebo adopters from their
adoption month on: ``tau x exposure``, exposure = the share of the adoption year after the first of
the adoption month (Jan 1, ..., Dec 1/12) and 1 in later years; the treatment year is the calendar
year of the adoption month (the plan's coding). ``tau`` is the full-year effect. Both estimators
are linear in the outcome and their squared standard errors quadratic in it, so three fits per
replication (y, the exposure x, y + x) give the estimate and standard error at every ``tau``
exactly: est(tau) = est(y) + tau est(x), se(tau)^2 = se(y)^2 + tau (se(y+x)^2 - se(y)^2 - se(x)^2)
+ tau^2 se(x)^2 (tests/test_wave_power.py checks this against fits on y + tau x). For
Callaway-Sant'Anna the third fit is not run: the group-time ATTs and influence functions of y + x are
the sums of those of y and x (cs_sum; equal to the fit on y + x, tested).

Estimators, the plan's primary first (DESIGNS, and the row order of mde.csv). ``within_state``: the
plan's primary design, the TWFE coefficient on D_it with county and state x year fixed effects and
standard errors clustered by county with fixest's small-sample factor; ``within_state_state``: the
same estimates with state-clustered standard errors. Both are the regression of
analysis.estimators.twfe.static with ``fe=[fips, state^year]``, computed by partialling the fixed
effects out of all outcomes at once with pyfixest's ``demean`` (equal to twfe.static to 1e-8:
tests/test_wave_power.py), because one linearmodels fit per outcome would take 0.35 s. ``cs_state``:
Callaway-Sant'Anna simple ATT (analysis.estimators.cs, doubly robust, never-treated controls), the
plan's robustness estimate, with ANALYTIC standard errors clustered by state (not the multiplier
bootstrap: 999 draws per fit would cost minutes; both estimate the same variance); ``cs``: the same
estimates with county-clustered standard errors. The wave is concentrated in a few states: the size
and bias columns of mde.csv show how the designs and clusterings fare when state-year shocks are
shared by a state's adopters. The imputation estimator with state x year effects (pyfixest did2s)
is not simulated: it takes about 2.8 s of CPU per fit, and a draw needs 21 fits.

Power at ``tau`` = the share of replications whose two-sided test of ATT = 0 rejects at 5%; the
MDE is the smallest |tau| on the grid at which the power is at least 80% for an increase and for a
decrease alike. Where a test over-rejects (size at tau = 0 above 5%) that MDE is too optimistic:
mde.csv also gives the mean placebo estimate (a design whose placebo estimates are not centred on 0
compares counties on different trends) and the empirical MDE, (z_0.975 + z_0.8) x the root mean
square of the placebo estimates / the median exposure, which does not rely on the standard errors.
Seeded (config.SEED): two runs give the same bytes.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
import warnings

import numpy as np
import pandas as pd
from pyfixest.estimation import demean
from scipy import stats

from analysis.config import RESULTS, SEED, WAVE_TIMING
from analysis.estimators import cs
from analysis.infra import cli
from analysis.infra.atomic import atomic_dir
from analysis.model import drop_singletons, ssc, treated_indicator
from analysis.sample import apply_sample, read_panel

OUT = RESULTS / "wave_power"
WAVE_OUTCOMES = ("index", "violent", "property")
HORIZONS = (1, 2, 3)
DESIGNS = ("within_state", "within_state_state", "cs_state", "cs")  # the primary first
WAVE_START_YEAR = 2025  # the wave's first calendar year ...
PLACEBO_START = 2010  # ... is this year of the panel
REPS = 30  # default replications (about 45 s on one core); --reps for more
ALPHA, POWER = 0.05, 0.80
EFFECTS = np.round(np.arange(-0.5, 0.5 + 1e-9, 0.0025), 4)  # tau grid (log points)
SIZE_BINS = 3  # national population terciles
FLOAT = "%.10g"


def structure(
    timing: pd.DataFrame, population: pd.Series
) -> tuple[pd.DataFrame, dict[str, list[tuple[int, int]]], np.ndarray]:
    """The wave's structure: per cell (state, size) the share of counties adopting in the wave and
    before it; per state the (year, month) of every wave adoption; the population cut points.
    ``population``: latest population by panel_fips; counties without one fall in no cell."""
    t = timing.assign(population=timing["panel_fips"].map(population)).dropna(subset=["population"])
    cuts = np.quantile(t["population"], np.linspace(0, 1, SIZE_BINS + 1)[1:-1])
    t = t.assign(size=np.searchsorted(cuts, t["population"], side="right"), pre=t["adopted"] & ~t["wave_adopter"])
    cells = (
        t.groupby(["state", "size"])
        .agg(counties=("fips", "size"), p_wave=("wave_adopter", "mean"), p_pre=("pre", "mean"))
        .reset_index()
    )
    wave = t[t["wave_adopter"]]
    months = {s: sorted(zip(g["first_month"].dt.year, g["first_month"].dt.month)) for s, g in wave.groupby("state")}
    return cells, months, cuts


def counties_of(sample: pd.DataFrame, cuts: np.ndarray) -> pd.DataFrame:
    """One row per sample county: fips, state, size bin (by its population in the last sample year)."""
    last = sample[sample["year"] == sample["year"].max()]
    return pd.DataFrame(
        {
            "fips": last["fips"].to_numpy(),
            "state": last["state"].astype(str).to_numpy(),
            "size": np.searchsorted(cuts, last["population"].to_numpy(), side="right"),
        }
    )


def draw(counties: pd.DataFrame, cells: pd.DataFrame, months: dict, rng: np.random.Generator) -> pd.DataFrame:
    """Placebo status of every county ('wave', 'pre' or 'none') and, for 'wave', its adoption year
    (2025, 2026) and month, drawn from the wave adopters of its own state."""
    c = counties.merge(cells[["state", "size", "p_wave", "p_pre"]], on=["state", "size"], how="left").fillna(
        {"p_wave": 0.0, "p_pre": 0.0}
    )
    u = rng.random(len(c))
    status = np.where(u < c["p_pre"], "pre", np.where(u < c["p_pre"] + c["p_wave"], "wave", "none"))
    year, month = np.zeros(len(c), int), np.zeros(len(c), int)
    for i in np.flatnonzero(status == "wave"):
        year[i], month[i] = months[c.at[i, "state"]][rng.integers(len(months[c.at[i, "state"]]))]
    return pd.DataFrame({"fips": c["fips"], "status": status, "wave_year": year, "month": month})


def placebo_panel(sample: pd.DataFrame, placebo: pd.DataFrame, horizon: int) -> pd.DataFrame:
    """The estimation panel for ``horizon`` post years: years to PLACEBO_START + horizon - 1, pre-wave
    placebo adopters and counties adopting after the last year left out; ``g`` the treatment year
    (0 = never), ``D`` treated, ``x`` the exposure of the injected effect."""
    last = PLACEBO_START + horizon - 1
    p = placebo.assign(
        g=np.where(placebo["status"] == "wave", placebo["wave_year"] - WAVE_START_YEAR + PLACEBO_START, 0)
    )
    keep = p[(p["status"] != "pre") & (p["g"] <= last)]
    df = sample[sample["year"] <= last].merge(keep[["fips", "g", "month"]], on="fips", how="inner")
    d = treated_indicator(df["g"], df["year"])
    first = np.where(df["year"] == df["g"], (13 - df["month"]) / 12, 1.0)
    return df.assign(D=d, x=np.where(d > 0, first, 0.0))


def cs_cells(df: pd.DataFrame, y: str) -> cs.AttGtResult:
    """Callaway-Sant'Anna group-time ATTs of ``y`` (doubly robust, never-treated controls, no bootstrap)."""
    return cs.att_gt(df, y, "year", "fips", "g", control_group="never_treated", est_method="dr", bootstrap=0)


def cs_sum(a: cs.AttGtResult, b: cs.AttGtResult) -> cs.AttGtResult:
    """The group-time ATTs of y_a + y_b from those of y_a and y_b, fitted on the same units and cells:
    without covariates the doubly robust ATT(g,t) and its influence function are linear in the outcome
    (the propensity score and the cohort shares do not involve it), so both add up; the cells' own SEs
    are left out (aggregations recompute them from the influence functions). Equal to the fit on
    y_a + y_b (tests/test_wave_power.py); saves one att_gt per outcome and horizon."""
    same_cells = a.table[["group", "time"]].equals(b.table[["group", "time"]])
    if not (same_cells and np.array_equal(a.units, b.units) and a.n_obs == b.n_obs):
        raise ValueError("cs_sum: the two fits have different units or cells (an outcome has missing rows)")
    table = a.table.assign(att=a.table["att"] + b.table["att"]).drop(
        columns=[c for c in a.table if c in ("se", "ci_low", "ci_high") or c.startswith("cband")]
    )
    return dataclasses.replace(a, table=table, inf=a.inf + b.inf)


def cs_summary(df: pd.DataFrame, res: cs.AttGtResult) -> tuple[float, float, float]:
    """The simple ATT of ``res`` and its analytic SEs clustered by county and by state (the same
    influence functions summed within states)."""
    agg = cs.aggregate(res, "simple")
    states = df.drop_duplicates("fips").set_index("fips").loc[res.units, "state_fips"]
    by_state = cs.aggregate(dataclasses.replace(res, cluster=pd.factorize(states, sort=True)[0]), "simple")
    return agg.overall_att, agg.overall_se, by_state.overall_se


def fit_cs(df: pd.DataFrame, y: str) -> tuple[float, float, float]:
    """Callaway-Sant'Anna simple ATT (never-treated controls) and its analytic SEs clustered by county
    and by state (the same influence functions summed within states: att_gt with cluster='state_fips')."""
    return cs_summary(df, cs_cells(df, y))


def fit_within_state(df: pd.DataFrame, ys: list[str]) -> dict[str, tuple[float, float, float]]:
    """For every outcome in ``ys``: the coefficient on D with county and state x year fixed effects and
    its SEs clustered by state and by county (fixest's small-sample factor for each clustering;
    singletons dropped first), as analysis.estimators.twfe.static(fe=[fips, state^year], cluster=...)
    gives them."""
    df = df.assign(_sy=df["state"].astype(str) + "^" + df["year"].astype(str))
    df, _ = drop_singletons(df, ["fips", "_sy"])
    flist = np.column_stack([pd.factorize(df[c])[0] for c in ("fips", "_sy")]).astype(np.uint64)
    cols = ["D", *ys]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dm, ok = demean(df[cols].to_numpy(float), flist, np.ones(len(df)), tol=1e-12)
    if not ok:
        raise RuntimeError("wave_power: pyfixest demean did not converge")
    d, fe = dm[:, 0], df[["fips", "_sy"]].reset_index(drop=True)
    clusters = {name: pd.factorize(df[col])[0] for name, col in (("state", "state_fips"), ("county", "fips"))}
    factors = {name: ssc(len(df), 1, fe, pd.Series(c)) for name, c in clusters.items()}
    dd = d @ d
    out = {}
    for j, y in enumerate(ys, start=1):
        beta = d @ dm[:, j] / dd
        resid = d * (dm[:, j] - beta * d)
        se = {
            name: np.sqrt(factors[name] * (sc @ sc)) / dd
            for name, c in clusters.items()
            for sc in [np.bincount(c, weights=resid)]
        }
        out[y] = (float(beta), float(se["state"]), float(se["county"]))
    return out


def replicate(sample: pd.DataFrame, placebo: pd.DataFrame, rep: int) -> list[dict]:
    """One replication: for each horizon, design and outcome the fits on y, x and y + x."""
    rows = []
    for h in HORIZONS:
        df = placebo_panel(sample, placebo, h)
        ys = [f"log_rate_{o}" for o in WAVE_OUTCOMES]
        df = df.assign(**{f"plus_{o}": df[f"log_rate_{o}"] + df["x"] for o in WAVE_OUTCOMES})
        n_treated = int(df.loc[df["g"] > 0, "fips"].nunique())
        x_cells = cs_cells(df, "x")
        x_cs = cs_summary(df, x_cells)
        within = fit_within_state(df, ["x", *ys, *[f"plus_{o}" for o in WAVE_OUTCOMES]])
        for o in WAVE_OUTCOMES:
            y_cells = cs_cells(df, f"log_rate_{o}")
            y_cs, plus_cs = cs_summary(df, y_cells), cs_summary(df, cs_sum(y_cells, x_cells))
            y_ws, x_ws, plus_ws = within[f"log_rate_{o}"], within["x"], within[f"plus_{o}"]
            fits = {
                "within_state": ((y_ws[0], y_ws[2]), (x_ws[0], x_ws[2]), (plus_ws[0], plus_ws[2])),
                "within_state_state": ((y_ws[0], y_ws[1]), (x_ws[0], x_ws[1]), (plus_ws[0], plus_ws[1])),
                "cs_state": ((y_cs[0], y_cs[2]), (x_cs[0], x_cs[2]), (plus_cs[0], plus_cs[2])),
                "cs": ((y_cs[0], y_cs[1]), (x_cs[0], x_cs[1]), (plus_cs[0], plus_cs[1])),
            }
            for design, ((e0, s0), (ex, sx), (_, s1)) in fits.items():
                rows.append(
                    {
                        "rep": rep,
                        "horizon": h,
                        "design": design,
                        "outcome": o,
                        "est0": e0,
                        "se0": s0,
                        "est_x": ex,
                        "se_x": sx,
                        "se_sum": s1,
                        "counties": int(df["fips"].nunique()),
                        "treated": n_treated,
                    }
                )
    return rows


def power_table(reps: pd.DataFrame, effects: np.ndarray = EFFECTS, alpha: float = ALPHA) -> pd.DataFrame:
    """Rejection rate of the two-sided test at every effect ``tau``, by design, outcome and horizon."""
    z = stats.norm.ppf(1 - alpha / 2)
    out = []
    for key, r in reps.groupby(["design", "outcome", "horizon"], sort=True):
        e0, ex = r["est0"].to_numpy()[:, None], r["est_x"].to_numpy()[:, None]
        a, c = r["se0"].to_numpy()[:, None] ** 2, r["se_x"].to_numpy()[:, None] ** 2
        b2 = r["se_sum"].to_numpy()[:, None] ** 2 - a - c
        tau = effects[None, :]
        se = np.sqrt(np.maximum(a + b2 * tau + c * tau**2, 0))
        power = (np.abs(e0 + tau * ex) > z * se).mean(axis=0)
        out.append(
            pd.DataFrame({"design": key[0], "outcome": key[1], "horizon": key[2], "effect": effects, "power": power})
        )
    return pd.concat(out, ignore_index=True)


def mde_table(power: pd.DataFrame, reps: pd.DataFrame, target: float = POWER, alpha: float = ALPHA) -> pd.DataFrame:
    """Per design, outcome and horizon: the MDE (smallest |tau| with power >= target both ways; NaN
    beyond the grid), in log points and percent, the rejection rate at tau = 0 (the test's size),
    the analytic MDE (z_{1-a/2} + z_{power}) x median SE / median est_x, the empirical MDE with the
    root mean square of the placebo estimates (whose true value is 0) in place of the SE, the mean
    placebo estimate (bias) and its standard deviation, and the sample sizes."""
    z = stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(target)
    rows = []
    for (design, outcome, h), p in power.groupby(["design", "outcome", "horizon"], sort=True):
        both = p.assign(mag=p["effect"].abs()).groupby("mag")["power"].min()
        ok = both[(both.index > 0) & (both >= target)]
        mde = float(ok.index.min()) if len(ok) else np.nan
        r = reps[(reps["design"] == design) & (reps["outcome"] == outcome) & (reps["horizon"] == h)]
        rows.append(
            {
                "design": design,
                "outcome": outcome,
                "horizon": h,
                "mde": mde,
                "mde_pct": 100 * np.expm1(mde),
                "mde_pct_down": 100 * np.expm1(-mde),
                "size": float(p.loc[p["effect"] == 0, "power"].iloc[0]),
                "mde_analytic": z * r["se0"].median() / r["est_x"].median(),
                "mde_empirical": z * np.sqrt((r["est0"] ** 2).mean()) / r["est_x"].median(),
                "bias": r["est0"].mean(),
                "sd_placebo": r["est0"].std(ddof=1) if len(r) > 1 else np.nan,
                "se_median": r["se0"].median(),
                "exposure": r["est_x"].median(),
                "counties": int(r["counties"].median()),
                "treated": float(r["treated"].mean()),
                "reps": len(r),
            }
        )
    rank = {d: i for i, d in enumerate(DESIGNS)}  # the primary design first
    return pd.DataFrame(rows).sort_values("design", key=lambda d: d.map(rank), kind="stable", ignore_index=True)


def load_inputs() -> tuple[pd.DataFrame, pd.DataFrame, pd.Series]:
    """The main sample, the wave timing and the latest population of every panel county."""
    panel = read_panel()
    sample, _ = apply_sample(panel, "main")
    last = panel[panel["year"] == panel["year"].max()]
    return sample, pd.read_parquet(WAVE_TIMING), last.set_index("fips")["population"]


def run(reps: int = REPS, seed: int = SEED, inputs=None) -> dict[str, pd.DataFrame | dict]:
    """The whole simulation: {'replications', 'power', 'mde', 'meta'}."""
    sample, timing, population = inputs or load_inputs()
    cells, months, cuts = structure(timing, population)
    counties = counties_of(sample, cuts)
    rng = np.random.default_rng(seed)
    rows = []
    for rep in range(reps):
        rows += replicate(sample, draw(counties, cells, months, rng), rep)
    table = pd.DataFrame(rows)
    power = power_table(table)
    wave = timing[timing["wave_adopter"]]
    meta = {
        "reps": reps,
        "seed": seed,
        "alpha": ALPHA,
        "power": POWER,
        "placebo_start": PLACEBO_START,
        "wave_start_year": WAVE_START_YEAR,
        "sample": "main",
        "sample_counties": len(counties),
        "sample_years": [int(sample["year"].min()), int(sample["year"].max())],
        "wave_counties": len(wave),
        "all_counties": len(timing),
        "wave_share": len(wave) / len(timing),
        "pre_wave_counties": int((timing["adopted"] & ~timing["wave_adopter"]).sum()),
        "wave_by_year": {int(y): int(n) for y, n in wave["first_year"].value_counts().sort_index().items()},
        "size_cuts": [float(c) for c in cuts],
        "expected_wave_share_in_sample": float(
            counties.merge(cells, on=["state", "size"], how="left")["p_wave"].fillna(0).mean()
        ),
        "effects": [float(EFFECTS.min()), float(EFFECTS.max()), float(EFFECTS[1] - EFFECTS[0])],
    }
    return {"replications": table, "power": power, "mde": mde_table(power, table), "meta": meta}


def write(out: dict, folder=OUT) -> None:
    """The four files, into a temporary folder renamed into place."""
    with atomic_dir(folder) as tmp:
        for name in ("replications", "power", "mde"):
            out[name].to_csv(tmp / f"{name}.csv", index=False, float_format=FLOAT, lineterminator="\n")
        (tmp / "meta.json").write_text(json.dumps(out["meta"], indent=1, sort_keys=True) + "\n")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=REPS, help=f"replications (default {REPS})")
    args = parser.parse_args(argv)
    if args.reps < 1:
        parser.error("--reps must be at least 1")
    start = time.perf_counter()
    out = run(args.reps)
    write(out)
    m = out["mde"]
    print(
        m[
            ["design", "outcome", "horizon", "mde", "mde_pct", "size", "mde_analytic", "mde_empirical", "treated"]
        ].to_string(index=False)
    )
    print(f"wave power: {args.reps} replications in {time.perf_counter() - start:.1f} s -> {OUT}")


if __name__ == "__main__":
    cli.run(lambda: main(sys.argv[1:]), "wave-power")
