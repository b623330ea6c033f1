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
# # 3. The main designs: North Carolina 287(g), national 287(g), Secure Communities
#
# What the paper estimates, and what a reviewer should look at before trusting it. For each
# program: the specification files that run, the samples and their sizes, the headline
# estimates of every estimator, the event study, the Callaway-Sant'Anna pre-test and the
# program's own diagnostics (wild cluster bootstrap for the nine-county North Carolina design,
# Goodman-Bacon decomposition for the staggered national designs), then the comparison with the
# published studies. The notebook only **reads** `analysis/specs/` and the outputs of
# `make estimates` in `results/`; it estimates nothing and writes nothing. Robustness grids,
# randomization inference and HonestDiD are in notebook 4.
#
# Build it with `make notebooks` (or `python -m analysis.infra.notebooks notebooks/03_main_designs.py`).

# %%
# %matplotlib inline
import numpy as np
import pandas as pd

from analysis import config
from analysis.exhibits import diagnostics, event_studies, inputs, style
from analysis.spec import load_spec

pd.set_option("display.max_columns", 30, "display.width", 160, "display.max_colwidth", 70, "display.precision", 4)

specs = {p.stem: load_spec(p) for p in sorted(config.SPECS.glob("*.yaml"))}
# Program membership is each spec's `program` field (never its file name); the North Carolina 287(g)
# designs are the 287(g) specs on the `nc` sample.


def group(s: dict) -> str:
    """The notebook section of a spec, from its program and sample fields."""
    if s["program"] == "287g":
        return "North Carolina 287(g)" if s["sample"] == "nc" else "national 287(g)"
    return "Secure Communities"


by_program = {
    title: [n for n, s in specs.items() if group(s) == title]
    for title in ("North Carolina 287(g)", "national 287(g)", "Secure Communities")
}
assert sorted(sum(by_program.values(), [])) == sorted(specs), "a spec file belongs to no program"


def overall(name: str) -> pd.DataFrame:
    """results/<name>/overall.csv, every column (analysis.exhibits.inputs checks it exists)."""
    return inputs.result(name, "overall")


# %% [markdown]
# ## 3.1 The specification files
#
# One YAML file per estimation in `analysis/specs/`, loaded and checked by
# `analysis.spec.load_spec` (unset fields take their defaults). What to check: each program's
# files differ only where their name says (outcome, treatment definition, control group,
# sample); the North Carolina files use crime *rates* per 100,000 as Forrester & Nowrasteh do,
# the national files the *log* rate; the SC files weight by population as Miles & Cox do.

# %%
FIELDS = [
    "program",
    "sample",
    "outcome",
    "transform",
    "treatment",
    "control_group",
    "weights",
    "cluster",
    "base_period",
    "bootstrap",
    "estimators",
]
spec_table = pd.DataFrame(
    {n: {f: ", ".join(s[f]) if isinstance(s[f], list) else s[f] for f in FIELDS} for n, s in specs.items()}
).T
spec_table.insert(0, "group", [next(t for t, names in by_program.items() if n in names) for n in spec_table.index])
spec_table

# %%
for name, s in specs.items():
    print(f"{name}: {s['description']}")

# %% [markdown]
# ## 3.2 Samples and sample sizes
#
# Each spec names a sample of `analysis/samples.yaml`; `make estimates` writes the rules that
# sample applied to the panel in `results/<spec>/sample_log.csv` (one log per distinct sample
# shown here: the rows of the panel kept after each rule).

# %%
first_of_sample = {}
for name, s in specs.items():
    first_of_sample.setdefault(s["sample"], name)
logs = pd.concat(
    {sample: pd.read_csv(config.RESULTS / name / "sample_log.csv") for sample, name in first_of_sample.items()},
    names=["sample", None],
)
logs[["rule", "rows_before", "dropped_rows", "rows_after", "units_before", "dropped_units", "units_after"]]

