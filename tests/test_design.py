"""No treated county among the controls: the control-group rule on hand-built counties, on every committed
specification (real panel), its loud stops, and the estimators' last-cohort rule when every county is treated."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import config
from analysis.design import clean_controls, contaminated, design_sample, first_in_window
from analysis.estimators import imputation, sunab
from analysis.estimators.simulate import simulate_panel
from analysis.infra.errors import InputError
from analysis.spec import load_spec, validate_spec

TIER = "unit"  # the default tier of these tests (tests/conftest.py)

# fips -> (g287_county, g287_any): the design's own timing and the broader definition
COUNTIES = {
    "01001": (2008, 2008),  # treated, clean
    "01003": (0, 2007),  # municipal agreement only: not a clean control -> dropped
    "01005": (2009, 2006),  # another agreement three years before its own: treated pre-periods -> dropped
    "01007": (0, 2016),  # another agreement after the window: untreated throughout -> kept
    "01009": (0, 0),  # never -> kept
    "01011": (2016, 2010),
}  # own after the window, other inside it -> dropped


def hand_panel() -> pd.DataFrame:
    rows = [
        dict(fips=f, year=y, g287_county=g, g287_any=a)
        for f, (g, a) in COUNTIES.items()
        for y in range(config.FIRST_YEAR, config.LAST_YEAR + 1)
    ]
    return pd.DataFrame(rows)


def test_first_in_window():
    got = first_in_window(pd.Series([0, 2005, 2013, None]), 2012)
    assert got.tolist() == [np.inf, 2005, np.inf, np.inf]


def test_clean_controls_on_hand_built_counties():
    df = hand_panel()
    spec = {"name": "x", "treatment": "g287_county", "clean_controls": ["g287_any"]}
    out, log = clean_controls(df, spec)
    assert set(COUNTIES) - set(out["fips"]) == {"01003", "01005", "01011"}
    row = log.iloc[0]
    assert (row["stage"], row["rule"], row["dropped_units"], row["dropped_rows"]) == (
        "controls",
        "clean_controls",
        3,
        39,
    )
    assert row["rows_before"] - row["dropped_rows"] == row["rows_after"] == len(out)
    out, log = clean_controls(df, {**spec, "clean_controls": []})
    assert len(out) == len(df) and log["rule"].tolist() == ["clean_controls_none"]


def test_the_window_is_the_sample_years():
    """A county whose other agreement falls after the sample's last year is a clean control."""
    df = hand_panel()
    df = df[df["year"] <= 2006]
    assert not contaminated(df, "g287_county", ["g287_any"])[df["fips"] == "01003"].any()  # 2007 is after 2006


@pytest.fixture(scope="module")
def panel():
    if not config.PANEL.exists():
        pytest.skip("county panel not built (make panel)")
    return pd.read_parquet(config.PANEL)


# Specs that keep the old coding on purpose, to show what the control-group rule changed.
OLD_CODING = {
    "us_287g_index_municipal_controls",
    "us_287g_index_covind90",
    "us_287g_placebo_ag_off_covind90",
    "us_287g_placebo_cov_ratio_covind90",
    "us_287g_placebo_covind_covind90",
}


def test_no_treated_county_among_the_controls_of_any_committed_287g_spec(panel):
    """For every national 287(g) spec except OLD_CODING: no county of its estimation sample is treated under
    the baseline definition (any local agreement, g287_any) before its own treatment, or without one."""
    last = panel["year"].max()
    for path in sorted(config.SPECS.glob("*.yaml")):
        spec = validate_spec(load_spec(path), panel.columns)
        if spec["program"] != "287g":
            continue
        if spec["name"] in OLD_CODING:
            assert spec["clean_controls"] == [], spec["name"]
            continue
        assert "g287_any" in spec["clean_controls"] or spec["treatment"] == "g287_any", spec["name"]
        df, log = design_sample(panel, spec)
        own = first_in_window(df[spec["treatment"]], last)
        other = first_in_window(df["g287_any"], last)
        assert not (other < own).any(), spec["name"]
        controls = df[own == np.inf]
        assert (first_in_window(controls["g287_any"], last) == np.inf).all(), spec["name"]
        assert (log["rows_before"] - log["dropped_rows"] == log["rows_after"]).all()
        assert log["rows_after"].iloc[-1] == len(df)


