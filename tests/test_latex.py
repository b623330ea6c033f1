"""Tests of the LaTeX table writer: escaping, number format, exact bodies, refusals, compiling."""

from __future__ import annotations

import re
import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest

from analysis import config
from analysis.exhibits import latex
from analysis.exhibits.latex import Raw, data_table, regression_table

TIER = "unit"  # the default tier of these tests (tests/conftest.py)


@pytest.mark.parametrize(
    "char, expected",
    [
        ("&", r"\&"),
        ("%", r"\%"),
        ("$", r"\$"),
        ("#", r"\#"),
        ("_", r"\_"),
        ("{", r"\{"),
        ("}", r"\}"),
        ("~", r"\textasciitilde{}"),
        ("^", r"\textasciicircum{}"),
        ("\\", r"\textbackslash{}"),
        ("<", r"\textless{}"),
        (">", r"\textgreater{}"),
        ("|", r"\textbar{}"),
    ],
)
def test_escape_every_special_character(char, expected):
    assert latex.escape(f"a{char}b") == f"a{expected}b"


def test_escape_is_single_pass_and_raw_passes():
    # The braces produced for a backslash must not be escaped again.
    assert latex.escape("\\{x}") == r"\textbackslash{}\{x\}"
    assert latex.escape("plain text-with hyphen") == "plain text-with hyphen"
    assert latex.escape(Raw(r"$\hat\beta$")) == r"$\hat\beta$"


def test_escape_reaches_headers_labels_and_cells():
    df = pd.DataFrame({"a_b": ["x&y"], "c%": [1]})
    body = data_table(df, {"a_b": "text", "c%": "int"}, groups=[[("g#1", 2)]])
    assert r"a\_b & c\% \\" in body and r"x\&y & 1 \\" in body and r"{g\#1}" in body
    body = regression_table(
        ["m_1"], [("x~y", [{"estimate": 1.0, "se": 0.5}])], extra_rows=[("Control | group", ["not_yet"])]
    )
    for frag in (r"m\_1", r"x\textasciitilde{}y", r"Control \textbar{} group", r"not\_yet"):
        assert frag in body


@pytest.mark.parametrize(
    "x, digits, expected",
    [
        (0.12345, 3, "0.123"),
        (-0.12345, 3, "$-$0.123"),
        (-0.0004, 3, "0.000"),
        (1234567.891, 2, "1{,}234{,}567.89"),
        (-1234.5, 1, "$-$1{,}234.5"),
        (2.0, 0, "2"),
        (np.nan, 3, ""),
        (None, 3, ""),
        (np.float32(1.5), 2, "1.50"),
    ],
)
def test_fmt_number(x, digits, expected):
    assert latex.fmt_number(x, digits) == expected


def test_fmt_count_and_infinity():
    assert latex.fmt_count(1358626) == "1{,}358{,}626"
    assert latex.fmt_count(np.int64(-12000)) == "$-$12{,}000"
    assert latex.fmt_count(float("nan")) == ""
    with pytest.raises(ValueError):
        latex.fmt_count(2.5)
    with pytest.raises(ValueError):
        latex.fmt_number(float("inf"))


def test_data_table_exact_body_alignment_and_missing():
    df = pd.DataFrame(
        {
            "step": ["All counties", "Coverage >= 90"],
            "counties": [3142, np.nan],
            "share": [1.0, -0.25],
        }
    )
    body = data_table(df, {"step": "text", "counties": "int", "share": 2}, labels={"share": "Share kept"})
    assert body == (
        "\\begin{tabular}{lrr}\n"
        "\\toprule\n"
        "step & counties & Share kept \\\\\n"
        "\\midrule\n"
        "All counties & 3{,}142 & 1.00 \\\\\n"
        "Coverage \\textgreater{}= 90 &  & $-$0.25 \\\\\n"
        "\\bottomrule\n"
        "\\end{tabular}\n"
    )


def test_data_table_needs_exactly_one_format_per_column():
    df = pd.DataFrame({"a": [1], "b": [2]})
    with pytest.raises(KeyError):
        data_table(df, {"a": "int"})
    with pytest.raises(KeyError):
        data_table(df, {"a": "int", "b": "int", "c": "text"})
    with pytest.raises(ValueError):
        data_table(df, {"a": "int", "b": "float"})


