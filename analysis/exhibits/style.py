"""One figure style for every figure of the paper, and a deterministic ``save``.

* Colours: the Okabe--Ito palette (safe for the common colour-vision deficiencies), in a
  cycle that starts with blue and vermillion; black is kept for reference lines.
* Fonts: DejaVu Serif, shipped with matplotlib, with matching mathtext; no TeX needed.
* Sizes: the paper is one column, 11pt, 1in margins on letter paper, so the text block is
  6.5in wide.  Figures are drawn at their printed size (default full width, golden-ratio
  height) with 9pt text, and should be included at natural size (``width=\\textwidth``).
* ``save`` writes ``<name>.pdf`` (vector) and ``<name>.png`` (150 dpi preview) into
  ``paper/generated/figures/`` atomically; neither file carries a date or a software
  version, so the same figure gives byte-identical files on every run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import matplotlib
from cycler import cycler
from matplotlib.figure import Figure

from analysis import config
from analysis.infra.atomic import atomic_path

# How exhibits word a spec's outcome (a crime of the panel's rate_<outcome> columns), scale and weights.
CRIME_WORDS = {
    "index": "index crime",
    "violent": "violent crime",
    "property": "property crime",
    "agg_assault": "aggravated assault",
    "mv_theft": "motor vehicle theft",
}
SCALE_WORDS = {"log_rate": "log rate", "rate": "rate per 100,000", "count": "count", "level": "level"}
WEIGHT_WORDS = {"none": "unweighted", "population": "population-weighted"}
# program -> (macro prefix, title): how exhibits name the two programs.
PROGRAM_LABELS = {"287g": ("National", "287(g)"), "sc": ("Sc", "Secure Communities")}
OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
}
CYCLE = ["blue", "vermillion", "green", "orange", "purple", "sky_blue", "yellow"]
SEQUENTIAL = "viridis"  # ordered and continuous values (maps): perceptually uniform, colour-blind safe
TEXT_WIDTH = 6.5  # inches: letter paper minus two 1in margins
GOLDEN = (5**0.5 - 1) / 2  # default height / width
PNG_DPI = 150
_NAME = re.compile(r"^[A-Za-z0-9_-]+$")

RC = {
    "font.family": "serif",
    "font.serif": ["DejaVu Serif"],
    "mathtext.fontset": "dejavuserif",
    "text.usetex": False,
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.labelsize": 9,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "legend.fontsize": 8,
    "legend.frameon": False,
    "axes.prop_cycle": cycler(color=[OKABE_ITO[c] for c in CYCLE]),
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#DDDDDD",
    "grid.linewidth": 0.5,
    "axes.axisbelow": True,
    "lines.linewidth": 1.3,
    "lines.markersize": 4,
    "errorbar.capsize": 2,
    "pdf.fonttype": 42,  # embed TrueType subsets: text stays text
    "savefig.dpi": PNG_DPI,
}


def use() -> None:
    """Apply the paper style to matplotlib's global settings (idempotent)."""
    matplotlib.rcParams.update(RC)


def figure(
    width: float = TEXT_WIDTH, height: float | None = None, nrows: int = 1, ncols: int = 1, **subplot_kw
) -> tuple[Figure, object]:
    """A new styled figure (no pyplot state) of ``width`` x ``height`` inches and its axes.

    ``height`` defaults to ``GOLDEN * width``; layout is constrained so labels fit inside
    the declared size.  Returns ``(fig, ax)``, ``ax`` an array when there are several.
    """
    use()
    fig = Figure(figsize=(width, GOLDEN * width if height is None else height), layout="constrained")
    ax = fig.subplots(nrows, ncols, **subplot_kw)
    return fig, ax


def save(fig: Figure, name: str, directory: Path = config.FIGURES) -> tuple[Path, Path]:
    """Write ``<directory>/<name>.pdf`` and ``.png`` atomically and deterministically."""
    if not _NAME.match(name):
        raise ValueError(f"figure name {name!r}: use letters, digits, '_' and '-' only")
    targets = Path(directory) / f"{name}.pdf", Path(directory) / f"{name}.png"
    metadata = {
        "pdf": {"CreationDate": None, "ModDate": None, "Producer": None, "Creator": None},
        "png": {"Software": None},
    }
    with matplotlib.rc_context(RC):
        for target, fmt in zip(targets, ("pdf", "png")):
            with atomic_path(target) as tmp:
                fig.savefig(tmp, format=fmt, dpi=PNG_DPI, metadata=metadata[fmt])
    return targets


@dataclass(frozen=True)
class Wording:
    """How a table or figure describes a spec (see :func:`wording`)."""

    outcome: str  # 'index crime' (the column's name for transform level)
    noun: str  # 'index crime rate' (rate, log_rate), 'index crime count', the column (level)
    measure: str  # 'log index crime rate', 'index crime rate per 100,000', as noun otherwise
    scale: str  # 'log rate', 'rate per 100,000', 'count', 'level'
    weights: str  # the spec's weights field: 'none' or 'population'
    weighting: str  # 'unweighted' or 'population-weighted'

    @property
    def weighted(self) -> bool:
        return self.weights != "none"


def wording(spec: dict) -> Wording:
    """The words for ``spec``'s outcome, transform and weights (fields of analysis.spec; weights
    default none). KeyError names a transform or weights value it has no words for."""
    transform, weights, outcome = spec["transform"], spec.get("weights", "none"), spec["outcome"]
    for field, value, words in (("transform", transform, SCALE_WORDS), ("weights", weights, WEIGHT_WORDS)):
        if value not in words:
            raise KeyError(f"no words for {field} {value!r} (known: {', '.join(words)})")
    if transform == "level":
        what = noun = measure = outcome
    else:
        what = CRIME_WORDS.get(outcome, outcome.replace("_", " "))
        noun = f"{what} {'count' if transform == 'count' else 'rate'}"
        measure = {"log_rate": f"log {noun}", "rate": f"{noun} per 100,000"}.get(transform, noun)
    return Wording(what, noun, measure, SCALE_WORDS[transform], weights, WEIGHT_WORDS[weights])


def sentence(text: str) -> str:
    """``text`` with its first letter in upper case (the rest as it is: 'COVIND' stays)."""
    return text[:1].upper() + text[1:]