# %% [markdown]
# The sizes the estimators report (`n_obs` county-years, `n_units` counties, `n_clusters`) next to
# what the sample keeps (after the spec's control-group rule). *Check*: each estimator's `n_obs` is
# the sample's rows minus the rows that estimator lists as dropped (next table; the Bacon
# decomposition has no clusters and is left out), and no estimator uses more rows or counties
# than the sample has. Estimators of one spec can differ: with no untreated county in the last
# year (Secure Communities in the main sample), Callaway-Sant'Anna, Sun-Abraham and imputation
# leave that year out while the TWFE keeps it.

# %%
rows = []
for name, s in specs.items():
    log = pd.read_csv(config.RESULTS / name / "sample_log.csv")
    sample_rows, sample_counties = log["rows_after"].iloc[-1], log["units_after"].iloc[-1]
    lost = pd.read_csv(config.RESULTS / name / "dropped.csv").groupby("estimator")["rows"].sum()
    for r in overall(name).query("estimator != 'bacon'").itertuples():
        own = lost.get("cs" if r.estimator.startswith("cs_") else r.estimator, 0)
        assert r.n_obs == sample_rows - own, f"{name} {r.estimator}: {r.n_obs} != {sample_rows} - {own}"
        rows.append(
            {
                "spec": name,
                "estimator": r.estimator,
                "sample": s["sample"],
                "sample rows": sample_rows,
                "sample counties": sample_counties,
                "n_obs": r.n_obs,
                "n_units": r.n_units,
            }
        )
sizes = pd.DataFrame(rows).set_index(["spec", "estimator"])
assert (sizes["n_obs"] <= sizes["sample rows"]).all() and (sizes["n_units"] <= sizes["sample counties"]).all()
sizes.groupby(level="spec").agg(
    sample=("sample", "first"),
    sample_rows=("sample rows", "first"),
    n_obs_min=("n_obs", "min"),
    n_obs_max=("n_obs", "max"),
    n_units=("n_units", "max"),
)

# %% [markdown]
# What the estimators drop or recode (`results/<spec>/dropped.csv`), counted by estimator and
# reason; specs with nothing to report are absent. Rows without a treatment date (Secure
# Communities counties ICE never dated) leave every estimator; counties first treated after
# 2012 are controls for the Bacon decomposition.

# %%
dropped = pd.concat(
    {n: pd.read_csv(config.RESULTS / n / "dropped.csv", dtype={"id": str}) for n in specs}, names=["spec", None]
)
dropped.groupby(["spec", "estimator", "level", "reason"]).agg(ids=("id", "size"), rows=("rows", "sum"))

# %% [markdown]
# ## How to read the estimates
#
# Every table below is `results/<spec>/overall.csv`, one row per estimator; `target` says in
# words what each number averages. The estimators answer different questions when effects vary
# across adoption cohorts or over time since adoption:
#
# * `twfe`: the static two-way fixed-effects coefficient. With staggered adoption it compares
#   later adopters with earlier ones too, and can put negative weight on some effects; it is
#   the published designs' estimator, kept for the comparison.
# * `cs_*`: Callaway & Sant'Anna. Each ATT(g,t) compares cohort g with clean controls (the
#   spec's `control_group`); `cs_simple`, `cs_group`, `cs_dynamic` and `cs_calendar` average the
#   same ATT(g,t) with different weights.
# * `sunab` (Sun & Abraham) and `imputation` (Borusyak, Jaravel & Spiess): other
#   heterogeneity-robust estimators of the same kind of average.
# * `event_twfe`: the mean of the post-period coefficients of a TWFE event study.
#
# What to check: the sign and rough size agree across the robust estimators; a TWFE far from
# them is the symptom the Bacon decomposition (3.4) explains.


# %%
def headline(name: str) -> pd.DataFrame:
    """The estimates of one spec, without the rows shown in their own sections (bacon, wild)."""
    o = overall(name)
    return o[~o["estimator"].isin(["bacon", "wild"])].set_index("estimator")[
        ["estimate", "se", "ci_low", "ci_high", "pvalue", "target"]
    ]


def compact(names: list[str], estimators: list[str]) -> pd.DataFrame:
    """Estimate (and SE) of ``estimators`` for several specs: rows = estimators, columns = specs."""
    return pd.concat(
        {n: overall(n).set_index("estimator").reindex(estimators)[["estimate", "se"]] for n in names}, axis=1
    )


