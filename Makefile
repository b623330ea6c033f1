# Immigration enforcement and local crime: the whole pipeline, raw files to paper/paper.pdf.
# Each target lists its script and inputs, so a change reruns only what depends on it.
# `make` alone prints this help; `make all` builds everything; `make test` runs the tests.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:
MAKEFLAGS += --no-builtin-rules

# ---- Python environment ---------------------------------------------------------------
# An active virtualenv/conda environment is used when it matches requirements.txt exactly;
# otherwise make builds .venv from requirements.txt (once: the stamp records it).
SYSTEM_PYTHON := $(shell command -v python3.11 || command -v python3)
ACTIVE_PY := $(if $(VIRTUAL_ENV)$(CONDA_PREFIX),$(shell python -m analysis.envcheck >/dev/null 2>&1 && command -v python))
PY := $(or $(ACTIVE_PY),.venv/bin/python)
ENV := $(if $(ACTIVE_PY),,.venv/.installed)
STEP := $(PY) -m analysis.runlog step
# Reproducible PDF dates: the commit time, not the wall clock.
export SOURCE_DATE_EPOCH := $(shell git log -1 --format=%ct 2>/dev/null || echo 0)
export FORCE_SOURCE_DATE := 1
export PYTHONHASHSEED := 0
export MPLBACKEND := Agg

