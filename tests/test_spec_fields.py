"""Validation that teaches: every mistake of a spec in one message (file:line: field, nearest valid name),
bounded inputs, identity of name and file, estimators refusing what they cannot honour, small cohorts."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from analysis import estimate
from analysis.estimators.simulate import simulate_panel
from analysis.infra.errors import InputError
from analysis.spec import MAX_BOOTSTRAP, SpecError, check_spec, load_spec, validate_spec
from tests.spec_text import SC, spec_yaml, write_spec

TIER = "unit"  # the default tier of these tests (tests/conftest.py)

BASE = spec_yaml(**SC)


@pytest.fixture(scope="module")
def panel():
    return simulate_panel(120, seed=3)


write = write_spec


def problems(err) -> dict[str, tuple[int | None, str]]:
    """field -> (line, messages joined by ' | ')."""
    out = {}
    for line, field, message in err.problems:
        out[field] = (line, f"{out[field][1]} | {message}" if field in out else message)
    return out


def test_four_mistakes_in_one_message_with_lines_and_nearest_names(tmp_path):
    text = BASE.replace("outcome: violent", "outcome: violnt").replace("[twfe, cs]", "[twfe, imputaton]")
    text += "baseline_controls: [log_pop2000]\nfixed_effects: [county, stat^year]\n"
    path = write(tmp_path, text)
    with pytest.raises(SpecError) as err:
        check_spec(path)
    got = problems(err.value)
    assert set(got) == {"outcome", "estimators.1", "baseline_controls.0", "fixed_effects.1"}
    assert got["outcome"] == (4, "unknown outcome 'violnt': did you mean 'violent'?")
    assert got["estimators.1"][0] == 8 and "did you mean 'imputation'?" in got["estimators.1"][1]
    assert got["baseline_controls.0"][0] == 9 and "did you mean 'log_pop_2000'?" in got["baseline_controls.0"][1]
    assert got["fixed_effects.1"][0] == 10 and "did you mean 'state'?" in got["fixed_effects.1"][1]
    message = str(err.value)
    assert message.startswith(f"{path}: 4 mistakes\n")
    assert [line.split(": field")[0].strip() for line in message.splitlines()[1:]] == [
        f"{path}:{n}" for n in (4, 8, 9, 10)
    ]


@pytest.mark.parametrize(
    "change, field, words",
    [
        ("name: ''\n", "name", "name is empty"),
        ("name: ../results/sc_index\n", "name", "not a plain name"),
        ("name: other\n", "name", "differs from the file name 't'"),
        ("seed: -1\n", "seed", "not a valid seed"),
        ("seed: 5000000000\n", "seed", "not a valid seed"),
        (f"bootstrap: {MAX_BOOTSTRAP + 1}\n", "bootstrap", "GB of memory"),
        ("bootstrap: -5\n", "bootstrap", "must be >= 0"),
        ("covariates: [x]\n", "covariates", "use controls"),
        ("colour: red\n", "colour", "unknown field 'colour'"),
        ("weights: popultion\n", "weights", "did you mean 'population'?"),
        ("sample_rules: {states_include: [AL, XX]}\n", "sample_rules.states_include", "unknown state code 'XX'"),
        ("sample_rules: {years: [1999, 2012]}\n", "sample_rules.years", "should be [first, last]"),
        ("sample_rules: {covind_mn: 50}\n", "sample_rules.covind_mn", "did you mean 'covind_min'?"),
        ("derived: {x: {log: population, year: 2000}}\n", "derived.x.year", "unknown key 'year'"),
        ("derived: {x: {baseline: population}}\n", "derived.x.baseline", "baseline needs either year"),
        ("fixed_effects: [state^year]\n", "fixed_effects", "must include county"),
        ("fixed_effects: [county, state]\n", "fixed_effects", "need a year dimension"),
        ("fixed_effects: [county, year, state^year]\n", "fixed_effects", "year is nested in state^year"),
        ("est_method: ipw\n", None, None),
    ],
)
def test_each_bad_value_is_named_with_its_line(tmp_path, change, field, words):
    path = write(tmp_path, BASE + change)
    if field is None:
        check_spec(path)  # est_method with cs is fine
        return
    with pytest.raises(SpecError) as err:
        check_spec(path)
    got = problems(err.value)
    assert field in got, got
    assert got[field][0] == 9 and words in got[field][1]


def test_bootstrap_bound_says_the_memory_it_would_need(tmp_path):
    with pytest.raises(SpecError, match=r"1,000,000 draws is above the limit of 20,000: .* about 25\.1 GB"):
        load_spec(write(tmp_path, BASE + "bootstrap: 1000000\n"))


def test_name_may_be_left_out_and_label_defaults_to_it(tmp_path):
    spec = load_spec(write(tmp_path, BASE, name="my_spec"))
    assert spec["name"] == spec["label"] == "my_spec"
    assert spec["seed"] == __import__("analysis.config", fromlist=["SEED"]).SEED


@pytest.mark.parametrize(
    "change, field, estimator",
    [
        ("fixed_effects: [county, state^year]\n", "fixed_effects", "cs"),
        ("controls: [covind]\n", "controls", "cs"),
    ],
)
def test_an_estimator_that_cannot_honour_a_field_refuses_naming_itself(tmp_path, change, field, estimator):
    with pytest.raises(SpecError) as err:
        check_spec(write(tmp_path, BASE + change))
    message = problems(err.value)[field][1]
    assert message.startswith(f"{estimator} cannot take") and "Callaway-Sant'Anna" in message


def test_sunab_bacon_and_imputation_refusals(tmp_path):
    text = BASE.replace("[twfe, cs]", "[sunab, bacon, imputation]")
    with pytest.raises(SpecError) as err:
        check_spec(write(tmp_path, text + "fixed_effects: [county, state^year, state]\ncontrols: [covind]\n"))
    messages = [m for _, f, m in err.value.problems]
    assert any(m.startswith("sunab cannot take fixed effects") for m in messages)
    assert any(m.startswith("bacon cannot take fixed effects") for m in messages)
    assert any(m.startswith("bacon cannot take controls") for m in messages)
    assert any(m.startswith("imputation cannot take more than two") for m in messages)


def test_est_method_without_cs_is_refused(tmp_path):
    with pytest.raises(SpecError, match="est_method applies to cs only"):
        check_spec(write(tmp_path, BASE.replace("[twfe, cs]", "[twfe]") + "est_method: reg\n"))


def test_validate_spec_checks_modified_copies_in_memory(panel):
    spec = load_spec(__import__("analysis.config", fromlist=["SPECS"]).SPECS / "sc_index.yaml")
    with pytest.raises(SpecError) as err:
        validate_spec({**spec, "estimators": ["twfe", "magic"], "seed": -3}, panel.columns)
    assert {f for _, f, _ in err.value.problems} == {"estimators.1", "seed"}


def test_derived_columns_are_checked_against_the_panel(tmp_path, panel):
    text = (
        BASE + "derived:\n  population: {log: covind}\n  z: {log: nowhere}\n  a: {product: [b, covind]}\n"
        "  b: {product: [a, covind]}\n"
    )
    with pytest.raises(SpecError) as err:
        validate_spec(load_spec(write(tmp_path, text)), panel.columns)
    messages = " | ".join(m for _, _, m in err.value.problems)
    assert "'population' is already a panel column" in messages
    assert "unknown column in derived 'z': 'nowhere'" in messages
    assert "cycle" in messages


def test_baseline_controls_must_be_constant_within_counties(tmp_path, panel):
    spec = load_spec(write(tmp_path, BASE + "baseline_controls: [log_population]\n"))
    with pytest.raises(SpecError, match="log_population .* vary within counties"):
        estimate.run_spec(spec, panel)


def test_a_single_treated_county_runs_with_a_warning_naming_it(tmp_path):
    df = simulate_panel(120, seed=3)
    lone = df.loc[df["g287_county"] == 2005, "fips"].iloc[0]
    df = df.assign(
        g287_county=np.where(df["g287_county"] == 2005, np.where(df["fips"] == lone, 2005, 0), df["g287_county"])
    )
    text = (
        BASE.replace("program: sc", "program: 287g")
        .replace("sc_year", "g287_county")
        .replace("not_yet_treated", "never_treated")
    )
    spec = load_spec(write(tmp_path, text))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", estimate.SmallCohortWarning)
        tables = estimate.run_spec(spec, df)
    messages = [str(w.message) for w in caught if issubclass(w.category, estimate.SmallCohortWarning)]
    assert any(f"g=2005: 1 county ({lone})" in m for m in messages)
    assert any("Still valid: the point estimates" in m and "reflect only the controls" in m for m in messages)
    assert "very small cohorts" in tables["warnings"]["warning"].iloc[0] or "very small cohorts" in " ".join(
        tables["warnings"]["warning"]
    )
    assert "cs_simple" in set(tables["overall"]["estimator"])  # it ran


def test_the_spec_own_sample_rules_follow_the_named_sample(tmp_path, panel):
    text = BASE + "sample_rules:\n  states_include: [NC, SC]\n  years: [2003, 2012]\n"
    spec = load_spec(write(tmp_path, text))
    df, log, _ = estimate.prepare(spec, panel)
    assert set(df["state"]) <= {"NC", "SC"} and df["year"].min() == 2003
    assert list(log["step"]) == list(range(1, len(log) + 1))
    assert list(log["rule"])[-3:] == ["years_2003_2012", "states_include", "clean_controls_none"]
    assert list(log["stage"])[-3:] == ["spec_rules", "spec_rules", "controls"]
    assert log["rows_after"].iloc[-1] == len(df)


def test_input_error_format_is_unchanged_for_one_mistake(tmp_path):
    path = write(tmp_path, BASE + "colour: red\n")
    with pytest.raises(InputError) as err:
        load_spec(path)
    assert str(err.value).startswith(f"{path}:9: field 'colour' unknown field 'colour'")