def test_regression_table_exact_body():
    body = regression_table(
        ["(1)", "(2)"],
        [
            ("287(g) $\\times$ post", [{"estimate": -0.0123, "se": 0.0051}, {"estimate": 0.2, "se": 0.125}]),
            ("Secure Communities", [None, {"estimate": -1234.5, "se": 12.25}]),
        ],
        extra_rows=[
            ("N", [12345, 1234567]),
            ("County FE", ["Yes", "Yes"]),
            ("Control group", ["not-yet-treated", "never-treated"]),
        ],
        groups=[[("Violent crime", 2)]],
        stub="Outcome",
    )
    expected = r"""\begin{tabular}{lrr}
\toprule
 & \multicolumn{2}{c}{Violent crime} \\
\cmidrule(lr){2-3}
Outcome & \multicolumn{1}{c}{(1)} & \multicolumn{1}{c}{(2)} \\
\midrule
287(g) \$\textbackslash{}times\$ post & $-$0.012 & 0.200 \\
 & (0.005) & (0.125) \\
Secure Communities &  & $-$1{,}234.500 \\
 &  & (12.250) \\
\midrule
N & 12{,}345 & 1{,}234{,}567 \\
County FE & \multicolumn{1}{c}{Yes} & \multicolumn{1}{c}{Yes} \\
Control group & \multicolumn{1}{c}{not-yet-treated} & \multicolumn{1}{c}{never-treated} \\
\bottomrule
\end{tabular}
"""
    assert body == expected


def test_regression_table_stars_are_opt_in_and_padded():
    rows = [
        (
            "x",
            [
                {"estimate": 1.0, "se": 0.1, "p": 0.004},
                {"estimate": 1.0, "se": 0.9, "p": 0.07},
                {"estimate": 1.0, "se": 2.0, "p": 0.6},
            ],
        )
    ]
    plain = regression_table(["a", "b", "c"], rows)
    assert "*" not in plain
    starred = regression_table(["a", "b", "c"], rows, stars=True, extra_rows=[("N", [10, 20, 30])])
    assert r"1.000$^{***}$ & 1.000$^{*\phantom{**}}$ & 1.000$^{\phantom{***}}$ \\" in starred
    assert r"(0.100)$^{\phantom{***}}$" in starred
    assert r"N & 10$^{\phantom{***}}$ & 20$^{\phantom{***}}$ & 30$^{\phantom{***}}$ \\" in starred
    with pytest.raises(ValueError, match="p-value"):
        regression_table(["a"], [("x", [{"estimate": 1.0, "se": 0.1}])], stars=True)


@pytest.mark.parametrize(
    "cell",
    [
        {"estimate": 1.0, "t": 2.5},
        {"estimate": 1.0, "se": 0.4, "tstat": 2.5},
        {"estimate": 1.0, "z": 2.5},
        {"coef": 1.0, "se": 0.4},
    ],
)
def test_regression_table_refuses_anything_but_se(cell):
    with pytest.raises(ValueError, match="standard error|estimate"):
        regression_table(["(1)"], [("x", [cell])])


def test_regression_table_refuses_negative_se_and_other_parentheses():
    with pytest.raises(ValueError, match="negative"):
        regression_table(["(1)"], [("x", [{"estimate": 1.0, "se": -0.1}])])
    with pytest.raises(ValueError, match="standard errors only"):
        regression_table(["(1)"], [("x", [{"estimate": 1.0, "se": 0.1}])], in_parentheses="t")
    with pytest.raises(ValueError, match="both"):
        regression_table(["(1)"], [("x", [{"estimate": 1.0, "se": np.nan}])])
    with pytest.raises(ValueError, match="columns"):
        regression_table(["(1)", "(2)"], [("x", [{"estimate": 1.0, "se": 0.1}])])


def test_header_groups_must_span_all_columns():
    with pytest.raises(ValueError, match="add up"):
        regression_table(["(1)", "(2)"], [], groups=[[("a", 1)]])


