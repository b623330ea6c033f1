# Immigration enforcement and local crime: the whole pipeline, raw files to paper/paper.pdf.
# Each target lists its script, every module it imports (.make/deps.mk) and its inputs, so a change
# reruns only what depends on it. `make` alone prints this help; `make all` builds everything;
# `make test` runs the tests.
#
# Guarantees: raw files are checked against data_raw/manifest.csv on every run (a changed, swapped,
# truncated or missing file stops the build); every step writes its outputs atomically, so a failed
# or interrupted step leaves the previous outputs whole; a step whose inputs have the same content
# as at its last run is skipped (analysis.infra.runlog), so `make all` is a no-op after any change that
# leaves the outputs unchanged; `make -j4 all` gives the same files as a serial build.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-builtin-rules
# No .DELETE_ON_ERROR: outputs are written atomically, so a failed step never leaves a partial file,
# and deleting the targets of a failed grouped rule would throw away good outputs.

# ---- Python environment ---------------------------------------------------------------
# An active virtualenv/conda environment is used when it matches requirements.txt exactly;
# otherwise make builds .venv from requirements.txt (once: the stamp records it).
SYSTEM_PYTHON := $(shell command -v python3.11 || command -v python3)
ACTIVE_PY := $(if $(VIRTUAL_ENV)$(CONDA_PREFIX),$(shell python -m analysis.infra.envcheck >/dev/null 2>&1 && command -v python))
PY := $(or $(ACTIVE_PY),.venv/bin/python)
ENV := $(if $(ACTIVE_PY),,.venv/.installed)
STEP := $(PY) -m analysis.infra.runlog step
# Reproducible PDF dates: the commit time, not the wall clock.
export SOURCE_DATE_EPOCH := $(shell git log -1 --format=%ct 2>/dev/null || echo 0)
export FORCE_SOURCE_DATE := 1
export PYTHONHASHSEED := 0
export MPLBACKEND := Agg
# One id per make run: the run record lists only this run's steps.
export RUN_ID := $(shell date +%Y%m%dT%H%M%S)-$(shell echo $$PPID)

# Goals that build nothing from the raw files: no raw check, no dependency scan.
NO_BUILD_GOALS := help clean env data tex lab lint test-unit
BUILDING := $(if $(MAKECMDGOALS),$(filter-out $(NO_BUILD_GOALS),$(MAKECMDGOALS)),)

