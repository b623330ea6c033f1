"""Compile paper/paper.pdf so that no interruption can leave a broken paper: ``python -m analysis.paper``.

latexmk runs in a fresh temporary folder ``paper/.build.<pid>.<random>.tmp`` that receives every file
LaTeX writes (aux, bbl, log, fdb_latexmk, the PDF); the sources and paper/generated/ are read in
place. Only a complete PDF is moved onto paper/paper.pdf (one rename), and the LaTeX log of the
build is kept as paper/paper.log. A build killed at any moment (SIGINT, SIGKILL) leaves paper.pdf as
it was, newer than nothing, and no half-written .aux or .fdb_latexmk that a later build would trip
over; its temporary folder is removed by the next build. On a LaTeX error the command exits 1 and
prints LaTeX's error lines.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from analysis.config import PAPER
from analysis.infra import cli
from analysis.infra.atomic import atomic_path, remove_stale
from analysis.infra.errors import StopBuild

SOURCE = PAPER / "paper.tex"
PDF = PAPER / "paper.pdf"
LOG = PAPER / "paper.log"
# The PDF trailer /ID would hash the temporary folder's name: an empty \pdftrailerid leaves it out.


class LatexError(RuntimeError, StopBuild):
    """LaTeX stopped; the message quotes its error lines."""


# Files an in-place LaTeX run leaves beside the source; a stale .aux/.bbl there is read instead of the
# temporary folder's (a new citation then prints as [?]), so they are removed before each build.
STALE = (".aux", ".bbl", ".blg", ".fdb_latexmk", ".fls", ".out", ".toc", ".run.xml", ".bcf")
LATEXMK = ["latexmk", "-pdf", "-interaction=nonstopmode", "-halt-on-error", "-quiet", r"-usepretex=\pdftrailerid{}"]


def errors(log: str, lines: int = 12) -> str:
    """The error lines of a LaTeX log ('! ...' and the few lines after each), else its tail."""
    text = log.splitlines()
    hits = [i for i, line in enumerate(text) if line.startswith("!")]
    if not hits:
        return "\n".join(text[-lines:])
    return "\n".join(line for i in hits[:3] for line in text[i : i + 4])


def build(source: Path = SOURCE, pdf: Path = PDF) -> Path:
    """Compile ``source`` in a temporary folder beside it and move the PDF onto ``pdf``."""
    folder = source.parent
    remove_stale(folder / "build")
    for ext in STALE:  # LaTeX files of builds made in place (before the temporary folder): BibTeX read them
        (folder / f"{source.stem}{ext}").unlink(missing_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".build.{os.getpid()}.", suffix=".tmp", dir=folder))
    try:
        done = subprocess.run(
            [*LATEXMK, f"-outdir={tmp.name}", source.name], cwd=folder, capture_output=True, text=True
        )
        log = tmp / f"{source.stem}.log"
        if log.exists():
            with atomic_path(folder / f"{source.stem}.log") as keep:
                shutil.copyfile(log, keep)
        built = tmp / f"{source.stem}.pdf"
        if done.returncode != 0 or not built.is_file() or built.stat().st_size == 0:
            detail = errors(log.read_text(errors="replace")) if log.exists() else done.stdout + done.stderr
            raise LatexError(
                f"{source}: LaTeX failed (log: {folder / log.name}); paper.pdf was left as it was.\n{detail}"
            )
        with atomic_path(pdf) as out:
            shutil.copyfile(built, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return pdf


def main() -> None:
    print(build())


if __name__ == "__main__":
    cli.run(main, "paper")
