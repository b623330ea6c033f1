"""Make's module dependencies (analysis.infra.makedeps): every module a step can load is a prerequisite
of the step, including modules loaded by name at run time, so editing any of them reruns the step."""

from __future__ import annotations

import pytest

from analysis.config import ROOT
from analysis.infra import makedeps

TIER = "unit"  # the default tier of these tests (tests/conftest.py)


@pytest.fixture
def package(tmp_path, monkeypatch):
    """A package analysis/pkg in a temporary root: ``loader`` imports its siblings by name only."""
    monkeypatch.setattr(makedeps, "ROOT", tmp_path)
    pkg = tmp_path / "analysis" / "pkg"
    pkg.mkdir(parents=True)
    (tmp_path / "analysis" / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("")
    (pkg / "loader.py").write_text(
        "import importlib\n\ndef load(name):\n    return importlib.import_module(f'analysis.pkg.{name}')\n"
    )
    (pkg / "fit.py").write_text("from analysis.pkg import helper\n")
    (pkg / "helper.py").write_text("")
    (pkg / "plain.py").write_text("X = 1\n")
    return tmp_path


def test_a_module_loaded_by_name_is_a_dependency(package):
    files = {p.as_posix() for p in makedeps.closure({"analysis.pkg.loader"})}
    assert {"analysis/pkg/fit.py", "analysis/pkg/helper.py", "analysis/pkg/plain.py"} <= files


def test_static_imports_only_follow_what_is_imported(package):
    files = {p.as_posix() for p in makedeps.closure({"analysis.pkg.fit"})}
    assert files == {
        "analysis/__init__.py",
        "analysis/pkg/__init__.py",
        "analysis/pkg/fit.py",
        "analysis/pkg/helper.py",
    }


def test_every_estimator_module_is_a_prerequisite_of_the_spec_runs():
    """The registry imports each estimator's module by name when it first fits (twfe, imputation, ...):
    all of them must rerun the specs when edited."""
    deps = {p.as_posix() for p in makedeps.closure({"analysis.estimate"}, entry=True)}
    modules = {p.relative_to(ROOT).as_posix() for p in (ROOT / "analysis" / "estimators").glob("*.py")}
    assert modules - deps == set()
