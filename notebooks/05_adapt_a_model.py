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
# # 5. Tutorial: adapt a model
#
# Every estimate in the paper comes from a small YAML file in `analysis/specs/` (one file = one
# *specification*: program, sample, outcome, treatment timing, control group, estimators, and
# optionally controls, fixed effects, sample rules and derived columns), run by
# `python -m analysis.estimate` into `results/<file name>/`. Your own specs go in `myspecs/` and
# `make mine` runs them into `myspecs/results/`; the paper never reads that folder.
#
# **What this notebook reruns**: only the adapted specifications of sections 5.3-5.5, *in memory*
# (`analysis.estimate.run_spec`), plus a light check of one paper spec in 5.2. It writes nothing:
# no results folder, no figure file, no table file, nothing in `myspecs/`. Everything else (the
# paper's specs next to which the adapted ones are plotted) is read from `results/`, written by
# `make estimates`. The README section "Adapt a model" is the reference for every field used here.
#
# Build it with `make notebooks` (or `python -m analysis.infra.notebooks notebooks/05_adapt_a_model.py`),
# or open it with `make lab`.

# %%
# %matplotlib inline
import copy
import warnings

import numpy as np
import pandas as pd
import yaml

from analysis import config, results
from analysis.estimate import SmallCohortWarning, run_spec
from analysis.estimators import registry
from analysis.report import plot_event_study, table
from analysis.spec import CHOICES, SpecError, load_spec, shared_derived, validate_spec

pd.set_option("display.max_columns", 30, "display.width", 160, "display.max_colwidth", 80)
panel = pd.read_parquet(config.PANEL)

# %% [markdown]
# ## 5.1 Load a specification
#
# The paper's Secure Communities design for violent crime (after Miles & Cox): activation year,
# the log violent-crime rate, the main sample, not-yet-activated counties as controls, population
# weights. The file:

# %%
ORIGINAL = "sc_violent"
path = config.SPECS / f"{ORIGINAL}.yaml"
print(path.read_text(encoding="utf-8"))

# %% [markdown]
# `load_spec` checks the file (fields, types, allowed values, the named sample, the file name as
# the spec's name) and fills the defaults; `validate_spec` checks it against the panel. The loaded
# specification is a plain dict; the fields this file leaves out take their defaults (county and
# year fixed effects, no controls, `seed` = `config.SEED`):

# %%
spec = validate_spec(load_spec(path), panel.columns)
{k: v for k, v in spec.items() if k not in ("path", "lines")}

# %% [markdown]
# The allowed values (estimators from `analysis/estimators/registry.py`, the other fields from
# `analysis/spec.py`), the shared derived columns (`analysis/derived.yaml`)
# and the outcomes:

# %%
print("estimators:", ", ".join(registry.names()))
for field, allowed in CHOICES.items():
    print(f"{field}: {', '.join(allowed)}")
print("derived columns:", ", ".join(shared_derived()))
print("outcomes:", ", ".join(sorted(c.removeprefix("rate_") for c in panel.columns if c.startswith("rate_"))))

# %% [markdown]
# ## 5.2 Check: the stored results are reproduced
#
# Before changing anything, run a light copy of the original (TWFE only) and compare with
# `results/sc_violent/overall.csv`. Same data, same code: the same numbers (the CSV keeps 10
# significant digits).

# %%
light = {**copy.deepcopy(spec), "estimators": ["twfe", "twfe_trends"]}
rerun = run_spec(light, panel)["overall"].set_index("estimator")
stored = results.load(ORIGINAL).overall
check = pd.concat({"rerun": rerun[["estimate", "se"]], "stored": stored.loc[rerun.index, ["estimate", "se"]]}, axis=1)
assert np.allclose(check["rerun"], check["stored"], rtol=1e-8, atol=1e-12)
check

# %% [markdown]
# ## 5.3 Adapt it
#
# A question a student might ask: does the pattern hold within the South, once counties are
# compared only with counties of their own state in the same year, and once counties of different
# size may follow different trends? Changes, each one field:
#
# * `sample_rules: {states_include: [...]}`: the main sample, then the 16 Southern states and DC
#   (Census South region);
# * `baseline_controls: [log_pop_2000]`: the county's 2000 log population, a shared derived column;
#   the regressions enter it as `i(year, log_pop_2000)` (its own effect each year), Callaway-Sant'Anna
#   as a covariate of its doubly robust estimator;
# * `fixed_effects: [county, state^year]`: one effect per state and year (it nests the year effects);
# * unweighted (`weights: none`) and analytic Callaway-Sant'Anna standard errors (`bootstrap: 0`),
#   to keep the notebook fast.