def pretests(names: list[str]) -> pd.DataFrame:
    """results/<spec>/pretest.csv of the specs among ``names`` that run Callaway-Sant'Anna (the pre-tests
    are of its ATT(g,t)): both tests of each, with W per degree of freedom."""
    p = pd.concat({n: inputs.result(n, "pretest") for n in names if "cs" in specs[n]["estimators"]}).droplevel(1)
    return p.assign(**{"W / df": p["W"] / p["df"]})


def plot_cs_events(names: list[str], xlabel: str, ylabel: str):
    """The Callaway-Sant'Anna event study of each spec (results/<spec>/event_study.csv), one panel each:
    pointwise 95% intervals and the uniform 95% band; event time -1 is the reference."""
    fig, axes = style.figure(height=2.6, ncols=len(names), sharex=True)
    for ax, name in zip(np.atleast_1d(axes), names):
        ev = pd.read_csv(config.RESULTS / name / "event_study.csv").query("estimator == 'cs'").sort_values("event_time")
        ax.fill_between(
            ev["event_time"],
            ev["cband_low"],
            ev["cband_high"],
            color=style.OKABE_ITO["vermillion"],
            alpha=0.15,
            lw=0,
            label="uniform 95% band",
        )
        ax.errorbar(
            ev["event_time"],
            ev["estimate"],
            yerr=[ev["estimate"] - ev["ci_low"], ev["ci_high"] - ev["estimate"]],
            fmt="s",
            color=style.OKABE_ITO["vermillion"],
            ms=3,
            label="pointwise 95% CI",
        )
        ax.axhline(0, color="black", lw=0.6)
        ax.axvline(-0.5, color="#888888", lw=0.6, ls=":")
        ax.set_title(name, fontsize=8)
    fig.supxlabel(xlabel, fontsize=9)
    np.atleast_1d(axes)[0].set_ylabel(ylabel)
    np.atleast_1d(axes)[0].legend(loc="lower left", fontsize=7)
    return fig


# %% [markdown]
# ## 3.3 North Carolina 287(g), after Forrester & Nowrasteh (2018)
#
# North Carolina counties with at least minimal crime reporting every year (sample `nc`); treated
# = the nine jurisdictions with an agreement signed by any local agency (`g287_any`), controls =
# counties that never sign; outcomes = crime per 100,000 residents, so estimates are in crimes
# per 100,000, not in percent. Violent, property and index crime:

# %%
nc = by_program["North Carolina 287(g)"]
pd.concat({n: headline(n) for n in nc}, names=["spec", "estimator"])

# %% [markdown]
# **Wild cluster bootstrap.** With only nine treated counties, cluster-robust standard errors
# rest on few effective clusters and tend to be too small. The wild cluster bootstrap
# (`wild`, Rademacher weights at the county level) re-computes the p-value of the same TWFE
# coefficient without relying on the large-cluster approximation. What to check: the bootstrap
# p-value against the analytic one of `twfe`: if it is much larger, the analytic p-value
# overstates the evidence.

# %%
wild = {}
for n in nc:
    o = overall(n).set_index("estimator")
    wild[n] = {
        "twfe estimate": o.loc["twfe", "estimate"],
        "twfe p (cluster-robust)": o.loc["twfe", "pvalue"],
        "wild bootstrap p": o.loc["wild", "pvalue"],
        "cs_simple p": o.loc["cs_simple", "pvalue"],
        "wild target": o.loc["wild", "target"],
    }
pd.DataFrame(wild).T

# %% [markdown]
# The Callaway-Sant'Anna event study of each outcome: the effect in each year relative to the
# county's first agreement, against year -1. What to check: the **pre-period** points (left of
# the dotted line) should scatter around zero; a trend there means treated and control counties
# were already diverging before the agreements, and the post-period points then mix that trend
# with any effect. With nine treated counties the intervals are wide and the far event times
# rest on the earliest one or two adopters.

# %%
plot_cs_events(nc, "years since the first agreement", "effect (crimes per 100,000)")

