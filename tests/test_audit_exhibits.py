"""The coverage-audit and treatment-coding exhibits: their pure helpers on hand-built inputs, and their
macros in paper/generated/numbers.tex against the sample log, the results and the panel."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

from analysis import config
from analysis.exhibits import coverage_audit, diagnostics, robustness, treatment_coding
from analysis.exhibits.numbers import fmt_int, fmt_num, parse
from analysis.sample import apply_sample, read_samples

TIER = "unit"  # the default tier of these tests (tests/conftest.py)


def test_coverage_reading_follows_the_signs():
    crime = -0.07
    none = pd.Series({"estimate": 0.01, "ci_low": -0.01, "ci_high": 0.03})
    up = pd.Series({"estimate": 0.01, "ci_low": 0.005, "ci_high": 0.015})
    down = pd.Series({"estimate": -0.01, "ci_low": -0.015, "ci_high": -0.005})
    assert "no change in coverage" in coverage_audit.coverage_reading(none, crime)
    assert "against the sign" in coverage_audit.coverage_reading(up, crime)
    assert "artefact" in coverage_audit.coverage_reading(down, crime)


def test_last_comparison_text_matches_the_sample():
    main = pd.DataFrame({"fips": ["a", "b"], "sc_dated": [True, True], "sc_year": [2010, 2012]})
    assert "no county of the main sample is activated after" in coverage_audit.last_comparison_text(main)
    main.loc[1, "sc_year"] = 2013
    assert coverage_audit.last_comparison_text(main).startswith("1 main-sample county is activated only after")


def test_pretest_verdict():
    assert diagnostics.verdict(0.01) == "rejects"
    assert diagnostics.verdict(0.2) == "does not reject"
    assert diagnostics.verdict(np.nan) == "cannot test"


def test_spread_words_compare_the_permutations_with_the_clustered_se():
    """The paper said the clustered SEs 'overstate precision' from the all-county scheme alone; each
    scheme's spread is now compared with the clustered SE, within a factor 1.2 'about as widely as'."""
    assert robustness.spread_words(0.035, 0.025) == "more widely than"
    assert robustness.spread_words(0.025, 0.025) == "about as widely as"
    assert robustness.spread_words(0.023, 0.025) == "about as widely as"
    assert robustness.spread_words(0.015, 0.025) == "less widely than"


def test_bacon_untreated_text_says_when_there_is_no_untreated_county():
    """The SC main sample has no county untreated through 2012: the text says so instead of '0.0% on the
    counties activated in 2013 as controls'."""
    b = pd.DataFrame({"type": ["earlier_vs_later", "later_vs_earlier"], "weight": [0.8, 0.2]})
    assert diagnostics.untreated_text(b, 2012).startswith("none on counties untreated through 2012")
    b = pd.DataFrame({"type": ["earlier_vs_later", "treated_vs_never"], "weight": [0.75, 0.25]})
    assert diagnostics.untreated_text(b, 2012) == "25.0\\% on the counties untreated through 2012 as controls"


def test_old_coding_variants_stay_out_of_the_curve():
    est = pd.DataFrame(
        {
            "variant": ["base", "jail_model_uncleaned", "jail_model"],
            "estimator": ["twfe"] * 3,
            "estimate": [-0.1, -0.2, -0.3],
            "log_scale": [True] * 3,
        }
    )
    assert list(robustness.curve_points(est)["variant"]) == ["jail_model", "base"]


def test_sharp_changes_on_hand_built_counties():
    rows = []
    for fips, ratios in {"01001": [1.0] * 13, "01003": [1.0] * 5 + [0.5] * 8}.items():
        for year, r in zip(range(config.FIRST_YEAR, config.LAST_YEAR + 1), ratios):
            rows.append(
                dict(
                    fips=fips,
                    county_name=fips,
                    state="AL",
                    year=year,
                    population=1000,
                    pop_ucr=1000 * r,
                    ag_off=3,
                    index=10,
                    g287_county=0,
                    sc_year=2011,
                )
            )
    from analysis.coverage import add_coverage

    got = coverage_audit.sharp_changes(add_coverage(pd.DataFrame(rows)))
    assert got["fips"].tolist() == ["01003"]  # ln 0.5 = -0.69: above SHARP
    assert got.loc[0, "years"] == "2004–05" and got.loc[0, "ratio"] == "1.00 → 0.50" and got.loc[0, "g287"] == ""


@pytest.fixture(scope="module")
def macros() -> dict[str, str]:
    if not config.NUMBERS.exists():
        pytest.skip("numbers.tex not built (make exhibits)")
    return parse(config.NUMBERS)


@pytest.fixture(scope="module")
def panel():
    return pd.read_parquet(config.PANEL)


def overall(spec: str, estimator: str) -> pd.Series:
    return pd.read_csv(config.RESULTS / spec / "overall.csv").set_index("estimator").loc[estimator]


def test_audit_rule_macros_are_the_sample_log(macros):
    log = pd.read_csv(config.SAMPLE_LOG)
    main = log[log["stage"] == "sample_main"].set_index("rule")
    bounds = read_samples()["main"]
    assert macros["AuditDropLevelCounties"] == fmt_int(
        main.loc[f"cov_ratio_log_max_{bounds['cov_ratio_log_max']:g}", "dropped_units"]
    )
    assert macros["AuditDropJumpCountyYears"] == fmt_int(
        main.loc[f"cov_ratio_jump_max_{bounds['cov_ratio_jump_max']:g}", "dropped_rows"]
    )
    audit = main.iloc[2:]
    assert macros["AuditDropAllCounties"] == fmt_int(audit["dropped_units"].sum())
    assert macros["AuditPreAuditCounties"] == fmt_int(main["units_after"].iloc[1])
    assert macros["NCountiesMain"] == fmt_int(main["units_after"].iloc[-1])
    assert macros["AuditJumpBound"] == fmt_num(bounds["cov_ratio_jump_max"], 2)


