"""Exhibits of the multiverse: ``python -m analysis.exhibits.multiverse``.

Reads results/multiverse_<program>/ (estimates.csv, joint.csv, exclusions.csv) for 287g and sc and
writes into paper/generated/: the specification curve of each program with the panel of choices
underneath (figures/multiverse_<program>.pdf/png), the table of the joint test
(tables/multiverse_joint.tex) and the macros of paper/sections/multiverse.tex
(multiverse_numbers.tex, ``\\Mv...``). Estimates are drawn in percent: log-rate estimates x 100,
rate estimates in percent of the spec's mean rate (estimates.csv: effect_pct).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.config import GENERATED, RESULTS
from analysis.exhibits import inputs, latex, style
from analysis.exhibits.numbers import fmt_int, fmt_num, render
from analysis.exhibits.style import PROGRAM_LABELS
from analysis.infra import cli
from analysis.infra.atomic import write_text

NUMBERS = GENERATED / "multiverse_numbers.tex"
STAT_LABEL = {
    "median": "Median estimate (\\%)",
    "share_positive": "Share significant, positive",
    "share_negative": "Share significant, negative",
}
Z = 1.959963984540054


def read(program: str) -> dict[str, pd.DataFrame]:
    """The multiverse tables of ``program`` (MissingResult naming a missing file)."""
    folder = RESULTS / f"multiverse_{program}"
    return {
        name: pd.read_csv(inputs.require(folder / f"{name}.csv"), dtype={"id": str})
        for name in ("estimates", "joint", "exclusions")
    }


def dimensions(est: pd.DataFrame) -> list[str]:
    """The dimension columns of estimates.csv that vary in this run (in file order)."""
    dims = list(est.columns[1 : est.columns.get_loc("reported")])
    return [d for d in dims if est[d].nunique() > 1]


def curve_frame(est: pd.DataFrame) -> pd.DataFrame:
    """Estimates sorted by effect_pct, with the interval in percent and the sign of significance."""
    scale = np.where(est["estimate"] != 0, est["effect_pct"] / est["estimate"].where(est["estimate"] != 0), 100.0)
    out = est.assign(
        lo=est["effect_pct"] - Z * est["se"] * np.abs(scale),
        hi=est["effect_pct"] + Z * est["se"] * np.abs(scale),
        sign=np.select(
            [(est["pvalue"] < 0.05) & (est["estimate"] < 0), (est["pvalue"] < 0.05) & (est["estimate"] > 0)],
            ["negative", "positive"],
            "none",
        ),
    )
    return out.sort_values(["effect_pct", "id"]).reset_index(drop=True)


def plot_curve(program: str, est: pd.DataFrame, median: float):
    """The specification curve with the panel of choices underneath."""
    pts = curve_frame(est)
    dims = dimensions(est)
    rows = [(d, v) for d in dims for v in sorted(pts[d].astype(str).unique())]
    colour = {"negative": style.OKABE_ITO["blue"], "positive": style.OKABE_ITO["vermillion"], "none": "#999999"}
    fig, (top, bottom) = style.figure(
        height=2.4 + 0.16 * len(rows),
        nrows=2,
        sharex=True,
        gridspec_kw={"height_ratios": [2.2, 0.16 * len(rows) + 0.2]},
    )
    x = np.arange(1, len(pts) + 1)
    for sign, group in pts.groupby("sign"):
        idx = group.index.to_numpy()
        top.vlines(x[idx], group["lo"], group["hi"], color=colour[sign], linewidth=0.6, alpha=0.6)
        top.scatter(
            x[idx],
            group["effect_pct"],
            s=8,
            color=colour[sign],
            zorder=3,
            label={"negative": "significant < 0", "positive": "significant > 0", "none": "not significant"}[sign],
        )
    top.axhline(0, color="black", linewidth=0.8)
    top.axhline(median, color="black", linestyle="--", linewidth=0.8, label=f"median {median:.1f}%")
    top.set_ylabel("Effect (%)")
    top.legend(loc="best", fontsize=7, frameon=False)
    for r, (d, v) in enumerate(rows):
        used = pts[d].astype(str) == v
        bottom.scatter(
            x[used.to_numpy()], np.full(int(used.sum()), r), s=5, marker="|" if len(pts) > 200 else "o", color="black"
        )
    bottom.set_yticks(range(len(rows)), [f"{d.replace('_', ' ')}: {v.replace('_', ' ')}" for d, v in rows], fontsize=6)
    bottom.set_ylim(len(rows) - 0.5, -0.5)
    bottom.set_xlabel(f"Specification (sorted by estimate; {len(pts)} specifications)")
    fig.align_ylabels([top, bottom])
    return fig


def joint_table(joints: dict[str, pd.DataFrame]) -> str:
    """Body of the joint-test table: per program, each statistic observed, null median, null 95th
    percentile and p-value."""
    rows = []
    for program, joint in joints.items():
        rows += [latex.ADDSPACE] if rows else []
        for i, row in joint.reset_index(drop=True).iterrows():
            digits = 1 if row["statistic"] == "median" else 2
            rows.append(
                [
                    PROGRAM_LABELS[program][1] if i == 0 else "",
                    STAT_LABEL[row["statistic"]],
                    fmt_num(row["observed"], digits),
                    fmt_num(row["null_median"], digits),
                    fmt_num(row["null_q95"], digits),
                    fmt_num(row["p_value"], 2),
                ]
            )
    header = ["Program", "Statistic", "Observed", "Null median", "Null 95th pct.", latex.Raw("$p$")]
    return latex.tabular(["l", "l", "r", "r", "r", "r"], header, rows)


def median_verdict(p: float, draws: int) -> str:
    """Where the observed median lies among the null curves' medians, in words: p = (1 + #)/(1 + draws)
    (analysis.speccurve), so # = the null curves at least as far from zero; at p <= 0.05 it is counted,
    and # = 0 is said to be the smallest p the draws allow."""
    if p > 0.05:
        return "within the range of the null curves"
    k = round(p * (1 + draws)) - 1
    if k == 0:
        return (
            f"further from zero than in every one of the {fmt_int(draws)} null curves, which gives the "
            f"smallest $p$-value {fmt_int(draws)} draws allow"
        )
    return f"further from zero than in all but {fmt_int(k)} of the {fmt_int(draws)} null curves"