# %% [markdown]
# **The CS pre-tests** (`pretest.csv`, two rows per spec). *cells (R did)*: R `did`'s Wald test
# that every pre-treatment ATT(g,t) is zero. Like R, it reports no statistic when the covariance of
# those cells is singular, which happens here: a cohort with m treated counties adds at most m - 1
# dimensions of its own, so a cohort with no more treated counties than pre-period years leaves
# its cells linearly dependent (the `note` column lists those cohorts). *event-study leads*: the
# joint Wald test that the pre-period event-time effects of the dynamic aggregation (the leads in
# the plot above, reference year -1 left out) are zero, with their cluster-robust covariance.
# A small p-value rejects parallel pre-trends. Caution for North Carolina: a cohort with a single
# treated county contributes no treated-side variance, so its leads' standard errors are too
# small and the leads test tends to over-reject there; read it next to the plot.

# %%
pretests(nc)

# %% [markdown]
# ## 3.4 National 287(g)
#
# Counties of the main sample (COVIND >= 90 in every year, balanced, coverage audit); treated = counties whose
# sheriff or county jail signs an agreement (`g287_county`), controls = counties that never sign;
# outcome = the log index-crime rate, so x 100 is approximately a percent change. The headline
# spec, every estimator:

# %%
headline("us_287g_index")

# %% [markdown]
# The other outcomes and the treatment-definition, control-group and sample variants, each one
# change away from the headline (estimate and SE; empty where the spec does not run the
# estimator). What to check: whether the conclusion of the headline survives each change;
# the robustness grid of notebook 4 does the same systematically.

# %%
national = by_program["national 287(g)"]
compact(
    ["us_287g_index"] + [n for n in national if n != "us_287g_index"],
    ["twfe", "cs_simple", "cs_dynamic", "sunab", "imputation"],
)

# %% [markdown]
# The event study of the headline spec, drawn by the paper's own exhibit code
# (`analysis/exhibits/event_studies.py`: TWFE event study, Callaway-Sant'Anna with its uniform
# band, Sun-Abraham; the window is the TWFE event study's). Same reading as for North Carolina:
# flat pre-period points, then the post-period path.

# %%
event_studies.plot_event_study(
    event_studies.event_table("us_287g_index"),
    event_studies.FIGURES["us_287g_index"][1],
    event_studies.effect_label("us_287g_index"),
)

# %%
pretests(national)

# %% [markdown]
# **Goodman-Bacon decomposition** (`bacon.csv`): the static TWFE coefficient is a weighted
# average of every 2x2 DiD between two timing groups. Comparisons of *later* adopters against
# *earlier* ones (already treated, used as controls) are the problematic ones: when effects grow
# over time they are biased. What to check: the weight share of `later_vs_earlier`. *Check*: the
# weights sum to one and the weighted sum of the 2x2 estimates is the `bacon` row of
# `overall.csv`.


# %%
def bacon_summary(name: str) -> pd.DataFrame:
    """Weight share and weighted mean estimate of each comparison type (analysis.exhibits.diagnostics)."""
    b = diagnostics.bacon_table(name)
    total = overall(name).set_index("estimator").loc["bacon", "estimate"]
    assert np.isclose((b["weight"] * b["estimate"]).sum(), total, rtol=1e-6, atol=1e-9)
    mean = b.groupby("type").apply(lambda t: np.average(t["estimate"], weights=t["weight"]), include_groups=False)
    return (
        pd.DataFrame(
            {
                "weight share": diagnostics.weight_shares(b),
                "comparisons": b.groupby("type").size(),
                "weighted mean 2x2 estimate": mean,
            }
        )
        .fillna({"comparisons": 0})
        .rename_axis(name)
    )


bacon_summary("us_287g_index")

# %% [markdown]
# ## 3.5 Secure Communities, after Miles & Cox (2014)
#
# Counties of the main sample with an ICE activation date; treated from the activation year
# (`sc_year`), population weights. Every county is activated by 2013, so there are no
# never-treated counties: Callaway-Sant'Anna compares each cohort with counties not yet
# activated, and the identification rests entirely on the *timing* of the rollout. Miles & Cox
# report TWFE with and without county linear trends (`twfe`, `twfe_trends`).

# %%
headline("sc_index")