def test_spec_results_sample_logs_reconcile(panel):
    """Each results folder's sample log chains rule to rule and ends at the rows the TWFE used, less the
    rows TWFE itself reports dropping (dropped.csv: e.g. a control missing for some counties, or a county
    alone in its state under state-by-year effects)."""
    for path in sorted(config.SPECS.glob("*.yaml")):
        folder = config.RESULTS / path.stem
        if not (folder / "sample_log.csv").exists():
            continue
        log = pd.read_csv(folder / "sample_log.csv")
        assert (log["rows_before"] - log["dropped_rows"] == log["rows_after"]).all(), path.stem
        assert (log["rows_after"].iloc[:-1].to_numpy() == log["rows_before"].iloc[1:].to_numpy()).all(), path.stem
        assert log["rows_before"].iloc[0] == len(panel)
        overall = pd.read_csv(folder / "overall.csv").set_index("estimator")
        if "twfe" in overall.index and load_spec(path)["program"] == "287g":
            dropped = pd.read_csv(folder / "dropped.csv").query("estimator == 'twfe' and level == 'row'")["rows"].sum()
            assert overall.loc["twfe", "n_obs"] == log["rows_after"].iloc[-1] - dropped, path.stem


def test_clean_controls_must_name_timing_columns_of_the_program(tmp_path, panel):
    base = (config.SPECS / "us_287g_index_jem.yaml").read_text()
    for bad in ("[sc_year]", "[no_such_column]", "[population]"):
        path = tmp_path / "us_287g_index_jem.yaml"
        path.write_text(base.replace("clean_controls: [g287_any]", f"clean_controls: {bad}"))
        with pytest.raises(InputError, match="timing column") as err:
            validate_spec(load_spec(path), panel.columns)
        assert err.value.field == "clean_controls" and err.value.line is not None
    path.write_text(base.replace("clean_controls: [g287_any]", "clean_controls: g287_any"))
    with pytest.raises(InputError, match="should be a list"):
        load_spec(path)


def test_level_transform_uses_the_column_itself(tmp_path, panel):
    spec = load_spec(config.SPECS / "us_287g_placebo_covind.yaml")
    assert spec["transform"] == "level"
    from analysis.spec import outcome_column

    assert outcome_column(spec) == "covind"
    path = tmp_path / "us_287g_placebo_covind.yaml"
    path.write_text((config.SPECS / "us_287g_placebo_covind.yaml").read_text().replace("[twfe, cs]", "[ppml]"))
    with pytest.raises(InputError, match="ppml models counts"):
        validate_spec(load_spec(path), panel.columns)


# ---- estimators when every county is treated (the SC main sample has no 2013 cohort) -------------------


@pytest.fixture(scope="module")
def all_treated():
    sim = simulate_panel(300, seed=21, cohorts=(2004, 2007, 2010), treated_share=1.0)
    return sim[sim["g287_county"] > 0]


def test_last_cohort_becomes_the_control(all_treated):
    """With no untreated county, Sun-Abraham and imputation use the last cohort as controls and drop the
    periods from its adoption on: the same estimate as coding that cohort untreated on those periods by hand."""
    df = all_treated
    by_hand = df[df["year"] < 2010].assign(g287_county=lambda d: d["g287_county"].where(d["g287_county"] < 2010, 0))
    for fit in (sunab.sunab, imputation.imputation):
        got, ref = (
            fit(df, "log_rate_index", "fips", "year", "g287_county"),
            fit(by_hand, "log_rate_index", "fips", "year", "g287_county"),
        )
        assert got.summary["estimate"] == pytest.approx(ref.summary["estimate"], abs=1e-10)
        assert got.summary["n_obs"] == len(by_hand)
        reasons = set(got.dropped["reason"])
        assert {
            "last cohort: used as control for earlier periods",
            "no untreated units (all treated): period dropped",
        } <= reasons


def test_last_cohort_rule_recovers_the_effect(all_treated):
    """The true average effect on the cohorts and years the rule keeps, recovered within sampling error."""
    df = all_treated
    kept = df[(df["year"] < 2010) & (df["g287_county"] < 2010) & (df["year"] >= df["g287_county"])]
    fit = imputation.imputation(df, "log_rate_index", "fips", "year", "g287_county")
    assert fit.summary["estimate"] == pytest.approx(kept["true_effect"].mean(), abs=3 * fit.summary["se"])
