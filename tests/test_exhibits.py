"""Tests of the exhibit modules: loud failure on missing results, and the small pure helpers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import config
from analysis.exhibits import (
    diagnostics,
    event_studies,
    headline,
    inputs,
    main_tables,
    replication_exhibits,
    robustness,
    sample_tables,
    trends,
)

TIER = "unit"  # the default tier of these tests (tests/conftest.py)


@pytest.fixture
def no_results(tmp_path, monkeypatch):
    """config.RESULTS pointing at an empty folder."""
    monkeypatch.setattr(config, "RESULTS", tmp_path)
    return tmp_path


@pytest.mark.parametrize(
    "call",
    [
        lambda: headline.build(),
        lambda: event_studies.event_table("us_287g_index"),
        lambda: diagnostics.bacon_table("sc_index"),
        lambda: robustness.grid("287g"),
        lambda: robustness.ri("sc"),
        lambda: main_tables.program_table("287g", main_tables.COLUMNS_287G),
    ],
)
def test_missing_results_fail_loudly_naming_the_file(no_results, call):
    with pytest.raises(inputs.MissingResult, match=r"results/|\.csv"):
        call()


def test_missing_estimator_is_named(tmp_path, monkeypatch):
    monkeypatch.setattr(config, "RESULTS", tmp_path)
    (tmp_path / "sc_index").mkdir()
    pd.DataFrame({c: [1.0] for c in inputs.OVERALL_COLUMNS}).assign(estimator="twfe").to_csv(
        tmp_path / "sc_index" / "overall.csv", index=False
    )
    with pytest.raises(inputs.MissingResult, match="cs_dynamic"):
        inputs.estimate("sc_index", "cs_dynamic")


def test_missing_column_is_named(tmp_path):
    path = tmp_path / "x.csv"
    pd.DataFrame({"a": [1]}).to_csv(path, index=False)
    with pytest.raises(inputs.MissingResult, match="'b'"):
        inputs.read_csv(path, ["a", "b"])


def test_assign_cohort_bins_and_comparison():
    g = pd.Series([0, 2005, 2006, 2007, 2010, 2017])
    out = trends.assign_cohort(g, trends.COHORTS_287G)
    assert list(out) == [
        "No agreement by 2012",
        "Adopted 2005–06",
        "Adopted 2005–06",
        "Adopted 2007",
        "Adopted 2009–10",
        "No agreement by 2012",
    ]
    with pytest.raises(ValueError, match="2004"):
        trends.assign_cohort(pd.Series([2004]), trends.COHORTS_287G)


def test_curve_points_sorted_and_rate_scale_left_out():
    est = pd.DataFrame(
        {
            "variant": ["base", "rate", "x"],
            "estimator": ["twfe"] * 3,
            "estimate": [-0.1, -300.0, -0.2],
            "log_scale": [True, False, True],
        }
    )
    pts = robustness.curve_points(est)
    assert list(pts["variant"]) == ["x", "base"]


def test_breakdown_and_weight_shares():
    h = pd.DataFrame(
        {
            "method": ["relative_magnitude"] * 3,
            "M": [0, 0.5, 1],
            "ci_low": [-0.2, -0.3, -0.4],
            "ci_high": [-0.1, -0.01, 0.1],
        }
    )
    assert diagnostics.breakdown(h, "relative_magnitude") == 1
    assert np.isnan(diagnostics.breakdown(h.iloc[:2], "relative_magnitude"))
    b = pd.DataFrame(
        {
            "type": ["treated_vs_never", "treated_vs_never", "earlier_vs_later"],
            "weight": [0.5, 0.25, 0.25],
            "estimate": [0, 0, 0],
        }
    )
    shares = diagnostics.weight_shares(b)
    assert shares.to_dict() == {"treated_vs_never": 0.75, "earlier_vs_later": 0.25, "later_vs_earlier": 0.0}


def test_big_statistics_print_in_scientific_notation():
    assert diagnostics.fmt_big(406.25) == "406.2" or diagnostics.fmt_big(406.25) == "406.3"
    assert diagnostics.fmt_big(5.9e16) == r"\ensuremath{5.9 \times 10^{16}}"


def test_verdict_words():
    text = "consistent: ours -71.4 not significant (p=0.054); robust estimator differs (ours ...)"
    assert replication_exhibits.verdicts(text) == ("consistent", "differs")
    with pytest.raises(ValueError):
        replication_exhibits.verdicts("maybe")
    assert replication_exhibits.verdicts(
        "not comparable: a city-level study; ours -0.03 (p=0.013); robust estimator not comparable (ours -0.04)"
    ) == ("not comparable", "not comparable")
    assert replication_exhibits.verdicts("consistent: 0 inside; robust estimator no counterpart (x)") == (
        "consistent",
        "no counterpart",
    )


def test_sample_construction_table_has_every_rule():
    log = pd.read_csv(config.SAMPLE_LOG)
    body = sample_tables.sample_construction(log)
    assert body.count(r"\\") - 1 == len(log)  # one header row plus one row per rule
    assert r"p{0.36\textwidth}" in body


@pytest.mark.data  # inputs.main_sample() reads the built panel
def test_summary_counts_add_up():
    df = inputs.main_sample()
    frame = sample_tables.summary_frame(df).set_index("label")
    counties = frame.loc["Counties"]
    assert counties["All counties"] == df["fips"].nunique()
    assert counties["287(g) by 2012"] + counties["No 287(g) by 2012"] == counties["All counties"]


def _fake_main_results(root, names: list[str]) -> None:
    """overall.csv of every main-table estimator for each spec name (one N and cluster count for all)."""
    for k, name in enumerate(names):
        (root / name).mkdir()
        rows = [
            {"estimator": e, "estimate": 0.01 * (k + 1), "se": 0.005, "ci_low": 0, "ci_high": 0, "pvalue": 0.5}
            for e in main_tables.COLUMNS_SC
        ]
        pd.DataFrame(rows).assign(n_obs=1000, n_units=100, n_clusters=100).to_csv(
            root / name / "overall.csv", index=False
        )


def test_main_table_labels_come_from_its_specs(no_results):
    """Row labels, the weights row and the trends table's headers follow the spec dicts the tables are given."""
    specs = {
        o: {
            "name": f"t_{o}",
            "program": "sc",
            "outcome": o,
            "transform": "log_rate",
            "weights": "none",
            "control_group": "not_yet_treated",
        }
        for o in ("index", "violent", "property")
    }
    _fake_main_results(no_results, [s["name"] for s in specs.values()])
    pd.DataFrame(
        {
            "study": ["Miles and Cox"],
            "closest_spec": ["sc_index"],
            "closest_estimator": ["twfe"],
            "published_value": [0.0],
        }
    ).to_csv(no_results / "replication.csv", index=False)
    body = main_tables.program_table("sc", main_tables.COLUMNS_SC, specs)
    assert "Log index crime rate" in body and "Log property crime rate" in body
    assert r"Weights & \multicolumn{1}{c}{none}" in body and "Sun–Abraham" in body
    changed = {o: {**s, "transform": "rate", "weights": "population"} for o, s in specs.items()}
    body = main_tables.program_table("sc", main_tables.COLUMNS_SC, changed)
    assert "Index crime rate per 100,000" in body and "Log index" not in body
    assert r"Weights & \multicolumn{1}{c}{population}" in body
    trends = main_tables.sc_trends_table(specs)
    assert "Index crime rate" in trends and r"Population weights & \multicolumn{1}{c}{no}" in trends
    assert r"Population weights & \multicolumn{1}{c}{yes}" in main_tables.sc_trends_table(changed)
    mixed = {**specs, "index": changed["index"]}
    with pytest.raises(ValueError, match="one weights value per table"):
        main_tables.program_table("sc", main_tables.COLUMNS_SC, mixed)
