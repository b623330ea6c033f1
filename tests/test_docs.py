"""Documentation that stays true.

* The README's exhibit table lists every table and figure the paper shows, nothing the paper no
  longer shows, and every function it names exists in the module it names.
* ``analysis/exhibits/inputs.py`` says every exhibit module reads its inputs through it (so a missing
  file stops ``make exhibits`` with its name): every file read in analysis/exhibits/ goes through
  ``require`` or an ``inputs`` reader.
"""

from __future__ import annotations

import ast
import re

from analysis.config import ROOT

TIER = "unit"  # the default tier of these tests (tests/conftest.py)

README = ROOT / "README.md"
PAPER_SOURCES = [ROOT / "paper" / "paper.tex", *sorted((ROOT / "paper" / "sections").glob("*.tex"))]


def exhibit_rows() -> list[list[str]]:
    """The cells of the README's exhibit table (header and rule lines excluded)."""
    lines = README.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| exhibit (paper)"))
    rows = []
    for line in lines[start + 2 :]:
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
            defined = {
                n.name for n in ast.parse(path.read_text()).body if isinstance(n, ast.FunctionDef | ast.ClassDef)
            }
            for name in filter(None, (n.strip() for n in (names or "").split(","))):
                if name not in defined:
                    wrong.append(f"{module}: {name}")
    assert not wrong, f"README.md names functions that do not exist: {wrong}"


READERS = {"read_csv", "read_parquet", "read_text", "read_bytes", "load", "open", "read_file"}


def _unguarded_reads(tree: ast.AST) -> list[int]:
    """Line numbers of calls that read a file whose path is not wrapped in ``require(...)``."""
    from_inputs = {
        a.asname or a.name
        for n in ast.walk(tree)
        if isinstance(n, ast.ImportFrom) and n.module == "analysis.exhibits.inputs"
        for a in n.names
    }
    lines = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        owner = func.value if isinstance(func, ast.Attribute) else None
        if (
            name not in READERS
            or (isinstance(owner, ast.Name) and owner.id == "inputs")
            or (owner is None and name in from_inputs)
        ):
            continue
        if name in {"read_text", "read_bytes"}:  # path.read_text(): the path is the owner
            target = owner
        elif name == "load" and not (isinstance(owner, ast.Name) and owner.id in {"json", "yaml", "pickle"}):
            continue
        else:
            target = node.args[0] if node.args else None
        guarded = (
            isinstance(target, ast.Call) and getattr(target.func, "attr", getattr(target.func, "id", "")) == "require"
        )
        if not guarded:
            lines.append(node.lineno)
    return lines


def test_exhibits_read_every_file_through_inputs():
    folder = ROOT / "analysis" / "exhibits"
    # numbers.py's parse reads a written numbers.tex back (for tests and notebooks), not an input.
    wrong = [
        f"{path.name}:{line}"
        for path in sorted(folder.glob("*.py"))
        if path.name not in {"inputs.py", "numbers.py"}
        for line in _unguarded_reads(ast.parse(path.read_text()))
    ]
    assert not wrong, (
        f"exhibit modules read files without inputs.require (a missing file would not stop the build by name): {wrong}"
    )


def test_unguarded_read_is_detected():
    """The check above can fail: a bare pd.read_csv(path) is reported, a guarded one is not."""
    assert _unguarded_reads(ast.parse("import pandas as pd\npd.read_csv(config.PANEL)\n")) == [2]
    assert _unguarded_reads(ast.parse("pd.read_csv(require(p))\njson.loads(require(p).read_text())\n")) == []
    assert _unguarded_reads(ast.parse("x = Path(p).read_text()\n")) == [1]
