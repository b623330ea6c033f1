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
# # 2. The treatment data: 287(g) agreements and Secure Communities
#
# Where the treatment dates of the county panel come from, how they are checked, and the
# timing variants the specifications can choose from. The notebook reads the cleaned tables in
# `data_clean/` (written by `make panel`) and calls the package's readers for the cross-checks;
# it writes nothing.
#
# Build it with `make notebooks` (or `python -m analysis.infra.notebooks notebooks/02_treatment_data.py`).

# %%
# %matplotlib inline
import pandas as pd

from analysis import config
from analysis.exhibits import style
from analysis.readers.agreements_287g import crosscheck_oig, crosscheck_wapo
from analysis.readers.ice_lists import clean_ice_lists, count_agreements
from analysis.readers.secure_communities import sc_coverage_by_year
from analysis.treatment import DEFINITIONS, statewide_287g_states, timing_287g

pd.set_option("display.max_columns", 30, "display.width", 160, "display.max_colwidth", 60)
panel = pd.read_parquet(config.PANEL)

# %% [markdown]
# ## 2.1 The 287(g) agreement table, 2002-2017
#
# Source: the Deportation Data Project's best-guess table of agreements before 2018. The reader
# (`analysis/readers/agreements_287g.py`) keeps one row per **agency x county** (an agency
# covering two counties has two rows); state agencies stay in the table without a county. Its
# rules are steps 8-12 of the sample log:

# %%
log = pd.read_csv(config.SAMPLE_LOG)
log.loc[log["stage"] == "treatment_287g", ["step", "rule", "rows_before", "dropped_rows", "rows_after", "reason"]]

# %%
agreements = pd.read_parquet(config.AGREEMENTS)
agencies = agreements.drop_duplicates("agency_id")
print(f"{len(agreements)} rows, {len(agencies)} agencies in {agencies['state'].nunique()} states")
agreements.head()

# %% [markdown]
# Agencies by level (county = sheriff or county jail; municipal = city police; state = state
# police, DPS, corrections) and model (JEM = jail enforcement; TF = task force; hybrid = both;
# NA = not recorded), counting each agency once:

# %%
pd.crosstab(agencies["level"], agencies["model"].fillna("NA"), margins=True)

# %% [markdown]
# Agencies by the year they first signed, by level: the 2007-2009 wave, then few new agreements
# until the program's expansion after 2016.

# %%
by_year = pd.crosstab(agencies["first_signed"].dt.year.rename("first signed"), agencies["level"])
by_year = by_year.reindex(range(2002, 2018), fill_value=0)
fig, ax = style.figure(height=2.6)
by_year.plot.bar(stacked=True, ax=ax, width=0.8)
ax.set_ylabel("agencies")
ax.legend(title=None)
fig

# %% [markdown]
# How each local agency was placed in a county (`fips_source`): the source's own county code, a
# committed fix (`analysis/readers/agreements_287g_fixes.csv`, one reason per row), the Census
# county name, or the UCR agency crosswalk for city police.

# %%
agreements.groupby(["level", agreements["fips_source"].fillna("(state agency)")]).size().rename("rows").to_frame()

# %% [markdown]
# ## 2.2 Cross-checks: DHS OIG (2009) and the Washington Post (2019)
#
# **OIG-10-63** lists the 67 agreements in force on 28 October 2009. Each is matched to our
# agencies by normalised name: is it in our table, with the same signing date and the same model?

# %%
oig = crosscheck_oig(agreements)
oig.groupby("status")[["in_table", "same_date", "same_model"]].agg(["size", "sum"])

# %% [markdown]
# *Check*: every agreement the OIG lists as signed is in our table with the same signing date;
# the only one missing is one the OIG lists as pending. The rows that differ: pending agreements
# (no OIG signing date) and models, mostly sheriffs the OIG lists as hybrid and our source as JEM:

# %%
signed = oig[oig["status"] == "signed"]
assert len(oig) == 67 and signed["same_date"].all()
assert oig["in_table"].sum() >= 66
oig.loc[
    ~oig["in_table"] | ~oig["same_model"],
    ["state", "agency", "status", "oig_model", "model", "oig_signed", "first_signed"],
]

