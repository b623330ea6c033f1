"""The README's exhibit table stays true: it lists every table and figure the paper shows, nothing
the paper no longer shows, and every function it names exists in the module it names."""
from __future__ import annotations

import ast
import re

from analysis.config import ROOT

README = ROOT / "README.md"
PAPER_SOURCES = [ROOT / "paper" / "paper.tex", *sorted((ROOT / "paper" / "sections").glob("*.tex"))]


def exhibit_rows() -> list[list[str]]:
    """The cells of the README's exhibit table (header and rule lines excluded)."""
    lines = README.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| exhibit (paper)"))
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


def paper_exhibits() -> set[str]:
    """``tables/<name>`` and ``figures/<name>`` of every table body and figure the paper includes."""
    text = "\n".join(p.read_text() for p in PAPER_SOURCES)
    tables = {f"tables/{n}" for n in re.findall(r"\\tablebody\{([A-Za-z0-9_]+)\}", text)}
    figures = {f"figures/{n}" for n in re.findall(r"\\includegraphics(?:\[[^]]*\])?\{([A-Za-z0-9_]+)\}", text)}
    return tables | figures


def readme_outputs() -> set[str]:
    outputs = set()
    for row in exhibit_rows():
        outputs |= set(re.findall(r"`((?:tables|figures)/[A-Za-z0-9_]+)`", row[3]))
    return outputs


def test_readme_lists_every_exhibit_of_the_paper():
    missing = paper_exhibits() - readme_outputs()
    assert not missing, f"README.md's exhibit table lacks: {sorted(missing)}"


def test_readme_lists_no_exhibit_the_paper_dropped():
    stale = readme_outputs() - paper_exhibits()
    assert not stale, f"README.md's exhibit table lists exhibits the paper does not show: {sorted(stale)}"


def test_readme_names_functions_that_exist():
    """Each ``module.py: f, g`` of the 'made by' column names top-level functions of that module."""
    wrong = []
    for row in exhibit_rows():
        for module, names in re.findall(r"`([a-z_/]+\.py)(?:: ([^`]+))?`", row[1]):
            path = ROOT / module if "/" in module else ROOT / "analysis" / "exhibits" / module
            if not path.exists():
                wrong.append(f"{module}: no such module")
                continue
            defined = {n.name for n in ast.parse(path.read_text()).body
                       if isinstance(n, ast.FunctionDef | ast.ClassDef)}
            for name in filter(None, (n.strip() for n in (names or "").split(","))):
                if name not in defined:
                    wrong.append(f"{module}: {name}")
    assert not wrong, f"README.md names functions that do not exist: {wrong}"