def macros(program: str, tables: dict[str, pd.DataFrame]) -> dict[str, str]:
    """The \\Mv<Program>... macros of one program."""
    name, est, joint = PROGRAM_LABELS[program][0], tables["estimates"], tables["joint"].set_index("statistic")
    pts = curve_frame(est)
    out = {
        "Specs": fmt_int(len(est)),
        "Excluded": fmt_int(len(tables["exclusions"])),
        "Draws": fmt_int(joint.loc["median", "draws"]),
        "Median": fmt_num(joint.loc["median", "observed"], 1),
        "MedianP": fmt_num(joint.loc["median", "p_value"], 2),
        "MedianNullQ": fmt_num(joint.loc["median", "null_q95"], 1),
        "SharePos": fmt_num(joint.loc["share_positive", "observed"], 2),
        "SharePosP": fmt_num(joint.loc["share_positive", "p_value"], 2),
        "ShareNeg": fmt_num(joint.loc["share_negative", "observed"], 2),
        "ShareNegP": fmt_num(joint.loc["share_negative", "p_value"], 2),
        "ShareNegNullMedian": fmt_num(joint.loc["share_negative", "null_median"], 2),
        "NSigNeg": fmt_int((pts["sign"] == "negative").sum()),
        "NSigPos": fmt_int((pts["sign"] == "positive").sum()),
        "Min": fmt_num(pts["effect_pct"].min(), 1),
        "Max": fmt_num(pts["effect_pct"].max(), 1),
        "NBelowZero": fmt_int((pts["effect_pct"] < 0).sum()),
        "Dimensions": fmt_int(len(dimensions(est))),
    }
    out["MedianVerdict"] = median_verdict(joint.loc["median", "p_value"], int(joint.loc["median", "draws"]))
    return {f"Mv{name}{k}": v for k, v in out.items()}


def conclusion(joints: dict[str, pd.DataFrame]) -> str:
    """The sentence the paper draws from both joint tests (generated, so it follows the numbers)."""
    rejected = [
        PROGRAM_LABELS[p][1]
        for p, j in joints.items()
        if (j.set_index("statistic").loc[["median", "share_negative"], "p_value"] <= 0.05).all()
    ]
    if len(rejected) == len(joints):
        return (
            "for both programs, the negative TWFE estimates are not an artefact of one combination of "
            "choices; they are not thereby causal"
        )
    if rejected:
        return (
            f"only for {rejected[0]} are the negative TWFE estimates more than one combination of choices "
            "would give by chance; they are not thereby causal"
        )
    return "for neither program does the curve differ from what the null of no effect produces"


def main() -> int:
    """Write both curves, the joint table and the macros."""
    tables = {p: read(p) for p in PROGRAM_LABELS}
    numbers = {}
    for program, t in tables.items():
        fig = plot_curve(program, t["estimates"], float(t["joint"].set_index("statistic").loc["median", "observed"]))
        style.save(fig, f"multiverse_{program}")
        numbers.update(macros(program, t))
    latex.write_table(joint_table({p: t["joint"] for p, t in tables.items()}), "multiverse_joint")
    numbers["MvConclusion"] = conclusion({p: t["joint"] for p, t in tables.items()})
    write_text(NUMBERS, render(numbers).replace("analysis.exhibits.numbers", "analysis.exhibits.multiverse"))
    return 0


if __name__ == "__main__":
    style.use()
    cli.run(main, "multiverse_exhibits")