# %% [markdown]
# The **Washington Post**'s 2019 sheriff data flag, per agency, the years with an agreement
# (from 2005). The first flagged year against the year we have the agency first signing
# (year_gap = ours - Post; NA = the agency is not in our table, mostly post-2017 signings):

# %%
wapo = crosscheck_wapo(agreements)
wapo["year_gap"].value_counts(dropna=False).sort_index().rename("agencies").to_frame().T

# %%
early = wapo[(wapo["wapo_first_year"] <= 2017) & wapo["first_year"].notna()]
share = (early["year_gap"] == 0).mean()
assert len(early) >= 90 and share >= 0.85
print(f"{len(early)} Post agencies first flagged by 2017 are in our table; {share:.0%} with the same first year")
early.loc[early["year_gap"] != 0, ["state", "agency", "wapo_first_year", "first_year", "year_gap", "same_fips"]]

# %% [markdown]
# A negative gap means we date the agency earlier: it signed before 2005, the Post's first
# flagged year (Alabama DPS, 2003), or the Post flags a later year than the first signing. The
# four gaps of -11 (Brevard, Manatee and Bay FL, Barnstable MA: signed 2007-2008) are agencies
# the Post first flags in 2018-2019, after a lapse; they fall outside the check above. The county
# codes agree except for Collier County FL, which the Post codes 12023 (Columbia County):

# %%
wapo.loc[wapo["same_fips"].eq(False), ["state", "agency", "wapo_fips", "fips"]]

# %% [markdown]
# ## 2.3 County timing variants
#
# `analysis/treatment.py` turns the agreements into one treatment year per county (0 = never)
# under several definitions, so a specification can choose the one it needs:
#
# | column | a county is treated from the year of its first agreement signed by |
# |---|---|
# | `g287_county` | a county-level agency (sheriff, county jail): **the main definition** |
# | `g287_any` | any local agency (county or municipal) |
# | `g287_jem` / `g287_tf` | a local agency whose model includes the jail / task-force model |
# | `*_midyear` | as above, by the mid-year rule: signed after 30 June -> the next year (not the first *full* calendar year, which would be the next year for any date after 1 January) |
# | `g287_county_wapo` | `g287_county`, dated by the Washington Post's first flagged year where the Post lists the agreement |
#
# Three more columns describe the county's county-level agreements: `g287_county_month` (month of the
# first), `g287_county_end` (year the last one ended, 0 = not ended: the main estimand is intent-to-treat
# and ignores it) and `g287_county_list_date` (the first date is shared by 3 or more agreements: a
# list date). A design that dates treatment by one definition drops, as controls, the counties another
# definition treats first (`clean_controls` in a spec; `analysis/design.py`).
#
# States with a state-level agreement are flagged in the panel (`state_287g_statewide`) so that
# a sample can drop them (`main_no_statewide`).

# %%
timing = timing_287g(agreements)
columns = [
    c for c in timing.columns if c not in ("fips", "g287_county_month", "g287_county_end", "g287_county_list_date")
]
first_years = pd.DataFrame({c: timing.loc[timing[c] > 0, c].value_counts() for c in columns}).fillna(0).astype(int)
first_years.rename_axis("year").sort_index()

# %%
states = panel.drop_duplicates("state_fips").set_index("state_fips")["state"]
print("statewide agreements:", ", ".join(sorted(states[sorted(statewide_287g_states(agreements))])))
print("definitions counting local agencies:", ", ".join(DEFINITIONS))

# %% [markdown]
# In the panel (after the county recodes), counties treated within the window 2002-2012, all
# counties and the main sample:

# %%
counties = panel.drop_duplicates("fips")
treated = pd.DataFrame(
    {
        c: {
            "panel": ((counties[c] > 0) & (counties[c] <= config.LAST_YEAR)).sum(),
            "main sample": ((counties[c] > 0) & (counties[c] <= config.LAST_YEAR) & counties["in_main"]).sum(),
            "treated after 2012": (counties[c] > config.LAST_YEAR).sum(),
        }
        for c in columns
    }
).T
treated

# %% [markdown]
# *Check*: the North Carolina sheriffs of Forrester & Nowrasteh (2018): Mecklenburg 2006,
# Alamance and Gaston 2007, Wake 2008, Guilford 2009.

