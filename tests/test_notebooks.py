"""Tests of the notebooks and their runner (analysis.infra.notebooks).

The notebooks are executed once per build, by ``make notebooks`` (``python -m analysis.infra.notebooks``, which
exits non-zero naming the cell when one fails or times out, so a build with a broken notebook stops). The
data tier checks those executed copies in notebooks/_build/: one per source, of the current source's
cells, every cell run in order without error, no timings or addresses, valid HTML. The unit tier runs the
runner itself on hand-built notebooks (a failing cell, a timeout, a missing source).
"""

from __future__ import annotations

import subprocess
import sys

import nbformat
import pytest

from analysis import config
from analysis.infra.notebooks import _KernelManager, read_source

TIER = "unit"
SOURCES = sorted(config.NOTEBOOKS.glob("*.py"))
CELL_TIMEOUT = 120  # seconds per cell in these tests (make uses analysis.infra.notebooks.TIMEOUT)
NOTEBOOK_TIMEOUT = 300


def _run(sources, out, timeout=CELL_TIMEOUT) -> subprocess.Popen:
    """Start the runner on ``sources`` writing to ``out`` (cwd: the repo root)."""
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "analysis.infra.notebooks",
            *map(str, sources),
            "--out",
            str(out),
            "--timeout",
            str(timeout),
        ],
        cwd=config.ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_there_are_notebooks_with_ordered_names():
    assert SOURCES, "no notebooks/*.py"
    assert all(s.stem[:2].isdigit() and s.stem[2] == "_" for s in SOURCES)


@pytest.mark.data
@pytest.mark.parametrize("source", SOURCES, ids=[s.stem for s in SOURCES])
def test_built_notebook_ran_clean(source):
    """notebooks/_build/<name>.ipynb and .html, as make notebooks wrote them from the current source."""
    out = config.NOTEBOOK_BUILD
    built = out / f"{source.stem}.ipynb"
    assert built.exists() and (out / f"{source.stem}.html").exists(), f"{built} missing: run make notebooks"
    nb = nbformat.read(built, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    expected = [c.source for c in read_source(source).cells if c.cell_type == "code"]
    assert [c.source for c in code] == expected, f"{built} is not of the current {source.name}: run make notebooks"
    assert [c.execution_count for c in code] == list(range(1, len(code) + 1))
    assert not any(o.output_type == "error" for c in code for o in c.outputs)
    text = built.read_text(encoding="utf-8")
    assert '"execution"' not in text and " at 0x" not in text  # no timings, no memory addresses
    assert nb.metadata.kernelspec.name == "python3" and "jupytext" not in nb.metadata
    assert (out / f"{source.stem}.html").read_text(encoding="utf-8").lstrip().lower().startswith("<!doctype html")


def test_kernel_is_the_running_interpreter():
    """No registered kernel is needed: every kernel name starts ipykernel on sys.executable."""
    km = _KernelManager(kernel_name="python3")
    assert km.kernel_spec.argv[:3] == [sys.executable, "-m", "ipykernel_launcher"]


def test_source_converts_with_the_python3_kernelspec(tmp_path):
    source = tmp_path / "x.py"
    source.write_text("# %% [markdown]\n# Title\n\n# %%\nx = 1\n", encoding="utf-8")
    nb = read_source(source)
    assert [c.cell_type for c in nb.cells] == ["markdown", "code"]
    assert nb.metadata.kernelspec == {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}


FAILING = """# %% [markdown]
# # A notebook that fails

# %%
from analysis import config
x = 1

# %%
y = 2
ratio = x / 0

# %%
print("never reached")
"""


def test_failing_cell_exits_non_zero_naming_it_and_writes_nothing(tmp_path):
    source, out = tmp_path / "09_broken.py", tmp_path / "out"
    source.write_text(FAILING, encoding="utf-8")
    out.mkdir()
    (out / "09_broken.html").write_text("previous build", encoding="utf-8")  # kept as it was
    process = _run([source], out)
    stdout, stderr = process.communicate(timeout=NOTEBOOK_TIMEOUT)
    assert process.returncode == 1
    message = next(line for line in stderr.splitlines() if line.startswith("error:"))
    assert "09_broken.py: cell 2 (line 9: `y = 2`) failed: ZeroDivisionError" in message, stderr
    assert "nothing written" in message
    assert sorted(p.name for p in out.iterdir()) == ["09_broken.html"]
    assert (out / "09_broken.html").read_text(encoding="utf-8") == "previous build"


def test_cell_timeout_exits_non_zero_naming_the_cell(tmp_path):
    source = tmp_path / "slow.py"
    source.write_text("# %%\nimport time\n\n# %%\ntime.sleep(60)\n", encoding="utf-8")
    process = _run([source], tmp_path / "out", timeout=2)
    _, stderr = process.communicate(timeout=NOTEBOOK_TIMEOUT)
    assert process.returncode == 1
    assert "slow.py: cell 1 (line 5: `time.sleep(60)`) failed: timed out" in stderr
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_missing_source_is_an_error(tmp_path):
    process = _run([tmp_path / "nope.py"], tmp_path / "out")
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 1 and "nope.py: no such notebook source" in stderr
