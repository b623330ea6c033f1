"""The student's helpers: results by name in one tidy format, event-study plots and booktabs tables
with labels, rows and notes from the specs."""

from __future__ import annotations

import warnings

import pytest

from analysis import estimate, results
from analysis.estimators.simulate import simulate_panel
from analysis.estimators.tidy import EVENT_COLUMNS, OVERALL_COLUMNS
from analysis.report import plot_event_study, table
from analysis.spec import load_spec
from tests.spec_text import spec_yaml

TIER = "unit"  # the default tier of these tests (tests/conftest.py)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Two specs run on a simulated panel, written to a results folder."""
    root = tmp_path_factory.mktemp("report")
    panel = simulate_panel(100, seed=9)
    out = []
    for n, (label, ests) in enumerate(
        [("Static & event", ["twfe", "event_twfe", "imputation", "sunab"]), ("Callaway-Sant'Anna", ["cs", "twfe"])]
    ):
        path = root / f"spec{n}.yaml"
        path.write_text(spec_yaml(description=f"Helper test {n}", label=label, estimators=ests))
        spec = load_spec(path)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tables = estimate.run_spec(spec, panel)
        out.append(estimate.write_results(spec["name"], tables, root / "results", path))
    return out


def test_every_results_folder_has_the_tidy_columns(runs):
    for folder in runs:
        res = results.load(folder)
        assert list(res.table("overall").columns) == OVERALL_COLUMNS
        assert list(res.event_study.columns) == ["estimator", *EVENT_COLUMNS]
        assert res.spec["label"] in ("Static & event", "Callaway-Sant'Anna")
    assert set(results.load(runs[0]).event_study["estimator"]) == {"event_twfe", "imputation", "sunab"}
    agg = results.load(runs[1]).table("aggregations")
    assert set(agg["estimator"]) == {"cs_group", "cs_calendar"}
    assert list(agg.columns) == ["estimator", "element", *EVENT_COLUMNS[1:]]


def test_event_windows_are_honoured_by_every_event_study(runs):
    ev = results.load(runs[0]).event_study
    assert ev["event_time"].between(-5, 5).all()


def test_plot_event_study_labels_from_the_specs_and_saves(runs, tmp_path):
    fig = plot_event_study(runs, estimators=None, name="fig", directory=tmp_path)
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert "Static & event: Sun–Abraham" in labels and "Callaway-Sant'Anna: Callaway–Sant'Anna" in labels
    assert (tmp_path / "fig.pdf").exists() and (tmp_path / "fig.png").exists()
    with pytest.raises(KeyError, match="no event study"):
        plot_event_study(runs, estimators=["cs"])


def test_table_rows_columns_and_notes_from_the_specs(runs, tmp_path):
    tab = table(runs, name="tab", directory=tmp_path)
    body = tab.path.read_text()
    assert r"\toprule" in body and r"\bottomrule" in body
    assert r"Static \& event" in body and "Callaway-Sant'Anna" in body
    overall = results.load(runs[0]).overall
    se = overall.loc["twfe", "se"]
    assert f"({se:.3f})" in body
    assert "Imputation (BJS)" in body and "County-years in sample" in body
    assert "Helper test 0." in tab.notes and "twfe: log\\_rate\\_violent" in tab.notes
    assert tab.notes_path.read_text().endswith(tab.notes)


def test_helpers_take_in_memory_results(runs):
    res = results.load(runs[1])
    memory = results.from_run({**res.spec, "label": "in memory"}, res.tables)
    assert "in memory" in table([memory]).body
    assert plot_event_study([memory]) is not None
