"""Specifications: the committed specs load; bad ones fail fast naming file, line and field; run_spec writes
deterministic, atomic result folders."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis import config, estimate, workspace
from analysis.estimators.simulate import simulate_panel
from analysis.infra.errors import InputError
from analysis.spec import load_spec, validate_spec
from tests.spec_text import spec_yaml, write_spec

TIER = "unit"  # the default tier of these tests (tests/conftest.py)

EXAMPLES = sorted(config.SPECS.glob("*.yaml"))
BASE = spec_yaml(name="t")


@pytest.fixture(scope="module")
def panel():
    return simulate_panel(120, seed=3)


write = write_spec


def test_examples_load_and_validate(panel):
    assert len(EXAMPLES) >= 2
    for path in EXAMPLES:
        validate_spec(load_spec(path), panel.columns)


@pytest.mark.parametrize(
    "change, field, line",
    [
        ("colour: red\n", "colour", 10),
        ("weights: people\n", "weights", 10),
        ("bootstrap: yes\n", "bootstrap", 10),
        ("event_window: [0, 5]\n", "event_window", 10),
    ],
)
def test_load_rejects_bad_fields(tmp_path, change, field, line):
    path = write(tmp_path, BASE + change)
    with pytest.raises(InputError) as err:
        load_spec(path)
    assert (err.value.file, err.value.field, err.value.line) == (str(path), field, line)
    assert str(path) in str(err.value) and field in str(err.value)


def test_load_rejects_unknown_sample_and_estimator(tmp_path):
    with pytest.raises(InputError, match="sample"):
        load_spec(write(tmp_path, BASE.replace("sample: main", "sample: everything")))
    with pytest.raises(InputError, match="estimators"):
        load_spec(write(tmp_path, BASE.replace("[twfe, cs]", "[twfe, magic]")))
    with pytest.raises(InputError, match="required"):
        load_spec(write(tmp_path, BASE.replace("outcome: violent\n", "")))


@pytest.mark.parametrize(
    "old, new, field",
    [
        ("outcome: violent", "outcome: arson", "outcome"),
        ("treatment: g287_county", "treatment: g287_nowhere", "treatment"),
        ("transform: log_rate\n", "transform: log_rate\nestimators_x: 1\n", "estimators_x"),
        ("[twfe, cs]", "[twfe, ppml]", "transform"),
        ("program: 287g\n", "program: sc\n", "treatment"),
        ("treatment: g287_county\n", "treatment: sc_year\nprogram_x: 1\n", "program_x"),
        ("[twfe, cs]", "[cs, honest]", "base_period"),
    ],
)
def test_validate_rejects_impossible_specs(tmp_path, panel, old, new, field):
    with pytest.raises(InputError) as err:
        validate_spec(load_spec(write(tmp_path, BASE.replace(old, new))), panel.columns)
    assert err.value.field == field


def test_never_treated_control_for_sc_is_refused(tmp_path, panel):
    text = BASE.replace("program: 287g", "program: sc").replace("g287_county", "sc_year")
    with pytest.raises(InputError) as err:
        validate_spec(load_spec(write(tmp_path, text)), panel.columns)
    assert err.value.field == "control_group" and err.value.line == 8


def test_run_spec_writes_deterministic_atomic_folders(tmp_path, panel):
    spec = load_spec(config.SPECS / "sc_index.yaml")
    spec = {**spec, "program": "287g", "treatment": "g287_county", "control_group": "never_treated"}
    # 99 bootstrap draws and event times -2..2: HonestDiD's smoothness bounds, most of a run's time, grow
    # steeply with the event times (8 s a run at the default [-5, 5], 2.6 s here); every table is still written
    spec = {**spec, "bootstrap": 99, "event_window": [-2, 2]}
    first = estimate.write_results("a", estimate.run_spec(spec, panel), root=tmp_path)
    second = estimate.write_results("a", estimate.run_spec(spec, panel), root=tmp_path / "again")
    names = sorted(p.name for p in first.iterdir())
    assert names == [
        "aggregations.csv",
        "attgt.csv",
        "bacon.csv",
        "dropped.csv",
        "event_study.csv",
        "event_vcov.csv",
        "honest.csv",
        "models.csv",
        "overall.csv",
        "pretest.csv",
        "sample_log.csv",
        "warnings.csv",
    ]
    assert all((first / n).read_bytes() == (second / n).read_bytes() for n in names)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "again"]  # no temporary folders left
    overall = pd.read_csv(first / "overall.csv")
    assert {"estimator", "estimate", "se", "ci_low", "ci_high", "pvalue", "n_obs", "n_units", "n_clusters"} <= set(
        overall
    )
    assert set(overall["estimator"]) == {
        "twfe",
        "twfe_trends",
        "event_twfe",
        "cs_simple",
        "cs_group",
        "cs_dynamic",
        "cs_calendar",
        "sunab",
        "imputation",
        "bacon",
    }
    dropped = pd.read_csv(first / "dropped.csv")
    assert "treated after the last period: recoded as control (g=0)" in set(dropped["reason"])
    vcov = pd.read_csv(first / "event_vcov.csv")
    assert set(vcov["estimator"]) == {"cs", "event_twfe", "sunab"}


def test_main_exits_nonzero_on_bad_spec_and_writes_nothing(tmp_path, monkeypatch, panel):
    monkeypatch.setattr(workspace, "RESULTS", tmp_path / "results")
    monkeypatch.setattr(workspace, "MINE_RESULTS", tmp_path / "mine")
    bad = write(tmp_path, BASE + "colour: red\n")
    assert estimate.main([str(bad)]) == 1
    assert not (tmp_path / "results").exists() and not (tmp_path / "mine").exists()