# %% [markdown]
# Violent and property crime next to the index (estimate and SE). What to check: whether adding
# county trends (`twfe_trends`) moves the TWFE estimate towards zero in every outcome, the
# pattern Miles & Cox report, and how the robust estimators compare with both.

# %%
sc = by_program["Secure Communities"]
compact(["sc_index"] + [n for n in sc if n != "sc_index"], ["twfe", "twfe_trends", "cs_simple", "cs_dynamic"])

# %% [markdown]
# The SC event study (same exhibit code). The three estimators weight cohorts differently and
# use different comparisons, so their pre-period points need not coincide; what a reviewer
# should look for is whether any of them trends before activation, and whether the post-period
# path keeps falling with time since activation (effects that grow over time are exactly the case
# in which the static TWFE is a poor summary).

# %%
event_studies.plot_event_study(
    event_studies.event_table("sc_index"), event_studies.FIGURES["sc_index"][1], event_studies.effect_label("sc_index")
)

# %% [markdown]
# The pre-test of the SC designs (same reading as above):

# %%
pretests(sc)

# %% [markdown]
# **Bacon decomposition of the SC TWFE.** The decomposition uses the spec's population weights,
# so it decomposes the headline `twfe` coefficient: *check* that the two numbers printed below
# are equal. The main sample keeps no county activated in 2013 (none is untreated through 2012), so
# the decomposition has no 'never treated' group: its weight below is zero, and every comparison is
# between earlier and later activated counties.

# %%
o = overall("sc_index").set_index("estimator")
print(
    f"TWFE decomposed (bacon row): {o.loc['bacon', 'estimate']:+.4f}; "
    f"population-weighted TWFE (twfe row): {o.loc['twfe', 'estimate']:+.4f}"
)
assert abs(o.loc["bacon", "estimate"] - o.loc["twfe", "estimate"]) < 1e-8, "Bacon does not decompose the TWFE"
bacon_summary("sc_index")

# %% [markdown]
# Both decompositions side by side: one point per 2x2 comparison, its weight (log scale) against
# its estimate; the dashed line is the weighted sum, the TWFE coefficient. A TWFE driven by a few
# heavy points of one comparison type inherits whatever is wrong with that comparison.

# %%
fig, axes = style.figure(height=3.1, ncols=2)
for ax, name in zip(axes, ["us_287g_index", "sc_index"]):
    b = diagnostics.bacon_table(name)
    for kind, (label, colour, marker) in diagnostics.TYPES.items():
        part = b[b["type"] == kind]
        ax.scatter(part["weight"], part["estimate"], s=16, marker=marker, color=style.OKABE_ITO[colour], label=label)
    ax.axhline(float((b["weight"] * b["estimate"]).sum()), color="black", lw=0.8, ls="--")
    ax.axhline(0, color="#888888", lw=0.5)
    ax.set_xscale("log")
    ax.set_title(name, fontsize=9)
    ax.set_xlabel("weight (log scale)")
axes[0].set_ylabel("2x2 DiD estimate (log points)")
fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncols=3, fontsize=7)
fig

# %% [markdown]
# ## 3.6 Comparison with the published studies
#
# `results/replication.csv` (`make estimates`, from `analysis/published.yaml`): each published
# finding, our closest design (same estimator as the study) and our heterogeneity-robust
# estimate (`cs_simple`), with the verdict the pipeline draws. `published_value` is empty where
# the study states a qualitative finding only. What to check: `closest_*` asks 'do we reproduce
# the study?', `robust_*` asks 'does its conclusion survive a modern estimator?'; a p-value for
# the North Carolina TWFE is the wild-bootstrap one.

# %%
replication = pd.read_csv(config.RESULTS / "replication.csv")
replication[
    [
        "study",
        "outcome",
        "published",
        "published_value",
        "closest_spec",
        "closest_estimator",
        "closest_estimate",
        "closest_se",
        "closest_pvalue",
        "robust_estimator",
        "robust_estimate",
        "robust_se",
        "robust_pvalue",
    ]
].astype({"published_value": object}).fillna({"published_value": ""})

# %%
for row in replication.itertuples():
    print(f"{row.study}, {row.outcome} ({row.closest_spec}): {row.verdict}")
