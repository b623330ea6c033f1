"""The paper build (analysis.paper) cannot be broken by an interruption: latexmk runs in a temporary
folder, only a complete PDF replaces paper.pdf, and the next build clears what a killed one left.

A small document of many pages (so that each pdflatex pass takes a moment) is built with the real
latexmk; the build is killed (SIGKILL to its whole process group, or SIGINT) at three moments:
while latexmk starts, once the first pass has written its .aux, and once a pass has written a PDF."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from analysis import paper
from analysis.config import ROOT

TIER = "unit"  # the default tier of these tests (tests/conftest.py)

pytestmark = pytest.mark.skipif(shutil.which("latexmk") is None, reason="latexmk is not installed")

DOC = r"""\documentclass{article}
\begin{document}
\section{One}\label{one}
See Section~\ref{one} on page~\pageref{last}.
\newcount\n \n=0
\loop\ifnum\n<400 \advance\n by 1 Paragraph \the\n: \dotfill\par \repeat
\label{last}
\end{document}
"""
BUILD = (
    "import sys; from pathlib import Path; from analysis import paper; from analysis.infra import cli; "
    "cli.run(lambda: paper.build(Path(sys.argv[1]), Path(sys.argv[2])), 'paper')"
)


@pytest.fixture
def doc(tmp_path):
    """A folder with doc.tex and a previous good doc.pdf; returns (source, pdf)."""
    source, pdf = tmp_path / "doc.tex", tmp_path / "doc.pdf"
    source.write_text(DOC)
    paper.build(source, pdf)
    return source, pdf


def start(source: Path, pdf: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", BUILD, str(source), str(pdf)],
        cwd=ROOT,
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for(folder: Path, pattern: str, proc: subprocess.Popen, timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        if list(folder.glob(pattern)):
            return True
        time.sleep(0.005)
    return False


MOMENTS = {
    "latexmk starting": ".build.*.tmp",
    "after the first .aux": ".build.*.tmp/doc.aux",
    "after a PDF pass": ".build.*.tmp/doc.pdf",
}


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT], ids=["SIGKILL", "SIGINT"])
@pytest.mark.parametrize("moment", list(MOMENTS))
def test_a_killed_build_leaves_the_old_pdf_and_the_next_build_recovers(doc, moment, sig):
    source, pdf = doc
    folder = source.parent
    before, before_time = pdf.read_bytes(), pdf.stat().st_mtime_ns
    later = before_time + 1_000_000_000
    os.utime(source, ns=(later, later))  # the source is now newer than the PDF, as when make starts a rebuild
    proc = start(source, pdf)
    assert wait_for(folder, MOMENTS[moment], proc), f"the build ended before {moment}"
    os.killpg(proc.pid, sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode != 0
    if sig == signal.SIGINT:
        assert "Traceback" not in err
    assert pdf.read_bytes() == before and pdf.stat().st_mtime_ns == before_time
    assert pdf.stat().st_mtime_ns < source.stat().st_mtime_ns  # still out of date for make
    assert not [p for p in folder.iterdir() if p.suffix in (".aux", ".fdb_latexmk", ".fls", ".bbl", ".out")]
    paper.build(source, pdf)  # the next build succeeds and clears the killed one's folder
    assert pdf.read_bytes().startswith(b"%PDF") and pdf.read_bytes().rstrip().endswith(b"%%EOF")
    assert not list(folder.glob(".build.*"))


def test_a_latex_error_keeps_the_old_pdf_and_says_why(doc):
    source, pdf = doc
    before = pdf.read_bytes()
    source.write_text(DOC.replace(r"\end{document}", r"\undefinedmacro \end{document}"))
    done = subprocess.run(
        [sys.executable, "-c", BUILD, str(source), str(pdf)], cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.startswith(f"error: {source}: LaTeX failed (log: {source.parent / 'doc.log'})")
    assert "Undefined control sequence" in done.stderr
    assert pdf.read_bytes() == before and not list(source.parent.glob(".build.*"))


def test_two_builds_give_the_same_bytes(doc, monkeypatch):
    source, pdf = doc
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    monkeypatch.setenv("FORCE_SOURCE_DATE", "1")
    paper.build(source, pdf)
    first = pdf.read_bytes()
    paper.build(source, pdf)
    assert pdf.read_bytes() == first


CITING = r"""\documentclass{article}
\begin{document}
See \cite{new}.
\bibliographystyle{plain}
\bibliography{refs}
\end{document}
"""


def test_stale_latex_files_beside_the_source_cannot_hide_a_new_citation(tmp_path):
    """An old in-place build's .aux/.bbl next to the source (citing nothing) is removed, so BibTeX
    reads the temporary folder's .aux and the new citation resolves instead of printing [?]."""
    source, pdf = tmp_path / "doc.tex", tmp_path / "doc.pdf"
    source.write_text(CITING)
    (tmp_path / "refs.bib").write_text("@article{new, author={A. Author}, title={T}, journal={J}, year={2005}}\n")
    (tmp_path / "doc.aux").write_text("\\relax\n\\bibstyle{plain}\n\\bibdata{refs}\n")
    (tmp_path / "doc.bbl").write_text("\\begin{thebibliography}{1}\n\\end{thebibliography}\n")
    paper.build(source, pdf)
    assert not (tmp_path / "doc.aux").exists() and not (tmp_path / "doc.bbl").exists()
    log = (tmp_path / "doc.log").read_text(errors="replace")
    assert "undefined" not in log.lower(), log[-2000:]


def test_an_unresolved_reference_or_citation_stops_the_build(doc):
    """latexmk exits 0 on an undefined \\ref or \\cite (the PDF prints ??): the build stops, naming them, and
    leaves the previous PDF."""
    source, pdf = doc
    before = pdf.read_bytes()
    source.write_text(DOC.replace("See Section~\\ref{one}", "See Section~\\ref{nowhere} and \\cite{nobody2020}"))
    with pytest.raises(paper.LatexError, match=r"2 unresolved.*\n.*Reference `nowhere' on page 1") as err:
        paper.build(source, pdf)
    assert "Citation `nobody2020' on page 1" in str(err.value)
    assert pdf.read_bytes() == before


def test_unresolved_names_wrapped_log_lines():
    long = (
        "LaTeX Warning: Reference `sec:a-label-long-enough-to-wrap-the-log-line' on page 12 undefined on input line 3."
    )
    log = "\n".join(long[i : i + 79] for i in range(0, len(long), 79))
    assert paper.unresolved(log) == ["Reference `sec:a-label-long-enough-to-wrap-the-log-line' on page 12"]
    assert paper.unresolved("LaTeX Warning: There were undefined references.\n") == ["undefined references"]
    assert paper.unresolved("LaTeX Warning: Label(s) may have changed.\n") == []
