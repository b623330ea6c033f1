"""Our own LaTeX table writer: booktabs ``tabular`` bodies for ``paper/generated/tables/``.

The paper keeps ``\\begin{table}``, the caption and the notes; this module writes only the
``\\begin{tabular} ... \\end{tabular}`` body, which the paper ``\\input``s.  It is the only
module that writes a ``tabular`` (tests/test_one_writer.py checks that no other module does):
:func:`data_table` for a data frame, :func:`regression_table` for estimates with standard errors,
and :func:`tabular` for cells a module has already formatted with the helpers here.

Conventions (one choice, used everywhere):

* Numbers sit in right-aligned ``r`` columns with a fixed number of decimals per column, so
  decimal points line up without siunitx.  Headers over number columns are centred in
  regression tables (and in :func:`tabular` with ``centre=True``), plain in data tables.
* Tables that are not one frame or one estimate per cell use :func:`tabular` with options, not
  hand-written markup: a column spec per column (``p{...}`` wraps text), spanning groups,
  :data:`MIDRULE`/:data:`ADDSPACE` between rows, :class:`Panel` titles, :func:`stack`ed cells.
* Minus signs are ``$-$`` (not a hyphen); a value that rounds to zero prints without a sign.
* Counts (``"int"``) and large numbers get thousands separators, written ``{,}``.
* A missing value (NaN/None) is an EMPTY cell, in every table kind; infinities raise.
* All text is escaped (``& % $ # _ { } ~ ^ \\ < > |``); wrap a string in :class:`Raw` to
  pass LaTeX through unchanged (e.g. ``Raw(r"$\\hat\\beta$")``).  The cells of :func:`tabular`
  are the exception: the caller builds them with :func:`escape` and the ``fmt_`` helpers.
* Regression tables put the standard error, and only the standard error, in parentheses
  under each estimate: cells are mappings with keys ``estimate`` and ``se`` (and ``p`` when
  stars are asked for).  Anything else (a t-statistic, a z-score) is refused, as is a
  negative standard error.  Stars are off by default.
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from analysis import config
from analysis.exhibits.numbers import signed
from analysis.infra.atomic import write_text

_ESCAPES = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "|": r"\textbar{}",
    "\n": " ",
}
_SPECIAL = re.compile("|".join(re.escape(c) for c in _ESCAPES))
_CELL_KEYS = {"estimate", "se", "p", "digits"}
_NAME = re.compile(r"^[A-Za-z0-9_-]+$")

Groups = Sequence[Sequence[tuple[str, int]]]


class Raw(str):
    """A string that is already LaTeX: never escaped."""


class Rule(str):
    """A line of its own between the rows of :func:`tabular` (:data:`MIDRULE`, :data:`ADDSPACE`)."""


MIDRULE = Rule(r"\midrule")
ADDSPACE = Rule(r"\addlinespace")


@dataclass(frozen=True)
class Panel:
    """A panel of :func:`regression_table`: an italic title row spanning the table, then its rows
    and extra rows as the table's ``rows`` and ``extra_rows`` would be."""

    title: str
    rows: Sequence[tuple[str, Sequence[Mapping | None]]]
    extra_rows: Sequence[tuple[str, Sequence[object]]] = ()


def stack(*lines: str, align: str = "r") -> Raw:
    """One cell holding ``lines`` (LaTeX) stacked and top-aligned, e.g. an estimate over its
    standard error in a table whose other cells are a line each."""
    if align not in ("l", "c", "r"):
        raise ValueError(f"stack alignment must be l, c or r, got {align!r}")
    return Raw(rf"\begin{{tabular}}[t]{{@{{}}{align}@{{}}}}" + r" \\ ".join(lines) + r"\end{tabular}")


def required_packages() -> list[str]:
    """The ``\\usepackage`` lines every table body written here needs."""
    return [r"\usepackage{booktabs}"]


def escape(text: object) -> str:
    """``text`` as LaTeX that prints it literally (a :class:`Raw` passes unchanged)."""
    if isinstance(text, Raw):
        return str(text)
    return _SPECIAL.sub(lambda m: _ESCAPES[m.group(0)], str(text))


def _missing(x: object) -> bool:
    """True for None, NaN, pd.NA and NaT (scalars only)."""
    return x is None or (pd.api.types.is_scalar(x) and bool(pd.isna(x)))


