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
# # 1. From raw files to the county x year panel
#
# This notebook walks a reviewer through the data construction of the package, in the order the
# pipeline runs it (`make data`, then `make panel`). It only **reads**: the raw files in
# `data_raw/`, the committed rules in `analysis/`, and the outputs of `python -m analysis.panel`
# in `data_clean/`. Every number shown is computed by the package's own functions; the cells
# marked *check* stop the notebook if a known fact no longer holds.
#
# Build it with `make notebooks` (or `python -m analysis.infra.notebooks notebooks/01_data_construction.py`);
# the executed copy is `notebooks/_build/01_data_construction.html`.

# %%
# %matplotlib inline
import pandas as pd

from analysis import config
from analysis.acquire import read_manifest, sha256_of
from analysis.exhibits import style
from analysis.readers.crime import LAYOUT, PSEUDO, STUDY_YEAR, crime_file, read_crime_file
from analysis.readers.fips_recodes import read_recodes
from analysis.sample import read_samples

pd.set_option("display.max_columns", 30, "display.width", 160, "display.max_colwidth", 80)

# %% [markdown]
# ## 1.1 The raw files and the manifest
#
# No raw file is committed. `data_raw/manifest.csv` pins each file's URL, sha256, size, source and
# licence; `make data` copies or downloads every file and verifies it against this list.

# %%
manifest = pd.DataFrame([vars(e) for e in read_manifest(config.MANIFEST)])
manifest["folder"] = manifest["path"].str.split("/").str[:2].str.join("/")
manifest.groupby("folder").agg(
    files=("path", "size"),
    megabytes=("bytes", lambda b: round(b.sum() / 1e6, 2)),
    licence=("licence", "first"),
    redistribution=("redistribution", "first"),
)

# %% [markdown]
# *Check*: every file is present with its manifest size (the full sha256 check is `make data`);
# one file's hash is recomputed here as an example.

# %%
on_disk = manifest["path"].map(lambda p: (config.DATA_RAW / p).stat().st_size)
assert (on_disk == manifest["bytes"]).all(), manifest.loc[on_disk != manifest["bytes"], "path"].tolist()
first = manifest.iloc[0]
assert sha256_of(config.DATA_RAW / first["path"]) == first["sha256"]
print(
    f"{len(manifest)} files, {manifest['bytes'].sum() / 1e6:.1f} MB, all present with the manifest's size; "
    f"sha256 of {first['path']} matches"
)

# %% [markdown]
# ## 1.2 The crime reader on one file
#
# Crime counts come from the ICPSR county-level UCR files (part 4, crimes reported), one
# fixed-width file of 97-character records per year. The year is not in the records: it comes
# from the ICPSR study number. The layout (1-based, inclusive positions) and the panel column
# each field becomes:

# %%
pd.DataFrame(LAYOUT, columns=["icpsr_field", "first", "last", "panel_column"]).fillna("(not used)")

# %%
path_2000 = crime_file(config.DATA_RAW, 2000)
raw_2000 = read_crime_file(path_2000)
print(
    path_2000.relative_to(config.ROOT),
    f"({len(raw_2000):,} records, ICPSR study { {y: s for s, y in STUDY_YEAR.items()}[2000] })",
)
raw_2000.head()

# %% [markdown]
# Records whose county code is 999 or 777 are agencies the FBI did not allocate to a county
# (statewide agencies, later 'no county' records): the reader drops them. COVIND, the share of
# the county's population covered by reporting agencies, is 0-100; **0 means no reporting, not
# zero crime**.

# %%
pseudo = raw_2000[raw_2000["FIPS_CTY"].isin(PSEUDO)]
pseudo[["FIPS_ST", "FIPS_CTY", "CPOPCRIM", "COVIND", "MURDER", "ROBBERY", "BURGLRY"]]

# %% [markdown]
# ## 1.3 The sample log
#
# Every rule that removes rows, from the raw records to the main estimation sample, is one row
# of `data_clean/sample_log.csv`, in the order applied (stages: crime, population, 287(g)
# agreements, Secure Communities, panel, main sample). Units differ by stage: county-years,
# agreements (agencies) or counties.

# %%
log = pd.read_csv(config.SAMPLE_LOG)
log.drop(columns="reason")

# %%
for row in log.itertuples():
    print(f"{row.step:>2}. {row.stage}/{row.rule}: {row.reason}")

