"""Tests of the figure style: palette, sizes, and byte-identical, atomic saves."""

from __future__ import annotations

import os
import subprocess
import sys

import matplotlib
import numpy as np
import pytest
from matplotlib.colors import to_hex

from analysis import config
from analysis.exhibits import style

TIER = "unit"  # the default tier of these tests (tests/conftest.py)

# The eight Okabe-Ito colours (Okabe and Ito 2008), written out independently of style.py.
OKABE_ITO = {"#000000", "#e69f00", "#56b4e9", "#009e73", "#f0e442", "#0072b2", "#d55e00", "#cc79a7"}


def _draw(width=3.0, height=2.0):
    fig, ax = style.figure(width=width, height=height)
    x = np.linspace(-3, 3, 40)
    for k in range(3):
        ax.plot(x, np.sin(x + k), label=f"cohort {k} $\\beta$")
    ax.axhline(0, color=style.OKABE_ITO["black"], lw=0.6)
    ax.set_xlabel("Years since 287(g) agreement")
    ax.legend()
    return fig


def test_palette_is_okabe_ito_and_the_default_cycle():
    assert {c.lower() for c in style.OKABE_ITO.values()} == OKABE_ITO
    fig, ax = style.figure()
    cycle = [to_hex(c["color"]) for c in matplotlib.rcParams["axes.prop_cycle"]]
    assert set(cycle) <= OKABE_ITO and len(cycle) == len(set(cycle)) >= 6
    (line,) = ax.plot([0, 1], [0, 1])
    assert to_hex(line.get_color()) == cycle[0]


def test_figure_size_fonts_and_no_tex():
    fig, ax = style.figure()
    w, h = fig.get_size_inches()
    assert w == style.TEXT_WIDTH and abs(h / w - style.GOLDEN) < 1e-9
    fig, axes = style.figure(width=3, height=4, nrows=2)
    assert tuple(fig.get_size_inches()) == (3, 4) and len(axes) == 2
    assert matplotlib.rcParams["text.usetex"] is False
    assert matplotlib.rcParams["font.family"] == ["serif"]
    from matplotlib import font_manager

    path = font_manager.findfont(font_manager.FontProperties(family="serif"), fallback_to_default=False)
    assert "DejaVuSerif" in os.path.basename(path)


def test_save_writes_pdf_and_png_atomically(tmp_path):
    pdf, png = style.save(_draw(), "event_study", directory=tmp_path)
    assert (pdf, png) == (tmp_path / "event_study.pdf", tmp_path / "event_study.png")
    assert pdf.read_bytes().startswith(b"%PDF") and png.read_bytes().startswith(b"\x89PNG")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["event_study.pdf", "event_study.png"]
    assert b"CreationDate" not in pdf.read_bytes() and b"matplotlib" not in pdf.read_bytes().lower()
    assert b"Software" not in png.read_bytes()
    from PIL import Image

    with Image.open(png) as im:  # 3in x 2in at 150 dpi
        assert im.size == (3 * style.PNG_DPI, 2 * style.PNG_DPI)
    assert style.save.__defaults__[0] == config.FIGURES


def test_two_renders_are_byte_identical(tmp_path):
    first = [p.read_bytes() for p in style.save(_draw(), "fig", directory=tmp_path / "a")]
    second = [p.read_bytes() for p in style.save(_draw(), "fig", directory=tmp_path / "b")]
    assert first == second


def test_renders_in_separate_processes_are_byte_identical(tmp_path):
    code = (
        "import sys; from pathlib import Path; sys.path.insert(0, sys.argv[2]);"
        "import tests.test_style as t; from analysis.exhibits import style;"
        "style.save(t._draw(), 'fig', directory=Path(sys.argv[1]))"
    )
    outs = []
    for seed in ("1", "2"):
        out = tmp_path / seed
        env = {**os.environ, "PYTHONHASHSEED": seed, "MPLBACKEND": "Agg"}
        subprocess.run([sys.executable, "-c", code, str(out), str(config.ROOT)], check=True, env=env)
        outs.append([(out / f"fig.{ext}").read_bytes() for ext in ("pdf", "png")])
    assert outs[0] == outs[1]


def test_wording_follows_the_spec_scale_and_weights():
    rate = style.wording({"outcome": "violent", "transform": "rate", "weights": "population"})
    assert rate.measure == "violent crime rate per 100,000" and rate.scale == "rate per 100,000"
    assert rate.weighting == "population-weighted" and rate.weighted and rate.weights == "population"
    log = style.wording({"outcome": "index", "transform": "log_rate", "weights": "none"})
    assert (log.measure, log.noun, log.weighting, log.weighted) == (
        "log index crime rate",
        "index crime rate",
        "unweighted",
        False,
    )
    assert style.wording({"outcome": "mv_theft", "transform": "count"}).measure == "motor vehicle theft count"
    assert style.wording({"outcome": "covind", "transform": "level"}).measure == "covind"
    assert style.sentence(log.measure) == "Log index crime rate" and style.sentence("COVIND x") == "COVIND x"
    with pytest.raises(KeyError, match="no words for weights 'households'"):
        style.wording({"outcome": "index", "transform": "rate", "weights": "households"})