def fmt_number(x: float, digits: int = 3, na: str = "") -> str:
    """A number with ``digits`` decimals, thousands separators and a proper minus sign."""
    if _missing(x):
        return na
    x = float(x)
    if math.isinf(x):
        raise ValueError(f"cannot print an infinite value ({x}) in a table")
    return signed(x, f"{abs(x):,.{digits}f}".replace(",", "{,}"))


def fmt_count(n: float, na: str = "") -> str:
    """An integer count with thousands separators; a non-integral value raises."""
    if _missing(n):
        return na
    if float(n) != round(float(n)):
        raise ValueError(f"count {n!r} is not an integer")
    return fmt_number(float(n), 0, na)


def _header_rows(groups: Groups | None, ncols: int, offset: int) -> list[str]:
    """Spanning header rows (top level first), each followed by its ``\\cmidrule``s."""
    lines = []
    for level in groups or []:
        if sum(span for _, span in level) != ncols:
            raise ValueError(f"header group spans {level} do not add up to {ncols} columns")
        cells, rules, col = [""] * offset, [], offset + 1
        for label, span in level:
            if span < 1:
                raise ValueError(f"header group {label!r}: span must be >= 1")
            cells += [rf"\multicolumn{{{span}}}{{c}}{{{escape(label)}}}"] if label else [""] * span
            if label:
                rules.append(rf"\cmidrule(lr){{{col}-{col + span - 1}}}")
            col += span
        lines.append(" & ".join(cells) + r" \\")
        if rules:
            lines.append(" ".join(rules))
    return lines


def _centre(text: object) -> str:
    """A text cell centred in an ``r`` column."""
    return rf"\multicolumn{{1}}{{c}}{{{escape(text)}}}"


def _check_cell(cell: Mapping, stars: bool, where: str) -> None:
    """Refuse cells that are not (estimate, se[, p]) or that carry a negative se."""
    extra = set(cell) - _CELL_KEYS
    if extra:
        raise ValueError(
            f"{where}: only 'estimate', 'se' (and 'p', 'digits') are accepted, got {sorted(extra)}"
            " -- the parentheses hold standard errors, never t-statistics"
        )
    est, se = cell.get("estimate"), cell.get("se")
    if _missing(est) != _missing(se):
        raise ValueError(f"{where}: estimate and se must both be given or both be missing")
    if not _missing(se) and float(se) < 0:
        raise ValueError(f"{where}: negative standard error {se}")
    if stars and not _missing(est):
        p = cell.get("p")
        if _missing(p) or not 0 <= float(p) <= 1:
            raise ValueError(f"{where}: stars need a p-value in [0, 1], got {p!r}")


def regression_table(
    columns: Sequence[str],
    rows: Sequence[tuple[str, Sequence[Mapping | None]]],
    *,
    extra_rows: Sequence[tuple[str, Sequence[object]]] = (),
    groups: Groups | None = None,
    digits: int = 3,
    stars: bool = False,
    star_levels: Sequence[float] = (0.10, 0.05, 0.01),
    stub: str = "",
    in_parentheses: str = "se",
) -> str:
    """A regression table body: each estimate with its standard error in parentheses below.

    ``columns`` are the column labels, e.g. ``["(1)", "(2)"]``.  ``rows`` are
    ``(label, cells)`` with one cell per column: a mapping ``{"estimate": b, "se": s}``
    (plus ``"p"`` if ``stars``, and ``"digits"`` to override ``digits`` for that cell) or ``None``
    for an empty cell.  ``extra_rows`` follow a
    rule: ``(label, values)`` where ints print as counts, floats with ``digits`` decimals,
    and strings (``"Yes"``, ``"not-yet-treated"``) are escaped and centred.  ``groups`` are
    spanning header levels, top first, each a list of ``(label, span)``.  With ``stars``,
    ``*``/``**``/``***`` mark p below each of ``star_levels`` (padded so numbers stay
    aligned).  ``in_parentheses`` exists only to be refused unless it is ``"se"``.

    ``rows`` may instead be a list of :class:`Panel`: each starts with its title in italics
    across the table, then its rows and its extra rows; a rule separates the panels, and
    ``extra_rows`` must then be empty (each panel has its own).
    """
    if in_parentheses != "se":
        raise ValueError(f"parentheses hold standard errors only, not {in_parentheses!r}")
    ncols, levels = len(columns), sorted(star_levels, reverse=True)
    pad = len(levels) if stars else 0
    lines = [rf"\begin{{tabular}}{{l{'r' * ncols}}}", r"\toprule"]
    lines += _header_rows(groups, ncols, 1)
    lines += [" & ".join([escape(stub)] + [_centre(c) for c in columns]) + r" \\", r"\midrule"]
    panels = [r for r in rows if isinstance(r, Panel)]
    if panels and (len(panels) != len(rows) or extra_rows):
        raise ValueError("with panels, every row must be a Panel and extra_rows must be empty")
    for i, part in enumerate(panels or [Panel("", rows, extra_rows)]):
        if panels:
            lines += [r"\midrule"] if i else []
            lines.append(rf"\multicolumn{{{ncols + 1}}}{{l}}{{\emph{{{escape(part.title)}}}}} \\")
        lines += _estimate_rows(columns, part.rows, part.extra_rows, digits, stars, levels, pad)
    lines += [r"\bottomrule", r"\end{tabular}"]
    return "\n".join(lines) + "\n"


