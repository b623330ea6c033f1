"""Spec identity and the user workspace: one folder per spec, never shared; specs outside analysis/specs
never write the paper's results; program membership is a field, not a file-name prefix."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

from analysis import config, estimate, sample, workspace
from analysis.exhibits import main_tables
from analysis.spec import load_spec
from tests.spec_text import spec_yaml

TIER = "unit"  # the default tier of these tests (tests/conftest.py)

SPEC = spec_yaml(description="workspace", estimators=["twfe"])


@pytest.fixture
def roots(tmp_path, monkeypatch):
    """A paper folder, a workspace and their results folders, all in tmp_path."""
    paths = {
        "SPECS": tmp_path / "specs",
        "MINE": tmp_path / "myspecs",
        "RESULTS": tmp_path / "results",
        "MINE_RESULTS": tmp_path / "myspecs" / "results",
    }
    for name, path in paths.items():
        monkeypatch.setattr(workspace, name, path)
    paths["SPECS"].mkdir()
    paths["MINE"].mkdir()
    return paths


def test_every_paper_spec_has_a_folder_of_its_own():
    paper = [p for p in workspace.identity_problems() if config.MINE.name not in p.file]  # the user's own: theirs
    assert paper == []
    stems = [p.stem for p in workspace.paper_specs()]
    assert len({s.lower() for s in stems}) == len(stems)
    for path in workspace.paper_specs():
        assert load_spec(path)["name"] == path.stem


def test_results_roots(roots, tmp_path):
    assert workspace.results_root(roots["SPECS"] / "a.yaml") == roots["RESULTS"]
    assert workspace.results_root(roots["MINE"] / "a.yaml") == roots["MINE_RESULTS"]
    assert workspace.results_root(tmp_path / "elsewhere" / "a.yaml") == roots["MINE_RESULTS"]
    assert workspace.results_root(roots["SPECS"] / "a.yaml", out=tmp_path / "x") == tmp_path / "x"


def test_identity_conflicts_are_all_found(roots, tmp_path):
    (roots["SPECS"] / "sc_x.yaml").write_text(SPEC)
    (roots["SPECS"] / "grid_x.yaml").write_text(SPEC)  # a grid's folder name
    (roots["SPECS"] / "old.yml").write_text(SPEC)  # make would not run it
    (roots["MINE"] / "sc_x.yaml").write_text(SPEC)  # reuses a paper spec's name
    (roots["MINE"] / "mine.yaml").write_text(SPEC)
    other = tmp_path / "copy"
    other.mkdir()
    (other / "mine.yaml").write_text(SPEC)  # would overwrite myspecs/results/mine
    (other / "bad name.yaml").write_text(SPEC)
    messages = [str(e) for e in workspace.identity_problems([other / "mine.yaml", other / "bad name.yaml"])]
    text = "\n".join(messages)
    assert "grid_x' starts with grid_ or ri_" in text
    assert "old.yml" in text and "end in .yaml" in text
    assert "'sc_x' is the name of a paper spec" in text
    assert "these specs would all write" in text and "mine.yaml" in text
    assert "'bad name' is not a plain name" in text
    assert not any("specs/sc_x.yaml" in m and "would all write" in m for m in messages)  # different roots


def test_a_spec_outside_analysis_specs_never_writes_the_paper_results(roots, tmp_path, monkeypatch):
    from analysis.estimators.simulate import simulate_panel

    panel = simulate_panel(40, seed=2)
    monkeypatch.setattr(sample, "PANEL", tmp_path / "panel.parquet")
    panel.to_parquet(tmp_path / "panel.parquet")
    copy = tmp_path / "anywhere" / "copied.yaml"
    copy.parent.mkdir()
    copy.write_text(SPEC)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert estimate.main([str(copy)]) == 0
        assert (roots["MINE_RESULTS"] / "copied" / "overall.csv").exists()
        assert not roots["RESULTS"].exists()
        assert estimate.main([str(copy), "--out", str(tmp_path / "out")]) == 0
    assert (tmp_path / "out" / "copied" / "overall.csv").exists()
    assert (tmp_path / "out" / "copied" / "spec.yaml").read_text() == SPEC


def test_two_specs_given_for_one_folder_write_nothing(roots, tmp_path, capsys):
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "same.yaml").write_text(SPEC)
    assert estimate.main([str(tmp_path / "a" / "same.yaml"), str(tmp_path / "b" / "same.yaml")]) == 1
    assert "would all write" in capsys.readouterr().err
    assert not roots["MINE_RESULTS"].exists()


def test_main_tables_use_the_program_field_not_file_names(monkeypatch):
    monkeypatch.setitem(
        main_tables.MAIN_SPECS, "sc", {"index": "us_287g_index", "violent": "sc_violent", "property": "sc_property"}
    )
    with pytest.raises(ValueError, match="us_287g_index: program 287g"):
        main_tables.program_table("sc", main_tables.COLUMNS_SC)


def test_results_folders_are_found_by_name(roots):
    (roots["MINE_RESULTS"] / "mine").mkdir(parents=True)
    pd.DataFrame({"estimator": ["twfe"]}).to_csv(roots["MINE_RESULTS"] / "mine" / "overall.csv", index=False)
    assert workspace.results_folder("mine") == roots["MINE_RESULTS"] / "mine"
    with pytest.raises(FileNotFoundError, match="no results for spec 'nothing'"):
        workspace.results_folder("nothing")


def test_the_workspace_is_gitignored_but_its_readme_is_not():
    ignore = (config.ROOT / ".gitignore").read_text()
    assert "myspecs/*" in ignore and "!myspecs/README.md" in ignore
    assert (config.ROOT / "myspecs" / "README.md").exists()
