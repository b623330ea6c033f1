"""The within-state, size-by-year and covariate designs for every outcome (#12 §3): the claims on
hand-built numbers, and the built table and macros against the results files."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis import config
from analysis.exhibits import credibility_outcomes as co
from analysis.exhibits.numbers import fmt_num, parse

TIER = "unit"  # the default tier of these tests (tests/conftest.py)


def frame(values: dict[str, dict[tuple[str, str], tuple[float, float]]], program: str = "287g") -> pd.DataFrame:
    """Cells of one program: outcome -> {(design, column): (estimate, se)}, 95% intervals from the SE."""
    return pd.DataFrame(
        [
            {
                "program": program,
                "outcome": outcome,
                "design": design,
                "column": column,
                "estimate": b,
                "se": s,
                "ci_low": b - 1.96 * s,
                "ci_high": b + 1.96 * s,
            }
            for outcome, cells in values.items()
            for (design, column), (b, s) in cells.items()
        ]
    )


def outcome(head_twfe, head_cs, sy_twfe, sy_imp, head_imp=None):
    cells = {
        ("headline", "twfe"): head_twfe,
        ("headline", "primary"): head_cs,
        ("stateyear", "twfe"): sy_twfe,
        ("stateyear", "imputation"): sy_imp,
    }
    return cells | ({("headline", "imputation"): head_imp} if head_imp else {})


CELLS = {  # index: same sign, excludes 0, and within one SE of the headline imputation (not of CS)
    "index": outcome((-0.06, 0.02), (-0.05, 0.01), (-0.07, 0.02), (-0.08, 0.02), head_imp=(-0.07, 0.02)),
    "violent": outcome((-0.10, 0.03), (-0.10, 0.02), (0.01, 0.03), (-0.02, 0.02)),  # TWFE flips, moved
    "property": outcome((-0.05, 0.02), (-0.04, 0.01), (0.03, 0.01), (0.02, 0.005)),  # both flip, exclude 0
}


def test_reference_is_the_same_estimator_or_else_the_primary():
    c = frame(CELLS)
    ref = co.reference(c[c["outcome"] == "violent"])
    assert list(ref.index) == ["twfe", "imputation"]
    assert ref.loc["twfe", "estimate"] == -0.10 and ref.loc["twfe", "se"] == 0.03
    assert ref.loc["imputation", "estimate"] == -0.10 and ref.loc["imputation", "se"] == 0.02  # the CS cell
    ref = co.reference(c[c["outcome"] == "index"])
    assert ref.loc["imputation", "estimate"] == -0.07  # the headline's own imputation


@pytest.mark.parametrize(
    "name, sign, intervals, survives",
    [
        ("index", "keep the headline's sign", "both exclude zero", "survives"),
        (
            "violent",
            "differ in sign (the imputation estimate keeps the headline's sign, the other does not)",
            "both include zero",
            "does not survive",
        ),
        ("property", "both change sign", "both exclude zero", "does not survive"),
    ],
)
def test_claims_follow_the_numbers(name, sign, intervals, survives):
    m = co.macros_of("287g", frame(CELLS))
    key = "NationalCred" + name.capitalize() + "Stateyear"
    assert (m[key + "Sign"], m[key + "Intervals"], m[key + "Survives"]) == (sign, intervals, survives)
    assert m[key + "TwfeSe"] == fmt_num(CELLS[name][("stateyear", "twfe")][1])


def test_mixed_intervals_name_each_estimator():
    part = frame({"index": {("stateyear", "twfe"): (-0.05, 0.01), ("stateyear", "imputation"): (-0.02, 0.02)}})
    assert co.intervals_words(part) == "differ (the TWFE interval excludes zero, the imputation interval includes zero)"


def test_moved_and_compare_use_the_headline_reference():
    c = frame(CELLS)
    assert co.moved_outcomes(c) == ["violent", "property"]  # index: within one headline SE
    m = co.macros_of("287g", c)
    assert m["NationalCredOutcomesMoved"] == "violent and property"
    assert m["NationalCredIndexStateyearTwfeCompare"] == "about the same size as"  # -0.07 against -0.06
    assert m["NationalCredIndexStateyearImputationCompare"] == "about the same size as"  # -0.08 against -0.07
    assert m["NationalCredViolentStateyearImputationCompare"] == "smaller in magnitude than"  # against CS -0.10
    assert "NationalCredIndexHeadlineTwfeCompare" not in m


def test_table_has_a_row_per_program_and_outcome():
    c = pd.concat([frame(CELLS, "287g"), frame(CELLS, "sc")])
    body = co.table_body(c)
    for label in ("287(g): index", "287(g): violent", "SC: property"):
        assert sum(line.startswith(label + " &") for line in body.splitlines()) == 1
    assert r"\multicolumn{2}{c}{State-by-year}" in body and "Covariates" in body
    row = next(line for line in body.splitlines() if line.startswith("287(g): violent"))
    cells = [x.strip(" \\") for x in row.split(" & ")[1:]]
    assert cells == ["$-$0.100", "$-$0.100", "", "0.010", "$-$0.020", "", "", ""]  # no headline imputation
    row = next(line for line in body.splitlines() if line.startswith("SC: index"))
    assert row.split(" & ")[3] == "$-$0.070"


def test_every_design_gets_its_claims_and_a_one_column_design_is_worded_in_the_singular():
    cells = {
        k: v | {("sizeyear", "twfe"): (-0.02, 0.03), ("sizeyear", "imputation"): (-0.03, 0.02)}
        for k, v in CELLS.items()
    }
    cells["violent"] |= {("covariates", "primary"): (0.02, 0.005)}  # opposite sign to CS -0.10, excludes 0
    cells["index"] |= {("covariates", "primary"): (-0.05, 0.01)}
    cells["property"] |= {("covariates", "primary"): (-0.045, 0.03)}
    m = co.macros_of("287g", frame(cells))
    assert m["NationalCredViolentCovariatesSign"] == "changes sign"
    assert m["NationalCredViolentCovariatesIntervals"] == "excludes zero"
    assert m["NationalCredViolentCovariatesSurvives"] == "does not survive"
    assert m["NationalCredIndexCovariatesSign"] == "keeps the headline's sign"
    assert m["NationalCredIndexCovariatesSurvives"] == "survives"
    assert m["NationalCredViolentCovariatesPrimaryCompare"] == "of the opposite sign to"
    assert m["NationalCredCovariatesOutcomesMoved"] == "violent"  # 0.12 from CS (SE 0.02); property within 0.01
    assert m["NationalCredIndexSizeyearIntervals"] == "both include zero"
    assert m["NationalCredIndexSizeyearSurvives"] == "does not survive"
    assert m["NationalCredSizeyearOutcomesMoved"] == "index, violent and property"
    assert m["NationalCredOutcomesMoved"] == m["NationalCredStateyearOutcomesMoved"] == "violent and property"


def test_a_design_without_results_gets_no_claims():
    m = co.macros_of("287g", frame(CELLS))  # headline and state-by-year only
    assert "NationalCredIndexSizeyearSurvives" not in m and "NationalCredCovariatesOutcomesMoved" not in m


@pytest.mark.data
def test_built_table_and_macros_equal_the_results_files():
    table, numbers = config.TABLES / "credibility_outcomes.tex", config.NUMBERS
    assert table.exists() and numbers.exists(), "make exhibits first"
    body, built = table.read_text().splitlines(), parse(numbers)
    specs = {"287g": ("us_287g", "National", "287(g)"), "sc": ("sc", "Sc", "SC")}
    for program, (stem, prefix, label) in specs.items():
        for out in ("index", "violent", "property"):
            head = pd.read_csv(config.RESULTS / f"{stem}_{out}" / "overall.csv").set_index("estimator")
            alt = pd.read_csv(config.RESULTS / f"{stem}_{out}_stateyear" / "overall.csv").set_index("estimator")
            size = pd.read_csv(config.RESULTS / f"{stem}_{out}_sizeyear" / "overall.csv").set_index("estimator")
            cov = pd.read_csv(config.RESULTS / f"{stem}_{out}_covariates" / "overall.csv").set_index("estimator")
            imp = head.loc["imputation"] if "imputation" in head.index else None
            cells = [head.loc["twfe"], head.loc["cs_simple"], imp, alt.loc["twfe"], alt.loc["imputation"]]
            cells += [size.loc["twfe"], size.loc["imputation"], cov.loc["cs_simple"]]
            i = next(k for k, line in enumerate(body) if line.startswith(f"{label}: {out} &"))
            est = [x.strip(" \\") for x in body[i].split(" & ")[1:]]
            se = [x.strip(" \\") for x in body[i + 1].split(" & ")[1:]]
            assert est == ["" if r is None else fmt_num(r["estimate"]) for r in cells], (program, out)
            assert se == ["" if r is None else f"({fmt_num(r['se'])})" for r in cells], (program, out)
            key = prefix + "Cred" + out.capitalize()
            assert built[key + "StateyearImputation"] == fmt_num(alt.loc["imputation", "estimate"])
            assert built[key + "HeadlinePrimarySe"] == fmt_num(head.loc["cs_simple", "se"])
            pairs = [("twfe", "twfe"), ("imputation", "imputation" if imp is not None else "cs_simple")]
            keeps = all((alt.loc[e, "estimate"] < 0) == (head.loc[h, "estimate"] < 0) for e, h in pairs)
            assert (built[key + "StateyearSign"] == "keep the headline's sign") == keeps
            excl = all(not (alt.loc[e, "ci_low"] <= 0 <= alt.loc[e, "ci_high"]) for e, _ in pairs)
            assert (built[key + "StateyearSurvives"] == "survives") == (keeps and excl)