# %% [markdown]
# *Check*: each row reconciles (after = before - dropped) and each stage starts where its
# previous rule ended.

# %%
assert (log["rows_after"] == log["rows_before"] - log["dropped_rows"]).all()
assert (log["units_after"] == log["units_before"] - log["dropped_units"]).all()
for stage, rows in log.groupby("stage", sort=False):
    assert (rows["rows_before"].iloc[1:].to_numpy() == rows["rows_after"].iloc[:-1].to_numpy()).all(), stage
print("sample log reconciles")

# %% [markdown]
# ## 1.4 Reporting coverage (COVIND) by state and year
#
# The named samples are rules kept as data in `analysis/samples.yaml`:

# %%
pd.DataFrame(read_samples(config.SAMPLES)).T[["description"]]

# %% [markdown]
# The main sample keeps counties with COVIND >= 90 in **every** year 2000-2012 (and present in
# every year) whose counts also cover the county, and the same population every year: the coverage
# audit (section 1.6) adds bounds on the UCR-covered population against the Census population, on its
# year-to-year changes, on changes in the number of reporting agencies, and the data sanity checks.
# Coverage holes are not spread evenly: the share of a state's counties at COVIND >= 90 each year shows
# whole states with low or broken reporting.

# %%
panel = pd.read_parquet(config.PANEL)
share90 = panel.assign(ok=panel["covind"] >= 90).pivot_table(index="state", columns="year", values="ok", aggfunc="mean")
fig, ax = style.figure(height=8.5)
image = ax.imshow(share90.to_numpy(), aspect="auto", cmap="viridis", vmin=0, vmax=1)
ax.set_xticks(range(share90.shape[1]), share90.columns, rotation=90)
ax.set_yticks(range(share90.shape[0]), share90.index, fontsize=6)
ax.grid(False)
ax.set_title("Share of a state's counties with COVIND >= 90")
fig.colorbar(image, ax=ax, shrink=0.5)
fig

# %% [markdown]
# Which states lose counties under 'main' (`data_clean/sample_state_losses.csv`, written by
# `make panel`): most lost first. A state can look well covered in each year and still lose most
# of its counties, because 'main' needs COVIND >= 90 in *every* year (Georgia: 51-96% of
# counties each year, 18% in all thirteen). The sample `main_no_holes` drops the states that lose
# more than half their counties to the COVIND and balance rules.

# %%
losses = pd.read_csv(config.SAMPLE_STATE_LOSSES, dtype={"state_fips": str})
losses.head(20)

# %%
print(
    f"{(losses['share_lost'] > 0.5).sum()} states lose more than half their counties: "
    + ", ".join(losses.loc[losses["share_lost"] > 0.5, "state"])
)
print(
    f"{(losses['counties_lost'] == 0).sum()} states lose none: "
    + ", ".join(sorted(losses.loc[losses["counties_lost"] == 0, "state"]))
)

# %% [markdown]
# *Check*: the losses table agrees with the panel's `in_main` flag.

# %%
in_main = panel[panel["in_main"]]
assert losses["counties_sample"].sum() == in_main["fips"].nunique()
assert losses["counties_panel"].sum() == panel["fips"].nunique()
print(
    f"panel: {panel['fips'].nunique():,} counties, {len(panel):,} county-years; "
    f"main: {in_main['fips'].nunique():,} counties x {in_main['year'].nunique()} years = {len(in_main):,}"
)

# %% [markdown]
# ## 1.5 Known facts, re-checked
#
# Counts that anyone can look up in the ICPSR files, checked on the panel: violent crimes
# (murder + rape + robbery + aggravated assault) in Mecklenburg County NC (Charlotte, 37119) and
# Maricopa County AZ (Phoenix, 04013), both early 287(g) counties.

# %%
known = {("37119", 2000): 7677, ("37119", 2012): 5519, ("04013", 2000): 16996, ("04013", 2012): 16447}
cols = ["county_name", "state", "violent", "population", "rate_violent", "covind", "g287_county", "sc_year", "in_main"]
facts = panel.set_index(["fips", "year"]).loc[list(known), cols]
facts

# %%
assert facts["violent"].to_dict() == known
parts = panel.set_index(["fips", "year"]).loc[list(known), ["murder", "rape", "robbery", "agg_assault"]]
assert (facts["violent"] == parts.sum(axis=1)).all()
assert facts.loc["37119", "g287_county"].eq(2006).all() and facts.loc["04013", "g287_county"].eq(2007).all()
print("Mecklenburg and Maricopa: violent counts and 287(g) years as expected")

