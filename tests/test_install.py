"""pip install -e . : the explicit package list and data files cover the package; installed, analysis
imports from any folder."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
import tomllib

import pytest

from analysis.config import ROOT

TIER = "unit"  # the default tier of these tests (tests/conftest.py)


def test_package_list_and_data_cover_every_package_and_file():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    packages = set(project["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "analysis").rglob("__init__.py")}
    assert packages == found
    data = project["tool"]["setuptools"]["package-data"]
    for package in packages:
        folder = ROOT.joinpath(*package.split("."))
        for path in folder.rglob("*"):
            if path.is_file() and path.suffix in (".yaml", ".csv") and "__pycache__" not in path.parts:
                rel = path.relative_to(folder).as_posix()
                owner = ".".join(path.parent.relative_to(ROOT).parts)
                patterns = data.get(package, []) if owner == package or owner not in packages else []
                assert (
                    any(path.match(p) or rel == p or path.relative_to(folder).match(p) for p in patterns)
                    or owner != package
                    and owner in packages
                ), f"{rel} of {package} is not package data"
    assert project["project"]["dynamic"] == ["dependencies"]
    assert project["tool"]["setuptools"]["dynamic"]["dependencies"]["file"] == ["requirements.txt"]


def test_installed_package_imports_from_any_folder(tmp_path):
    try:
        importlib.metadata.distribution("immigration-enforcement-crime")
    except importlib.metadata.PackageNotFoundError:
        pytest.skip("not installed in this environment (pip install -e .)")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    code = "import analysis, analysis.config as c; print(analysis.__file__); print(c.ROOT)"
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [str(ROOT / "analysis" / "__init__.py"), str(ROOT)]
