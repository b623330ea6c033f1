# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 4. Robustness and sensitivity
#
# How much the headline estimates of notebook 3 depend on the choices behind them: the
# robustness grids (one choice changed at a time, for 287(g) and for Secure Communities), the
# samples those variants use, randomization inference for the static TWFE, and the HonestDiD
# sensitivity of the Callaway-Sant'Anna event study to violations of parallel trends. The
# notebook reads `analysis/grids/`, `analysis/samples.yaml`, the panel and the outputs of
# `make estimates` in `results/`; apart from re-applying the named samples to the panel (a
# filter, to reconcile row counts) it computes nothing the pipeline has not, and writes nothing.
#
# Build it with `make notebooks` (or `python -m analysis.infra.notebooks notebooks/04_robustness.py`).

# %%
# %matplotlib inline
import numpy as np
import pandas as pd

from analysis import config
from analysis.design import design_sample
from analysis.exhibits import diagnostics, inputs, robustness, style
from analysis.grid import expand, read_grid
from analysis.sample import apply_sample

pd.set_option("display.max_columns", 30, "display.width", 160, "display.max_colwidth", 70, "display.precision", 4)
panel = pd.read_parquet(config.PANEL)
PROGRAM_TITLES = {program: title for program, (_, title) in robustness.PROGRAM_LABELS.items()}
HEADLINE = {"287g": "us_287g_index", "sc": "sc_index"}


# %% [markdown]
# ## 4.1 The robustness grids
#
# Each grid file (`analysis/grids/<program>.yaml`) holds a base specification, the headline
# design with the same Callaway-Sant'Anna multiplier bootstrap as the main tables, and variants that each change one
# field (`changes`); `dimension` groups the variants by the kind of choice they vary.
# `python -m analysis.grid` runs every variant with TWFE and Callaway-Sant'Anna (`cs_simple`),
# or the one estimator the variant names.

# %%
variants = pd.concat(
    {
        program: pd.DataFrame(
            [
                {
                    "variant": v["variant"],
                    "dimension": v["dimension"],
                    "label": robustness.label(v["variant"]),
                    "changes": ", ".join(f"{k}: {val}" for k, val in (v.get("changes") or {}).items()) or "(none)",
                }
                for v in read_grid(config.GRIDS / f"{program}.yaml")["variants"]
            ]
        )
        for program in PROGRAM_TITLES
    },
    names=["program", None],
)
variants

# %% [markdown]
# The estimates (`results/grid_<program>/estimates.csv`, in the grid's order). Estimates are in
# log points except for the `rate` variant (crimes per 100,000; `log_scale` False), which is not
# comparable with the others and is left out of every summary below. PPML on counts estimates a
# proportional effect, comparable with log points.

# %%
grids = {program: robustness.grid(program) for program in PROGRAM_TITLES}
pd.concat(grids).droplevel(1).set_index(["variant", "estimator"], append=True)[
    ["dimension", "estimate", "se", "ci_low", "ci_high", "n_obs", "n_units", "log_scale"]
]

# %% [markdown]
# The range of the log-scale estimates, by estimator: smallest and largest estimate, and how many
# variants give a 95% interval entirely below zero. What to check: whether the sign and the
# significance of the headline survive every variant, or only some.

# %%
points = {program: robustness.curve_points(est) for program, est in grids.items()}
ranges = pd.concat(
    {
        program: pts.groupby("estimator").agg(
            variants=("estimate", "size"),
            min=("estimate", "min"),
            max=("estimate", "max"),
            ci_below_zero=("ci_high", lambda c: int((c < 0).sum())),
        )
        for program, pts in points.items()
    }
)
ranges.assign(spread=ranges["max"] - ranges["min"])

# %% [markdown]
# **Which choice moves the estimate most?** Each variant's estimate minus the base estimate of
# the same estimator family (TWFE-type, i.e. TWFE, TWFE with trends and PPML, against the base
# TWFE; Callaway-Sant'Anna against the base CS), grouped by dimension and family: the largest
# absolute deviation and the deviations' range, sorted by the largest move. A dimension varied
# only for one family (PPML, county trends) has no row for the other.


