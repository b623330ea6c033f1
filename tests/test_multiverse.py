"""The multiverse (analysis.multiverse) and the joint test of the specification curve (analysis.speccurve):
expansion, exclusions and ids on hand-built files; the fast null re-estimator against the package's TWFE;
the within-state permutation; byte-identical results whatever the backend and workers; resume after an
interruption; the joint test on simulated panels without and with an effect."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd
import pytest
import yaml

from analysis import multiverse as mv
from analysis import speccurve as sc
from analysis.estimators import twfe
from analysis.estimators.simulate import simulate_panel
from analysis.infra.errors import InputError

TIER = "unit"  # the default tier of these tests (tests/conftest.py)

BASE = {
    "description": "test multiverse",
    "program": "287g",
    "sample": "main",
    "outcome": "index",
    "transform": "log_rate",
    "treatment": "g287_county",
    "control_group": "never_treated",
    "estimators": ["twfe"],
    "weights": "none",
    "bootstrap": 0,
}


def write(tmp_path, name="287g.yaml", **changes):
    data = {
        "program": "287g",
        "base": dict(BASE),
        "dimensions": {
            "outcome": ["index", "violent"],
            "transform": ["log_rate", "rate"],
            "estimator": {"twfe": {"estimators": ["twfe"]}, "cs": {"estimators": ["cs"]}},
            "fixed_effects": {
                "county_year": {"fixed_effects": ["county", "year"]},
                "county_state_year": {"fixed_effects": ["county", "state^year"]},
            },
        },
        "exclusions": [
            {"when": {"estimator": "cs", "fixed_effects": "county_state_year"}, "reason": "cs takes no fixed effects"}
        ],
        "sizes": {
            "default": {"draws": 3, "values": {"estimator": ["twfe"], "fixed_effects": "county_year"}},
            "full": {"draws": 5},
        },
    }
    data.update(changes)
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


# ---- Expansion, exclusions, ids ------------------------------------------------------------------------
def test_expansion_counts_exclusions_and_sizes(tmp_path):
    m = mv.read_multiverse(write(tmp_path))
    specs, excl = mv.expand(m, "full")
    assert len(specs) + len(excl) == 2 * 2 * 2 * 2
    assert len(excl) == 4 and set(excl["reason"]) == {"cs takes no fixed effects"}
    assert set(excl["estimator"]) == {"cs"} and set(excl["fixed_effects"]) == {"county_state_year"}
    assert all(s["estimators"] == ["twfe"] for s in specs if s["choices"]["estimator"] == "twfe")
    assert {tuple(s["fixed_effects"]) for s in specs} == {("county", "year"), ("county", "state^year")}
    rate = [s for s in specs if s["choices"]["transform"] == "rate"]
    assert rate and all(s["transform"] == "rate" for s in rate)
    default, none = mv.expand(m, "default")
    assert len(default) == 4 and none.empty and {s["choices"]["estimator"] for s in default} == {"twfe"}
    assert m["sizes"]["default"]["draws"] == 3 and m["sizes"]["full"]["draws"] == 5


def test_ids_are_hashes_of_the_choices_whatever_the_file_order(tmp_path):
    a = mv.expand(mv.read_multiverse(write(tmp_path)), "full")[0]
    m = yaml.safe_load(write(tmp_path).read_text())
    m["dimensions"] = dict(reversed(list(m["dimensions"].items())))
    m["dimensions"]["outcome"] = ["violent", "index"]
    path = tmp_path / "reordered.yaml"
    path.write_text(yaml.safe_dump(m, sort_keys=False))
    b = mv.expand(mv.read_multiverse(path), "full")[0]
    ids = {s["id"]: s["choices"] for s in a}
    assert len(ids) == len(a) and ids == {s["id"]: s["choices"] for s in b}
    for s in a:
        text = json.dumps({"program": "287g", "choices": s["choices"]}, sort_keys=True)
        assert s["id"] == hashlib.sha256(text.encode()).hexdigest()[:10]
        assert s["seed"] == mv.task_seed(s["id"]) and 0 <= s["seed"] < 2**32
    assert len({s["seed"] for s in a}) == len(a)


@pytest.mark.parametrize(
    "change, field",
    [
        ({"exclusions": [{"when": {"estimator": "cs"}}]}, "exclusions.0.reason"),
        ({"exclusions": [{"when": {"estimator": "ols"}, "reason": "x"}]}, "exclusions.0.when.estimator"),
        ({"exclusions": [{"when": {"colour": "red"}, "reason": "x"}]}, "exclusions.0.when"),
        ({"sizes": {"default": {"draws": 3}}}, "sizes.full"),
        ({"dimensions": {"outcome": []}}, "dimensions.outcome"),
        ({"base": {**BASE, "program": "sc"}}, "base.program"),
    ],
)
def test_bad_files_stop_naming_the_field(tmp_path, change, field):
    with pytest.raises(InputError) as err:
        mv.read_multiverse(write(tmp_path, **change))
    assert err.value.field == field


def test_a_combination_that_cannot_run_must_be_excluded(tmp_path):
    m = mv.read_multiverse(write(tmp_path, exclusions=[]))
    with pytest.raises(InputError, match="county_state_year.*cannot run and is not excluded"):
        mv.expand(m, "full")


def test_a_value_may_name_the_outcome(tmp_path):
    """{outcome} in a value's text (alone or in a list) is the specification's own outcome, whichever
    dimension sets it; no other placeholder is read."""
    dims = yaml.safe_load(write(tmp_path).read_text())["dimensions"]
    covariates = {"none": {}, "baseline": {"baseline_controls": ["log_pop_2000", "log_rate_{outcome}_2000"]}}
    specs, _ = mv.expand(mv.read_multiverse(write(tmp_path, dimensions={**dims, "covariates": covariates})), "full")
    with_cov = [s for s in specs if s["choices"]["covariates"] == "baseline"]
    assert len(with_cov) == len(specs) // 2
    for s in with_cov:
        assert s["baseline_controls"] == ["log_pop_2000", f"log_rate_{s['outcome']}_2000"]
    bad = {"none": {}, "baseline": {"baseline_controls": ["log_rate_{outcome}_{year}"]}}
    with pytest.raises(InputError, match="only placeholder") as err:
        mv.read_multiverse(write(tmp_path, dimensions={**dims, "covariates": bad}))
    assert err.value.field == "dimensions.covariates.baseline.baseline_controls"
    with pytest.raises(InputError, match="only placeholder") as err:
        mv.read_multiverse(write(tmp_path, dimensions={**dims, "covariates": {"w": {"weights": "pop_{year}"}}}))
    assert err.value.field == "dimensions.covariates.w.weights"
    assert mv.fill_outcome({"outcome": "violent", "weights": "w_{outcome}", "n": 3}) == {
        "outcome": "violent",
        "weights": "w_violent",
        "n": 3,
    }


@pytest.mark.parametrize("program, spec", [("287g", "us_287g_index_covariates"), ("sc", "sc_index_covariates")])
def test_the_covariates_dimension_is_the_credibility_design(program, spec):
    """The multiverse's baseline covariates, with Callaway-Sant'Anna and the base's other choices, are the
    paper's covariate-adjusted spec: same design fields (its estimate is then the same, to rounding)."""
    from analysis.spec import load_spec

    paper = load_spec(f"analysis/specs/{spec}.yaml")
    m = mv.read_multiverse(f"analysis/multiverse/{program}.yaml")
    full, _ = mv.expand(m, "full")
    first = {d: next(iter(values)) for d, values in m["dimensions"].items()}
    want = {**first, "estimator": "cs", "covariates": "baseline"}
    (ours,) = [s for s in full if s["choices"] == want]
    fields = ["sample", "outcome", "transform", "treatment", "clean_controls", "control_group", "weights"]
    fields += ["baseline_controls", "est_method", "base_period", "estimators", "cluster", "fixed_effects"]
    assert {f: ours[f] for f in fields} == {f: paper[f] for f in fields}
    for outcome in ("violent", "property"):
        (other,) = [s for s in full if s["choices"] == {**want, "outcome": outcome}]
        assert other["baseline_controls"] == [c.replace("index", outcome) for c in paper["baseline_controls"]]


