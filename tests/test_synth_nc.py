"""The written synthetic control of the North Carolina counties (results/credibility/synth_nc.csv of
analysis.synth_nc) and its exhibit: one row per treated county of the design, valid placebo
p-values, the average of the county ATTs, the gap paths, a refit giving the same row, the table, figure
and macros."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from analysis import config, synth_nc
from analysis.estimate import FLOAT, prepare
from analysis.estimators import synth
from analysis.exhibits import synth_nc as exhibit
from analysis.spec import load_spec, outcome_column

TIER = "data"  # the default tier of these tests (tests/conftest.py)


@pytest.fixture(scope="module")
def design():
    spec = load_spec(config.SPECS / f"{synth_nc.SPEC}.yaml")
    df, _, _ = prepare(spec, pd.read_parquet(config.PANEL))
    return spec, df


@pytest.fixture(scope="module")
def every_outcome():
    return pd.read_csv(synth_nc.OUT, dtype={"fips": str})


@pytest.fixture(scope="module")
def written(every_outcome):
    """The rows of the headline outcome (index crimes, spec synth_nc.SPEC)."""
    return every_outcome[every_outcome["outcome"] == "index"]


def test_every_outcome_has_the_same_counties_and_its_own_average(every_outcome):
    stems = [load_spec(config.SPECS / f"{s}.yaml") for s in synth_nc.OUTCOME_SPECS]
    assert list(every_outcome["outcome"].unique()) == [s["outcome"] for s in stems] == ["index", "violent", "property"]
    counties = {o: sorted(part["fips"]) for o, part in every_outcome.groupby("outcome")}
    assert len({tuple(c) for c in counties.values()}) == 1 and (every_outcome["fips"] == "all").sum() == 3
    for _, part in every_outcome.groupby("outcome"):
        own = part[part["fips"] != "all"]
        assert part.loc[part["fips"] == "all", "att"].iloc[0] == pytest.approx(own["att"].mean(), rel=1e-9)
    gaps = pd.read_csv(synth_nc.GAPS, dtype={"design": str, "fips": str})
    assert list(gaps["outcome"].unique()) == ["index", "violent", "property"]


def test_one_row_per_treated_county_and_the_average(design, written):
    spec, df = design
    assert list(written.columns) == synth_nc.COLUMNS
    g = df.groupby("fips")[spec["treatment"]].first()
    treated = g[(g > 0) & (g <= config.LAST_YEAR) & (g - config.FIRST_YEAR >= synth.MIN_PRE)]
    counties = written[written["fips"] != "all"]
    assert sorted(counties["fips"]) == sorted(treated.index) and (written["fips"] == "all").sum() == 1
    assert (counties.set_index("fips")["first_year"] == treated).all()
    assert (counties["n_donors"] == (g == 0).sum()).all() and (counties["n_placebos"] == (g == 0).sum()).all()
    assert (counties["n_pre"] + counties["n_post"] == df["year"].nunique()).all()


def test_p_values_are_placebo_ranks(written):
    p = written["p_value"]
    assert ((p > 0) & (p <= 1)).all()
    counties = written[written["fips"] != "all"]
    ranks = counties["p_value"] * (counties["n_placebos"] + 1)
    assert np.allclose(ranks, ranks.round(), atol=1e-6)  # (1 + #placebos at least as extreme) / (1 + #placebos)


def test_the_average_is_the_mean_of_the_county_atts(written):
    counties, agg = written[written["fips"] != "all"], written[written["fips"] == "all"].iloc[0]
    assert agg["att"] == pytest.approx(counties["att"].mean(), rel=1e-9)
    assert agg["n_placebos"] == synth.DRAWS


def test_gap_paths_of_each_county_and_its_placebos(written):
    gaps = pd.read_csv(synth_nc.GAPS, dtype={"design": str, "fips": str})
    gaps = gaps[gaps["outcome"] == "index"]
    counties = written[written["fips"] != "all"].set_index("fips")
    assert set(gaps["design"]) == set(counties.index)
    for design, part in gaps.groupby("design"):
        row = counties.loc[design]
        assert part["fips"].nunique() == row["n_placebos"] + 1 and part.groupby("fips").size().nunique() == 1
        own = part[part["treated"]]
        assert set(own["fips"]) == {design}
        assert own.loc[own["year"] >= row["first_year"], "gap"].mean() == pytest.approx(row["att"], rel=1e-8)
        pre = own.loc[own["year"] < row["first_year"], "gap"]
        assert np.sqrt((pre**2).mean()) == pytest.approx(row["pre_rmspe"], rel=1e-6, abs=1e-9)


def test_a_refit_gives_the_written_row(design, written):
    spec, df = design
    row = written[written["fips"] != "all"].iloc[0]
    g = df.groupby("fips")[spec["treatment"]].first()
    fit = synth.fit_county(
        df, outcome_column(spec), "fips", "year", row["fips"], int(row["first_year"]), sorted(g.index[g == 0])
    )
    for col in ("pre_rmspe", "att", "rmspe_ratio", "p_value", "placebos_exact"):
        assert FLOAT % fit["row"][col] == FLOAT % row[col], col


@pytest.mark.unit
def test_makefile_lists_the_specs_of_synth_nc():
    text = (config.ROOT / "Makefile").read_text()
    listed = re.search(r"SYNTH_NC_SPECS := \$\(foreach s,([^,]*),", text).group(1).split()
    assert tuple(listed) == synth_nc.OUTCOME_SPECS


def test_the_outcome_table_and_macros_show_each_outcome(every_outcome):
    body = (config.TABLES / "synth_nc_outcomes.tex").read_text()
    numbers = config.NUMBERS.read_text()
    p_below = []
    outcomes = [load_spec(config.SPECS / f"{stem}.yaml")["outcome"] for stem in synth_nc.OUTCOME_SPECS]
    assert exhibit.outcomes(every_outcome) == outcomes
    for outcome in outcomes:
        label = exhibit.label(outcome)
        part = every_outcome[every_outcome["outcome"] == outcome]
        agg = part[part["fips"] == "all"].iloc[0]
        assert f"{label} & {(part['fips'] != 'all').sum()} &" in body
        assert exhibit.num(agg["att"], 1) in body
        if outcome != "index":
            macro = f"\\newcommand{{\\NcSynth{outcome.capitalize()}Att}}{{{exhibit.num(agg['att'], 1)}}}"
            assert macro in numbers
        p_below += [agg["p_value"] < exhibit.ALPHA]
    verdict = "none of the three averages" in numbers
    assert verdict == (not any(p_below))


def test_the_table_and_macros_show_the_results(written):
    assert (config.FIGURES / "synth_nc_gaps.pdf").is_file()
    body = (config.TABLES / "synth_nc.tex").read_text()
    counties = written[written["fips"] != "all"]
    for name in counties["county"]:
        assert exhibit.short(name) + " &" in body
    numbers = config.NUMBERS.read_text()
    agg = written[written["fips"] == "all"].iloc[0]
    assert f"\\newcommand{{\\NcSynthAtt}}{{{exhibit.num(agg['att'], 1)}}}" in numbers
    assert f"\\newcommand{{\\NcSynthBelowAlpha}}{{{(counties['p_value'] < exhibit.ALPHA).sum()}}}" in numbers
