"""Figures and table of the rollout of 287(g) and Secure Communities and of the seed article's numbers,
drawn from results/rollout/ (written by the pipeline step analysis.rollout, which holds the counting
rules)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
from matplotlib.dates import DateFormatter, YearLocator
from matplotlib.ticker import FixedLocator, NullLocator, ScalarFormatter

from analysis import config
from analysis.exhibits import inputs, latex, style
from analysis.exhibits.numbers import fmt_int, fmt_num
from analysis.rollout import HISTORY_END, MARKS, SOURCES

ROLLOUT = config.RESULTS / "rollout"


def _plot_agreements(series: pd.DataFrame, marks: dict):
    """Figure agreements_per_month: log scale, gap shaded, article's reference points marked
    (``marks``: label -> [agreements, states] on MARKS' dates)."""
    fig, ax = style.figure(height=3.4)
    x = series["month"].dt.to_timestamp(how="end").dt.normalize()
    y = series["n_active"].astype("float").where(lambda v: v > 0)  # log scale: zeros not drawn
    history, ice = series["source"] == SOURCES["history"], series["source"] == SOURCES["ice"]
    ax.plot(x[history], y[history], color=style.OKABE_ITO["blue"], label="Pre-2018 history: agencies with an MOA")
    ax.plot(
        x[ice],
        y[ice],
        color=style.OKABE_ITO["vermillion"],
        label="ICE lists: agreements (agency $\\times$ support type)",
    )
    gap = x[series["source"] == SOURCES["none"]]
    ax.axvspan(HISTORY_END, gap.max(), color="#EEEEEE", lw=0, zorder=0)
    ax.text(
        HISTORY_END + (gap.max() - HISTORY_END) / 2,
        3,
        "no source\nAug 2017–\nDec 2020",
        ha="center",
        va="bottom",
        fontsize=7.5,
        color="#555555",
    )
    for (label, date), dx in zip(MARKS.items(), (-0.6, 0.6)):
        n, k = marks[label]
        ax.plot([date], [n], "o", color="black", ms=4, zorder=5)
        ax.annotate(
            f"{label}: {n} in {k} states",
            (date, n),
            xytext=(-6 if dx < 0 else -8, 14 if dx < 0 else 10),
            textcoords="offset points",
            ha="right",
            fontsize=7.5,
            arrowprops={"arrowstyle": "-", "lw": 0.5, "color": "black"},
        )
    ax.set_yscale("log")
    ax.set_ylim(0.8, 3000)
    ax.yaxis.set_major_locator(FixedLocator([1, 3, 10, 30, 100, 300, 1000, 3000]))
    ax.yaxis.set_major_formatter(ScalarFormatter())
    ax.yaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_major_locator(YearLocator(2))
    ax.xaxis.set_major_formatter(DateFormatter("%Y"))
    ax.set_xlim(pd.Timestamp("2002-01-01"), pd.Timestamp("2026-07-01"))
    ax.set_ylabel("In force at month end (log scale)")
    ax.legend(loc="upper left")
    return fig


def _plot_sc(quarters: pd.DataFrame):
    """Figure sc_rollout: activations per quarter (bars), cumulative share of dated counties (line)."""
    fig, ax = style.figure(height=3.0)
    pos = np.arange(len(quarters))
    ax.bar(
        pos,
        quarters["activations"],
        color=style.OKABE_ITO["sky_blue"],
        width=0.75,
        label="Counties activated in the quarter (left axis)",
    )
    ax.set_ylabel("Counties activated per quarter")
    share = ax.twinx()
    share.spines["right"].set_visible(True)
    share.grid(False)
    share.plot(
        pos,
        100 * quarters["cum_share"],
        color=style.OKABE_ITO["vermillion"],
        marker="o",
        label="Cumulative share of dated counties (right axis)",
    )
    share.set_ylim(0, 105)
    share.set_ylabel("Cumulative share activated (%)")
    years = quarters["quarter"].dt.year
    ax.set_xticks(pos, [f"Q{q.quarter}" for q in quarters["quarter"]])
    centres = pd.Series(pos).groupby(years.to_numpy()).mean()
    ax.set_xticks(centres.to_numpy(), [str(y) for y in centres.index], minor=True)
    ax.xaxis.remove_overlapping_locs = False  # keep 2008 and 2013, which sit on a quarter tick
    ax.tick_params(axis="x", which="minor", length=0, pad=13)
    ax.tick_params(axis="x", which="major", length=2)
    ax.grid(False, axis="x")
    ax.set_xlim(-0.6, len(pos) - 0.4)
    handles = ax.get_legend_handles_labels()[0] + share.get_legend_handles_labels()[0]
    ax.legend(handles, [h.get_label() for h in handles], loc="upper left")
    return fig


def read_rollout() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, dict]:
    """results/rollout/: the monthly series (month as Period), SC quarters, the seed table, details."""
    series = inputs.read_csv(ROLLOUT / "agreements_per_month.csv", ["month", "n_active", "n_states", "source"])
    series = series.assign(
        month=pd.PeriodIndex(series["month"], freq="M"),
        n_active=series["n_active"].astype("Int64"),
        n_states=series["n_states"].astype("Int64"),
    )
    quarters = inputs.read_csv(ROLLOUT / "sc_quarters.csv", ["quarter", "activations", "cum_share"])
    quarters = quarters.assign(quarter=pd.PeriodIndex(quarters["quarter"], freq="Q"))
    table = inputs.read_csv(ROLLOUT / "seed_numbers.csv", ["claim", "article", "ours", "match", "how"])
    details = json.loads(inputs.require(ROLLOUT / "details.json").read_text(encoding="utf-8"))
    for key in ("peak_from", "peak_to", "dec_list"):
        details[key] = pd.Timestamp(details[key])
    return series, quarters, table, details