def test_the_paper_multiverses_expand():
    for program in ("287g", "sc"):
        m = mv.read_multiverse(f"analysis/multiverse/{program}.yaml")
        full, excl = mv.expand(m, "full")
        default, _ = mv.expand(m, "default")
        assert set(s["id"] for s in default) <= set(s["id"] for s in full)
        assert len(excl) > 0 and excl["reason"].str.len().min() > 20
        assert m["sizes"]["full"]["draws"] >= 500


# ---- The null re-estimator and the permutation ----------------------------------------------------------
@pytest.fixture(scope="module")
def sim():
    panel = simulate_panel(n_counties=150, seed=3).assign(
        state_year=lambda d: d["state_fips"] + "|" + d["year"].astype(str)
    )
    x = panel.groupby("fips")["log_rate_index"].transform("first")  # a county's first-year outcome
    s = panel.groupby("state_fips")["log_rate_index"].transform("mean")  # constant within each state
    return panel.assign(
        **{f"_x_{y}": x * (panel["year"] == y) for y in (2001, 2005, 2009)},
        _s_2003=s * (panel["year"] == 2003),
    )


# Baseline covariates by year (fixest i(year, x)): one is absorbed with state-by-year effects when it is
# constant within states (the state's own mean), the case where a control must drop out.
BY_YEAR = ["_x_2001", "_x_2005", "_x_2009", "_s_2003"]


