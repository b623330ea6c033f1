"""The design of the 2025-2026 wave: the pre-analysis plan and its power (paper appendix).

Reads results/wave_power/ (``make wave-power``: analysis.wave_power) and the plan
(analysis/plans/wave_2025.yaml); writes the MDE table ``wave_mde``, the power figure ``wave_power``
and the macros of paper/sections/wave_plan.tex.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from analysis import config
from analysis.exhibits import latex, style
from analysis.exhibits.inputs import read_csv, require
from analysis.exhibits.numbers import fmt_int, fmt_num
from analysis.wave_plan import read_plan, required_years

FOLDER = config.RESULTS / "wave_power"
DESIGN_NAMES = {
    "within_state": "Within state, county clusters (plan)",
    "within_state_state": "Within state, state clusters",
    "cs_state": "CS, state clusters",
    "cs": "CS, county clusters",
}  # the plan's primary first
PRIMARY = "within_state"
# macro tag of every design: WavePower<tag>Mde..., the plan's primary without a tag
TAGS = {"within_state": "", "within_state_state": "StateCl", "cs_state": "Cs", "cs": "CsCounty"}
OUTCOME_NAMES = {"index": "Index", "violent": "Violent", "property": "Property"}
HORIZON_COLORS = {1: style.OKABE_ITO["orange"], 2: style.OKABE_ITO["vermillion"], 3: style.OKABE_ITO["blue"]}
WORDS = {1: "One", 2: "Two", 3: "Three"}


def read_power() -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """(mde, power, meta) from results/wave_power/ (MissingResult naming a missing file)."""
    mde = read_csv(
        FOLDER / "mde.csv",
        ["design", "outcome", "horizon", "mde", "mde_empirical", "size", "treated", "bias", "sd_placebo", "exposure"],
    )
    power = read_csv(FOLDER / "power.csv", ["design", "outcome", "horizon", "effect", "power"])
    meta = json.loads(require(FOLDER / "meta.json").read_text())
    return mde, power, meta


def mde_frame(mde: pd.DataFrame) -> pd.DataFrame:
    """One row per design and outcome: MDE from the tests, from the placebo RMS, and the size, by horizon."""
    rows = []
    for design in DESIGN_NAMES:
        for outcome in OUTCOME_NAMES:
            m = mde[(mde["design"] == design) & (mde["outcome"] == outcome)].set_index("horizon")
            if m.empty:
                raise ValueError(f"results/wave_power/mde.csv: no rows for {design} {outcome}")
            rows.append(
                {
                    "design": DESIGN_NAMES[design] if outcome == "index" else "",
                    "outcome": OUTCOME_NAMES[outcome],
                    **{f"t{h}": m.at[h, "mde"] for h in (1, 2, 3)},
                    **{f"e{h}": m.at[h, "mde_empirical"] for h in (1, 2, 3)},
                    **{f"s{h}": m.at[h, "size"] for h in (1, 2, 3)},
                }
            )
    return pd.DataFrame(rows)


def _plot_power(power: pd.DataFrame, target: float, alpha: float):
    """Power against the effect (log points), one panel per outcome: the plan's design (within state,
    county clusters) solid, Callaway-Sant'Anna with state clusters dashed, one colour per number of
    post-adoption years."""
    fig, axes = style.figure(height=2.9, ncols=3, sharey=True)
    for ax, outcome in zip(axes, OUTCOME_NAMES):
        for design, ls in [(PRIMARY, "-"), ("cs_state", "--")]:
            for h, color in HORIZON_COLORS.items():
                p = power[(power["design"] == design) & (power["outcome"] == outcome) & (power["horizon"] == h)]
                p = p[p["effect"].abs() <= 0.3]
                label = f"{h} post year{'s' if h > 1 else ''}" if design == PRIMARY else None
                ax.plot(p["effect"], p["power"], ls=ls, color=color, label=label, lw=1.1)
        ax.axhline(target, color="black", lw=0.6, ls=":")
        ax.axhline(alpha, color="black", lw=0.6, ls=":")
        ax.set_title(OUTCOME_NAMES[outcome] + " crime")
        ax.set_xlabel("Effect on the log crime rate")
        ax.set_ylim(0, 1.02)
    axes[0].set_ylabel("Share of placebo draws rejecting")
    axes[0].plot([], [], color="grey", ls="-", label="Within state (plan)")
    axes[0].plot([], [], color="grey", ls="--", label="CS, state clusters")
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncols=5)
    return fig


def holm_factor(alpha: float, power: float, tests: int = 2) -> float:
    """How much larger an MDE is when its test must pass Holm's first step over ``tests`` outcomes (a
    lone rejection needs p < alpha / tests) than at the unadjusted two-sided ``alpha``: the ratio of
    z_{1-alpha/(2 tests)} + z_power to z_{1-alpha/2} + z_power."""
    from scipy.stats import norm

    z = norm.ppf(power)
    return float((norm.ppf(1 - alpha / (2 * tests)) + z) / (norm.ppf(1 - alpha / 2) + z))


def build() -> dict[str, str]:
    """Write wave_mde and wave_power; return the macros."""
    mde, power, meta = read_power()
    plan = read_plan()
    frame = mde_frame(mde)
    formats = {
        "design": "text",
        "outcome": "text",
        **{f"{k}{h}": 3 for k in "te" for h in (1, 2, 3)},
        **{f"s{h}": 2 for h in (1, 2, 3)},
    }
    labels = {"design": "Design", "outcome": "Outcome", **{f"{k}{h}": f"{h} yr" for k in "tes" for h in (1, 2, 3)}}
    latex.write_table(
        latex.data_table(
            frame,
            formats,
            labels=labels,
            groups=[[("", 2), ("MDE, tests", 3), ("MDE, placebo RMS", 3), ("Size at zero effect", 3)]],
        ),
        "wave_mde",
    )
    style.save(_plot_power(power, meta["power"], meta["alpha"]), "wave_power")

    m = mde.set_index(["design", "outcome", "horizon"])
    reps = int(meta["reps"])
    years = required_years(plan)
    noise = 2 * np.sqrt(meta["alpha"] * (1 - meta["alpha"]) / reps)  # two binomial SEs of a 5% rejection rate
    macros = {
        "WavePowerReps": fmt_int(reps),
        "WavePowerSeed": str(meta["seed"]),
        "WavePowerSampleCounties": fmt_int(meta["sample_counties"]),
        "WavePowerPreFirst": str(meta["sample_years"][0]),
        "WavePowerPreLast": str(meta["placebo_start"] - 1),
        "WavePowerPlaceboStart": str(meta["placebo_start"]),
        "WavePowerPlaceboNext": str(meta["placebo_start"] + 1),
        "WavePowerPlaceboEnd": str(meta["placebo_start"] + 2),
        "WavePowerWaveShare": fmt_num(100 * meta["wave_share"], 1),
        "WavePowerSampleShare": fmt_num(100 * meta["expected_wave_share_in_sample"], 1),
        "WavePowerSizeCutLow": fmt_int(meta["size_cuts"][0]),
        "WavePowerSizeCutHigh": fmt_int(meta["size_cuts"][1]),
        "WavePowerNoise": fmt_num(100 * noise, 0),
        "WavePlanFirstYear": str(years[0]),
        "WavePlanPreLast": str(years[-2]),
        "WavePlanFirstPost": str(years[-1]),
        "WavePlanBootstrap": fmt_int(plan["robustness"]["cs_simple"]["bootstrap"]),
        "WavePlanSeed": str(plan["robustness"]["cs_simple"]["seed"]),
        "WavePlanFixed": str(plan["fixed"]),
        "WavePowerHolmFactor": fmt_num(holm_factor(float(meta["alpha"]), float(meta["power"])), 2),
        "WavePowerHolmAlpha": fmt_num(float(meta["alpha"]) / 2, 3),
    }
    for h in (1, 2, 3):
        w = WORDS[h]
        macros[f"WavePowerTreated{w}"] = fmt_int(round(m.loc[(PRIMARY, "index", h), "treated"]))
        macros[f"WavePowerExposure{w}"] = fmt_num(m.loc[(PRIMARY, "index", h), "exposure"], 2)
        for design, tag in TAGS.items():
            macros[f"WavePower{tag}Mde{w}"] = fmt_num(m.loc[(design, "index", h), "mde"], 3)
            macros[f"WavePower{tag}MdeEmp{w}"] = fmt_num(m.loc[(design, "index", h), "mde_empirical"], 3)
            macros[f"WavePower{tag}Size{w}"] = fmt_num(100 * m.loc[(design, "index", h), "size"], 0)
        macros[f"WavePowerMdePct{w}"] = fmt_num(100 * np.expm1(m.loc[(PRIMARY, "index", h), "mde"]), 1)
        macros[f"WavePowerViolentMde{w}"] = fmt_num(m.loc[(PRIMARY, "violent", h), "mde"], 3)
        macros[f"WavePowerPropertyMde{w}"] = fmt_num(m.loc[(PRIMARY, "property", h), "mde"], 3)
    # bias of the placebo estimates (the clusters change only the SEs: one number per estimator)
    for design, tag in [(PRIMARY, ""), ("cs", "Cs")]:
        bias, sd = m.loc[(design, "index", 3), "bias"], m.loc[(design, "index", 3), "sd_placebo"]
        macros[f"WavePower{tag}BiasThree"] = fmt_num(bias, 3)
        macros[f"WavePower{tag}BiasVerdict"] = (
            "not centred on zero" if abs(bias) > 2 * sd / np.sqrt(reps) else "centred on zero"
        )
    # size verdicts: a rejection rate of a true null beyond two binomial SEs of 5% over-rejects
    for design, tag in TAGS.items():
        size = m.loc[(design, "index", 3), "size"]
        macros[f"WavePower{tag}SizeVerdict"] = (
            "more often than the nominal 5\\%" if size > meta["alpha"] + noise else "about as often as the nominal 5\\%"
        )
    return macros