def test_before_and_after_macros_are_the_results(macros):
    for macro, spec, est in [
        ("NationalIndexPreAuditTwfe", "us_287g_index_covind90", "twfe"),
        ("NationalIndexPreAuditCs", "us_287g_index_covind90", "cs_simple"),
        ("ScIndexPreAuditTwfe", "sc_index_covind90", "twfe"),
        ("ScIndexPreAuditNoCookCs", "sc_index_covind90_no_cook", "cs_simple"),
        ("NationalIndexMunicipalControlsCs", "us_287g_index_municipal_controls", "cs_simple"),
        ("PlaceboNationalCovRatioTwfe", "us_287g_placebo_cov_ratio", "twfe"),
        ("PlaceboScAgenciesCsPreAudit", "sc_placebo_ag_off_covind90", "cs_simple"),
    ]:
        assert macros[macro] == fmt_num(overall(spec, est)["estimate"], 3), macro
    grid = pd.read_csv(config.RESULTS / "grid_287g" / "estimates.csv").set_index(["variant", "estimator"])
    assert macros["CodingJailModelBeforeTwfe"] == fmt_num(grid.loc[("jail_model_uncleaned", "twfe"), "estimate"], 3)
    assert macros["CodingWapoDatesCs"] == fmt_num(grid.loc[("wapo_dates", "cs_simple"), "estimate"], 3)


def test_the_audit_moves_the_headline_from_the_pre_audit_row(macros):
    """What the abstract and Appendix A say the audit moves the headline from is the pre-audit row of the
    sensitivity and robustness tables: the headline design on the pre-audit sample, its coding kept (not
    the old headline spec, which also drops the 287(g) clean-control rule and differed by 0.001)."""
    for program, prefix in (("287g", "National"), ("sc", "Sc")):
        grid = pd.read_csv(config.RESULTS / f"grid_{program}" / "estimates.csv").set_index(["variant", "estimator"])
        variants = yaml.safe_load((config.ROOT / "analysis" / "grids" / f"{program}.yaml").read_text())["variants"]
        assert [v["changes"] for v in variants if v["variant"] == "covind90"] == [{"sample": "covind90"}]
        for est, name in (("twfe", "Twfe"), ("cs_simple", "Cs")):
            want = fmt_num(grid.loc[("covind90", est), "estimate"], 3)
            assert macros[f"AuditPreAudit{prefix}{name}"] == want
    tex = (config.ROOT / "paper" / "paper.tex").read_text()
    abstract = tex[tex.index("\\begin{abstract}") : tex.index("\\end{abstract}")]
    assert "\\AuditPreAuditNationalTwfe{} to \\NationalIndexTwfe" in abstract
    assert "PreAuditTwfe" not in abstract.replace("AuditPreAudit", "")


def test_placebo_count_macros(macros):
    for suffix, sample in (("Main", ""), ("PreAudit", "_covind90")):
        rows = [
            overall(f"{p}_placebo_{o}{sample}", e)
            for p in ("us_287g", "sc")
            for o in ("cov_ratio", "ag_off", "covind")
            for e in ("twfe", "cs_simple")
        ]
        excluding = sum((r["ci_low"] > 0) or (r["ci_high"] < 0) for r in rows)
        assert macros[f"PlaceboExcludeZero{suffix}"] == str(excluding) and macros[f"PlaceboEstimates{suffix}"] == "12"


def test_cohort_macros_recomputed_from_the_panel(macros, panel):
    pre, _ = apply_sample(panel, "covind90")
    dated = pre[pre["sc_dated"]]
    weight = dated[dated["year"] == config.FIRST_YEAR].set_index("fips")["population"]
    cohort = dated.loc[dated["sc_year"] == config.LAST_YEAR + 1, "fips"].unique()
    share = weight[cohort] / weight[cohort].sum()
    assert macros["ScCohortPreAuditCounties"] == str(len(cohort))
    assert macros["ScCohortTopWeightPct"] == fmt_num(100 * share.max(), 1)
    top = share.idxmax()
    assert macros["ScCohortTopCounty"].startswith(pre.loc[pre["fips"] == top, "county_name"].iloc[0])


def test_dating_macros_add_up(macros, panel):
    agreements = pd.read_parquet(config.AGREEMENTS)
    d = treatment_coding.dating(agreements, panel)
    assert int(macros["DatingWapoAgree"]) + int(macros["DatingWapoDisagree"]) == int(macros["DatingWapoListed"])
    assert int(macros["DatingWapoLater"]) + int(macros["DatingWapoEarlier"]) == int(macros["DatingWapoDisagree"])
    assert int(macros["DatingCounties"]) == len(d) == (panel.drop_duplicates("fips")["g287_county"] > 0).sum()
    # the panel's dating variant uses the Post's year exactly where the Post lists the county
    first = panel.drop_duplicates("fips").set_index("fips")
    listed = d.dropna(subset=["wapo_year"]).set_index("fips")
    assert (first.loc[listed.index, "g287_county_wapo"] == listed["wapo_year"].astype(int)).all()
