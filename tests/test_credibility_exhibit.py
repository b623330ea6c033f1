"""The credibility exhibit (#12 §3): its generated claims on hand-built numbers, and the built
tables and macros against the results of the state-by-year and other credibility specs."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis import config
from analysis.exhibits import credibility as cred
from analysis.exhibits.numbers import fmt_num, parse

TIER = "unit"  # the default tier of these tests (tests/conftest.py)


@pytest.mark.parametrize(
    "head, alt, words",
    [
        (-0.06, -0.065, "about the same size as"),
        (-0.06, -0.02, "smaller in magnitude than"),
        (-0.06, -0.09, "larger in magnitude than"),
        (-0.06, 0.01, "of the opposite sign to"),
        (0.05, 0.059, "about the same size as"),
    ],
)
def test_compare_words(head, alt, words):
    assert cred.compare(head, alt) == words


def test_interval_words():
    assert cred.interval_words(-0.1, -0.01) == "excludes zero"
    assert cred.interval_words(-0.1, 0.02) == "includes zero"
    assert cred.interval_words(0.01, 0.2) == "excludes zero"


def cells(rows):
    return pd.DataFrame(
        [
            {
                "design": d,
                "label": lab,
                "column": c,
                "estimate": b,
                "se": s,
                "ci_low": b - 1.96 * s,
                "ci_high": b + 1.96 * s,
            }
            for d, lab, c, b, s in rows
        ]
    )


def test_survives_and_moved_follow_their_rules():
    c = cells(
        [
            ("headline", "Headline", "twfe", -0.06, 0.02),
            ("headline", "Headline", "cs", -0.05, 0.01),
            ("stateyear", "State-by-year effects", "twfe", -0.07, 0.02),  # within one SE: not moved
            ("trends", "County linear trends", "twfe", -0.01, 0.02),  # moved, interval has zero
            ("covariates", "Baseline covariates", "cs", -0.030, 0.010),  # moved by 2 SE, excludes zero
            ("placebo", "Placebo", "twfe", 0.05, 0.01),
        ]
    )  # never counted as moving
    head = c[c["design"] == "headline"].set_index("column")
    assert cred.survives(head, c[c["design"] == "stateyear"]) == "survives"
    assert cred.survives(head, c[c["design"] == "trends"]) == "does not survive"
    assert cred.survives(head, c[c["design"] == "covariates"]) == "survives"
    designs = {
        "stateyear": "State-by-year effects",
        "trends": "County linear trends",
        "covariates": "Baseline covariates",
    }
    old = cred.DESIGNS
    try:
        cred.DESIGNS = [
            (k, designs.get(k, k), None, None) for k in ("headline", "stateyear", "covariates", "trends", "placebo")
        ]
        assert cred.moved(c) == ["baseline covariates", "county linear trends"]
    finally:
        cred.DESIGNS = old
    assert cred.words([]) == "none" and cred.words(["a", "b", "c"]) == "a, b and c"


def test_table_body_lists_every_design_and_the_range():
    c = cells([(k, lab, col, -0.05, 0.01) for k, lab, _, shown in cred.DESIGNS for col in shown])
    body = cred.table_body(
        c,
        {"twfe": (-0.08, "MA", -0.04, "AZ"), "cs": (-0.07, "MA", -0.05, "UT")},
        {"twfe": (-0.09, "2007", -0.03, "2008"), "cs": (-0.06, "2007", -0.05, "2006")},
    )
    for _, label, _, _ in cred.DESIGNS:
        assert label in body
    assert "[$-$0.080, $-$0.040]" in body and "Leave one state out" in body
    assert "[$-$0.090, $-$0.030]" in body and "Leave one cohort out" in body


@pytest.fixture(scope="module")
def built():
    table = config.TABLES / "credibility_287g.tex"
    if not (config.NUMBERS.exists() and table.exists()):
        pytest.skip("make exhibits first")
    return parse(config.NUMBERS)


@pytest.mark.parametrize(
    "program, spec, prefix", [("287g", "us_287g_index_stateyear", "National"), ("sc", "sc_index_stateyear", "Sc")]
)
def test_state_by_year_results_exist_and_the_table_lists_them(built, program, spec, prefix):
    overall = pd.read_csv(config.RESULTS / spec / "overall.csv").set_index("estimator")
    assert {"twfe", "event_twfe", "imputation"} <= set(overall.index)
    models = pd.read_csv(config.RESULTS / spec / "models.csv")
    assert models["model"].str.contains("state_fips^year", regex=False).all()
    body = (config.TABLES / f"credibility_{program}.tex").read_text()
    row = next(line for line in body.splitlines() if line.startswith("State-by-year effects"))
    for est in ("twfe", "event_twfe", "imputation"):
        assert fmt_num(overall.loc[est, "estimate"]) in row
        name = prefix + "CredStateyear" + cred.camel(est)
        assert built[name] == fmt_num(overall.loc[est, "estimate"])
        assert built[name + "Se"] == fmt_num(overall.loc[est, "se"])


def test_claim_macros_match_the_numbers(built):
    for prefix, base in (("National", "us_287g_index"), ("Sc", "sc_index")):
        head = pd.read_csv(config.RESULTS / base / "overall.csv").set_index("estimator")
        alt = pd.read_csv(config.RESULTS / f"{base}_stateyear" / "overall.csv").set_index("estimator")
        assert built[f"{prefix}CredStateyearTwfeCompare"] == cred.compare(
            head.loc["twfe", "estimate"], alt.loc["twfe", "estimate"]
        )
        loso = pd.read_csv(config.RESULTS / "credibility" / "loso.csv")
        part = loso[
            (loso["program"] == ("287g" if prefix == "National" else "sc")) & (loso["estimator"] == "cs_simple")
        ]
        assert built[f"{prefix}CredLosoCsMin"] == fmt_num(part["estimate"].min())
        assert built[f"{prefix}CredLosoCsMax"] == fmt_num(part["estimate"].max())


def test_paper_inputs_the_section_once():
    tex = (config.PAPER / "paper.tex").read_text()
    assert tex.count(r"\input{sections/credibility}") == 1
    section = (config.PAPER / "sections" / "credibility.tex").read_text()
    assert r"\tablebody{credibility_287g}" in section and r"\tablebody{credibility_sc}" in section


def test_within_state_cells_count_treated_cells_and_untreated_counties():
    rows = pd.DataFrame(
        {
            "fips": list("abcdef"),
            "state": ["NC", "NC", "NC", "SC", "SC", "SC"],
            "g": pd.array([2006, 2006, 2008, 2008, 0, pd.NA], dtype="Int64"),
        }
    )
    out = cred.within_state_cells(rows, "g", last=2012)
    assert out == {"Treated": 4, "TreatedStates": 2, "StateCohortCells": 3, "StateCohortSingle": 2, "Untreated": 1}


def test_imputation_lost_counts_the_rows_dropped_as_not_imputable(built):
    d = pd.read_csv(config.RESULTS / "sc_index_stateyear" / "dropped.csv")
    lost = d[(d["estimator"] == "imputation") & d["reason"].str.contains("cannot be imputed")]["rows"].sum()
    assert cred.imputation_lost("sc_index_stateyear") == lost > 0
    assert built["ScCredStateyearImputationLost"].replace("{,}", "") == str(lost)


def test_sdid_is_compared_with_the_headline_cs_and_missing_designs_are_skipped():
    c = cells(
        [
            ("headline", "Headline", "twfe", -0.06, 0.02),
            ("headline", "Headline", "cs", -0.05, 0.01),
            ("sdid", "Synthetic DiD", "sdid", -0.02, 0.005),
        ]
    )  # 3 headline CS SEs away
    head = c[c["design"] == "headline"].set_index("column")
    assert cred.survives(head, c[c["design"] == "sdid"]) == "survives"
    assert "synthetic DiD, cohorts aggregated" in cred.moved(
        c.replace("Synthetic DiD", "Synthetic DiD, cohorts aggregated")
    )
    assert cred.source("sc", {"287g": "{base}_late"}) is None and "late" not in [d[0] for d in cred.designs("sc")]
    assert "late" in [d[0] for d in cred.designs("287g")]


def test_leave_one_out_moves_name_the_units():
    """SC's leave-one-cohort-out moved CS by 2 headline SEs (without 2012) and was missing from the list
    of designs that move the estimate: the leave-one-out tables now count, naming the left-out units."""
    head = pd.DataFrame({"estimate": [-0.03, -0.04], "se": [0.01, 0.01]}, index=["twfe", "cs"])
    table = pd.DataFrame(
        {
            "program": ["sc"] * 4 + ["287g"],
            "state": ["2009", "2009", "2012", "2012", "2012"],
            "estimator": ["twfe", "cs_simple", "twfe", "cs_simple", "cs_simple"],
            "estimate": [-0.035, -0.045, -0.031, -0.015, -0.5],
        }
    )
    assert cred.leave_out_moves(head, table, "sc", "cohort") == ["leaving out one cohort (2012)"]
    assert cred.leave_out_moves(head, table[table["state"] == "2009"], "sc", "cohort") == []


def test_sdid_macros_describe_the_cohorts():
    rows = pd.DataFrame(
        {
            "program": "287g",
            "cohort": [2005, 2008, 2010],
            "estimate": [-0.1, -0.05, 0.0],
            "se": [0.05, 0.02, float("nan")],
            "n_treated": [2, 17, 1],
            "n_control": 1303,
            "n_post": [8, 5, 3],
        }
    )
    m = cred.sdid_macros("X", rows)
    assert (m["XSdidFirst"], m["XSdidLast"], m["XSdidEnd"]) == ("2005", "2008", "2012")
    assert (m["XSdidLargestCohort"], m["XSdidLeftOut"], m["XSdidLeftOutCount"]) == ("2008", "2010", "1")
