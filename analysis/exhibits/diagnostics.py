"""Diagnostics of the staggered designs: Goodman-Bacon decomposition, HonestDiD sensitivity and
the Callaway–Sant'Anna pre-test, for the headline specification of each program.

* Bacon: each 2x2 DiD estimate against its weight (log scale), by comparison type; the weighted
  sum is the spec's static TWFE coefficient (population-weighted for SC, as the headline).
* HonestDiD (analysis/estimators/honest.py): robust 95% CIs for the average of the
  post-period Callaway–Sant'Anna event-time effects (event times 0..max), under relative
  magnitudes (Mbar) and smoothness (M) restrictions, next to the original CI.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis import config
from analysis.estimators.cs import PRETESTS
from analysis.exhibits import inputs, style
from analysis.exhibits.headline import fmt_p, fmt_p_text
from analysis.exhibits.numbers import fmt_int, fmt_num

HEADLINE_SPECS = {"us_287g_index": ("National", "287(g)"), "sc_index": ("Sc", "Secure Communities")}
TYPES = {
    "treated_vs_never": ("Treated vs untreated through 2012", "blue", "o"),
    "earlier_vs_later": ("Earlier vs later treated (later as control)", "green", "^"),
    "later_vs_earlier": ("Later vs earlier treated (earlier as control)", "vermillion", "s"),
}
METHODS = {"relative_magnitude": r"Relative magnitudes, $\bar M$", "smoothness": "Smoothness, $M$"}
TYPE_MACRO = {"treated_vs_never": "Untreated", "earlier_vs_later": "EarlierTreated", "later_vs_earlier": "LaterTreated"}


def bacon_table(spec: str) -> pd.DataFrame:
    """results/<spec>/bacon.csv; raises if a comparison type is unknown or weights do not sum to 1."""
    b = inputs.result(spec, "bacon", ["type", "estimate", "weight"])
    unknown = set(b["type"]) - set(TYPES)
    if unknown:
        raise ValueError(f"results/{spec}/bacon.csv: unknown comparison types {sorted(unknown)}")
    if not np.isclose(b["weight"].sum(), 1, atol=1e-6):
        raise ValueError(f"results/{spec}/bacon.csv: weights sum to {b['weight'].sum()}, not 1")
    return b


def weight_shares(b: pd.DataFrame) -> pd.Series:
    """Total weight of each comparison type (every type in TYPES, 0 when absent)."""
    return b.groupby("type")["weight"].sum().reindex(list(TYPES), fill_value=0.0)


def figure_bacon() -> None:
    """Figure bacon: one panel per program."""
    fig, axes = style.figure(height=3.2, ncols=2)
    for ax, (spec, (_, title)) in zip(axes, HEADLINE_SPECS.items()):
        b = bacon_table(spec)
        for kind, (label, colour, marker) in TYPES.items():
            part = b[b["type"] == kind]
            ax.scatter(
                part["weight"],
                part["estimate"],
                s=18,
                marker=marker,
                color=style.OKABE_ITO[colour],
                label=label,
                alpha=0.85,
                lw=0,
            )
        total = float((b["weight"] * b["estimate"]).sum())
        ax.axhline(total, color="black", lw=0.8, ls="--", label="Weighted sum = TWFE")
        ax.axhline(0, color="#888888", lw=0.5)
        ax.set_xscale("log")
        ax.set_title(title)
        ax.set_xlabel("Weight (log scale)")
        ax.set_ylabel("2x2 DiD estimate (log points)")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=2)
    style.save(fig, "bacon")


def honest_table(spec: str) -> pd.DataFrame:
    """results/<spec>/honest.csv (both methods)."""
    h = inputs.result(spec, "honest", ["method", "M", "target", "ci_low", "ci_high"])
    missing = set(METHODS) - set(h["method"])
    if missing:
        raise inputs.MissingResult(f"results/{spec}/honest.csv has no method {sorted(missing)}")
    return h


def breakdown(h: pd.DataFrame, method: str) -> float:
    """The smallest M of ``method`` whose robust CI contains zero (NaN if none in the grid)."""
    part = h[h["method"] == method].sort_values("M")
    hit = part[(part["ci_low"] <= 0) & (part["ci_high"] >= 0)]
    return float(hit["M"].iloc[0]) if len(hit) else float("nan")


def plot_honest():
    """HonestDiD panels: rows = programs, columns = restriction; original CI at the left of each panel."""
    fig, axes = style.figure(height=4.6, nrows=2, ncols=2)
    for row, (spec, (_, title)) in zip(axes, HEADLINE_SPECS.items()):
        h = honest_table(spec)
        original = inputs.estimate(spec, "cs_dynamic")
        for ax, (method, xlabel) in zip(row, METHODS.items()):
            part = h[h["method"] == method].sort_values("M").reset_index(drop=True)
            x = np.arange(len(part)) + 1
            mid = (part["ci_low"] + part["ci_high"]) / 2
            ax.errorbar(
                x,
                mid,
                yerr=[mid - part["ci_low"], part["ci_high"] - mid],
                fmt="none",
                color=style.OKABE_ITO["blue"],
                elinewidth=2,
                capsize=3,
                label="Robust 95% CI",
            )
            ax.errorbar(
                [0],
                [original["estimate"]],
                yerr=[[original["estimate"] - original["ci_low"]], [original["ci_high"] - original["estimate"]]],
                fmt="o",
                color=style.OKABE_ITO["vermillion"],
                elinewidth=2,
                capsize=3,
                label="Original 95% CI",
            )
            ax.axhline(0, color="black", lw=0.6)
            ax.set_xticks(np.r_[0, x], ["Orig."] + [f"{m:g}" for m in part["M"]])
            ax.set_xlabel(xlabel)
            ax.set_title(title, fontsize=9)
            ax.set_ylabel("Average post-period effect")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=2)
    return fig


def figure_honest() -> None:
    """Figure honest (plot_honest, saved)."""
    style.save(plot_honest(), "honest")


def fmt_big(x: float) -> str:
    """A statistic with 1 decimal, or in scientific notation from a million on; usable in text and
    in math mode (\\ensuremath)."""
    if abs(x) < 1e6:
        return fmt_num(x, 1)
    mantissa, exponent = f"{x:.1e}".split("e")
    return rf"\ensuremath{{{mantissa} \times 10^{{{int(exponent)}}}}}"


def untreated_text(b: pd.DataFrame, last_year: int) -> str:
    """The Bacon weight on comparisons with counties untreated through ``last_year``, in words; when the
    sample has no such county, that there is none (a '0.0%' would suggest a control group that exists)."""
    never = b[b["type"] == "treated_vs_never"]
    if never.empty:
        return f"none on counties untreated through {last_year}, since the sample has none"
    share = never["weight"].sum() / b["weight"].sum()
    return f"{fmt_num(100 * share, 1)}\\% on the counties untreated through {last_year} as controls"


def _m(x: float) -> str:
    return "none in the grid" if np.isnan(x) else f"{x:g}"


def build() -> dict[str, str]:
    """Both figures; macros for Bacon weight shares, HonestDiD breakdown values and the CS pre-test."""
    figure_bacon()
    figure_honest()
    macros: dict[str, str] = {}
    for spec, (prefix, _) in HEADLINE_SPECS.items():
        bacon = bacon_table(spec)
        shares = weight_shares(bacon)
        for kind, share in shares.items():
            macros[f"{prefix}IndexBaconWeight{TYPE_MACRO[kind]}Pct"] = fmt_num(100 * share, 1)
        macros[f"{prefix}IndexBaconUntreatedText"] = untreated_text(bacon, config.LAST_YEAR)
        h = honest_table(spec)
        macros[f"{prefix}IndexHonestBreakdownRm"] = _m(breakdown(h, "relative_magnitude"))
        macros[f"{prefix}IndexHonestBreakdownSmooth"] = _m(breakdown(h, "smoothness"))
        macros[f"{prefix}IndexHonestMaxRm"] = f"{h.loc[h['method'] == 'relative_magnitude', 'M'].max():g}"
        tests = inputs.result(spec, "pretest", ["test", "W", "df", "pvalue"]).set_index("test")
        cells, pre = tests.loc[PRETESTS[0]], tests.loc[PRETESTS[1]]
        macros[f"{prefix}IndexPretestCellsDf"] = fmt_int(cells["df"])
        macros[f"{prefix}IndexPretestCellsW"] = (
            r"\textrm{none (singular)}" if pd.isna(cells["W"]) else fmt_big(float(cells["W"]))
        )
        macros[f"{prefix}IndexPretestDf"] = fmt_int(pre["df"])
        macros[f"{prefix}IndexPretestP"] = fmt_p(float(pre["pvalue"]))
        macros[f"{prefix}IndexPretestPText"] = fmt_p_text(float(pre["pvalue"]))
        macros[f"{prefix}IndexPretestW"] = fmt_big(float(pre["W"]))
        # What each test says at the 5% level, for the text (null: parallel pre-trends).
        macros[f"{prefix}IndexPretestVerdict"] = verdict(pre["pvalue"])
        macros[f"{prefix}IndexPretestCellsVerdict"] = verdict(cells["pvalue"])
        if pd.notna(cells["pvalue"]):
            macros[f"{prefix}IndexPretestCellsPText"] = fmt_p_text(float(cells["pvalue"]))
    return macros


def verdict(p: float, alpha: float = 0.05) -> str:
    """'rejects' / 'does not reject' at level ``alpha``; 'cannot test' without a p-value."""
    if pd.isna(p):
        return "cannot test"
    return "rejects" if float(p) < alpha else "does not reject"
