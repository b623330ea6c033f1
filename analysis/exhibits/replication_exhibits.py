"""The replication: North Carolina 287(g) trends (Forrester & Nowrasteh's state) and the table of
published results against ours (results/replication.csv)."""

from __future__ import annotations

import re

import pandas as pd

from analysis import config, replication
from analysis.exhibits import inputs, latex, style
from analysis.exhibits.headline import fmt_p
from analysis.exhibits.numbers import fmt_int, fmt_num
from analysis.sample import apply_sample

NC_TREATMENT = "g287_any"  # the NC specs' treatment (analysis/specs/nc_287g_*.yaml)
NC_OUTCOMES = [("rate_violent", "Violent crimes per 100,000"), ("rate_property", "Property crimes per 100,000")]
_WORDS = r"(consistent|differs|not comparable|no counterpart)"
_VERDICT = re.compile(rf"^{_WORDS}\b.*?robust estimator {_WORDS}\b", re.S)


def nc_sample() -> pd.DataFrame:
    """The NC estimation sample (samples.yaml 'nc'), as the NC specs use it."""
    df, _ = apply_sample(inputs.panel(), "nc")
    return df


def nc_means(df: pd.DataFrame) -> pd.DataFrame:
    """Mean NC_OUTCOMES by year for counties with an agreement by LAST_YEAR ('treated') and without."""
    g = df[NC_TREATMENT]
    group = pd.Series("untreated", index=df.index).where(~((g > 0) & (g <= config.LAST_YEAR)), "treated")
    return df.assign(group=group).groupby(["group", "year"])[[c for c, _ in NC_OUTCOMES]].mean().reset_index()


def figure_nc(df: pd.DataFrame) -> None:
    """Figure nc_trends: treated vs untreated NC counties, adoption years shaded."""
    means = nc_means(df)
    g = df.groupby("fips")[NC_TREATMENT].first()
    adopted = g[(g > 0) & (g <= config.LAST_YEAR)]
    counts = {"treated": len(adopted), "untreated": int((~g.index.isin(adopted.index)).sum())}
    fig, axes = style.figure(height=2.9, ncols=2)
    for ax, (col, ylabel) in zip(axes, NC_OUTCOMES):
        ax.axvspan(adopted.min() - 0.5, adopted.max() + 0.5, color="#EEEEEE", lw=0, zorder=0)
        for grp, colour, ls, name in [
            ("treated", "vermillion", "-", "287(g) county"),
            ("untreated", "blue", "--", "No 287(g) by 2012"),
        ]:
            part = means[means["group"] == grp]
            ax.plot(
                part["year"],
                part[col],
                ls=ls,
                marker="o",
                ms=3,
                color=style.OKABE_ITO[colour],
                label=f"{name} ({counts[grp]})",
            )
        ax.set_ylabel(ylabel)
        ax.set_ylim(bottom=0)
        ax.set_xticks(range(config.FIRST_YEAR, config.LAST_YEAR + 1, 2))
    axes[0].text(
        adopted.min() - 0.4,
        axes[0].get_ylim()[1] * 0.04,
        f"agreements\n{adopted.min()}–{adopted.max()}",
        fontsize=7,
        color="#555555",
    )
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=2)
    style.save(fig, "nc_trends")


def verdicts(text: str) -> tuple[str, str]:
    """(closest, robust) verdict words of a replication.csv verdict."""
    m = _VERDICT.match(text)
    if not m:
        raise ValueError(f"results/replication.csv: cannot read verdict {text!r}")
    return m.group(1), m.group(2)


def _digits(spec) -> int:
    return 1 if isinstance(spec, str) and spec.startswith("nc_") else 3


def _stack(estimate: float, se: float, digits: int) -> str:
    """An estimate with its standard error in parentheses below it, in one top-aligned cell (empty
    without an estimate)."""
    if pd.isna(estimate):
        return ""
    return latex.stack(latex.fmt_number(estimate, digits), f"({latex.fmt_number(se, digits)})")


def published(row: pd.Series) -> str:
    """The published result as LaTeX, marked when it comes from a secondary summary, not the paper."""
    return latex.escape(row["published"]) + (r" \emph{(secondary)}" if row["source_type"] == "secondary" else "")


def replication_table(rep: pd.DataFrame) -> str:
    """Table body: study, outcome, published result, our closest and robust estimates (SE below), p, verdicts."""
    rag = r">{\raggedright\arraybackslash}p"  # needs \usepackage{array}
    rows = []
    for _, r in rep.iterrows():
        close, robust = verdicts(r["verdict"])
        dc, dr = _digits(r["closest_spec"]), _digits(r["robust_spec"])
        rows.append(
            [
                latex.escape(r["study"]),
                latex.escape(r["outcome"]),
                published(r),
                _stack(r["closest_estimate"], r["closest_se"], dc),
                fmt_p(float(r["closest_pvalue"])),
                _stack(r["robust_estimate"], r["robust_se"], dr),
                "" if pd.isna(r["robust_pvalue"]) else fmt_p(float(r["robust_pvalue"])),
                close,
                robust,
            ]
        )
    return latex.tabular(
        [rf"{rag}{{0.13\textwidth}}", rf"{rag}{{0.10\textwidth}}", rf"{rag}{{0.19\textwidth}}"] + ["r"] * 4 + ["l"] * 2,
        ["Study", "Outcome", "Published", "Est.", latex.Raw("$p$"), "Est.", latex.Raw("$p$"), "Closest", "Robust"],
        rows,
        groups=[[("", 3), ("Ours: closest", 2), ("Ours: robust (CS)", 2), ("Verdict", 2)]],
        centre=True,
        row_space="3pt",
    )


def build() -> dict[str, str]:
    """Figure nc_trends, table replication; macros counting agreements between published and ours."""
    df = nc_sample()
    figure_nc(df)
    rep = inputs.read_csv(config.RESULTS / "replication.csv", replication.COLUMNS)
    latex.write_table(replication_table(rep), "replication")
    words = [verdicts(v) for v in rep["verdict"]]
    g = df.groupby("fips")[NC_TREATMENT].first()
    mc = rep[rep["study"].str.startswith("Miles") & (rep["closest_estimator"] == "twfe")]
    if len(mc) != 1 or pd.isna(mc["published_value"].iloc[0]):
        raise ValueError("results/replication.csv: expected one Miles & Cox TWFE row with a published value")
    return {
        "PublishedMilesCoxNoTrends": fmt_num(float(mc["published_value"].iloc[0]), 2),
        "ReplicationComparisons": fmt_int(len(rep)),
        "ReplicationStudies": fmt_int(rep["study"].nunique()),
        "ReplicationClosestConsistent": fmt_int(sum(c == "consistent" for c, _ in words)),
        "ReplicationComparable": fmt_int(sum(c != "not comparable" for c, _ in words)),
        "ReplicationRobustComparable": fmt_int(sum(r in ("consistent", "differs") for _, r in words)),
        "ReplicationRobustConsistent": fmt_int(sum(r == "consistent" for _, r in words)),
        "NcTreatedCounties": fmt_int(((g > 0) & (g <= config.LAST_YEAR)).sum()),
        "NcCounties": fmt_int(len(g)),
    }