@pytest.mark.parametrize(
    "fe, weights, trends, controls",
    [
        (["fips", "year"], None, False, []),
        (["fips", "year"], "population", False, []),
        (["fips", "state_year"], "population", False, []),
        (["fips", "year"], None, True, []),
        (["fips", "state_year"], "population", True, []),
        (["fips", "year"], None, False, BY_YEAR),
        (["fips", "state_year"], "population", False, BY_YEAR),
        (["fips", "year"], "population", True, BY_YEAR),
    ],
)
def test_null_twfe_equals_the_package_twfe(sim, fe, weights, trends, controls):
    ours = sc.NullTwfe(sim, "log_rate_index", "g287_county", fe, weights, "fips", trends=trends, controls=controls)
    est, se = ours.fit(ours.units["g"].to_numpy(float))

    def package_twfe(data):
        return twfe.static(
            data,
            "log_rate_index",
            "fips",
            "year",
            "g287_county",
            weights=weights,
            cluster="fips",
            trends=trends,
            fe=fe,
            controls=controls,
        ).summary

    ref = package_twfe(sim)
    assert est == pytest.approx(ref["estimate"], rel=1e-9, abs=1e-12)
    assert se == pytest.approx(ref["se"], rel=1e-9)
    # and on permuted timing: the fast path equals a full refit
    g = sc.Permuter(ours.units).draw(20180212, 7)
    permuted = sim.assign(g287_county=sim["fips"].map(dict(zip(ours.units["unit"], g))))
    est7, se7 = ours.fit(g)
    ref7 = package_twfe(permuted)
    assert (est7, se7) == pytest.approx((ref7["estimate"], ref7["se"]), rel=1e-9)


