# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 5. Tutorial: adapt a model
#
# Every estimate in the paper comes from a small YAML file in `analysis/specs/` (one file = one
# *specification*: program, sample, outcome, treatment timing, control group, estimators), run by
# `python -m analysis.estimate` into `results/<name>/`. This notebook shows how to change a
# specification and run it **in memory**, without touching the files the paper uses:
#
# 1. load the headline 287(g) specification and check that it reproduces its stored results;
# 2. copy it and change the outcome (index crime -> violent crime) and the control group
#    (never-treated -> not-yet-treated counties);
# 3. run only that copy with `analysis.estimate.run_spec`;
# 4. plot it next to the original and its one-change neighbours, read from `results/`.
#
# Build it with `make notebooks` (or `python -m analysis.notebooks notebooks/05_adapt_a_model.py`).

# %%
# %matplotlib inline
import copy

import numpy as np
import pandas as pd
import yaml

from analysis import config
from analysis.estimate import run_spec
from analysis.exhibits import style
from analysis.errors import InputError
from analysis.spec import CHOICES, ESTIMATORS, load_spec, outcome_column, validate_spec

pd.set_option("display.max_columns", 30, "display.width", 160, "display.max_colwidth", 60)
panel = pd.read_parquet(config.PANEL)

# %% [markdown]
# ## 5.1 Load a specification
#
# The headline design: 287(g) agreements signed by a county-level agency (`g287_county`), the log
# index-crime rate, the main sample, never-treated counties as controls. The file:

# %%
ORIGINAL = "us_287g_index"
path = config.SPECS / f"{ORIGINAL}.yaml"
print(path.read_text(encoding="utf-8"))

# %% [markdown]
# `load_spec` checks the file (fields, types, allowed values, the named sample) and fills the
# defaults; `validate_spec` checks it against the panel. The loaded specification is a plain dict:

# %%
spec = validate_spec(load_spec(path), panel.columns)
{k: v for k, v in spec.items() if k not in ("path", "lines")}

# %% [markdown]
# The allowed values, from `analysis/spec.py`: estimators and the choices of each field.

# %%
print("estimators:", ", ".join(ESTIMATORS))
for field in ("program", "transform", "control_group", "weights", "cluster", "base_period"):
    print(f"{field}: {', '.join(CHOICES[field])}")
print("samples: see analysis/samples.yaml; outcomes:", ", ".join(sorted(
    c.removeprefix("log_rate_") for c in panel.columns if c.startswith("log_rate_"))))

# %% [markdown]
# ## 5.2 Check: the stored results are reproduced
#
# Before changing anything, run a light copy of the original (two of its estimators) and compare
# with `results/us_287g_index/overall.csv`, written by `make estimates`. Same data, same seed:
# the same numbers (the CSV keeps 10 significant digits).

# %%
light = copy.deepcopy(spec)
light["estimators"] = ["twfe", "cs"]
rerun = run_spec(light, panel)["overall"].set_index("estimator")
stored = pd.read_csv(config.RESULTS / ORIGINAL / "overall.csv").set_index("estimator")
both = rerun.index.intersection(stored.index)
check = pd.concat({"rerun": rerun.loc[both, ["estimate", "se"]], "stored": stored.loc[both, ["estimate", "se"]]}, axis=1)
assert np.allclose(check["rerun"], check["stored"], rtol=1e-8, atol=1e-12)
check

# %% [markdown]
# ## 5.3 Adapt it: another outcome and another control group
#
# Copy the dict (never edit the loaded one in place), change two fields, give the copy a new
# name, and validate it again: a typo (an outcome the panel lacks, a control group that does
# not exist) fails here, naming the field.

# %%
mine = copy.deepcopy(spec)
mine.update(name="my_287g_violent_nyt", outcome="violent", control_group="not_yet_treated",
            description="us_287g_index with the violent-crime rate and not-yet-treated controls")
validate_spec(mine, panel.columns)
print("outcome column:", outcome_column(mine), "| control group:", mine["control_group"])

# %%
try:
    validate_spec({**mine, "outcome": "violence"}, panel.columns)
except InputError as err:
    print("as expected:", str(err).replace(f"{config.ROOT}/", ""))

# %% [markdown]
# What the change of control group means: with `never_treated`, each cohort is compared only
# with counties that never sign (by 2017's data, 'never' = no agreement through 2017); with
# `not_yet_treated`, counties that sign later also serve as controls until they sign. Counties
# per cohort in the main sample:

# %%
main = panel[panel["in_main"]].drop_duplicates("fips")
main[mine["treatment"]].replace(0, "never").value_counts().rename("counties").to_frame().T