def test_an_empty_header_group_keeps_its_columns():
    """An unlabelled group spanning k columns leaves k empty cells, so the next label sits over its own columns."""
    df = pd.DataFrame({"a": ["x"], "b": [1], "c": [2], "d": [3]})
    body = data_table(df, {"a": "text", "b": "int", "c": "int", "d": "int"}, groups=[[("", 2), ("Pair", 2)]])
    header = body.splitlines()[2]
    assert header == r" &  & \multicolumn{2}{c}{Pair} \\"
    assert r"\cmidrule(lr){3-4}" in body


def test_write_table_atomic_to_named_file(tmp_path):
    path = latex.write_table("BODY\n", "sample_log", directory=tmp_path)
    assert path == tmp_path / "sample_log.tex"
    assert path.read_text().endswith("BODY\n")
    assert [p.name for p in tmp_path.iterdir()] == ["sample_log.tex"]  # no temp file left
    with pytest.raises(ValueError):
        latex.write_table("BODY\n", "../escape", directory=tmp_path)
    assert latex.write_table.__defaults__[0] == config.TABLES


def _loaded_packages(tex: str) -> set[str]:
    names = set()
    for opts in re.findall(r"\\usepackage(?:\[[^\]]*\])?\{([^}]*)\}", tex):
        names.update(n.strip() for n in opts.split(","))
    return names


def test_paper_loads_required_packages():
    loaded = _loaded_packages((config.PAPER / "paper.tex").read_text(encoding="utf-8"))
    for line in latex.required_packages():
        assert _loaded_packages(line) <= loaded, f"paper/paper.tex lacks {line}"