def test_permutation_within_states(sim):
    units = sim.drop_duplicates("fips")[["fips", "state_fips", "g287_county"]].set_axis(
        ["unit", "stratum", "g"], axis=1
    )
    p = sc.Permuter(units.reset_index(drop=True))
    assert np.array_equal(p.draw(1, 0), units["g"].to_numpy(float))
    a, b = p.draw(1, 1), p.draw(1, 2)
    assert not np.array_equal(a, units["g"].to_numpy(float)) and not np.array_equal(a, b)
    assert np.array_equal(a, sc.Permuter(units.reset_index(drop=True)).draw(1, 1))  # deterministic
    shuffled = units.sample(frac=1, random_state=0).reset_index(drop=True)  # row order irrelevant
    assert dict(zip(shuffled["unit"], sc.Permuter(shuffled).draw(1, 1))) == dict(zip(units["unit"], a))
    for _state, rows in units.assign(new=a).groupby("stratum"):  # same timing multiset
        assert sorted(rows["g"]) == sorted(rows["new"])
    # a subset of the units with the same keys: the units of a smaller sample get a permutation of their own
    sub = units[units["stratum"] != units["stratum"].iloc[0]].reset_index(drop=True)
    assert len(sc.Permuter(sub).draw(1, 1)) == len(sub)


# ---- The joint test on simulated panels ------------------------------------------------------------------
def _curve(panel, draws):
    """Observed and null curves of six TWFE specs (three outcomes, with and without weights)."""
    fits = [
        sc.NullTwfe(panel, f"log_rate_{y}", "g287_county", ["fips", "year"], w, "fips")
        for y in ("index", "violent", "property")
        for w in (None, "population")
    ]
    obs = np.array([f.fit(f.units["g"].to_numpy(float)) for f in fits])
    for f, (b, _) in zip(fits, obs):
        f.remove_effect(b)
    perms = [sc.Permuter(f.units) for f in fits]  # one per spec: a draw depends on (seed, draw, units) only
    null = np.array([[f.fit(p.draw(11, d)) for d in range(1, draws + 1)] for f, p in zip(fits, perms)])
    return sc.joint_test(obs[:, 0], obs[:, 1], null[:, :, 0], null[:, :, 1])


def test_joint_test_does_not_over_reject_without_an_effect():
    p = pd.concat(
        [
            _curve(simulate_panel(n_counties=100, seed=s, effect=lambda g, e: 0.0 * e), 39).assign(sim=s)
            for s in range(20)
        ]
    )
    rate = p.groupby("statistic")["p_value"].apply(lambda x: float((x <= 0.05).mean()))
    # nominal 5%; with 20 panels a valid test rejects 4 or more times with probability < 2%
    assert (rate <= 0.15).all(), rate


def test_joint_test_detects_an_effect():
    for s in range(3):
        joint = _curve(
            simulate_panel(n_counties=120, seed=100 + s, effect=lambda g, e: np.where(e >= 0, -0.25, 0.0)), 39
        ).set_index("statistic")
        assert joint.loc["median", "observed"] < -0.15
        assert joint.loc["median", "p_value"] <= 0.05 and joint.loc["share_negative", "p_value"] <= 0.05
        assert joint.loc["share_positive", "p_value"] > 0.5


def test_joint_test_arithmetic():
    obs_est, obs_se = np.array([-1.0, -2.0, 0.5]), np.array([0.1, 0.1, 1.0])
    null_est = np.array([[0.0, -1.5], [0.0, -3.0], [0.0, 0.2]])
    null_se = np.ones((3, 2))
    j = sc.joint_test(obs_est, obs_se, null_est, null_se).set_index("statistic")
    assert j.loc["median", "observed"] == -1.0 and j.loc["share_negative", "observed"] == pytest.approx(2 / 3)
    assert j.loc["median", "p_value"] == pytest.approx(2 / 3)  # |-1.5| >= 1 in one of two draws
    assert j.loc["share_negative", "p_value"] == pytest.approx(1 / 3)  # 1/3 significant at most in the null
    assert j.loc["share_positive", "p_value"] == 1.0