# %%
def deviations(pts: pd.DataFrame) -> pd.DataFrame:
    """Log-scale grid rows with their family and their deviation from the base of that family."""
    family = np.where(pts["estimator"].isin(robustness.TWFE_LIKE), "TWFE-type", "CS")
    base = pts[pts["variant"] == "base"].set_index("estimator")["estimate"]
    reference = np.where(family == "CS", base["cs_simple"], base["twfe"])
    return pts.assign(family=family, deviation=pts["estimate"] - reference)


moves = {}
for program, pts in points.items():
    dev = deviations(pts).query("variant != 'base'")
    table = dev.groupby(["dimension", "family"]).agg(
        variants=("variant", lambda v: ", ".join(dict.fromkeys(v))),
        largest_move=("deviation", lambda d: d.abs().max()),
        lowest=("deviation", "min"),
        highest=("deviation", "max"),
    )
    moves[program] = table.sort_values("largest_move", ascending=False).round(4)
    top = dev.loc[dev["deviation"].abs().groupby(dev["family"]).idxmax()]
    for row in top.itertuples():
        print(
            f"{PROGRAM_TITLES[program]}, {row.family}: largest move {row.deviation:+.4f} from variant "
            f"'{row.variant}' ({row.dimension})"
        )
moves["287g"]

# %%
moves["sc"]

# %% [markdown]
# The specification curves: every log-scale grid estimate with its 95% CI, sorted, labelled by
# variant and estimator; the dashed line is the base TWFE (the same points as the paper's
# figure, drawn by `analysis.exhibits.robustness.plot_curve`). What to check: how many
# intervals cross zero, and whether the estimators disagree more than the variants do.

# %%
robustness.plot_curve("287g")[0]

# %%
robustness.plot_curve("sc")[0]

# %% [markdown]
# ## 4.2 The samples of the grid variants
#
# The coverage and sample variants change the named sample (`analysis/samples.yaml`). Each
# sample re-applied to the panel with `analysis.sample.apply_sample` (the pipeline's own
# filter), rule by rule:

# %%
specs = {program: expand(config.GRIDS / f"{program}.yaml", panel.columns) for program in PROGRAM_TITLES}
samples = list(dict.fromkeys(s["sample"] for program_specs in specs.values() for s in program_specs))
applied = {name: apply_sample(panel, name) for name in samples}
pd.concat({name: log for name, (_, log) in applied.items()}, names=["sample", None])[
    ["rule", "rows_before", "dropped_rows", "rows_after", "units_after"]
]

# %% [markdown]
# Reconciliation: the county-years and counties each design keeps (its sample, then its control-group
# rule, `analysis.design.design_sample`) against what the grid's estimators used (`n_obs`, `n_units`).
# Three rules explain every gap: the SC estimators drop the county-years without an activation date
# (`sc_year` missing); Callaway-Sant'Anna needs a balanced panel, so on the unbalanced samples it keeps
# only the counties observed in every year, while TWFE uses every county-year; and with no untreated
# county left (SC in the main sample) Callaway-Sant'Anna has no not-yet-treated controls for the last
# cohort's adoption year and drops it (every county's 2012 row).
# *Check*: no estimator uses more than its design's sample.

# %%
rows = []
for program, program_specs in specs.items():
    est = grids[program].set_index(["variant", "estimator"])
    for s in program_specs:
        df, _ = design_sample(panel, s)
        for estimator in est.loc[s["variant"]].index:
            n_obs, n_units = est.loc[(s["variant"], estimator), ["n_obs", "n_units"]]
            rows.append(
                {
                    "program": program,
                    "variant": s["variant"],
                    "sample": s["sample"],
                    "estimator": estimator,
                    "sample rows": len(df),
                    "sample counties": df["fips"].nunique(),
                    "rows with timing": int(df[s["treatment"]].notna().sum()),
                    "n_obs": n_obs,
                    "n_units": n_units,
                }
            )
reconcile = pd.DataFrame(rows).set_index(["program", "variant", "estimator"])
reconcile["rows not used"] = reconcile["sample rows"] - reconcile["n_obs"]
assert (reconcile["n_obs"] <= reconcile["sample rows"]).all()
assert (reconcile["n_units"] <= reconcile["sample counties"]).all()
reconcile