def _estimate_rows(columns, rows, extra_rows, digits, stars, levels, pad) -> list[str]:
    """The lines of :func:`regression_table` below its header: estimates, s.e., extra rows."""
    ncols, lines = len(columns), []
    for label, cells in rows:
        if len(cells) != ncols:
            raise ValueError(f"row {label!r}: {len(cells)} cells for {ncols} columns")
        est_cells, se_cells = [], []
        for j, cell in enumerate(cells):
            cell = cell or {}
            _check_cell(cell, stars, f"row {label!r}, column {columns[j]!r}")
            if _missing(cell.get("estimate")):
                est_cells.append("")
                se_cells.append("")
                continue
            d = cell.get("digits", digits)
            est, se = fmt_number(cell["estimate"], d), f"({fmt_number(cell['se'], d)})"
            if pad:
                n = sum(float(cell["p"]) < lv for lv in levels)
                est += "$^{" + "*" * n + (rf"\phantom{{{'*' * (pad - n)}}}" if n < pad else "") + "}$"
                se += rf"$^{{\phantom{{{'*' * pad}}}}}$"
            est_cells.append(est)
            se_cells.append(se)
        lines.append(" & ".join([escape(label)] + est_cells) + r" \\")
        lines.append(" & ".join([""] + se_cells) + r" \\")
    if extra_rows:
        lines.append(r"\midrule")
    for label, values in extra_rows:
        if len(values) != ncols:
            raise ValueError(f"extra row {label!r}: {len(values)} values for {ncols} columns")
        cells = [_extra_cell(v, digits, pad) for v in values]
        lines.append(" & ".join([escape(label)] + cells) + r" \\")
    return lines


def _extra_cell(v: object, digits: int, pad: int) -> str:
    """An extra-row cell: text centred; numbers padded like starred estimates."""
    if _missing(v):
        return ""
    if isinstance(v, bool) or not isinstance(v, numbers.Real):
        return _centre(v)
    s = fmt_count(v) if isinstance(v, numbers.Integral) else fmt_number(v, digits)
    return s + (rf"$^{{\phantom{{{'*' * pad}}}}}$" if pad else "")