# %% [markdown]
# ## 5.4 Run only this specification
#
# `run_spec(spec, panel)` applies the named sample and runs every estimator of the spec; it
# returns the tables that `python -m analysis.estimate` would write to `results/<name>/`. Nothing
# is written here.

# %%
tables = run_spec(mine, panel)
print("tables:", ", ".join(tables))
tables["overall"][["estimator", "estimate", "se", "ci_low", "ci_high", "pvalue", "n_obs", "n_units"]]

# %% [markdown]
# ## 5.5 Next to the original
#
# The adapted spec changes two things at once. The stored results of the one-change neighbours
# separate them: `us_287g_violent` (outcome changed) and `us_287g_index_nyt` (control group
# changed). Estimates are changes in the log crime rate (x 100 = approximately percent).

# %%
labels = {ORIGINAL: "original: index, never-treated", "us_287g_violent": "violent, never-treated",
          "us_287g_index_nyt": "index, not-yet-treated", mine["name"]: "adapted: violent, not-yet-treated"}
overall = {name: pd.read_csv(config.RESULTS / name / "overall.csv") for name in list(labels)[:-1]}
overall[mine["name"]] = tables["overall"]
shown = ["twfe", "cs_simple", "sunab", "imputation"]
compare = pd.concat({labels[n]: o.set_index("estimator").reindex(shown)[["estimate", "se"]] for n, o in overall.items()},
                    axis=1)
compare.round(4)

# %% [markdown]
# Which change moves the estimate? TWFE and the imputation estimator have no control-group
# option (every not-yet-treated observation is a control), so only Callaway-Sant'Anna and
# Sun-Abraham can react to it; and with far more never-treated than later-treated counties in
# the main sample (table in 5.3), the not-yet-treated controls add little:

# %%
cs = {name: o.set_index("estimator").loc["cs_simple", "estimate"] for name, o in overall.items()}
print(f"control group, index outcome:   {cs['us_287g_index_nyt'] - cs[ORIGINAL]:+.4f}")
print(f"control group, violent outcome: {cs[mine['name']] - cs['us_287g_violent']:+.4f}")
print(f"outcome, never-treated:         {cs['us_287g_violent'] - cs[ORIGINAL]:+.4f}")

# %%
fig, ax = style.figure(height=2.8)
offsets = np.linspace(-0.3, 0.3, len(overall))
for offset, (name, o) in zip(offsets, overall.items()):
    o = o.set_index("estimator").reindex(shown)
    y = np.arange(len(shown)) + offset
    ax.errorbar(o["estimate"], y, xerr=[o["estimate"] - o["ci_low"], o["ci_high"] - o["estimate"]],
                fmt="o", label=labels[name])
ax.axvline(0, color=style.OKABE_ITO["black"], lw=0.6)
ax.set_yticks(range(len(shown)), shown)
ax.invert_yaxis()
ax.set_xlabel("effect on the log crime rate (95% CI)")
ax.legend(loc="lower left", bbox_to_anchor=(1.0, 0.0))
fig

# %% [markdown]
# The Callaway-Sant'Anna event study (years relative to the first agreement; reference year -1;
# 95% pointwise intervals):

# %%
events = {name: pd.read_csv(config.RESULTS / name / "event_study.csv") for name in list(labels)[:-1]}
events[mine["name"]] = tables["event_study"]
fig, ax = style.figure(height=2.8)
for offset, (name, ev) in zip(np.linspace(-0.24, 0.24, len(events)), events.items()):
    ev = ev[ev["estimator"] == "cs"].sort_values("event_time")
    ax.errorbar(ev["event_time"] + offset, ev["estimate"],
                yerr=[ev["estimate"] - ev["ci_low"], ev["ci_high"] - ev["estimate"]], fmt="o-", label=labels[name])
ax.axhline(0, color=style.OKABE_ITO["black"], lw=0.6)
ax.axvline(-0.5, color=style.OKABE_ITO["black"], lw=0.6, ls=":")
ax.set_xlabel("years since the county's first 287(g) agreement")
ax.set_ylabel("effect on the log crime rate")
ax.legend(loc="lower left", fontsize=7)
fig

# %% [markdown]
# ## 5.6 Make it permanent
#
# To add the adapted specification to the package, save it as a YAML file in `analysis/specs/`
# and run `make estimates` (only the new spec runs; its results land in `results/<name>/`). The
# file would read (this notebook does not write it):

# %%
print(yaml.safe_dump({k: mine[k] for k in spec["lines"]}, sort_keys=False, default_flow_style=None, width=120))
