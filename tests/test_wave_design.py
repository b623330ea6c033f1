"""The wave-design appendix (analysis/exhibits/wave_design.py, paper/sections/wave_plan.tex): the MDE
table from hand-built results, the macros against results/wave_power/, the section's macros and labels."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from analysis import config
from analysis.exhibits import wave_design
from analysis.exhibits.numbers import fmt_num, parse

TIER = "unit"  # the default tier of these tests (tests/conftest.py)

SECTION = config.PAPER / "sections" / "wave_plan.tex"


def _mde() -> pd.DataFrame:
    rows = [
        {"design": d, "outcome": o, "horizon": h, "mde": 0.01 * h + i, "mde_empirical": 0.02 * h, "size": 0.05 * h}
        for i, d in enumerate(wave_design.DESIGN_NAMES)
        for o in wave_design.OUTCOME_NAMES
        for h in (1, 2, 3)
    ]
    return pd.DataFrame(rows)


def test_mde_frame_one_row_per_design_and_outcome():
    frame = wave_design.mde_frame(_mde())
    assert len(frame) == len(wave_design.DESIGN_NAMES) * len(wave_design.OUTCOME_NAMES)
    assert list(frame.columns) == ["design", "outcome", "t1", "t2", "t3", "e1", "e2", "e3", "s1", "s2", "s3"]
    # the design is named on its first row only; values come from the right design and horizon
    assert (frame["design"] != "").sum() == len(wave_design.DESIGN_NAMES)
    assert frame.loc[3, "t2"] == pytest.approx(1.02) and frame.loc[8, "s3"] == pytest.approx(0.15)
    # the plan's primary design (within state, county clusters) comes first
    assert (
        frame.loc[0, "design"]
        == wave_design.DESIGN_NAMES[wave_design.PRIMARY]
        == "Within state, county clusters (plan)"
    )
    assert list(wave_design.DESIGN_NAMES) == list(wave_design.TAGS)


def test_holm_factor():
    """A lone secondary test under Holm over two outcomes runs at 2.5%: its MDE is (z_0.9875 + z_0.8) /
    (z_0.975 + z_0.8) = 1.100 times the unadjusted one; with one test nothing changes."""
    assert wave_design.holm_factor(0.05, 0.8) == pytest.approx((2.241403 + 0.841621) / (1.959964 + 0.841621), rel=1e-6)
    assert wave_design.holm_factor(0.05, 0.8, tests=1) == pytest.approx(1.0)


def test_mde_frame_stops_on_a_missing_design():
    with pytest.raises(ValueError, match="within_state"):
        wave_design.mde_frame(_mde().query("design != 'within_state'"))


@pytest.fixture(scope="module")
def built():
    if not config.NUMBERS.exists() or not (wave_design.FOLDER / "mde.csv").exists():
        pytest.skip("wave power or exhibits not built (make all)")
    return parse(config.NUMBERS), pd.read_csv(wave_design.FOLDER / "mde.csv").set_index(
        ["design", "outcome", "horizon"]
    )


def test_macros_match_the_power_results(built):
    macros, mde = built
    for h, w in wave_design.WORDS.items():
        # the untagged macros are the plan's primary: within state, county clusters
        assert macros[f"WavePowerMde{w}"] == fmt_num(mde.loc[("within_state", "index", h), "mde"], 3)
        assert macros[f"WavePowerSize{w}"] == fmt_num(100 * mde.loc[("within_state", "index", h), "size"], 0)
        assert macros[f"WavePowerCsMde{w}"] == fmt_num(mde.loc[("cs_state", "index", h), "mde"], 3)
        assert macros[f"WavePowerCsCountySize{w}"] == fmt_num(100 * mde.loc[("cs", "index", h), "size"], 0)
        assert macros[f"WavePowerStateClSize{w}"] == fmt_num(
            100 * mde.loc[("within_state_state", "index", h), "size"], 0
        )
        assert macros[f"WavePowerMdePct{w}"] == fmt_num(100 * np.expm1(mde.loc[("within_state", "index", h), "mde"]), 1)
    assert macros["WavePowerBiasThree"] == fmt_num(mde.loc[("within_state", "index", 3), "bias"], 3)
    assert macros["WavePowerCsBiasThree"] == fmt_num(mde.loc[("cs", "index", 3), "bias"], 3)
    # the verdicts follow the numbers
    reps = int(mde.loc[("cs", "index", 3), "reps"])
    for design, tag in wave_design.TAGS.items():
        over = mde.loc[(design, "index", 3), "size"] > 0.05 + 2 * np.sqrt(0.05 * 0.95 / reps)
        assert macros[f"WavePower{tag}SizeVerdict"].startswith("more often" if over else "about as often")
    for design, tag in [("within_state", ""), ("cs", "Cs")]:
        r = mde.loc[(design, "index", 3)]
        off = abs(r["bias"]) > 2 * r["sd_placebo"] / np.sqrt(reps)
        assert macros[f"WavePower{tag}BiasVerdict"] == ("not centred on zero" if off else "centred on zero")


def test_section_uses_only_defined_macros_and_generated_numbers(built):
    macros, _ = built
    text = SECTION.read_text(encoding="utf-8")
    used = set(re.findall(r"\\([A-Z][A-Za-z]+)", text))
    assert not used - set(macros), f"undefined macros: {sorted(used - set(macros))}"
    body = re.sub(r"%.*", "", text)
    body = re.sub(r"z_\{0\.\d+\}", "", body)  # quantile notation, not a result
    assert not re.findall(r"(?<![\w{.])-?\d+\.\d+", body)


def test_section_is_input_once_and_its_exhibits_exist(built):
    paper = (config.PAPER / "paper.tex").read_text(encoding="utf-8")
    assert paper.count(r"\input{sections/wave_plan}") == 1
    text = SECTION.read_text(encoding="utf-8")
    labels = set(re.findall(r"\\label\{([^}]+)\}", paper + text))
    assert set(re.findall(r"\\ref\{([^}]+)\}", text)) <= labels
    assert (config.FIGURES / "wave_power.pdf").exists() and (config.TABLES / "wave_mde.tex").exists()


def test_the_plans_primary_design_has_simulated_size_near_five_percent(built):
    """The plan must not fix a test whose size is known to be wrong: in the power simulation (no true
    effect) the primary design's test on the primary outcome rejects at most 5% + two binomial
    standard errors of a 5% rate with the run's number of draws (30 by default: 13%; 200: 8.1%)."""
    _, mde = built
    for h in (1, 2, 3):
        r = mde.loc[(wave_design.PRIMARY, "index", h)]
        tolerance = 2 * np.sqrt(0.05 * 0.95 / r["reps"])
        assert r["size"] <= 0.05 + tolerance, f"{h} post years: size {r['size']:.3f}"
