"""The analyses: committed specs validate against the panel, grids expand to their documented variants,
randomization inference is exact and seeded, the replication verdict follows its rule, new sample options."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import config, grid, replication, ri
from analysis.design import design_sample
from analysis.estimators import twfe
from analysis.estimators.simulate import simulate_panel
from analysis.infra.errors import InputError
from analysis.sample import apply_sample
from analysis.spec import load_spec, validate_spec

TIER = "unit"  # the default tier of these tests (tests/conftest.py)

GRIDS = config.SPECS.parent / "grids"
NAMES = {
    "nc_287g_violent",
    "nc_287g_property",
    "nc_287g_index",
    "us_287g_index",
    "us_287g_violent",
    "us_287g_property",
    "us_287g_index_nyt",
    "us_287g_index_jem",
    "us_287g_index_tf",
    "us_287g_index_nostatewide",
    "us_287g_index_municipal_controls",
    "us_287g_index_covind90",
    "sc_index",
    "sc_violent",
    "sc_property",
    "sc_index_covind90",
    "sc_index_covind90_no_cook",
    *[
        f"{p}_placebo_{o}{s}"
        for p in ("us_287g", "sc")
        for o in ("cov_ratio", "ag_off", "covind")
        for s in ("", "_covind90")
    ],
}
AUDIT = {
    "covind90": "coverage_audit",
    "audit_level_only": "coverage_audit",
    "audit_jumps_only": "coverage_audit",
    "audit_loose": "coverage_audit",
    "audit_strict": "coverage_audit",
}
VARIANTS = {  # documented in the grid files' headers: one dimension at a time
    "287g": {
        "base": "base",
        "rate": "outcome_scale",
        "ppml_counts": "outcome_scale",
        "cov75": "coverage",
        "cov_pos": "coverage",
        **AUDIT,
        "midyear_rule": "timing",
        "wapo_dates": "timing",
        "no_list_dates": "timing",
        "municipal_controls": "treatment_coding",
        "jail_model": "treatment_coding",
        "jail_model_uncleaned": "treatment_coding",
        "task_force": "treatment_coding",
        "task_force_uncleaned": "treatment_coding",
        "end_at_termination": "treatment_coding",
        "not_yet_treated": "control_group",
        "late_adopters": "control_group",
        "population_weights": "weights",
        "no_nyc2001": "sample",
        "no_coverage_hole_states": "sample",
    },
    "sc": {
        "base": "base",
        "rate": "outcome_scale",
        "ppml_counts": "outcome_scale",
        "cov75": "coverage",
        "cov_pos": "coverage",
        **AUDIT,
        "covind90_no_cook": "coverage_audit",
        "midyear_rule": "timing",
        "county_trends": "trends",
        "unweighted": "weights",
        "no_nyc2001": "sample",
        "no_coverage_hole_states": "sample",
    },
}


@pytest.fixture(scope="module")
def panel():
    if not config.PANEL.exists():
        pytest.skip("county panel not built (make panel)")
    return pd.read_parquet(config.PANEL)


def test_committed_specs_are_the_documented_names_and_validate(panel):
    paths = sorted(config.SPECS.glob("*.yaml"))
    specs = [load_spec(p) for p in paths]
    assert NAMES <= {s["name"] for s in specs}
    for path, spec in zip(paths, specs):
        assert spec["name"] == path.stem
        validate_spec(spec, panel.columns)


@pytest.mark.parametrize("program", sorted(VARIANTS))
def test_grid_expands_to_documented_variants(panel, program):
    specs = grid.expand(GRIDS / f"{program}.yaml", panel.columns)
    assert {s["variant"]: s["dimension"] for s in specs} == VARIANTS[program]
    base = next(s for s in specs if s["variant"] == "base")
    fields = ("sample", "outcome", "transform", "treatment", "control_group", "estimators", "weights", "clean_controls")
    for spec in specs:  # one dimension at a time: each variant differs from the base in its own fields only
        changed = {f for f in fields if spec[f] != base[f]}  # (plus the estimators that dimension needs)
        assert len(changed - {"estimators"}) <= 2 and (spec["variant"] == "base") == (not changed)
        assert spec["name"] == f"grid_{program}_{spec['variant']}" and spec["program"] == program


def test_grid_rejects_a_bad_variant(tmp_path, panel):
    text = (GRIDS / "287g.yaml").read_text().replace("changes: {transform: rate}", "changes: {transform: cube}")
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(InputError) as err:
        grid.expand(path, panel.columns)
    assert str(path) in str(err.value) and "'rate'" in str(err.value) and err.value.field == "transform"


@pytest.mark.parametrize("program", ["287g", "sc"])
def test_ri_statistic_equals_linearmodels_twfe(panel, program):
    spec = next(s for s in grid.expand(GRIDS / f"{program}.yaml", panel.columns) if s["variant"] == "base")
    arrays = ri.design_arrays(spec, panel)
    fast, _ = ri.permute(arrays, 0, seed=1)
    df, _ = design_sample(panel, spec)
    weights = None
    if spec["weights"] == "population":
        df = df.assign(_w=df.sort_values("year").groupby("fips")["population"].transform("first"))
        weights = "_w"
    slow = twfe.static(df, f"log_rate_{spec['outcome']}", "fips", "year", spec["treatment"], weights=weights)
    assert fast == pytest.approx(slow.summary["estimate"], abs=1e-8)


def test_ri_within_transform_matches_linearmodels_on_simulated_weighted_panel():
    sim = simulate_panel(150, seed=11)
    sim = sim.assign(_w=sim.groupby("fips")["population"].transform("first"))
    y = sim.sort_values(["fips", "year"])
    arrays = {
        "y": y["log_rate_index"].to_numpy().reshape(150, -1),
        "years": np.sort(y["year"].unique()),
        "g": y.groupby("fips")["g287_county"].first().to_numpy(),
        "w": y.groupby("fips")["_w"].first().to_numpy(),
    }
    fast, _ = ri.permute(arrays, 0, seed=1)
    slow = twfe.static(sim, "log_rate_index", "fips", "year", "g287_county", weights="_w")
    assert fast == pytest.approx(slow.summary["estimate"], abs=1e-8)


def test_ri_is_seeded_and_p_value_in_unit_interval():
    sim = simulate_panel(80, seed=5).sort_values(["fips", "year"])
    arrays = {
        "y": sim["log_rate_index"].to_numpy().reshape(80, -1),
        "years": np.sort(sim["year"].unique()),
        "g": sim.groupby("fips")["g287_county"].first().to_numpy(),
        "w": np.ones(80),
    }
    obs, first = ri.permute(arrays, 199, seed=config.SEED)
    _, again = ri.permute(arrays, 199, seed=config.SEED)
    _, other = ri.permute(arrays, 199, seed=config.SEED + 1)
    assert np.array_equal(first, again) and not np.array_equal(first, other)
    p = ri.p_value(obs, first)
    assert 0 < p <= 1
    assert ri.p_value(1e9, first) == pytest.approx(1 / 200)  # nothing as extreme: the +1 correction
    assert ri.p_value(0.0, first) == 1.0
    # permuting keeps the cohort sizes
    g = np.random.default_rng(0).permutation(arrays["g"])
    assert sorted(g) == sorted(arrays["g"])


def test_ri_refuses_too_few_permutations(tmp_path, panel):
    path = tmp_path / "287g.yaml"
    path.write_text((GRIDS / "287g.yaml").read_text().replace("permutations: 999", "permutations: 99"))
    with pytest.raises(InputError, match="999"):
        ri.run(path, panel)


ENTRY = {"value": None, "significant": False, "differences": "other years"}


@pytest.mark.parametrize(
    "entry, est, expected",
    [
        (ENTRY, {"estimate": -1.0, "ci_low": -2.0, "ci_high": 0.1, "pvalue": 0.20}, True),
        (ENTRY, {"estimate": -1.0, "ci_low": -2.0, "ci_high": -0.1, "pvalue": 0.01}, False),
        (
            {**ENTRY, "significant": True, "sign": -1},
            {"estimate": -1.0, "ci_low": -2, "ci_high": -0.1, "pvalue": 0.01},
            True,
        ),
        (
            {**ENTRY, "significant": True, "sign": -1},
            {"estimate": 1.0, "ci_low": 0.1, "ci_high": 2, "pvalue": 0.01},
            False,
        ),
        (
            {**ENTRY, "value": -0.04, "significant": None},
            {"estimate": -0.06, "ci_low": -0.11, "ci_high": -0.01, "pvalue": 0.01},
            True,
        ),
        (
            {**ENTRY, "value": 0.0, "significant": None},
            {"estimate": -0.06, "ci_low": -0.08, "ci_high": -0.04, "pvalue": 0.0},
            False,
        ),
    ],
)
def test_replication_rule(entry, est, expected):
    ok, why = replication.reproduces(entry, est)
    assert ok is expected and why
    line = replication.verdict(entry, est, est)
    assert line.startswith("consistent" if expected else "differs")
    assert ("other years" in line) is (not expected)


def test_replication_table_from_toy_results(tmp_path):
    for spec, est, p in [("a", -0.05, 0.30), ("b", -0.06, 0.001)]:
        (tmp_path / spec).mkdir()
        pd.DataFrame(
            {
                "estimator": ["twfe", "cs_simple", "wild"],
                "estimate": [est, est, est],
                "se": [0.02] * 3,
                "ci_low": [est - 0.04] * 3,
                "ci_high": [est + 0.04] * 3,
                "pvalue": [0.01, 0.01, p],
            }
        ).to_csv(tmp_path / spec / "overall.csv", index=False)
    entries = [
        {
            **ENTRY,
            "study": s,
            "design": "d",
            "outcome": "o",
            "published": "none",
            "source": "src",
            "source_type": "paper",
            "closest": {"spec": s, "estimator": "twfe", "pvalue_from": "wild"},
            "robust": {"spec": s, "estimator": "cs_simple"},
        }
        for s in ("a", "b")
    ]
    table = replication.build(entries, results=tmp_path)
    assert table["closest_pvalue"].tolist() == [0.30, 0.001]
    assert [v.split(":")[0] for v in table["verdict"]] == ["consistent", "differs"]
    assert list(table.columns) == replication.COLUMNS


def test_published_results_file_is_complete():
    entries = replication.read_published()
    assert {"Forrester & Nowrasteh (2018)", "Miles & Cox (2014)", "Treyger, Chalfin & Loeffler (2014)"} == {
        e["study"] for e in entries
    }
    assert all(e["source_type"] == "secondary" for e in entries if e["study"].startswith("Miles"))
    assert all(e["closest"]["spec"] in NAMES and (e["robust"] is None or e["robust"]["spec"] in NAMES) for e in entries)
    # like with like: a with-trends result has no robust (no-trends) counterpart; the city-level study is
    # not comparable
    trends = [e for e in entries if e["closest"]["estimator"] == "twfe_trends"]
    assert trends and all(e["robust"] is None for e in trends)
    assert [e.get("not_comparable") is not None for e in entries if e["study"].startswith("Treyger")] == [True]


def test_replication_not_comparable_and_no_counterpart():
    est = {"estimate": -0.03, "ci_low": -0.06, "ci_high": -0.01, "pvalue": 0.01}
    line = replication.verdict({**ENTRY, "not_comparable": "a city-level study"}, est, est)
    assert line.startswith("not comparable: a city-level study") and "differs" not in line
    assert "robust estimator not comparable" in line
    line = replication.verdict({**ENTRY, "value": 0.0, "significant": None}, {**est, "ci_high": 0.01}, None)
    assert line.startswith("consistent") and "robust estimator no counterpart" in line


def test_replication_row_without_robust_has_empty_robust_columns(tmp_path):
    (tmp_path / "a").mkdir()
    pd.DataFrame(
        {
            "estimator": ["twfe_trends"],
            "estimate": [-0.01],
            "se": [0.01],
            "ci_low": [-0.03],
            "ci_high": [0.01],
            "pvalue": [0.3],
        }
    ).to_csv(tmp_path / "a" / "overall.csv", index=False)
    entry = {
        **ENTRY,
        "study": "s",
        "design": "d",
        "outcome": "o",
        "published": "none",
        "source": "src",
        "source_type": "paper",
        "closest": {"spec": "a", "estimator": "twfe_trends"},
        "robust": None,
    }
    row = replication.build([entry], results=tmp_path).iloc[0]
    assert row["robust_spec"] == "" and np.isnan(row["robust_estimate"])
    assert "no counterpart" in row["verdict"]


def tiny() -> pd.DataFrame:
    """Two states x 2 counties x 13 years; NC county 37001 has one year at COVIND 44."""
    rows = [
        dict(
            fips=f,
            state=s,
            year=y,
            covind=44.0 if (f == "37001" and y == 2007) else 100.0,
            nyc_2001=False,
            state_287g_statewide=False,
        )
        for f, s in [("37001", "NC"), ("37003", "NC"), ("01001", "AL"), ("01003", "AL")]
        for y in range(config.FIRST_YEAR, config.LAST_YEAR + 1)
    ]
    return pd.DataFrame(rows)


def test_states_include_and_coverage_hole_states(tmp_path):
    path = tmp_path / "samples.yaml"
    path.write_text(
        "nc:\n  states_include: [NC]\n  covind_min: 40\n  every_year: true\n  balanced: true\n"
        "holes:\n  covind_min: 90\n  every_year: true\n  drop_states_losing_over: 0.4\n"
        "holes_half:\n  covind_min: 90\n  every_year: true\n  drop_states_losing_over: 0.5\n"
    )
    sample, log = apply_sample(tiny(), "nc", path)
    assert sorted(sample["fips"].unique()) == ["37001", "37003"] and len(sample) == 26
    sample, log = apply_sample(tiny(), "holes", path)  # NC loses 1 of 2 counties (0.5 > 0.4): dropped
    assert set(sample["state"]) == {"AL"} and log["rule"].tolist()[0] == "drop_states_losing_over_0.4"
    sample, _ = apply_sample(tiny(), "holes_half", path)  # 0.5 is not more than 0.5: NC kept, 37001 dropped
    assert sorted(sample["fips"].unique()) == ["01001", "01003", "37003"]


def test_nc_sample_keeps_the_nine_287g_counties(panel):
    sample, _ = apply_sample(panel, "nc")
    treated = sample[sample["g287_any"] > 0]["fips"].unique()
    assert len(treated) == 9 and set(sample["state"]) == {"NC"}
    assert sample.groupby("fips").size().eq(config.LAST_YEAR - config.FIRST_YEAR + 1).all()


def _strata_arrays(seed: int = 3) -> tuple[dict, np.ndarray]:
    """A hand-built balanced panel: 3 states of 6 counties, each state with its own adoption dates."""
    rng = np.random.default_rng(seed)
    states = np.repeat(np.array(["AA", "BB", "CC"]), 6)
    g = np.array([2005, 2005, 0, 0, 0, 0, 2008, 0, 0, 0, 0, 0, 2010, 2010, 2010, 0, 0, 0])
    years = np.arange(2000, 2013)
    y = rng.normal(size=(18, len(years))) + 0.1 * ((g[:, None] > 0) & (years >= g[:, None]))
    return {"y": y, "years": years, "g": g, "w": np.ones(18)}, states


def test_ri_within_state_never_moves_a_date_across_states():
    arrays, states = _strata_arrays()
    groups = ri.strata_groups(states)
    rng = np.random.default_rng(config.SEED)
    moved = False
    for _ in range(200):
        g = ri.shuffle(arrays["g"], rng, groups)
        for state in np.unique(states):  # each state keeps exactly its own dates
            assert sorted(g[states == state]) == sorted(arrays["g"][states == state])
        moved |= not np.array_equal(g, arrays["g"])
    assert moved  # and the dates do move, within states
    # unrestricted permutations do carry dates across states (the test above can fail)
    crossed = any(
        sorted(ri.shuffle(arrays["g"], rng)[states == "BB"]) != sorted(arrays["g"][states == "BB"]) for _ in range(50)
    )
    assert crossed


def test_ri_strata_keep_the_observed_statistic_and_are_seeded():
    arrays, states = _strata_arrays()
    obs, free = ri.permute(arrays, 199, seed=config.SEED)
    obs_s, within = ri.permute(arrays, 199, seed=config.SEED, strata=states)
    _, again = ri.permute(arrays, 199, seed=config.SEED, strata=states)
    assert obs == obs_s and np.array_equal(within, again) and not np.array_equal(free, within)
    # one stratum is the unrestricted scheme, draw for draw
    _, single = ri.permute(arrays, 199, seed=config.SEED, strata=np.repeat("all", 18))
    assert np.array_equal(single, free)
    assert ri.informative(arrays["g"], states) == (3, 3)
    assert ri.informative(np.array([0, 0, 2005, 2005]), np.array(["A", "A", "B", "B"])) == (2, 0)
    # a stratum whose counties share one date never moves: its draws equal the observed estimate
    flat = {**arrays, "g": np.where(states == "AA", 2005, 0)}
    o, d = ri.permute(flat, 50, seed=1, strata=states)
    assert np.allclose(d, o)


def test_ri_run_writes_one_row_per_scheme(panel):
    summary, draws = ri.run(GRIDS / "287g.yaml", panel)
    assert list(summary["scheme"]) == ["unrestricted", "within_state", "within_size3_2000"]
    assert summary["estimate"].nunique() == 1 and len(draws) == 3 * int(summary["n_perm"].iloc[0])
    assert (summary["p_perm"] > 0).all() and (summary["p_perm"] <= 1).all()


def test_ri_rejects_an_unknown_stratum(tmp_path, panel):
    path = tmp_path / "287g.yaml"
    path.write_text((GRIDS / "287g.yaml").read_text().replace("strata: [state, size3_2000]", "strata: [stat]"))
    with pytest.raises(InputError, match="stat") as err:
        ri.run(path, panel)
    assert err.value.field == "strata"
    path.write_text((GRIDS / "287g.yaml").read_text().replace("strata: [state", "stratum: [state"))
    with pytest.raises(InputError, match="stratum") as err:
        ri.run(path, panel)


def test_drop_never_treated_keeps_in_window_and_late_adopters_only():
    from analysis.sample import apply_rules, rule_problems

    rows = pd.DataFrame(
        {
            "fips": np.repeat(["a", "b", "c", "d"], 2),
            "year": [2011, 2012] * 4,
            "g": pd.array(np.repeat([2008, 2017, 0, pd.NA], 2), dtype="Int64"),
        }
    )
    kept, log = apply_rules(rows, {"drop_never_treated": "g"}, "spec_rules")
    assert sorted(kept["fips"].unique()) == ["a", "b"]
    row = log[log["rule"].str.startswith("drop_never_treated")].iloc[0]
    assert row["dropped_rows"] == 4 and "only controls" in row["reason"]
    assert rule_problems({"drop_never_treated": True})  # a column name, not a flag


def test_late_adopter_spec_has_only_adopters(panel):
    spec = validate_spec(load_spec(config.SPECS / "us_287g_index_late.yaml"), panel.columns)
    from analysis.estimate import prepare

    df, _, _ = prepare(spec, panel)
    g = df.groupby("fips")["g287_county"].first()
    assert (g > 0).all() and (g > config.LAST_YEAR).sum() > 0 and (g <= config.LAST_YEAR).sum() > 0