# %%
SOUTH = ["AL", "AR", "DE", "DC", "FL", "GA", "KY", "LA", "MD", "MS", "NC", "OK", "SC", "TN", "TX", "VA", "WV"]
mine = copy.deepcopy(spec)
mine.update(
    path="(in memory) sc_south_violent",
    lines={},
    name="sc_south_violent",
    label="South, state x year FE",
    weights="none",
    bootstrap=0,
    description="sc_violent in Southern states, baseline log population x year, county and state-by-year FE",
    sample_rules={"states_include": SOUTH},
    baseline_controls=["log_pop_2000"],
    fixed_effects=["county", "state^year"],
    estimators=["twfe", "event_twfe", "imputation", "cs"],
)

# %% [markdown]
# Checked before any work. Callaway-Sant'Anna cannot take these fixed effects, and the message
# says which estimator refuses and why:

# %%
try:
    validate_spec(mine, panel.columns)
except SpecError as err:
    print(str(err).replace(f"{config.ROOT}/", ""))

# %% [markdown]
# So the design becomes two specs: the regressions with state-by-year effects, and
# Callaway-Sant'Anna with the same covariate (its doubly robust estimator conditions on it; county
# and year effects are implicit in its 2x2 comparisons).

# %%
fe_spec = {**mine, "estimators": ["twfe", "event_twfe", "imputation"]}
cs_spec = {
    **mine,
    "name": "sc_south_violent_cs",
    "label": "South, CS with covariate",
    "estimators": ["cs"],
    "fixed_effects": ["county", "year"],
    "est_method": "dr",
    "description": "sc_violent in Southern states, Callaway-Sant'Anna conditioning on baseline log population",
}
for s in (fe_spec, cs_spec):
    validate_spec(s, panel.columns)

# %% [markdown]
# Mistakes are reported all at once, each with its field and the nearest valid name (here four
# typos in one spec):

# %%
typos = {
    **fe_spec,
    "outcome": "violnt",
    "estimators": ["twfe", "imputaton"],
    "baseline_controls": ["log_pop2000"],
    "fixed_effects": ["county", "stat^year"],
}
try:
    validate_spec(typos, panel.columns)
except SpecError as err:
    print(str(err).replace(f"{config.ROOT}/", ""))

# %% [markdown]
# ## 5.4 Run only these specifications
#
# `run_spec(spec, panel)` builds the derived column, applies the named sample and the spec's own
# rules, and runs every estimator; it returns the tables `python -m analysis.estimate` would write
# (nothing is written here). A design with very small cohorts would raise a `SmallCohortWarning`
# naming them.

# %%
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always", SmallCohortWarning)
    fe_tables, cs_tables = run_spec(fe_spec, panel), run_spec(cs_spec, panel)
print("warnings:", [str(w.message) for w in caught] or "none")
adapted = [results.from_run(fe_spec, fe_tables), results.from_run(cs_spec, cs_tables)]
pd.concat(
    {r.label: r.overall[["estimate", "se", "ci_low", "ci_high", "pvalue", "n_obs", "n_units"]] for r in adapted},
    names=["spec", "estimator"],
)

# %% [markdown]
# What the estimators dropped, and the model of each (fixest notation; `models.csv` in a results
# folder). With state-by-year effects, the imputation estimator cannot impute a treated county-year
# whose state-year has no untreated county left (Secure Communities reached whole states at once),
# so it drops those rows and its average covers fewer treated county-years than TWFE's:

# %%
dropped = fe_tables["dropped"]
dropped[dropped["level"] != "unit"].groupby(["estimator", "reason"])["rows"].sum().to_frame()

# %%
pd.concat([fe_tables["models"], cs_tables["models"]])[["estimator", "model", "standard_errors"]]

# %% [markdown]
# ## 5.5 Plot and tabulate, next to the paper's spec
#
# The helpers take spec names (read from `results/` or `myspecs/results/`) or in-memory results.
# Labels come from each spec's `label`. `plot_event_study(..., name="x")` would save
# `myspecs/output/x.pdf`; here it only draws.

# %%
plot_event_study([ORIGINAL, *adapted], estimators=None, window=(-5, 4))

# %% [markdown]
# The table: one column per spec, one row per estimator, rows describing each column, and notes
# written from the specs. `table(..., name="x")` would write `myspecs/output/x.tex` and
# `x_notes.tex`; here it only returns the LaTeX.

# %%
tab = table([ORIGINAL, *adapted])
print(tab.body)
print(tab.notes)

# %% [markdown]
# ## 5.6 Make it a spec of your own
#
# Save each spec as a YAML file in `myspecs/` (the file name is its name) and run `make mine`:
# only your specs run, into `myspecs/results/<name>/`, and `make all` still has nothing to do.
# The first file would read (this notebook does not write it):

# %%
fields = [
    "description",
    "label",
    "program",
    "sample",
    "sample_rules",
    "outcome",
    "transform",
    "treatment",
    "control_group",
    "estimators",
    "baseline_controls",
    "fixed_effects",
]
print(yaml.safe_dump({k: fe_spec[k] for k in fields}, sort_keys=False, default_flow_style=None, width=120))