# %% [markdown]
# ## 4.3 Randomization inference
#
# `python -m analysis.ri` takes the grid's base design and re-estimates its static TWFE after
# reassigning the counties' adoption years (including 'never') at random across the counties of
# the sample, keeping the number of treated counties and the cohort sizes. The permutation
# distribution is what the TWFE looks like when adoption is unrelated to crime; the p-value is
# the two-sided share of permuted estimates at least as large in absolute value as the observed
# one (with the +1 correction). What to check: the RI p-value against the cluster-robust
# p-value of the same coefficient; if the RI p-value is much larger, the analytic standard
# error understates the uncertainty (few treated units, or shocks correlated across counties).

# %% [markdown]
# Three schemes (rows of `ri.csv`, draws tagged by `scheme` in `permutations.csv`): `unrestricted`
# (dates permuted across all counties), `within_state` and `within_size3_2000` (dates permuted only
# among counties of the same state, or the same tercile of 2000 population). All test the sharp null
# of no effect anywhere; they differ in which assignments count as equally likely. A restricted
# scheme need not centre on zero: within states, it keeps what goes with each state's own timing.

# %%
ri = {}
for program in PROGRAM_TITLES:
    summary, draws = robustness.ri(program)
    twfe = inputs.overall(HEADLINE[program]).loc["twfe"]
    for scheme, row in summary.iterrows():
        assert np.isclose(row["estimate"], twfe["estimate"], rtol=1e-8), "RI and the headline TWFE differ"
        d = draws.loc[draws["scheme"] == scheme, "estimate"]
        extreme = (d.abs() >= abs(row["estimate"])).sum()
        assert np.isclose((1 + extreme) / (1 + len(d)), row["p_perm"], atol=1e-3)
        ri[(program, scheme)] = {
            **row.to_dict(),
            "permuted at least as extreme": extreme,
            "mean of permuted": d.mean(),
            "cluster-robust p (headline twfe)": twfe["pvalue"],
            "headline spec": HEADLINE[program],
        }
pd.DataFrame(ri)

# %%
fig, axes = style.figure(height=2.8, ncols=2)
for ax, program in zip(axes, PROGRAM_TITLES):
    robustness.ri_panel(ax, program)
fig

# %% [markdown]
# ## 4.4 HonestDiD: how much may parallel trends fail?
#
# Rambachan & Roth's robust 95% confidence intervals for the average post-period
# Callaway-Sant'Anna effect (the `cs_dynamic` row of `overall.csv`), for the headline spec of
# each program (`results/<spec>/honest.csv`). Two ways to bound the violation of parallel trends
# after adoption:
#
# * relative magnitudes (`relative_magnitude`, Mbar): the post-period violation is at most Mbar
#   times the largest violation seen between consecutive pre-periods (Mbar = 1: as bad as the
#   worst pre-period jump);
# * smoothness (`smoothness`, M): the trend may change slope by at most M per period (M = 0:
#   a linear extrapolation of the pre-trend).
#
# `lb`, `ub` bound the identified set (empty where the HonestDiD library returned none), `ci_*`
# is the robust interval. What to check: the **breakdown value**, the smallest M whose interval
# contains zero: the larger it is, the larger a violation of parallel trends the conclusion
# survives.

# %%
honest = pd.concat(
    {
        spec: diagnostics.honest_table(spec).set_index(["method", "M"])[["lb", "ub", "ci_low", "ci_high"]]
        for spec in HEADLINE.values()
    },
    names=["spec", "method", "M"],
)
honest.assign(**{"contains 0": (honest["ci_low"] <= 0) & (honest["ci_high"] >= 0)})

# %%
breakdowns = pd.DataFrame(
    {
        spec: {
            f"breakdown M, {method}": diagnostics.breakdown(diagnostics.honest_table(spec), method)
            for method in diagnostics.METHODS
        }
        | {
            "largest M in the grid (relative magnitudes)": diagnostics.honest_table(spec)
            .query("method == 'relative_magnitude'")["M"]
            .max()
        }
        for spec in HEADLINE.values()
    }
)
breakdowns

# %%
diagnostics.plot_honest()