def test_bodies_compile_with_pdflatex(tmp_path):
    if shutil.which("pdflatex") is None:
        pytest.skip("pdflatex is not installed: cannot compile the generated table bodies")
    reg = regression_table(
        ["(1)", "(2)", "(3)"],
        [
            (
                "287(g) agreement",
                [{"estimate": -0.01, "se": 0.02, "p": 0.6}, {"estimate": 0.031, "se": 0.01, "p": 0.002}, None],
            )
        ],
        extra_rows=[("Counties", [1234, 1234, 1200]), ("Control group", ["not-yet-treated"] * 3)],
        groups=[[("Violent", 2), ("Property", 1)], [("", 1), ("Levels & logs", 2)]],
        stars=True,
    )
    specials = "& % $ # _ { } ~ ^ \\ < > |"
    dat = data_table(
        pd.DataFrame({"text": [specials, None], "n": [1e6, np.nan], "x": [-1.5, 0.25]}),
        {"text": "text", "n": "int", "x": 3},
        groups=[[("Group_1", 1), ("Numbers", 2)]],
    )
    doc = (
        "\\documentclass{article}\n"
        + "\n".join(latex.required_packages())
        + "\n\\begin{document}\n"
        + reg
        + "\n\n"
        + dat
        + "\n\\end{document}\n"
    )
    (tmp_path / "t.tex").write_text(doc, encoding="utf-8")
    run = subprocess.run(
        ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "t.tex"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout[-3000:]
    assert (tmp_path / "t.pdf").exists()


# ---- the options that let every table go through the writer (issue #15) ----------------------------


def test_tabular_plain_headers_and_rules_between_rows():
    body = latex.tabular(
        ["l", "r"],
        ["Program", Raw("$p$")],
        [["287(g)", "0.02"], latex.ADDSPACE, ["SC", "$-$0.10"]],
    )
    assert body == (
        "\\begin{tabular}{lr}\n\\toprule\nProgram & $p$ \\\\\n\\midrule\n287(g) & 0.02 \\\\\n"
        "\\addlinespace\nSC & $-$0.10 \\\\\n\\bottomrule\n\\end{tabular}\n"
    )


def test_tabular_centres_headers_over_number_columns_only_when_asked():
    rows = [["a", "1", "x"]]
    centred = latex.tabular(["l", "r", "l"], ["Design", "TWFE", "Verdict"], rows, centre=True)
    assert "Design & \\multicolumn{1}{c}{TWFE} & Verdict \\\\" in centred
    plain = latex.tabular(["l", "r", "l"], ["Design", "TWFE", "Verdict"], rows)
    assert "Design & TWFE & Verdict \\\\" in plain


def test_tabular_column_specs_groups_and_row_space():
    body = latex.tabular(
        [r"p{0.1\textwidth}", "r", "r"],
        ["Study", "Est.", "SE"],
        [["A \\& B", "1.0", "(0.5)"]],
        groups=[[("", 1), ("Ours", 2)]],
        row_space="3pt",
    )
    lines = body.splitlines()
    assert lines[0] == r"\begin{tabular}{p{0.1\textwidth}rr}"
    assert lines[2:4] == [r" & \multicolumn{2}{c}{Ours} \\", r"\cmidrule(lr){2-3}"]
    assert lines[6] == r"A \& B & 1.0 & (0.5) \\[3pt]"


def test_tabular_refuses_ragged_rows_and_headers():
    with pytest.raises(ValueError, match="2 cells for 3 columns"):
        latex.tabular(["l", "r", "r"], ["a", "b", "c"], [["x", "1"]])
    with pytest.raises(ValueError, match="2 header labels for 3 columns"):
        latex.tabular(["l", "r", "r"], ["a", "b"], [])
    with pytest.raises(ValueError, match="do not add up"):
        latex.tabular(["l", "r"], ["a", "b"], [], groups=[[("G", 1)]])


def test_stack_puts_lines_in_one_top_aligned_cell():
    cell = latex.stack("$-$71.4", "(35.4)")
    assert isinstance(cell, Raw)
    assert cell == r"\begin{tabular}[t]{@{}r@{}}$-$71.4 \\ (35.4)\end{tabular}"
    assert latex.stack("a", align="l").startswith(r"\begin{tabular}[t]{@{}l@{}}")
    with pytest.raises(ValueError, match="l, c or r"):
        latex.stack("a", align="p{1cm}")


def test_data_table_column_spec_override():
    df = pd.DataFrame({"claim": ["a"], "n": [1], "how": ["long text"]})
    body = data_table(df, {"claim": "text", "n": "int", "how": "text"}, align={"how": r"p{0.38\textwidth}"})
    assert body.splitlines()[0] == r"\begin{tabular}{lrp{0.38\textwidth}}"
    assert data_table(df, {"claim": "text", "n": "int", "how": "text"}).splitlines()[0] == r"\begin{tabular}{lrl}"
    with pytest.raises(KeyError, match="unknown columns"):
        data_table(df, {"claim": "text", "n": "int", "how": "text"}, align={"nope": "l"})


def test_data_table_midrule_before_a_total_row():
    df = pd.DataFrame({"state": ["AK", "AL", "All"], "n": [1, 2, 3]})
    lines = data_table(df, {"state": "text", "n": "int"}, midrule_before=[2]).splitlines()
    assert lines[4:9] == [r"AK & 1 \\", r"AL & 2 \\", r"\midrule", r"All & 3 \\", r"\bottomrule"]
    with pytest.raises(IndexError, match="3 rows"):
        data_table(df, {"state": "text", "n": "int"}, midrule_before=[3])


def test_regression_table_panels():
    cell = {"estimate": 0.5, "se": 0.1}
    body = regression_table(
        ["(1)", "(2)"],
        [
            latex.Panel("A. Main", [("x", [cell, None])], [("N", [10, 20])]),
            latex.Panel(Raw(r"B. COVIND $\geq$ 90"), [("x", [None, cell])], [("N", [5, 6])]),
        ],
    )
    assert body.splitlines()[4:] == [
        r"\multicolumn{3}{l}{\emph{A. Main}} \\",
        r"x & 0.500 &  \\",
        r" & (0.100) &  \\",
        r"\midrule",
        r"N & 10 & 20 \\",
        r"\midrule",
        r"\multicolumn{3}{l}{\emph{B. COVIND $\geq$ 90}} \\",
        r"x &  & 0.500 \\",
        r" &  & (0.100) \\",
        r"\midrule",
        r"N & 5 & 6 \\",
        r"\bottomrule",
        r"\end{tabular}",
    ]


def test_regression_table_panels_refuse_loose_rows():
    cell = {"estimate": 0.5, "se": 0.1}
    with pytest.raises(ValueError, match="every row must be a Panel"):
        regression_table(["(1)"], [latex.Panel("A", [("x", [cell])]), ("y", [cell])])
    with pytest.raises(ValueError, match="every row must be a Panel"):
        regression_table(["(1)"], [latex.Panel("A", [("x", [cell])])], extra_rows=[("N", [1])])