# %%
nc = counties.set_index("fips").loc[
    ["37119", "37001", "37071", "37183", "37081"],
    ["county_name", "g287_county", "g287_county_midyear", "g287_county_end", "g287_county_list_date", "in_main"],
]
assert nc["g287_county"].tolist() == [2006, 2007, 2007, 2008, 2009]
nc

# %% [markdown]
# ## 2.4 Secure Communities activations
#
# Source: ICE's activation dates per county (month level). Secure Communities reached every
# county between October 2008 and January 2013, so there are no never-treated counties:
# designs use not-yet-treated controls. Counties activated per year and month:

# %%
sc = pd.read_parquet(config.SC_ACTIVATION)
print(f"{len(sc):,} counties, {sc['sc_dated'].sum():,} with an activation date")
pd.crosstab(sc["sc_year"], sc["sc_month"], margins=True)

# %%
dated = sc[sc["sc_dated"]]
month = pd.PeriodIndex.from_fields(year=dated["sc_year"].astype(int), month=dated["sc_month"].astype(int), freq="M")
cumulative = month.value_counts().sort_index().cumsum() / len(dated)
fig, ax = style.figure(height=2.4)
ax.step(cumulative.index.to_timestamp(), cumulative.to_numpy(), where="post")
ax.set_ylabel("share of counties activated")
fig

# %% [markdown]
# The counties without a date (kept with `sc_dated` False, out of the SC analysis), by state:

# %%
sc.loc[~sc["sc_dated"], "state"].value_counts().rename("undated counties").to_frame().T

# %% [markdown]
# *Cross-check* against East et al. (2023): the share of our dated counties activated by
# January of each year against the mean of their coverage variable `SC_jan` across Consistent
# PUMAs (a PUMA-level, population-based measure: close but not identical).

# %%
coverage = sc_coverage_by_year(sc)
assert coverage["difference"].abs().max() < 0.15
coverage.round(3)

# %% [markdown]
# ## 2.5 ICE's lists of participating agencies, 2021-2026
#
# After 2020 the count of agreements comes from ICE's monthly lists (one row per agency x
# support type: JEM, TFM task force, WSO warrant service). The seed article says 135 agreements
# in 25 states in December 2024 and 628 in 40 states on 28 May 2025; `count_agreements` reads
# the list in force on a date. The agreement counts match; the December 2024 list has 21 states,
# not 25 (the same count on the 1 and the 15 December lists).

# %%
lists = clean_ice_lists()
claims = {"December 2024": ("2024-12-31", 135, 25), "28 May 2025": ("2025-05-28", 628, 40)}
rows = []
for label, (date, n_article, k_article) in claims.items():
    n, k = count_agreements(lists, date)
    in_force = lists.loc[lists["list_date"] <= date, "list_date"].max().date()
    rows.append(
        {
            "date": label,
            "list of": in_force,
            "agreements (article)": n_article,
            "agreements (ours)": n,
            "states (article)": k_article,
            "states (ours)": k,
        }
    )
article = pd.DataFrame(rows).set_index("date")
assert (article["agreements (article)"] == article["agreements (ours)"]).all()
assert article.loc["28 May 2025", "states (ours)"] == 40
article

# %% [markdown]
# *Check*: the same numbers as the paper's Table 1 (`results/rollout/seed_numbers.csv`, written by
# `make rollout`, the pipeline step analysis.rollout).

# %%
seed = pd.read_csv(config.RESULTS / "rollout" / "seed_numbers.csv").set_index("claim")["ours"]
assert seed["Agreements, December 2024"] == article.loc["December 2024", "agreements (ours)"]
assert seed["States, December 2024"] == article.loc["December 2024", "states (ours)"]
assert seed["Agreements, 28 May 2025"] == article.loc["28 May 2025", "agreements (ours)"]
assert seed["States, 28 May 2025"] == article.loc["28 May 2025", "states (ours)"]
seed

# %%
per_list = lists.groupby(["list_date", "support_type"]).size().unstack(fill_value=0)
fig, ax = style.figure(height=2.6)
per_list.plot.area(ax=ax, linewidth=0)
ax.set_ylabel("agreements on the list")
ax.set_xlabel(None)
ax.legend(title=None, loc="upper left")
fig

# %%
may = lists[lists["list_date"] == pd.Timestamp("2025-05-28")]
may.groupby("support_type").agg(
    agreements=("agency", "size"), agencies=("agency", "nunique"), states=("state", "nunique")
)
