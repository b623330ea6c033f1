"""Compile paper/paper.pdf so that no interruption can leave a broken paper: ``python -m analysis.paper``.

latexmk runs in a fresh temporary folder ``paper/.build.<pid>.<random>.tmp`` that receives every file
LaTeX writes (aux, bbl, log, fdb_latexmk, the PDF); the sources and paper/generated/ are read in
place. Only a complete PDF is moved onto paper/paper.pdf (one rename), and the LaTeX log of the
build is kept as paper/paper.log. A reference or citation left undefined by the last pass (latexmk exits
0 and the PDF prints ??) stops the build too, naming each. A build killed at any moment (SIGINT,
SIGKILL) leaves paper.pdf as it was, newer than nothing, and no half-written .aux or .fdb_latexmk that
a later build would trip over; its temporary folder is removed by the next build. On a LaTeX error
the command exits 1 and prints LaTeX's error lines.
"""

from __future__ import annotations

import os
import re
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


UNRESOLVED = re.compile(r"(?:LaTeX|Package natbib) Warning: (Reference|Citation) `([^']*)' on page (\d+) undefined")


SUMMARY = re.compile(r"Warning: There were undefined (references|citations)")


def unresolved(log: str) -> list[str]:
    """The references and citations the final LaTeX pass left undefined ('Reference `x' on page 3'), in the
    order of the log (its lines, wrapped at 79 characters, joined first); latexmk exits 0 on them and the PDF
    prints ?? where they stand. LaTeX's closing summary alone also counts, as 'undefined references'."""
    text = re.sub(r"(?m)^(.{79})\n", r"\1", log)
    found = list(dict.fromkeys(f"{kind} `{key}' on page {page}" for kind, key, page in UNRESOLVED.findall(text)))
    return found or [f"undefined {m}" for m in dict.fromkeys(SUMMARY.findall(text))]


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
        missing = unresolved(log.read_text(errors="replace"))
        if missing:
            raise LatexError(
                f"{source}: {len(missing)} unresolved reference(s) or citation(s), printed as ?? in the PDF "
                f"(log: {folder / log.name}); paper.pdf was left as it was.\n" + "\n".join(missing[:12])
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