def build() -> dict[str, str]:
    """Write agreements_per_month, sc_rollout and the seed_numbers table; return the macros."""
    series, quarters, table, det = read_rollout()
    style.save(_plot_agreements(series, det["marks"]), "agreements_per_month")
    style.save(_plot_sc(quarters), "sc_rollout")
    body = latex.data_table(
        table,
        {"claim": "text", "article": "int", "ours": "int", "match": "text", "how": "text"},
        labels={"claim": "Claim", "article": "Article", "ours": "Ours", "match": "Match", "how": "How we counted"},
        align={"how": r"p{0.38\textwidth}"},  # wrap the long column
    )
    latex.write_table(body, "seed_numbers")

    gap = series[series["source"] == SOURCES["none"]]["month"]
    two = det["second"]
    macros = {
        "RolloutAgreementsDecTwentyFour": fmt_int(det["dec"][0]),
        "RolloutStatesDecTwentyFour": fmt_int(det["dec"][1]),
        "RolloutAgreementsMayTwentyFive": fmt_int(det["may"][0]),
        "RolloutStatesMayTwentyFive": fmt_int(det["may"][1]),
        "RolloutFirstTermPeak": fmt_int(det["peak"]),
        "RolloutFirstTermPeakDate": f"{det['peak_from'].day} {det['peak_from']:%B %Y}",
        "RolloutSecondTermStart": fmt_int(two["start"]),
        "RolloutSecondTermEnd": fmt_int(two["end"]),
        "RolloutSecondTermMean": fmt_num(two["mean"], 1),
        "RolloutSecondTermMedian": fmt_int(round(two["median"])),
        "RolloutSecondTermMin": fmt_int(two["min"]),
        "RolloutSecondTermMax": fmt_int(two["max"]),
        "RolloutSeedClaims": fmt_int(len(table)),
        "RolloutSeedMatches": fmt_int((table["match"] == "yes").sum()),
        "RolloutGapMonths": fmt_int(len(gap)),
        "RolloutGapFirst": f"{gap.min():%B %Y}",
        "RolloutGapLast": f"{gap.max():%B %Y}",
        "RolloutScDatedCounties": fmt_int(quarters["activations"].sum()),
        "RolloutScPeakQuarterActivations": fmt_int(quarters["activations"].max()),
        "RolloutScPeakQuarter": str(quarters.loc[quarters["activations"].idxmax(), "quarter"]),
    }
    if "peak_attested" in det:
        macros["RolloutFirstTermPeakAttested"] = fmt_int(det["peak_attested"])
        macros["RolloutSecondTermMinAttested"] = fmt_int(det["second_attested"]["min"])
        macros["RolloutNoEvidenceAgencies"] = fmt_int(det["n_unattested"])
    return macros
