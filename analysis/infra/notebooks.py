"""Execute the jupytext notebooks: ``python -m analysis.infra.notebooks notebooks/NAME.py ...``.

Each source (py:percent) is converted to a notebook and run top to bottom by nbclient in a fresh
kernel started with *this* interpreter (sys.executable: no registered kernel needed), with the
repository root as working directory and a per-cell timeout. On success it writes
notebooks/_build/NAME.ipynb and NAME.html atomically; the files carry no timings or dates, so
two runs on the same data and environment give the same notebook. If a cell fails (error,
timeout, dead kernel) it exits 1 naming the notebook and the failing cell (index, line in the
source and first source line) and writes nothing. Options: ``--timeout SECONDS`` per cell
(default TIMEOUT), ``--out FOLDER`` (default notebooks/_build).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
from pathlib import Path

import jupytext
import nbformat
from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
from nbconvert import HTMLExporter
from traitlets import default

from analysis.config import NOTEBOOK_BUILD, ROOT
from analysis.infra import cli
from analysis.infra.atomic import atomic_path
from analysis.infra.errors import StopBuild

TIMEOUT = 600  # seconds per cell
KERNEL = "python3"
KERNELSPEC = {"name": KERNEL, "display_name": "Python 3 (ipykernel)", "language": "python"}
INLINE = "module://matplotlib_inline.backend_inline"


class NotebookError(RuntimeError, StopBuild):
    """A notebook could not be run to the end; the message names the notebook and the cell."""


class _SpecManager(KernelSpecManager):
    """Every kernel name resolves to ipykernel on the running interpreter (ignores user kernels). Its
    own log stays at ERROR: the local kernel's warning about unencrypted TCP on 127.0.0.1 is noise."""

    def get_kernel_spec(self, kernel_name: str) -> KernelSpec:
        return KernelSpec(
            argv=[
                sys.executable,
                "-m",
                "ipykernel_launcher",
                "-f",
                "{connection_file}",
                "--IPKernelApp.log_level=ERROR",
            ],
            display_name=KERNELSPEC["display_name"],
            language="python",
        )


class _KernelManager(AsyncKernelManager):
    """An AsyncKernelManager whose kernel spec is _SpecManager's."""

    @default("kernel_spec_manager")
    def _kernel_spec_manager_default(self) -> KernelSpecManager:
        return _SpecManager(data_dir=self.data_dir)


class _Client(NotebookClient):
    """NotebookClient that remembers the index of the cell it is executing."""

    current: int | None = None

    async def async_execute_cell(self, cell, cell_index, execution_count=None, store_history=True):
        self.current = cell_index
        return await super().async_execute_cell(cell, cell_index, execution_count, store_history)


def read_source(path: Path) -> nbformat.NotebookNode:
    """The py:percent source as a notebook, with the python3 kernelspec and no jupytext metadata."""
    nb = jupytext.read(path, fmt="py:percent")
    nb.metadata.pop("jupytext", None)
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    return nb


def _source_line(text: str, nb: nbformat.NotebookNode, index: int) -> int | None:
    """1-based line in the source file where cell ``index`` starts its code (None if not found)."""
    pos = 0
    for i, cell in enumerate(nb.cells[: index + 1]):
        first = next((line for line in cell.source.splitlines() if line.strip()), "")
        found = text.find(first, pos) if first else -1
        if found < 0:
            return None
        pos = found + len(first)
        if i == index:
            return text.count("\n", 0, found) + 1
    return None


def _kernel_env(ipython_dir: str) -> dict[str, str]:
    """The kernel's environment: ours, with the repo importable, inline figures, a fixed hash seed
    and a throw-away IPython profile (no user startup files)."""
    path = os.pathsep.join(p for p in [str(ROOT), os.environ.get("PYTHONPATH", "")] if p)
    return {
        **os.environ,
        "PYTHONPATH": path,
        "MPLBACKEND": INLINE,
        "IPYTHONDIR": ipython_dir,
        "PYTHONHASHSEED": os.environ.get("PYTHONHASHSEED", "0"),
    }


