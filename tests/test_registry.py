"""The estimator registry: a toy estimator registered in one entry runs through a spec end to end, and
a name that is not registered fails loudly (file:line: field) in a spec, a grid, a multiverse file,
inference.yaml and the wave plan."""

from __future__ import annotations

import pandas as pd
import pytest
import statsmodels.formula.api as smf

from analysis import config, estimate, grid, inference, multiverse, speccurve, wave_plan
from analysis.estimators import registry, twfe
from analysis.estimators.simulate import simulate_panel
from analysis.estimators.tidy import dropped_frame, normal_inference
from analysis.exhibits import headline
from analysis.exhibits.numbers import fmt_num
from analysis.infra.errors import InputError
from analysis.spec import SpecError, check_spec

TIER = "unit"  # the default tier of these tests (tests/conftest.py)

SPEC = """description: "toy estimator on a simulated panel"
program: 287g
sample: main
outcome: violent
transform: log_rate
treatment: g287_county
control_group: never_treated
estimators: [twfe, toy]
"""


def _fit_toy(ctx: registry.Context) -> registry.Output:
    """TWFE by statsmodels OLS with county and year dummies (no clustering): a second route to twfe's estimate."""
    df = ctx.df.assign(d=twfe.treated(ctx.df, ctx.time, ctx.g))
    res = smf.ols(f"{ctx.y} ~ d + C({ctx.unit}) + C({ctx.time})", data=df).fit()
    b, se = float(res.params["d"]), float(res.bse["d"])
    row = {
        "estimator": "toy",
        "estimate": b,
        "se": se,
        **{k: float(v) for k, v in normal_inference(b, se).items()},
        "n_obs": int(res.nobs),
        "n_units": df[ctx.unit].nunique(),
        "n_clusters": df[ctx.unit].nunique(),
        "target": "coefficient on D_it (OLS with dummies)",
    }
    return registry.Output([row], dropped=dropped_frame([]))


TOY = registry.Estimator(
    "toy",
    _fit_toy,
    (registry.Row("toy", "Toy", "Toy", "Toy OLS"),),
    "Toy OLS",
    lambda s, m: (f"{m['y']} ~ {m['rhs']} + C(fips) + C(year)", "OLS (statsmodels)"),
    controls="the toy regression takes no controls",
)


@pytest.fixture(scope="module")
def panel():
    return simulate_panel(40, seed=11, cohorts=(2004, 2008))