# ---- Files ------------------------------------------------------------------------------
# Make's bookkeeping (analysis.specdeps): content stamps of samples and derived columns, spec deps.
MAKE_STATE := .make
# The user workspace (myspecs/, never read by the paper build) and the codebook of derived columns.
MY_SPECS := $(sort $(wildcard myspecs/*.yaml))
MY_RESULTS := $(patsubst myspecs/%.yaml,myspecs/results/%/overall.csv,$(MY_SPECS))
DERIVED_CODEBOOK := data_clean/codebook_derived.csv
RAW_STAMP := data_raw/.verified
PANEL := data_clean/county_panel.parquet
PANEL_OUT := $(PANEL) data_clean/agreements_287g.parquet data_clean/sc_activation.parquet \
             data_clean/sample_log.csv data_clean/codebook.csv data_clean/sample_state_losses.csv
PANEL_SRC := analysis/panel.py analysis/sample.py analysis/yamlfile.py $(MAKE_STATE)/samples/main.yaml analysis/codebook.yaml \
             analysis/treatment.py $(wildcard analysis/readers/*.py analysis/readers/*.csv)
SPECS := $(sort $(wildcard analysis/specs/*.yaml))
SPEC_RESULTS := $(patsubst analysis/specs/%.yaml,results/%/overall.csv,$(SPECS))
EST_SRC := analysis/estimate.py analysis/spec.py analysis/sample.py analysis/yamlfile.py analysis/model.py \
           analysis/derived.py analysis/workspace.py analysis/suggest.py $(wildcard analysis/estimators/*.py)
# Robustness grids and randomization inference (one grid file per program), replication table.
GRIDS := $(sort $(wildcard analysis/grids/*.yaml))
GRID_RESULTS := $(patsubst analysis/grids/%.yaml,results/grid_%/estimates.csv,$(GRIDS))
RI_RESULTS := $(patsubst analysis/grids/%.yaml,results/ri_%/ri.csv,$(GRIDS))
REPLICATION := results/replication.csv
REPLICATION_IN := $(foreach s,nc_287g_violent nc_287g_property nc_287g_index sc_index,results/$(s)/overall.csv)
# Everything `make estimates` builds (exhibits, notebooks and tests depend on all of it).
RESULTS := $(SPEC_RESULTS) $(GRID_RESULTS) $(RI_RESULTS) $(REPLICATION)
EXHIBITS := paper/generated/numbers.tex
EXHIBIT_SRC := $(wildcard analysis/exhibits/*.py)
PAPER_SRC := paper/paper.tex paper/references.bib
NOTEBOOK_SRC := $(sort $(wildcard notebooks/*.py))
NOTEBOOKS := $(patsubst notebooks/%.py,notebooks/_build/%.html,$(NOTEBOOK_SRC))

# ---- Targets ----------------------------------------------------------------------------
.PHONY: help all env data panel estimates exhibits paper notebooks test bench clean

help:  ## List the targets
	@echo "Usage: make <target>    (start with: make all, then make test)"
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/^([a-z]+):.*## /  \1\t/' | expand -t 14

all: logs/run_record.json $(DERIVED_CODEBOOK)  ## Everything: environment, data, panel, estimates, exhibits, notebooks, paper

env: $(ENV)  ## Create .venv from requirements.txt (skipped if up to date or a matching env is active)

data: $(RAW_STAMP)  ## Copy or download the raw files into data_raw/ and verify their sha256

panel: $(PANEL)  ## Build the county x year panel, treatment timing, sample log and codebook

estimates: $(RESULTS)  ## Run every spec, grid and RI; the replication table

exhibits: $(EXHIBITS)  ## Write figures, tables and numbers.tex into paper/generated/

paper: paper/paper.pdf  ## Compile paper/paper.pdf

notebooks: $(NOTEBOOKS)  ## Execute the notebooks into notebooks/_build/ (ipynb and HTML)

test: $(PANEL) $(RESULTS)  ## Run the test suite (on the real data)
	$(PY) -m pytest

bench: $(PANEL)  ## Benchmark the build and the estimators (writes bench/benchmark.md)
	$(PY) -m analysis.bench

clean:  ## Remove generated files (never raw data)
	find data_clean -mindepth 1 ! -name README.md -delete
	rm -rf results logs notebooks/_build paper/generated bench $(MAKE_STATE)
	cd paper && rm -f paper.pdf *.aux *.log *.out *.bbl *.blg *.fls *.fdb_latexmk *.toc *.run.xml *.bcf

# ---- Rules ------------------------------------------------------------------------------
.venv/.installed: requirements.txt
	@test -n "$(SYSTEM_PYTHON)" || { echo "No python3.11 on PATH: install Python 3.11 first." >&2; exit 1; }
	$(SYSTEM_PYTHON) -m venv .venv
	.venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(RAW_STAMP): data_raw/manifest.csv analysis/acquire.py | $(ENV)
	$(STEP) data -- $(PY) -m analysis.acquire

$(PANEL_OUT) &: $(RAW_STAMP) $(PANEL_SRC) | $(ENV)
	$(STEP) panel -- $(PY) -m analysis.panel

results/%/overall.csv: analysis/specs/%.yaml $(PANEL) $(EST_SRC) | $(ENV)
	$(STEP) estimate:$* -- $(PY) -m analysis.estimate $<

results/grid_%/estimates.csv: analysis/grids/%.yaml analysis/grid.py $(PANEL) $(EST_SRC) | $(ENV)
	$(STEP) grid:$* -- $(PY) -m analysis.grid $<

results/ri_%/ri.csv results/ri_%/permutations.csv: analysis/grids/%.yaml analysis/ri.py analysis/grid.py $(PANEL) $(EST_SRC) | $(ENV)
	$(STEP) ri:$* -- $(PY) -m analysis.ri $<

$(REPLICATION): analysis/replication.py analysis/yamlfile.py analysis/published.yaml $(REPLICATION_IN) | $(ENV)
	$(STEP) replication -- $(PY) -m analysis.replication

$(EXHIBITS) &: $(PANEL_OUT) $(RESULTS) $(EXHIBIT_SRC) data_raw/manifest.csv | $(ENV)
	$(STEP) exhibits -- $(PY) -m analysis.exhibits

paper/paper.pdf: $(PAPER_SRC) $(EXHIBITS) | $(ENV)
	@command -v latexmk >/dev/null || $(MAKE) --no-print-directory tex
	$(STEP) paper -- latexmk -pdf -interaction=nonstopmode -halt-on-error -quiet -cd paper/paper.tex

notebooks/_build/%.html: notebooks/%.py $(PANEL_OUT) $(RESULTS) $(wildcard analysis/*.py) | $(ENV)
	$(STEP) notebook:$* -- $(PY) -m analysis.notebooks $<

logs/run_record.json: paper/paper.pdf $(NOTEBOOKS) | $(ENV)
	$(PY) -m analysis.runlog record

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
# analysis.specdeps writes $(MAKE_STATE)/specs.mk: each spec's and grid's results depend on content
# stamps of the named samples and derived columns it uses ($(MAKE_STATE)/samples/*.yaml, derived/*.yaml,
# rewritten only when their rules change). Adding a sample or a derived column rebuilds nothing;
# changing one rebuilds only the specs that use it, never the panel (which uses the stamp of 'main').
# Your own specs live in myspecs/ (gitignored): `make mine` runs them into myspecs/results/; the paper
# build never reads them, so `make all` stays a no-op after `make mine`.
.PHONY: mine lab

mine: $(MY_RESULTS) $(DERIVED_CODEBOOK)  ## Run your own specs (myspecs/*.yaml) into myspecs/results/ (never the paper)
	@echo "myspecs: $(words $(MY_SPECS)) spec(s) up to date in myspecs/results/"

lab: $(ENV)  ## Open JupyterLab at the repository root with this environment's kernel (LAB_ARGS="--no-browser")
	$(PY) -m analysis.lab $(LAB_ARGS)

myspecs/results/%/overall.csv: myspecs/%.yaml $(PANEL) $(EST_SRC) | $(ENV)
	$(PY) -m analysis.estimate $<

$(DERIVED_CODEBOOK): analysis/derived.yaml analysis/derived.py $(PANEL) | $(ENV)
	$(PY) -m analysis.derived

# Notebook 01 lists every named sample; 05 runs specs on 'main' and lists the derived columns.
notebooks/_build/01_data_construction.html: analysis/samples.yaml
notebooks/_build/05_adapt_a_model.html: $(MAKE_STATE)/samples/main.yaml analysis/derived.yaml

$(MAKE_STATE)/specs.mk: $(SPECS) $(MY_SPECS) $(GRIDS) analysis/samples.yaml analysis/derived.yaml \
                        analysis/specdeps.py | $(ENV)
	@$(PY) -m analysis.specdeps
$(MAKE_STATE)/samples/%.yaml $(MAKE_STATE)/derived/%.yaml: | $(MAKE_STATE)/specs.mk ;
ifneq ($(filter-out help clean env tex lab,$(or $(MAKECMDGOALS),help)),)
-include $(MAKE_STATE)/specs.mk
endif