# ---- Files ------------------------------------------------------------------------------
# Make's bookkeeping (analysis.infra.specdeps): content stamps of samples and derived columns, spec deps.
MAKE_STATE := .make
# The user workspace (myspecs/, never read by the paper build) and the codebook of derived columns.
MY_SPECS := $(sort $(wildcard myspecs/*.yaml))
MY_RESULTS := $(patsubst myspecs/%.yaml,myspecs/results/%/overall.csv,$(MY_SPECS))
DERIVED_CODEBOOK := data_clean/codebook_derived.csv
RAW_STAMP := data_raw/.verified
PANEL := data_clean/county_panel.parquet
PANEL_OUT := $(PANEL) data_clean/agreements_287g.parquet data_clean/sc_activation.parquet \
             data_clean/sample_log.csv data_clean/codebook.csv data_clean/sample_state_losses.csv
WAVE_OUT := data_clean/wave_287g_timing.parquet data_clean/wave_287g_agreements.parquet \
            data_clean/wave_287g_lists.csv data_clean/wave_287g_log.csv data_clean/wave_287g_codebook.csv
SANITY := data_clean/sanity_checks.csv
# The panel reads the rules of the 'main' sample only: its content stamp (analysis.infra.specdeps), not
# analysis/samples.yaml, so adding or changing another sample never rebuilds the panel.
PANEL_DATA := $(MAKE_STATE)/samples/main.yaml analysis/codebook.yaml $(filter-out analysis/readers/wave_287g_%,$(wildcard analysis/readers/*.csv))
SPECS := $(sort $(wildcard analysis/specs/*.yaml))
SPEC_RESULTS := $(patsubst analysis/specs/%.yaml,results/%/overall.csv,$(SPECS))
# Robustness grids and randomization inference (one grid file per program), replication table.
GRIDS := $(sort $(wildcard analysis/grids/*.yaml))
GRID_RESULTS := $(patsubst analysis/grids/%.yaml,results/grid_%/estimates.csv,$(GRIDS))
RI_RESULTS := $(patsubst analysis/grids/%.yaml,results/ri_%/ri.csv,$(GRIDS))
REPLICATION := results/replication.csv
ROLLOUT := results/rollout/agreements_per_month.csv results/rollout/sc_quarters.csv \
           results/rollout/seed_numbers.csv results/rollout/details.json
# Credibility loops of the headline specs (#12 §3; rule in its own block below).
CREDIBILITY := results/credibility/estimates.csv results/credibility/loso.csv results/credibility/loco.csv \
               results/credibility/sdid.csv
# Synthetic control for the North Carolina 287(g) counties (#12 §3; rule below the credibility rule).
SYNTH_NC := results/credibility/synth_nc.csv results/credibility/synth_nc_gaps.csv
# Everything `make estimates` builds (exhibits, notebooks and tests depend on all of it).
RESULTS := $(SPEC_RESULTS) $(GRID_RESULTS) $(RI_RESULTS) $(REPLICATION) $(ROLLOUT) $(CREDIBILITY) $(SYNTH_NC)
EXHIBITS := paper/generated/numbers.tex
PAPER_SRC := paper/paper.tex paper/references.bib $(wildcard paper/sections/*.tex)
NOTEBOOK_SRC := $(sort $(wildcard notebooks/*.py))
NOTEBOOKS := $(patsubst notebooks/%.py,notebooks/_build/%.html,$(NOTEBOOK_SRC))

# ---- Checks made on every building run ---------------------------------------------------
# Raw files: once data_raw/ has been verified, every run checks it again (sha256 cached by size,
# mtime, ctime and inode: milliseconds when nothing changed) and stops on any difference.
ifneq ($(BUILDING),)
ifneq ($(wildcard $(RAW_STAMP)),)
ifneq ($(shell $(SYSTEM_PYTHON) -S -m analysis.infra.rawcheck && echo ok),ok)
$(error raw files differ from data_raw/manifest.csv (listed above); fix them, then rerun make)
endif
endif
# Which modules each step imports, which notebooks import what, which specs the replication reads.
include .make/deps.mk
endif

.make/deps.mk: analysis/infra/makedeps.py $(shell find analysis notebooks -name '*.py' -not -path '*/_build/*') \
               analysis/published.yaml | $(ENV)
	@mkdir -p $(@D)
	$(PY) -m analysis.infra.makedeps > $@.tmp && mv $@.tmp $@

REPLICATION_IN := $(foreach s,$(REPLICATION_SPECS),results/$(s)/overall.csv)

# ---- Targets ----------------------------------------------------------------------------
.PHONY: help all env data panel rollout estimates exhibits paper notebooks test test-unit test-fast lint bench clean

help:  ## List the targets
	@echo "Usage: make <target>    (start with: make all, then make test)"
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/^([a-z-]+):.*## /  \1\t/' | expand -t 18

all: logs/run_record.json  ## Everything: environment, data, panel, estimates, exhibits, notebooks, paper

env: $(ENV)  ## Create .venv from requirements.txt (skipped if up to date or a matching env is active)

data: | $(ENV)  ## Copy or download the raw files into data_raw/ and verify their sha256
	$(PY) -m analysis.acquire

panel: $(PANEL)  ## Build the county x year panel, treatment timing, sample log and codebook

rollout: $(ROLLOUT)  ## Count 287(g) agreements per month and SC activations; the seed article's numbers

estimates: $(RESULTS)  ## Run every spec, grid and RI; the replication table

exhibits: $(EXHIBITS)  ## Write figures, tables and numbers.tex into paper/generated/

paper: paper/paper.pdf  ## Compile paper/paper.pdf (in a temporary folder; a kill leaves the old PDF)

notebooks: $(NOTEBOOKS)  ## Execute the notebooks into notebooks/_build/ (ipynb and HTML)

# Test tiers (tests/conftest.py gives every test one): unit = hand-built data only, runs on a clone with no
# data; data = reads the built panel, results, exhibits or paper; e2e = temporary clones, rebuilds, make runs.
# The unit and data tiers run one pytest-xdist worker per core (a test module stays on one worker, so its
# fixtures are built once); the e2e tier runs alone after them: its rebuilds use every core themselves.
XDIST := -n auto --dist loadfile
test: logs/run_record.json | $(ENV)  ## Run every test tier (unit, data, e2e) on the built data, results, exhibits and paper
	$(PY) -m pytest -m "unit or data" $(XDIST)
	$(PY) -m pytest -m e2e

test-unit: | $(ENV)  ## The unit tier only: hand-built data, runs on a clone with no data (no build needed)
	$(PY) -m pytest -m unit $(XDIST)

test-fast: logs/run_record.json | $(ENV)  ## The unit and data tiers: no temporary clones, no rebuilds
	$(PY) -m pytest -m "unit or data" $(XDIST)

lint: | $(ENV)  ## ruff check and ruff format --check (rules in pyproject.toml)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

bench: $(PANEL) | $(ENV)  ## Benchmark the build and the estimators (bench/benchmark.md, bench/scaling.png)
	$(PY) -m analysis.infra.bench $(if $(BENCH_SIZES),--sizes $(BENCH_SIZES))

clean:  ## Remove generated files (never raw data)
	find data_clean -mindepth 1 ! -name README.md -delete
	rm -rf results logs notebooks/_build paper/generated bench .make .lab
	cd paper && rm -rf paper.pdf *.aux *.log *.out *.bbl *.blg *.fls *.fdb_latexmk *.toc *.run.xml *.bcf .build.*

# ---- Rules ------------------------------------------------------------------------------
# Each step runs through analysis.infra.runlog: skipped when its inputs and outputs have the content of
# its last run; outputs stamped done on success; wall time logged.
.venv/.installed: requirements.txt
	@test -n "$(SYSTEM_PYTHON)" || { echo "No python3.11 on PATH: install Python 3.11 first." >&2; exit 1; }
	$(SYSTEM_PYTHON) -m venv .venv
	.venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(RAW_STAMP): data_raw/manifest.csv $(DEPS_acquire) | $(ENV)
	@$(STEP) data --out $@ --in $^ -- $(PY) -m analysis.acquire

$(PANEL_OUT) &: $(RAW_STAMP) $(PANEL_DATA) $(DEPS_panel) | $(ENV)
	@$(STEP) panel --out $(PANEL_OUT) --in $^ -- $(PY) -m analysis.panel

$(ROLLOUT) &: $(RAW_STAMP) data_clean/sc_activation.parquet $(DEPS_rollout) | $(ENV)
	@$(STEP) rollout --out $(ROLLOUT) --in $^ -- $(PY) -m analysis.rollout

# The specs run in two batches, one Python process each (analysis.infra.batch), so that pandas, SciPy and
# the estimation libraries are imported once per batch rather than once per spec (about 4 s each): the
# national 287(g) specs, and the others; one per core under make -j2. Inside a batch every spec is checked,
# run, recorded and logged as a step of its own (estimate:<stem>): changing one spec reruns that spec only.
# `make results/<stem>/overall.csv` runs the batch that holds it.
SPECS_287G := $(filter analysis/specs/us_287g_%,$(SPECS))
SPECS_OTHER := $(filter-out $(SPECS_287G),$(SPECS))
spec_results = $(patsubst analysis/specs/%.yaml,results/%/overall.csv,$(1))
$(call spec_results,$(SPECS_287G)) &: $(SPECS_287G) $(PANEL) $(DEPS_estimate) | $(ENV)
	@$(PY) -m analysis.infra.batch $(SPECS_287G)

$(call spec_results,$(SPECS_OTHER)) &: $(SPECS_OTHER) $(PANEL) $(DEPS_estimate) | $(ENV)
	@$(PY) -m analysis.infra.batch $(SPECS_OTHER)

results/grid_%/estimates.csv: analysis/grids/%.yaml $(PANEL) $(DEPS_grid) | $(ENV)
	@$(STEP) grid:$* --out $@ --in $^ -- $(PY) -m analysis.grid $<

results/ri_%/ri.csv results/ri_%/permutations.csv &: analysis/grids/%.yaml $(PANEL) $(DEPS_ri) | $(ENV)
	@$(STEP) ri:$* --out results/ri_$*/ri.csv results/ri_$*/permutations.csv --in $^ -- $(PY) -m analysis.ri $<

$(REPLICATION): analysis/published.yaml $(REPLICATION_IN) $(DEPS_replication) | $(ENV)
	@$(STEP) replication --out $@ --in $^ $(dir $(REPLICATION_IN)) -- $(PY) -m analysis.replication

# The exhibits read the panel, every results folder, the specs, grids and the manifest.
$(EXHIBITS) &: $(PANEL_OUT) $(WAVE_OUT) $(SANITY) $(RAW_STAMP) $(RESULTS) $(SPECS) $(GRIDS) analysis/published.yaml data_raw/manifest.csv \
               $(DEPS_exhibits) | $(ENV)
	@$(STEP) exhibits --out $@ paper/generated --in $^ results data_clean -- $(PY) -m analysis.exhibits

paper/paper.pdf: $(PAPER_SRC) $(EXHIBITS) $(DEPS_paper) | $(ENV)
	@command -v latexmk >/dev/null || $(MAKE) --no-print-directory tex
	@$(STEP) paper --out $@ --in $^ paper/generated -- $(PY) -m analysis.paper

# Each notebook also depends on the modules it imports (.make/deps.mk).
notebooks/_build/%.html: notebooks/%.py $(PANEL_OUT) $(RESULTS) $(DEPS_notebooks) | $(ENV)
	@$(STEP) notebook:$* --out $@ notebooks/_build/$*.ipynb --in $^ results data_clean -- \
	  $(PY) -m analysis.infra.notebooks $<

logs/run_record.json: paper/paper.pdf $(NOTEBOOKS) $(DERIVED_CODEBOOK) | $(ENV)
	$(PY) -m analysis.infra.runlog record

# ---- The 2025-2026 287(g) wave: county timing from ICE's monthly lists (issue #17) --------------
# One row per county (first month of a local agreement, by agency level and by model), one row per
# agreement, and the log of every rule (analysis/readers/wave_287g_rules.yaml) with its effect.
WAVE_DATA := analysis/codebook_wave_287g.yaml $(wildcard analysis/readers/wave_287g_*)
.PHONY: wave
wave: $(WAVE_OUT)  ## Build the county timing of the 2025-2026 287(g) wave, its log and codebook

$(WAVE_OUT) &: $(RAW_STAMP) $(WAVE_DATA) analysis/readers/fips_recodes.csv $(DEPS_wave) | $(ENV)
	@$(STEP) wave --out $(WAVE_OUT) --in $^ -- $(PY) -m analysis.wave_timing

# ---- The 2025-2026 wave: power by simulation and the pre-analysis plan (issue #17) ----------------
# Placebo adoptions copying the wave's structure on the main sample, known effects injected: power and
# minimum detectable effects (analysis/wave_power.py; default 30 replications, about 45 s on one core).
# More: `python -m analysis.wave_power --reps 500`, then `make all` (the paper picks the results up).
# The plan (analysis/plans/wave_2025.yaml) runs with `make wave-estimate`, which stops with a message
# naming the crime data it needs until they exist in data_raw/.
WAVE_POWER := results/wave_power/mde.csv results/wave_power/power.csv results/wave_power/replications.csv \
              results/wave_power/meta.json
.PHONY: wave-power wave-estimate
wave-power: $(WAVE_POWER)  ## Power of the 2025 wave design by simulation (placebo adoptions on the main sample)

$(WAVE_POWER) &: $(PANEL) $(WAVE_OUT) $(MAKE_STATE)/samples/main.yaml $(DEPS_wave_power) | $(ENV)
	@$(STEP) wave-power --out $(WAVE_POWER) --in $^ -- $(PY) -m analysis.wave_power \
	  $(if $(WAVE_POWER_REPS),--reps $(WAVE_POWER_REPS))

wave-estimate: $(WAVE_OUT) | $(ENV)  ## Run the 2025 wave plan (needs crime data for 2015-2025 in data_raw/)
	$(PY) -m analysis.wave_plan

$(EXHIBITS): $(WAVE_POWER) analysis/plans/wave_2025.yaml
paper/paper.pdf: paper/sections/wave_plan.tex
.PRECIOUS: $(WAVE_POWER)

# ---- The multiverse and the joint test of its specification curve (issue #16) ---------------------
# analysis/multiverse/<program>.yaml lists the dimensions, their values and the exclusions (with reasons).
# `make all` runs each at its default size (static TWFE over samples, outcomes, scales and weights, 49
# null draws) into results/multiverse_<program>/, then draws the curves, the joint-test table and the
# \Mv... macros into paper/generated/ -- before the exhibits step, whose fingerprint covers that folder.
# `make multiverse-full` runs the full factorial with 500 null draws into results/multiverse_full_<program>/
# (hours of CPU: MV_ARGS="--scheduler local" for a Dask LocalCluster, "--scheduler tcp://HOST:8786" for a
# running cluster, "--jobs N" for N processes; an interrupted run resumes from its finished tasks).
MULTIVERSES := $(sort $(wildcard analysis/multiverse/*.yaml))
MULTIVERSE_RESULTS := $(patsubst analysis/multiverse/%.yaml,results/multiverse_%/estimates.csv,$(MULTIVERSES))
MULTIVERSE_EXHIBITS := paper/generated/multiverse_numbers.tex paper/generated/tables/multiverse_joint.tex \
                       $(patsubst analysis/multiverse/%.yaml,paper/generated/figures/multiverse_%.pdf,$(MULTIVERSES))
.PHONY: multiverse multiverse-full
multiverse: $(MULTIVERSE_EXHIBITS)  ## Run each program's default multiverse and draw its specification curve

multiverse-full: $(PANEL) | $(ENV)  ## The full factorial multiverse, 500 null draws (MV_ARGS="--scheduler local")
	$(PY) -m analysis.multiverse --size full $(MULTIVERSES) $(MV_ARGS)

results/multiverse_%/estimates.csv: analysis/multiverse/%.yaml $(PANEL) analysis/samples.yaml analysis/derived.yaml \
                                    $(DEPS_multiverse) | $(ENV)
	@$(STEP) multiverse:$* --out $@ $(addprefix results/multiverse_$*/,exclusions.csv joint.csv null_curves.csv) \
	  --in $^ -- $(PY) -m analysis.multiverse --no-progress $<

$(MULTIVERSE_EXHIBITS) &: $(MULTIVERSE_RESULTS) $(DEPS_multiverse_exhibits) | $(ENV)
	@$(STEP) multiverse_exhibits --out $(MULTIVERSE_EXHIBITS) --in $^ -- $(PY) -m analysis.exhibits.multiverse

$(EXHIBITS): $(MULTIVERSE_EXHIBITS)
paper/paper.pdf: paper/sections/multiverse.tex $(MULTIVERSE_EXHIBITS)
.PRECIOUS: results/multiverse_%/estimates.csv $(MULTIVERSE_EXHIBITS)

# ---- Data sanity checks (issues #12, #13) ----------------------------------------------------------
# Every county-year with zero index crimes, a > 5-fold jump or an implausible rate, and the main-sample
# rule that drops it; the step stops if the main sample keeps one unexplained.
$(SANITY): $(PANEL) analysis/samples.yaml $(DEPS_checks) | $(ENV)
	@$(STEP) checks --out $@ --in $^ -- $(PY) -m analysis.checks

# ---- Credibility designs that loop over the headline specs (issue #12 §3) --------------------------
# Placebo adoption dates, dropping the largest treated county, leave one state / cohort out, synthetic DiD
# by cohort (analysis.credibility).
$(CREDIBILITY) &: analysis/specs/us_287g_index.yaml analysis/specs/sc_index.yaml analysis/samples.yaml \
                  analysis/derived.yaml $(PANEL) $(DEPS_credibility) | $(ENV)
	@$(STEP) credibility --out $(CREDIBILITY) --in $^ -- $(PY) -m analysis.credibility

# Synthetic control county by county for the NC 287(g) designs (analysis.synth_nc.OUTCOME_SPECS), in-space placebos.
SYNTH_NC_SPECS := $(foreach s,nc_287g_index nc_287g_violent nc_287g_property,analysis/specs/$(s).yaml)
$(SYNTH_NC) &: $(SYNTH_NC_SPECS) analysis/samples.yaml analysis/derived.yaml $(PANEL) \
               $(DEPS_synth_nc) | $(ENV)
	@$(STEP) synth_nc --out $(SYNTH_NC) --in $^ -- $(PY) -m analysis.synth_nc

# Outputs are never deleted by make, even on Ctrl-C: they are complete or absent (atomic writes).
.PRECIOUS: $(RAW_STAMP) $(PANEL_OUT) $(ROLLOUT) $(WAVE_OUT) $(SANITY) $(SYNTH_NC) results/%/overall.csv results/grid_%/estimates.csv \
           results/ri_%/ri.csv results/ri_%/permutations.csv $(REPLICATION) $(EXHIBITS) paper/paper.pdf \
           notebooks/_build/%.html logs/run_record.json .make/deps.mk

.PHONY: tex
TEX_PACKAGES := latexmk texlive-latex-recommended texlive-latex-extra texlive-fonts-recommended lmodern
tex:  ## Install the Debian TeX packages the paper needs (when latexmk is missing)
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "latexmk not found: installing $(TEX_PACKAGES)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(TEX_PACKAGES) >/dev/null; \
	else \
	  echo "latexmk not found. Install TeX, then rerun make:" >&2; \
	  echo "  sudo apt-get install $(TEX_PACKAGES)" >&2; exit 1; \
	fi

# ---- Specs' own dependencies, the user workspace, JupyterLab ---------------------------------
# analysis.infra.specdeps writes $(MAKE_STATE)/specs.mk: each spec's and grid's results depend on content
# stamps of the named samples and derived columns it uses ($(MAKE_STATE)/samples/*.yaml, derived/*.yaml,
# rewritten only when their rules change). Adding a sample or a derived column rebuilds nothing;
# changing one rebuilds only the specs that use it, never the panel (which uses the stamp of 'main').
# Your own specs live in myspecs/ (gitignored): `make mine` runs them into myspecs/results/; the paper
# build never reads them, so `make all` stays a no-op after `make mine`.
.PHONY: mine lab

mine: $(MY_RESULTS) $(DERIVED_CODEBOOK)  ## Run your own specs (myspecs/*.yaml) into myspecs/results/ (never the paper)
	@echo "myspecs: $(words $(MY_SPECS)) spec(s) up to date in myspecs/results/"

lab: $(ENV)  ## Open JupyterLab at the repository root with this environment's kernel (LAB_ARGS="--no-browser")
	$(PY) -m analysis.infra.lab $(LAB_ARGS)

myspecs/results/%/overall.csv: myspecs/%.yaml $(PANEL) $(DEPS_estimate) | $(ENV)
	$(PY) -m analysis.estimate $<

$(DERIVED_CODEBOOK): analysis/derived.yaml $(DEPS_derived) | $(ENV)
	@$(STEP) derived --out $@ --in $^ -- $(PY) -m analysis.derived

# Notebook 01 lists every named sample; 05 runs specs on 'main' and lists the derived columns.
notebooks/_build/01_data_construction.html: analysis/samples.yaml
notebooks/_build/05_adapt_a_model.html: $(MAKE_STATE)/samples/main.yaml analysis/derived.yaml

$(MAKE_STATE)/specs.mk: $(SPECS) $(MY_SPECS) $(GRIDS) analysis/samples.yaml analysis/derived.yaml \
                        analysis/infra/specdeps.py | $(ENV)
	@$(PY) -m analysis.infra.specdeps
$(MAKE_STATE)/samples/%.yaml $(MAKE_STATE)/derived/%.yaml: | $(MAKE_STATE)/specs.mk ;
ifneq ($(BUILDING),)
include $(MAKE_STATE)/specs.mk
endif
.PRECIOUS: myspecs/results/%/overall.csv $(DERIVED_CODEBOOK) $(MAKE_STATE)/specs.mk

# ---- Inference at the level of assignment (issue #12 §4) ------------------------------------------
# Romano-Wolf stepdown p-values over each program's three outcomes (TWFE, joint wild cluster bootstrap
# by county and by state), equivalence tests (TOST) for North Carolina, and HonestDiD targeted at the
# primary estimand (the Callaway-Sant'Anna simple ATT): analysis/inference.yaml.
# The specs listed here are those the file names (tests/test_inference.py checks that they agree).
INFERENCE_SPECS := us_287g_index us_287g_violent us_287g_property sc_index sc_violent sc_property \
                   nc_287g_index nc_287g_violent nc_287g_property
INFERENCE_OUT := results/inference/romano_wolf.csv results/inference/tost.csv results/inference/honest_simple.csv
.PHONY: inference
inference: $(INFERENCE_OUT)  ## Romano-Wolf p-values over outcomes and NC equivalence tests

$(INFERENCE_OUT) &: analysis/inference.yaml $(PANEL) $(foreach s,$(INFERENCE_SPECS),results/$(s)/overall.csv) \
                    $(DEPS_inference) | $(ENV)
	@$(STEP) inference --out $(INFERENCE_OUT) --in $^ -- $(PY) -m analysis.inference
.PRECIOUS: $(INFERENCE_OUT)
# The exhibits quote them; the paper inputs its hand-written sections (paper/sections/).
$(EXHIBITS): $(INFERENCE_OUT)
# Notebooks fingerprint all of results/: every step that writes there must finish before they run.
$(NOTEBOOKS): $(INFERENCE_OUT) $(WAVE_POWER) $(MULTIVERSE_RESULTS)
paper/paper.pdf: $(wildcard paper/sections/*.tex)