def data_table(
    df: pd.DataFrame,
    formats: Mapping[str, str | int],
    *,
    labels: Mapping[str, str] | None = None,
    groups: Groups | None = None,
    align: Mapping[str, str] | None = None,
    midrule_before: Sequence[int] = (),
) -> str:
    """A plain table body from ``df`` (index ignored), one format per column, in ``df`` order.

    ``formats[col]`` is ``"text"`` (escaped, left-aligned), ``"int"`` (count with thousands
    separators) or an int ``d`` (number with ``d`` decimals); both number kinds are
    right-aligned.  Every column needs a format, and no format may name a missing column.
    ``labels`` renames headers (escaped); ``groups`` are spanning header levels as in
    :func:`regression_table`.  Missing values are empty cells.  ``align`` replaces the column
    spec of the columns it names (e.g. ``{"how": r"p{0.38\\textwidth}"}`` wraps a long text
    column); ``midrule_before`` lists the row positions (0-based) that a ``\\midrule`` precedes,
    e.g. a total row.
    """
    cols = list(df.columns)
    if set(formats) != set(cols):
        raise KeyError(
            f"formats must cover exactly the columns: missing {sorted(set(cols) - set(formats))},"
            f" unknown {sorted(set(formats) - set(cols))}"
        )
    for c in cols:
        f = formats[c]
        if not (f in ("text", "int") or (isinstance(f, int) and not isinstance(f, bool) and f >= 0)):
            raise ValueError(f"column {c!r}: format must be 'text', 'int' or decimals >= 0, got {f!r}")
    labels, align = labels or {}, align or {}
    if set(align) - set(cols):
        raise KeyError(f"align names unknown columns {sorted(set(align) - set(cols))}")
    if any(not 0 <= i < len(df) for i in midrule_before):
        raise IndexError(f"midrule_before {list(midrule_before)}: the table has {len(df)} rows")
    spec = "".join(align.get(c, "l" if formats[c] == "text" else "r") for c in cols)
    lines = [rf"\begin{{tabular}}{{{spec}}}", r"\toprule"]
    lines += _header_rows(groups, len(cols), 0)
    lines += [" & ".join(escape(labels.get(c, c)) for c in cols) + r" \\", r"\midrule"]
    for i, values in enumerate(df.itertuples(index=False, name=None)):
        if i in midrule_before:
            lines.append(r"\midrule")
        cells = []
        for c, v in zip(cols, values):
            f = formats[c]
            if f == "text":
                cells.append("" if _missing(v) else escape(v))
            elif f == "int":
                cells.append(fmt_count(v))
            else:
                cells.append(fmt_number(v, f))
        lines.append(" & ".join(cells) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}"]
    return "\n".join(lines) + "\n"


def tabular(
    align: Sequence[str],
    header: Sequence[str],
    rows: Sequence[Sequence[str] | Rule],
    *,
    groups: Groups | None = None,
    centre: bool = False,
    row_space: str = "",
) -> str:
    """A table body from cells the caller has already formatted (with :func:`fmt_number`,
    :func:`fmt_count`, :func:`escape`, :func:`stack`): for tables whose rows are not one
    data frame or one estimate per cell.

    ``align`` is one column spec per column (``"l"``, ``"r"``, ``r"p{0.1\\textwidth}"``, ...).
    ``header`` labels are escaped (pass :class:`Raw` for LaTeX); with ``centre`` the labels
    over ``"r"`` columns are centred, as in :func:`regression_table`, otherwise all are plain.
    ``rows`` are lists of cells (LaTeX, not escaped here) or a :class:`Rule` on a line of its
    own.  ``groups`` are spanning header levels over all columns (``("", n)`` leaves ``n``
    columns blank).  ``row_space`` (e.g. ``"3pt"``) adds space after every row.
    """
    ncols = len(align)
    if len(header) != ncols:
        raise ValueError(f"{len(header)} header labels for {ncols} columns")
    heads = [_centre(h) if centre and a == "r" else escape(h) for h, a in zip(header, align)]
    end = r" \\" + (f"[{row_space}]" if row_space else "")
    lines = [rf"\begin{{tabular}}{{{''.join(align)}}}", r"\toprule"]
    lines += _header_rows(groups, ncols, 0)
    lines += [" & ".join(heads) + r" \\", r"\midrule"]
    for row in rows:
        if isinstance(row, Rule):
            lines.append(str(row))
            continue
        if len(row) != ncols:
            raise ValueError(f"row {list(row)!r}: {len(row)} cells for {ncols} columns")
        lines.append(" & ".join(row) + end)
    lines += [r"\bottomrule", r"\end{tabular}"]
    return "\n".join(lines) + "\n"


def write_table(body: str, name: str, directory: Path = config.TABLES) -> Path:
    """Write ``body`` atomically to ``<directory>/<name>.tex`` (default paper/generated/tables)."""
    if not _NAME.match(name):
        raise ValueError(f"table name {name!r}: use letters, digits, '_' and '-' only")
    target = Path(directory) / f"{name}.tex"
    write_text(target, "% Generated by analysis.exhibits.latex -- do not edit.\n" + body)
    return target