def _write(tmp_path, text: str, name: str = "toy_spec.yaml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_toy_estimator_runs_through_a_spec(tmp_path, panel):
    path = _write(tmp_path, SPEC)
    with pytest.raises(SpecError, match=r"toy_spec.yaml:8: field 'estimators.1' unknown estimator 'toy'"):
        check_spec(path, panel.columns)
    with registry.registered(TOY):
        spec = check_spec(path, panel.columns)
        tables = estimate.run_spec(spec, panel)
        folder = estimate.write_results(spec["name"], tables, tmp_path / "results", path)
        macros = headline.estimate_macros("Sim", "toy", tables["overall"].set_index("estimator").loc["toy"], True)
        with pytest.raises(SpecError, match="toy cannot take controls: the toy regression takes no controls"):
            check_spec(_write(tmp_path, SPEC + "controls: [population]\n"), panel.columns)
    overall = pd.read_csv(folder / "overall.csv").set_index("estimator")
    assert overall.loc["toy", "estimate"] == pytest.approx(overall.loc["twfe", "estimate"], abs=1e-8)
    assert overall.loc["toy", "n_obs"] == overall.loc["twfe", "n_obs"]
    models = pd.read_csv(folder / "models.csv").set_index("estimator")
    assert models.loc["toy", "standard_errors"] == "OLS (statsmodels)"
    assert set(pd.read_csv(folder / "dropped.csv")["estimator"]) <= {"twfe", "toy"}
    assert macros["SimToy"] == fmt_num(overall.loc["toy", "estimate"], 3)
    assert {"SimToy", "SimToySe", "SimToyP", "SimToyPct"} <= set(macros)
    assert "toy" not in registry.names()  # the context manager restored the table
    with pytest.raises(KeyError, match="unknown estimate row 'toy'"):
        registry.row("toy")


def test_registry_refuses_a_taken_name():
    with pytest.raises(ValueError, match="already registered"):
        registry.register(registry.Estimator("twfe", _fit_toy, (), "dup", lambda s, m: ("", "")))
    with pytest.raises(ValueError, match="already registered"):
        registry.register(
            registry.Estimator(
                "cs2", _fit_toy, (registry.Row("cs_simple", "X", "X", "X"),), "dup", lambda s, m: ("", "")
            )
        )


def test_a_registered_estimator_joins_the_report_table_and_the_null_draws(tmp_path, panel):
    """The report table's default rows and the multiverse's null re-estimator come from the entry:
    no list elsewhere names the toy."""
    assert "toy" not in registry.report_rows()
    assert registry.report_rows()[:3] == ["twfe", "twfe_trends", "event_twfe"]
    assert "wild" not in registry.report_rows() and "cs_group" not in registry.report_rows()
    spec_text = SPEC.replace("[twfe, toy]", "[toy]")
    with registry.registered(TOY):
        assert registry.report_rows()[-1] == "toy"
        spec = check_spec(_write(tmp_path, spec_text), panel.columns)
        row = estimate.run_spec(spec, panel)["overall"].set_index("estimator").loc["toy"]
        null = multiverse.null_model(spec, panel)
        assert isinstance(null, speccurve.NullRefit)
        # draw 0 (the observed timing) refits the toy through its entry: its own overall.csv row
        assert null.fit(null.units["g"].to_numpy(float)) == pytest.approx((row["estimate"], row["se"]), rel=1e-9)
    fast = registry.Estimator(
        **{**TOY.__dict__, "null_twfe": {}, "rows": (registry.Row("toy", "Toy", "T", "T", False),)}
    )
    with registry.registered(fast):
        assert "toy" not in registry.report_rows()
        spec = check_spec(_write(tmp_path, spec_text), panel.columns)
        assert isinstance(multiverse.null_model(spec, panel), speccurve.NullTwfe)
    with pytest.raises(ValueError, match="no null refit for estimator 'honest'"):
        registry.get("honest").null_fit(None)


def test_every_registered_row_has_a_distinct_macro_name():
    macros = [r.macro for r in registry.rows().values()]
    assert len(macros) == len(set(macros)) and all(m.isalpha() for m in macros)


def test_each_row_has_one_owner_and_the_regressions_compare_with_every_county_year():
    """owner(row) is the entry whose fit writes the row; ``comparison`` feeds the main tables' control row."""
    for entry in (registry.get(n) for n in registry.names()):
        assert all(registry.owner(r) is entry for r in registry.row_names(entry))
    assert registry.owner("cs_dynamic").name == "cs" and registry.owner("cs_dynamic").comparison is None
    assert registry.owner("twfe").comparison == "implicit"
    assert registry.owner("imputation").comparison == "untreated"
    with pytest.raises(KeyError, match="cs_simple"):
        registry.owner("cs_simpel")


def test_unknown_estimator_in_a_spec_names_file_line_and_field(tmp_path, panel):
    path = _write(tmp_path, SPEC.replace("[twfe, toy]", "[twfe, imputaton]"))
    with pytest.raises(
        SpecError,
        match=r"toy_spec.yaml:8: field 'estimators.1' unknown estimator 'imputaton': "
        r"did you mean 'imputation'",
    ):
        check_spec(path, panel.columns)


def _edit(src, tmp_path, old: str, new: str):
    text = src.read_text(encoding="utf-8")
    assert old in text
    line = text[: text.index(old)].count("\n") + 1
    return _write(tmp_path, text.replace(old, new, 1), src.name), line


def test_unknown_or_unregistered_estimator_in_a_grid(tmp_path):
    path, line = _edit(
        config.ROOT / "analysis" / "grids" / "287g.yaml", tmp_path, "estimators: [ppml]", "estimators: [ppmll]"
    )
    with pytest.raises(
        SpecError,
        match=rf"287g.yaml:{line}: field 'variants\.\d+\.changes\.estimators\.0' "
        r"unknown estimator 'ppmll'",
    ):
        grid.read_grid(path)
    path, line = _edit(
        config.ROOT / "analysis" / "grids" / "287g.yaml", tmp_path, "estimators: [ppml]", "estimators: [sunab]"
    )
    with pytest.raises(SpecError, match=rf"287g.yaml:{line}: .* sunab cannot run in a grid"):
        grid.read_grid(path)


def test_unknown_estimator_in_the_multiverse(tmp_path):
    path, line = _edit(
        config.ROOT / "analysis" / "multiverse" / "287g.yaml",
        tmp_path,
        "cs: {estimators: [cs]}",
        "cs: {estimators: [cs_simple]}",
    )
    with pytest.raises(
        SpecError,
        match=rf"287g.yaml:{line}: field 'dimensions.estimator.cs.estimators.0' "
        r"unknown estimator 'cs_simple'",
    ):
        multiverse.read_multiverse(path)
    path, line = _edit(
        config.ROOT / "analysis" / "multiverse" / "287g.yaml",
        tmp_path,
        "cs: {estimators: [cs]}",
        "cs: {estimators: [bacon]}",
    )
    with pytest.raises(SpecError, match=rf"287g.yaml:{line}: .* bacon cannot run in a multiverse"):
        multiverse.read_multiverse(path)


def test_unknown_estimator_in_inference_yaml(tmp_path):
    path, line = _edit(inference.CONFIG, tmp_path, "tost:\n  estimator: twfe", "tost:\n  estimator: twfe_x")
    with pytest.raises(
        SpecError,
        match=rf"inference.yaml:{line + 1}: field 'tost.estimator' unknown estimate row "
        r"'twfe_x'",
    ):
        inference.read_config(path)


@pytest.mark.parametrize(
    "old,new,field,name",
    [
        ("{estimator: cs_simple,", "{estimator: cs_simpel,", "robustness.cs_simple.estimator", "cs_simpel"),
        ("  imputation: {estimator", "  imputaton: {estimator", "robustness.imputaton", "imputaton"),
    ],
)
def test_unknown_estimator_in_the_wave_plan(tmp_path, old, new, field, name):
    """An estimator field or a robustness key of the plan that is no overall.csv row."""
    path, line = _edit(wave_plan.PLAN, tmp_path, old, new)
    with pytest.raises(SpecError, match=rf"wave_2025.yaml:{line}: field '{field}' unknown estimate row '{name}'"):
        wave_plan.read_plan(path)
    assert issubclass(SpecError, InputError)