def _describe(path: Path, nb: nbformat.NotebookNode, index: int | None, err: Exception) -> str:
    """'notebooks/x.py: cell 4 (line 31: `first line`) failed: ValueError: ...'."""
    if isinstance(err, CellExecutionError):
        what = f"{err.ename}: {err.evalue}" if err.evalue else err.ename
    elif isinstance(err, CellTimeoutError):
        what = "timed out (raise --timeout)"
    else:
        what = f"{type(err).__name__}: {err}".strip()
    name = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    if index is None:
        return f"{name}: the kernel failed before the first cell: {what}"
    first = next((line for line in nb.cells[index].source.splitlines() if line.strip()), "")
    line = _source_line(path.read_text(encoding="utf-8"), nb, index)
    at = f"line {line}: " if line else ""
    return f"{name}: cell {index} ({at}`{first.strip()}`) failed: {what}"


def execute(path: Path, timeout: int = TIMEOUT) -> nbformat.NotebookNode:
    """Run the notebook of source ``path`` in a fresh kernel (cwd = repo root); NotebookError if a cell fails."""
    path = Path(path).resolve()
    nb = read_source(path)
    client = _Client(
        nb,
        timeout=timeout,
        kernel_name=KERNEL,
        kernel_manager_class=_KernelManager,
        record_timing=False,
        allow_errors=False,
        resources={"metadata": {"path": str(ROOT)}},
    )
    with tempfile.TemporaryDirectory(prefix="ipython-") as ipython_dir:
        try:
            client.execute(env=_kernel_env(ipython_dir))
        except (CellExecutionError, CellTimeoutError, DeadKernelError, RuntimeError, TimeoutError) as err:
            raise NotebookError(_describe(path, nb, client.current, err)) from None
    return _clean(nb)


def _clean(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Drop what changes from run to run: cell timings/ids metadata, widget state."""
    nb.metadata.pop("widgets", None)
    for i, cell in enumerate(nb.cells):
        cell.metadata.pop("execution", None)
        cell["id"] = f"cell-{i}"
    return nb


def to_html(nb: nbformat.NotebookNode, name: str) -> str:
    """The executed notebook as one self-contained HTML page (JupyterLab template, figures inline)."""
    body, _ = HTMLExporter(template_name="lab").from_notebook_node(nb, resources={"metadata": {"name": name}})
    return body


def build(source: Path, out: Path = NOTEBOOK_BUILD, timeout: int = TIMEOUT) -> tuple[Path, Path]:
    """Execute ``source`` and write out/NAME.ipynb and out/NAME.html, both or neither."""
    name = Path(source).stem
    nb = execute(source, timeout)
    text, html = nbformat.writes(nb) + "\n", to_html(nb, name)
    targets = (Path(out) / f"{name}.ipynb", Path(out) / f"{name}.html")
    with contextlib.ExitStack() as stack:  # both to temporaries; renamed (ipynb, then html) at the end
        html_tmp = stack.enter_context(atomic_path(targets[1]))
        ipynb_tmp = stack.enter_context(atomic_path(targets[0]))
        ipynb_tmp.write_text(text, encoding="utf-8", newline="\n")
        html_tmp.write_text(html, encoding="utf-8", newline="\n")
    return targets


def main(argv: list[str] | None = None) -> int:
    """Build each notebook named on the command line; stop at the first failure (exit 1)."""
    parser = argparse.ArgumentParser(prog="python -m analysis.infra.notebooks", description=__doc__.splitlines()[0])
    parser.add_argument("sources", nargs="+", type=Path, help="notebooks/NAME.py (jupytext py:percent)")
    parser.add_argument("--timeout", type=int, default=TIMEOUT, help=f"seconds per cell (default {TIMEOUT})")
    parser.add_argument("--out", type=Path, default=NOTEBOOK_BUILD, help="output folder (default notebooks/_build)")
    args = parser.parse_args(argv)
    for source in args.sources:
        if not source.is_file():
            print(f"error: {source}: no such notebook source", file=sys.stderr)
            return 1
        try:
            ipynb, html = build(source, args.out, args.timeout)
        except NotebookError as err:
            print(f"error: {err}; nothing written", file=sys.stderr)
            return 1
        print(f"{source} -> {ipynb.name}, {html.name}")
    return 0


if __name__ == "__main__":
    cli.run(lambda: main(sys.argv[1:]), "notebooks")