# ---- Running: backends, workers, resume --------------------------------------------------------------------
@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    root = tmp_path_factory.mktemp("mv")
    panel = simulate_panel(n_counties=120, seed=5)
    path = root / "panel.parquet"
    panel.to_parquet(path)
    m = mv.read_multiverse(
        write(
            root,
            exclusions=[],
            dimensions={
                "outcome": ["index", "violent"],
                "weights": ["none", "population"],
                "estimator": {"twfe": {"estimators": ["twfe"]}, "cs": {"estimators": ["cs"]}},
            },
            sizes={"default": {"draws": 3}, "full": {"draws": 3}},
        )
    )
    specs, excl = mv.expand(m, "full", panel.columns)
    return m, specs, excl, path, panel


def _csv(m, results, excl):
    return {
        k: v.to_csv(index=False, float_format="%.10g") for k, v in mv.tables(m, results, excl).items() if k != "timings"
    }


def test_cs_and_twfe_tasks_match_run_spec(tiny):
    m, specs, excl, path, panel = tiny
    results = mv.run_all(specs, 2, path, jobs=1, progress=False)
    est = mv.tables(m, results, excl)["estimates"]
    assert set(est["reported"]) == {"twfe", "cs_simple"} and len(est) == 8
    assert est["estimate"].notna().all() and (est["se"] > 0).all()
    assert all(len(r["null_estimate"]) == 2 for r in results)


@pytest.mark.e2e  # starts process pools and a Dask LocalCluster: the slow tier
def test_byte_identical_whatever_the_workers_and_backend(tiny, tmp_path):
    m, specs, excl, path, _ = tiny
    one = _csv(m, mv.run_all(specs, 3, path, jobs=1, progress=False), excl)
    two = _csv(m, mv.run_all(specs, 3, path, jobs=2, cache=tmp_path / "c2", progress=False), excl)
    assert one == two
    pytest.importorskip("distributed")
    dask = _csv(m, mv.run_all(specs, 3, path, jobs=2, scheduler="local", progress=False), excl)
    assert one == dask


def test_resume_keeps_finished_tasks_and_reruns_partial_ones(tiny, tmp_path, monkeypatch):
    m, specs, excl, path, _ = tiny
    cache = tmp_path / "tasks"
    first = _csv(m, mv.run_all(specs, 3, path, jobs=1, cache=cache, progress=False), excl)
    files = sorted(cache.glob("*.json"))
    assert len(files) == len(specs)
    files[0].write_text(files[0].read_text()[:50])  # a task killed while writing (not atomic)
    files[1].unlink()  # a task that never finished
    stale = json.loads(files[2].read_text())
    stale["digest"] = "0" * 64  # a task of another spec or draw count
    files[2].write_text(json.dumps(stale))
    rerun = {f.stem for f in files[:3]}
    real = mv.run_spec
    ran = []

    def counting(spec, panel):
        ran.append(spec["name"].rsplit("_", 1)[1])
        return real(spec, panel)

    monkeypatch.setattr(mv, "run_spec", counting)
    again = _csv(m, mv.run_all(specs, 3, path, jobs=1, cache=cache, progress=False), excl)
    assert set(ran) == rerun and again == first
    # a rebuilt panel (other bytes) reruns every task
    ran.clear()
    pd.read_parquet(path).assign(extra=1).to_parquet(path.parent / "panel2.parquet")
    mv.run_all(specs[:2], 3, path.parent / "panel2.parquet", jobs=1, cache=cache, progress=False)
    assert len(ran) == 2


def test_a_null_path_that_disagrees_with_run_spec_stops_the_run(tiny, monkeypatch):
    m, specs, excl, path, _ = tiny
    monkeypatch.setattr(sc.NullTwfe, "fit", lambda self, g: (123.0, 1.0))
    twfe_spec = [s for s in specs if s["choices"]["estimator"] == "twfe"][:1]
    with pytest.raises(mv.TaskError, match=f"id {twfe_spec[0]['id']}.*disagree"):
        mv.run_all(twfe_spec, 2, path, jobs=1, progress=False)
