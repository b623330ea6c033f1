"""Every table goes through the one LaTeX writer: no module but analysis/exhibits/latex.py writes
``\\begin{tabular}``, booktabs rules or ``\\multicolumn`` (issue #15)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from analysis import config
from analysis.exhibits import latex

TIER = "unit"  # reads only the package's own source files

WRITER = Path(latex.__file__).resolve()
# A LaTeX command as it appears in Python source: one or more backslashes (raw, escaped or
# doubled strings), the name, and for environments any number of braces (f-strings double them).
TABLE_MARKUP = re.compile(
    r"\\+(?:begin|end)\{+tabular\b|\\+(?:toprule|midrule|cmidrule|bottomrule|multicolumn|addlinespace)\b"
)


def offences(source: str) -> list[str]:
    """The lines of ``source`` that write table markup themselves ("line N: text")."""
    return [f"line {n}: {line.strip()}" for n, line in enumerate(source.splitlines(), 1) if TABLE_MARKUP.search(line)]


def modules() -> list[Path]:
    """Every Python module of the analysis package except the writer."""
    root = config.ROOT / "analysis"
    found = sorted(p for p in root.rglob("*.py") if p.resolve() != WRITER)
    assert any(p.parent.name == "exhibits" for p in found), "no exhibit modules found: wrong root"
    return found


def test_no_module_but_the_writer_writes_table_markup():
    bad = {str(p.relative_to(config.ROOT)): offences(p.read_text(encoding="utf-8")) for p in modules()}
    bad = {k: v for k, v in bad.items() if v}
    assert not bad, f"tables written by hand (use analysis.exhibits.latex): {bad}"


@pytest.mark.parametrize(
    "source",
    [
        'lines = [r"\\begin{tabular}{lrr}", r"\\toprule"]',  # raw strings
        'lines = ["\\\\begin{tabular}{lrr}"]',  # an escaped backslash
        'head = rf"\\begin{{tabular}}{{{spec}}}"',  # an f-string doubles the braces
        'x = "\\\\toprule"',
        'body = body.replace(head, r"\\begin{tabular}{lrrlp{3cm}}", 1)',  # patching the writer's header
        'cell = r"\\multicolumn{1}{c}{TWFE}"',
        'lines.insert(last, r"\\midrule")',
    ],
)
def test_the_check_finds_hand_written_tables(source):
    assert offences(source), source


@pytest.mark.parametrize(
    "source",
    [
        "body = latex.data_table(df, formats, midrule_before=[3])",
        "rows += [latex.MIDRULE]",
        '"""Writes the tabular body through analysis.exhibits.latex."""',
    ],
)
def test_the_check_passes_calls_to_the_writer(source):
    assert not offences(source)


def test_the_writer_itself_writes_the_markup():
    # the check would be empty if the writer did not contain what it looks for
    assert offences(WRITER.read_text(encoding="utf-8"))