# %% [markdown]
# National totals: the 2000 file sums to 1,360,392 violent crimes; without the pseudo-counties
# 1,358,626. The panel's 2000 total is lower by the four Colorado county-years dropped around the
# creation of Broomfield County (crimes and population on different boundaries,
# `analysis/readers/fips_recodes.csv`); merged codes (Virginia independent cities) keep their
# crimes in the successor county. By 2012 raw-without-pseudo and panel agree.


# %%
def violent_total(raw: pd.DataFrame) -> int:
    """Violent crimes in a raw file (text fields as read by read_crime_file)."""
    return int(raw[["MURDER", "RAPE", "ROBBERY", "AGASSLT"]].astype(int).to_numpy().sum())


raw_2012 = read_crime_file(crime_file(config.DATA_RAW, 2012))
national = pd.DataFrame(
    {
        "raw file": [violent_total(raw_2000), violent_total(raw_2012)],
        "without pseudo-counties": [violent_total(r[~r["FIPS_CTY"].isin(PSEUDO)]) for r in (raw_2000, raw_2012)],
        "panel": panel.groupby("year")["violent"].sum().loc[[2000, 2012]].to_numpy(),
    },
    index=[2000, 2012],
)
national

# %%
recodes = read_recodes(config.FIPS_RECODES)
broomfield = recodes[(recodes["action"] == "drop") & (recodes["first_year"] <= 2000)]["old_fips"]
dropped_2000 = raw_2000.assign(fips=raw_2000["FIPS_ST"].str.zfill(2) + raw_2000["FIPS_CTY"].str.zfill(3))
dropped_2000 = violent_total(dropped_2000[dropped_2000["fips"].isin(broomfield)])
assert national.loc[2000, "raw file"] == 1_360_392 and national.loc[2000, "without pseudo-counties"] == 1_358_626
assert national.loc[2000, "without pseudo-counties"] - national.loc[2000, "panel"] == dropped_2000
assert national.loc[2012, "without pseudo-counties"] == national.loc[2012, "panel"] == 1_199_028
print(f"2000: the panel is {dropped_2000:,} violent crimes short of the file, exactly the Broomfield drops")

# %% [markdown]
# ## 1.6 The codebook
#
# Every panel column, its type, meaning and source (`data_clean/codebook.csv`, from
# `analysis/codebook.yaml`). *Check*: the panel has exactly these columns, in this order.

# %%
codebook = pd.read_csv(config.CODEBOOK)
assert list(codebook["column"]) == list(panel.columns)
with pd.option_context("display.max_rows", 100, "display.max_colwidth", 120):
    display(codebook)  # noqa: F821  (IPython built-in)

# %% [markdown]
# ## 1.6 The coverage audit
#
# COVIND measures the share of a county's population-months covered by reporting agencies, as ICPSR
# computes it; it can be 100 in a year in which the agencies whose offenses are counted cover a fraction
# of the residents. The panel carries the audit's diagnostics (`analysis/coverage.py`, codebook):
# `cov_ratio` = `pop_ucr` / `population`, its log and yearly change, the fold change in reporting
# agencies and in index crimes, zero counts. Cook County IL is the clearest case: COVIND 100 while only
# Chicago reports (2000-2007).

# %%
cook = panel[panel["fips"] == "17031"].set_index("year")
cook[["covind", "ag_off", "pop_ucr", "population", "cov_ratio", "cov_ratio_jump", "index", "in_main"]]

# %% [markdown]
# What each rule of the main sample drops (the sample log's `sample_main` stage), and the data sanity
# checks (`data_clean/sanity_checks.csv`, `make` step `checks`): every county-year with zero index
# crimes, a more than 5-fold jump or a rate above 20,000 per 100,000, with the rule that drops it.

# %%
log[log["stage"] == "sample_main"][["rule", "dropped_units", "dropped_rows", "units_after"]]

# %%
sanity = pd.read_csv(config.SANITY_CHECKS, dtype={"fips": str})
assert not sanity["in_main"].any(), "a flagged county-year is in the main sample"
sanity.groupby(["check", "handled_by"]).size().rename("county-years").to_frame()
